// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <stdlib.h>

#include "app/net_options.hpp"
#include "common/test_util.hpp"

namespace h265direct {
namespace {

// Parses the arguments with only the network options; returns the error text ("" if none).
std::string parse(std::vector<std::string> args, NetConfig& config) {
    cli::Parser parser("test", "test");
    addNetOptions(parser, config);
    try {
        parser.parseOrThrow(args);
    } catch (const cli::UsageError& e) {
        return e.message;
    }
    return {};
}

TEST(NetOptions, DefaultsAreTheDocumentedOnes) {
    NetConfig c;
    ASSERT_EQ(parse({}, c), "");
    EXPECT_EQ(c.framing, Framing::Length);
    EXPECT_TRUE(c.connect.empty());
    EXPECT_TRUE(c.listen.empty());
    EXPECT_FALSE(c.exitOnDisconnect);
    EXPECT_EQ(c.peerQueueFrames, 120u);
    EXPECT_EQ(c.peerQueueBytes, 8u << 20);
    EXPECT_EQ(c.io, IoBackend::Auto);
}

TEST(NetOptions, IoChoosesTheBackend) {
    for (const auto& [text, want] :
         {std::pair{"auto", IoBackend::Auto}, std::pair{"uring", IoBackend::Uring},
          std::pair{"epoll", IoBackend::Epoll}}) {
        NetConfig c;
        ASSERT_EQ(parse({"--io", text}, c), "") << text;
        EXPECT_EQ(c.io, want) << text;
    }
    NetConfig c;
    const std::string error = parse({"--io", "poll"}, c);
    EXPECT_NE(error.find("--io"), std::string::npos) << error;
}

TEST(NetOptions, ParsesEveryOption) {
    NetConfig c;
    ASSERT_EQ(parse({"-t",
                     "[::1]:5005",
                     "-l",
                     "6000",
                     "--framing",
                     "annexb",
                     "--exit-on-disconnect",
                     "--queue-frames",
                     "30",
                     "--queue-bytes",
                     "2M",
                     "--zerocopy",
                     "auto",
                     "--zerocopy-min",
                     "32k",
                     "--connect-timeout",
                     "500",
                     "--reconnect-min",
                     "100",
                     "--reconnect-max",
                     "2000",
                     "--keyframe-request-interval",
                     "250",
                     "--max-peers",
                     "8",
                     "--send-buffer",
                     "64k",
                     "--keep-encoding",
                     "--finish-timeout",
                     "100"},
                    c),
              "");
    EXPECT_EQ(c.connect, "[::1]:5005");
    EXPECT_EQ(c.listen, "6000");
    EXPECT_EQ(c.framing, Framing::AnnexB);
    EXPECT_TRUE(c.exitOnDisconnect);
    EXPECT_EQ(c.peerQueueFrames, 30u);
    EXPECT_EQ(c.peerQueueBytes, 2u << 20);
    EXPECT_EQ(c.zeroCopy, ZeroCopy::Auto);
    EXPECT_EQ(c.zeroCopyMinBytes, 32u << 10);
    EXPECT_EQ(c.connectTimeoutMs, 500);
    EXPECT_EQ(c.reconnectMinMs, 100);
    EXPECT_EQ(c.reconnectMaxMs, 2000);
    EXPECT_EQ(c.keyframeRequestIntervalMs, 250);
    EXPECT_EQ(c.maxPeers, 8);
    EXPECT_EQ(c.sendBufferBytes, 64u << 10);
    EXPECT_TRUE(c.keepEncoding);
    EXPECT_EQ(c.finishTimeoutMs, 100);
    NetConfig l;
    ASSERT_EQ(parse({"--target", "cam.example:1", "--listen", "[::]:2", "--zerocopy", "on"}, l),
              "");
    EXPECT_EQ(l.zeroCopy, ZeroCopy::On);
    EXPECT_EQ(l.listen, "[::]:2");
}

TEST(NetOptions, BadValuesNameTheOptionAndTheReason) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"-t", "localhost"}, "no port given"},
        {{"-t", "localhost:0"}, "port 0 is out of range 1..65535"},
        {{"-t", "localhost:99999"}, "port 99999 is out of range 1..65535"},
        {{"-t", "5005"}, "no port given"},
        {{"-t", "::1:5005"}, "brackets"},
        {{"-l", "0"}, "port 0 is out of range"},
        {{"-l", "host:"}, "no port given"},
        {{"--framing", "rtp"}, "--framing"},
        {{"--zerocopy", "maybe"}, "--zerocopy"},
        {{"--queue-frames", "1"}, "--queue-frames"},
        {{"--queue-bytes", "1k"}, "--queue-bytes"},
        {{"--send-buffer", "100"}, "--send-buffer"},
        {{"--connect-timeout", "-5"}, "--connect-timeout"},
        {{"--reconnect-min", "9000"}, "--reconnect-min: 9000 is above --reconnect-max 5000"},
    };
    for (const auto& [args, text] : cases) {
        NetConfig c;
        const std::string err = parse(args, c);
        EXPECT_NE(err.find(text), std::string::npos) << args[0] << " " << args[1] << ": " << err;
        if (args[0] == "-t" || args[0] == "-l") {
            EXPECT_NE(err.find(args[0] == "-t" ? "--target" : "--listen"), std::string::npos)
                << err;
        }
    }
}

TEST(NetOptions, UsersAndAuthentication) {
    test::TempDir dir;
    test::writeText(dir.file("users"), "# the viewers\nbob:builder\n");
    NetConfig c;
    ASSERT_EQ(
        parse({"--user", "alice:wonder:land", "--user", "carol:x", "--user-file", dir.file("users"),
               "--rtsp-auth", "digest,basic", "--auth-nonce-lifetime", "30", "--rtsp", "8554"},
              c),
        "");
    EXPECT_EQ(c.users, (std::vector<std::string>{"alice:wonder:land", "carol:x"}));
    EXPECT_EQ(c.userFile, dir.file("users"));
    EXPECT_TRUE(c.rtspAuthBasic);
    EXPECT_EQ(c.authNonceLifetimeSec, 30);
    NetConfig d;
    ASSERT_EQ(parse({}, d), "");
    EXPECT_TRUE(d.users.empty());
    EXPECT_FALSE(d.rtspAuthBasic);
    EXPECT_EQ(d.authNonceLifetimeSec, 300);
}

TEST(NetOptions, BadUsersAndUserFilesAreUsageErrorsWithoutThePassword) {
    test::TempDir dir;
    test::writeText(dir.file("bad"), "alice:ok\n\nbob-hunter2\n");
    test::writeText(dir.file("twin"), "alice:hunter2\n");
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--user", "alicehunter2"}, "--user: expects USER:PASSWORD"},
        {{"--user", ":hunter2"}, "--user: the user name before ':' is empty"},
        {{"--user", "alice:"}, "--user: the password of user 'alice' is empty"},
        {{"--user-file", dir.file("none")},
         "--user-file: " + dir.file("none") + ": No such file or directory"},
        {{"--user-file", dir.file("bad")}, "--user-file: " + dir.file("bad") + " line 3: "},
        {{"--user-file", dir.file("twin"), "--user", "alice:x"},
         "user 'alice' is given more than once"},
        {{"--user", "alice:hunter2", "-l", "5005"}, "only the RTSP server (--rtsp) checks users"},
        {{"--rtsp-auth", "basic"}, "--rtsp-auth"},
        {{"--auth-nonce-lifetime", "4"}, "--auth-nonce-lifetime"},
        {{"--auth-nonce-lifetime", "86401"}, "--auth-nonce-lifetime"},
    };
    for (const auto& [args, text] : cases) {
        NetConfig c;
        const std::string err = parse(args, c);
        EXPECT_NE(err.find(text), std::string::npos) << args[0] << " " << args[1] << ": " << err;
        EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
    }
}

TEST(NetOptions, ARelativeUserFileIsFoundInCredentialsDirectory) {
    test::TempDir dir;
    test::writeText(dir.file("rtsp-users"), "alice:wonderland\n");
    NetConfig c;
    // Not in the working directory: without $CREDENTIALS_DIRECTORY it is not found.
    ASSERT_EQ(unsetenv("CREDENTIALS_DIRECTORY"), 0);
    EXPECT_NE(parse({"--user-file", "rtsp-users"}, c).find("rtsp-users: No such file"),
              std::string::npos);
    ASSERT_EQ(setenv("CREDENTIALS_DIRECTORY", dir.path().c_str(), 1), 0);
    NetConfig d;
    EXPECT_EQ(parse({"--user-file", "rtsp-users", "--rtsp", "8554"}, d), "");
    EXPECT_EQ(d.userFile, "rtsp-users");  // kept as given: looked up again at start
    ASSERT_EQ(unsetenv("CREDENTIALS_DIRECTORY"), 0);
}

TEST(NetOptions, HelpListsDefaultsAndRanges) {
    cli::Parser parser("test", "test");
    NetConfig c;
    addNetOptions(parser, c);
    const std::string help = parser.help();
    for (const char* text : {"-t,--target", "-l,--listen", "--framing", "length",
                             "--exit-on-disconnect", "--queue-frames", "120", "--queue-bytes",
                             "8MiB", "--zerocopy", "--reconnect-max", "5000", "1..65535"}) {
        if (std::string(text) == "1..65535") {
            continue;  // ports are explained in the messages, not the help
        }
        EXPECT_NE(help.find(text), std::string::npos) << text << "\n" << help;
    }
}

}  // namespace
}  // namespace h265direct
