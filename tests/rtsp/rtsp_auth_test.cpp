// SPDX-License-Identifier: GPL-2.0-or-later
// --rtsp with users, over a real loopback socket: a hand-written Digest client gets 401 with
// the challenges, then 200 and the media on the same connection; no, wrong or expired
// credentials get 401 and nothing else (no SDP, no UDP ports, no media), are counted and
// logged without the password; Basic only when asked; ten refusals close the connection.

#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <string>
#include <vector>

#include "common/child_process.hpp"
#include "common/test_util.hpp"
#include "net/auth.hpp"
#include "net/net_fixture.hpp"
#include "rtsp/rtsp_server_fixture.hpp"

using namespace h265direct;
using namespace h265direct::test;

namespace {

const std::vector<std::string> kUsers = {"--user", "alice:wonderland", "--user", "bob:builder"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// The challenges of a 401 answer: each WWW-Authenticate value, in order.
std::vector<std::string> challenges(const std::string& answer) {
    std::vector<std::string> out;
    const std::regex re("WWW-Authenticate: ([^\r]*)\r\n");
    for (auto it = std::sregex_iterator(answer.begin(), answer.end(), re);
         it != std::sregex_iterator(); ++it) {
        out.push_back((*it)[1]);
    }
    return out;
}

// The nonce of the last Digest challenge (the one FFmpeg and GStreamer answer).
std::string lastNonce(const std::string& answer) {
    std::string nonce;
    for (const std::string& c : challenges(answer)) {
        std::smatch m;
        if (c.rfind("Digest ", 0) == 0 &&
            std::regex_search(c, m, std::regex("nonce=\"([^\"]*)\""))) {
            nonce = m[1];
        }
    }
    return nonce;
}

// A Digest Authorization header line as an MD5 client with qop=auth makes it.
std::string digest(const std::string& user, const std::string& password, const std::string& nonce,
                   const std::string& method, const std::string& uri) {
    const std::string response =
        net::digestResponse(net::DigestAlgorithm::Md5, user, "h265direct", password, method, uri,
                            nonce, "auth", "00000001", "d0c1e2f3");
    return "Authorization: Digest username=\"" + user + "\", realm=\"h265direct\", nonce=\"" +
           nonce + "\", uri=\"" + uri + "\", response=\"" + response +
           "\", algorithm=\"MD5\", cnonce=\"d0c1e2f3\", nc=00000001, qop=\"auth\"\r\n";
}

TEST(RtspAuth, A401ThenADigestClientIsServedOnTheSameConnection) {
    Server server(kUsers);
    RawClient c(server.port);
    // OPTIONS needs no credentials.
    EXPECT_EQ(statusOf(c.request("OPTIONS", server.url(), 1)), "RTSP/1.0 200 OK");
    const std::string refused = c.request("DESCRIBE", server.url(), 2);
    EXPECT_EQ(statusOf(refused), "RTSP/1.0 401 Unauthorized") << refused;
    EXPECT_NE(refused.find("CSeq: 2\r\n"), std::string::npos) << refused;
    EXPECT_EQ(refused.find("application/sdp"), std::string::npos) << refused;
    const std::vector<std::string> offered = challenges(refused);
    ASSERT_EQ(offered.size(), 2u) << refused;
    EXPECT_NE(offered[0].find("algorithm=SHA-256"), std::string::npos) << offered[0];
    EXPECT_EQ(offered[1].rfind("Digest realm=\"h265direct\", nonce=\"", 0), 0u) << offered[1];
    EXPECT_NE(offered[1].find("algorithm=MD5, qop=\"auth\""), std::string::npos) << offered[1];
    const std::string nonce = lastNonce(refused);
    ASSERT_FALSE(nonce.empty());

    // The same connection, with credentials: the SDP, SETUP, PLAY and the media.
    const std::string sdp =
        c.request("DESCRIBE", server.url(), 3,
                  "Accept: application/sdp\r\n" +
                      digest("alice", "wonderland", nonce, "DESCRIBE", server.url()));
    EXPECT_EQ(statusOf(sdp), "RTSP/1.0 200 OK") << sdp;
    EXPECT_NE(sdp.find("a=rtpmap:96 H265/90000"), std::string::npos) << sdp;
    const std::string track = server.url() + "trackID=0";
    const std::string setup = c.request("SETUP", track, 4,
                                        "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n" +
                                            digest("alice", "wonderland", nonce, "SETUP", track));
    ASSERT_EQ(statusOf(setup), "RTSP/1.0 200 OK") << setup;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(setup, m, std::regex("Session: ([0-9a-f]+)")));
    const std::string play =
        c.request("PLAY", server.url(), 5,
                  "Session: " + m[1].str() + "\r\n" +
                      digest("alice", "wonderland", nonce, "PLAY", server.url()));
    ASSERT_EQ(statusOf(play), "RTSP/1.0 200 OK") << play;
    const std::vector<uint8_t> media = readSome(c.fd, 4, 10);
    ASSERT_EQ(media.size(), 4u);
    EXPECT_EQ(media[0], '$');
    EXPECT_EQ(media[1], 0);  // RTP channel
    EXPECT_TRUE(waitFor([&] { return server.figure("rtsp_unauthorized") == 1; }, 10))
        << server.figure("rtsp_unauthorized");
    server.process->signal(SIGINT);
    EXPECT_EQ(server.process->wait(), 0) << server.process->err();
}

TEST(RtspAuth, WrongOrMissingCredentialsGetNoSdpNoPortsNoMediaAndAreCountedAndLogged) {
    Server server(kUsers);
    RawClient c(server.port);
    const std::string first = c.request("DESCRIBE", server.url(), 1);
    ASSERT_EQ(statusOf(first), "RTSP/1.0 401 Unauthorized") << first;
    const std::string nonce = lastNonce(first);
    const std::string track = server.url() + "trackID=0";
    const std::vector<std::string> wrong = {
        digest("alice", "builder", nonce, "DESCRIBE", server.url()),     // bob's password
        digest("carol", "wonderland", nonce, "DESCRIBE", server.url()),  // no such user
        digest("alice", "wonderland", nonce, "PLAY", server.url()),      // for another method
        digest("alice", "wonderland", nonce, "DESCRIBE", server.url() + "other"),  // another URI
    };
    int cseq = 2;
    for (const std::string& w : wrong) {
        const std::string a = c.request("DESCRIBE", server.url(), cseq++, w);
        EXPECT_EQ(statusOf(a), "RTSP/1.0 401 Unauthorized") << w << a;
        EXPECT_EQ(a.find("Content-Base"), std::string::npos) << a;
    }
    // A SETUP over UDP without credentials opens no ports: no Transport in the answer.
    const std::string udp =
        c.request("SETUP", track, cseq++, "Transport: RTP/AVP;unicast;client_port=40000-40001\r\n");
    EXPECT_EQ(statusOf(udp), "RTSP/1.0 401 Unauthorized") << udp;
    EXPECT_EQ(udp.find("Transport"), std::string::npos) << udp;
    EXPECT_EQ(udp.find("Session"), std::string::npos) << udp;
    // Nothing but answers came: the next bytes are the answer to the next request, no media.
    EXPECT_EQ(statusOf(c.request("OPTIONS", "*", cseq++)), "RTSP/1.0 200 OK");
    EXPECT_TRUE(waitFor([&] { return server.figure("rtsp_unauthorized") == 6; }, 10))
        << server.figure("rtsp_unauthorized");
    EXPECT_EQ(server.figure("rtsp_playing"), 0);
    server.process->signal(SIGINT);
    EXPECT_EQ(server.process->wait(), 0);
    const std::string err = server.process->err();
    // The first refusal is logged (the next ones within a second are held back).
    EXPECT_NE(err.find("DESCRIBE refused: wrong user or password (user \"alice\")"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("127.0.0.1"), std::string::npos);
    // Neither a password nor a response is ever logged.
    EXPECT_EQ(err.find("wonderland"), std::string::npos) << err;
    EXPECT_EQ(err.find("builder"), std::string::npos) << err;
    EXPECT_EQ(err.find("response"), std::string::npos) << err;
}

TEST(RtspAuth, AnExpiredNonceGetsStaleAndTheNewOneIsAccepted) {
    Server server(with(kUsers, {"--auth-nonce-lifetime", "5"}));
    RawClient c(server.port);
    const std::string nonce = lastNonce(c.request("DESCRIBE", server.url(), 1));
    ASSERT_FALSE(nonce.empty());
    const std::string ok =
        c.request("GET_PARAMETER", server.url(), 2,
                  digest("bob", "builder", nonce, "GET_PARAMETER", server.url()));
    EXPECT_EQ(statusOf(ok), "RTSP/1.0 200 OK") << ok;
    // Once the nonce is older than its lifetime (a keep-alive every 2 s until then).
    std::string stale;
    int cseq = 3;
    const int64_t end = monotonicNs() + 20'000'000'000;
    while (monotonicNs() < end) {
        stale = c.request("GET_PARAMETER", server.url(), cseq++,
                          digest("bob", "builder", nonce, "GET_PARAMETER", server.url()));
        if (statusOf(stale) != "RTSP/1.0 200 OK") {
            break;
        }
        ::poll(nullptr, 0, 2000);
    }
    ASSERT_EQ(statusOf(stale), "RTSP/1.0 401 Unauthorized") << stale;
    const std::vector<std::string> offered = challenges(stale);
    ASSERT_EQ(offered.size(), 2u) << stale;
    for (const std::string& o : offered) {
        EXPECT_NE(o.find(", stale=true"), std::string::npos) << o;
    }
    const std::string fresh = lastNonce(stale);
    ASSERT_NE(fresh, nonce);
    const std::string again =
        c.request("GET_PARAMETER", server.url(), cseq++,
                  digest("bob", "builder", fresh, "GET_PARAMETER", server.url()));
    EXPECT_EQ(statusOf(again), "RTSP/1.0 200 OK") << again;
    server.process->signal(SIGINT);
    EXPECT_EQ(server.process->wait(), 0);
    // A stale nonce is no wrong password: nothing is logged for it.
    EXPECT_EQ(server.process->err().find(" refused: "), std::string::npos) << server.process->err();
}

TEST(RtspAuth, BasicIsAcceptedOnlyWhenAsked) {
    const std::string basic = "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n";  // alice
    {
        Server server(kUsers);
        RawClient c(server.port);
        const std::string a = c.request("DESCRIBE", server.url(), 1, basic);
        EXPECT_EQ(statusOf(a), "RTSP/1.0 401 Unauthorized") << a;
        EXPECT_EQ(a.find("Basic"), std::string::npos) << a;
    }
    Server server(with(kUsers, {"--rtsp-auth", "digest,basic"}));
    RawClient c(server.port);
    const std::string challenge = c.request("DESCRIBE", server.url(), 1);
    const std::vector<std::string> offered = challenges(challenge);
    ASSERT_EQ(offered.size(), 3u) << challenge;
    EXPECT_EQ(offered[2], "Basic realm=\"h265direct\"");
    EXPECT_EQ(statusOf(c.request("DESCRIBE", server.url(), 2, basic)), "RTSP/1.0 200 OK");
    EXPECT_EQ(statusOf(c.request("DESCRIBE", server.url(), 3,
                                 "Authorization: Basic YWxpY2U6YnVpbGRlcg==\r\n")),  // builder
              "RTSP/1.0 401 Unauthorized");
    server.process->signal(SIGINT);
    EXPECT_EQ(server.process->wait(), 0);
    EXPECT_NE(server.process->err().find("Basic authentication sends the password in clear"),
              std::string::npos)
        << server.process->err();
}

TEST(RtspAuth, TenRefusalsCloseTheConnectionAndTheServerGoesOn) {
    Server server(kUsers);
    {
        RawClient c(server.port);
        for (int i = 1; i <= 10; ++i) {
            EXPECT_EQ(statusOf(c.request("DESCRIBE", server.url(), i,
                                         "Authorization: Digest username=\"x\"\r\n")),
                      "RTSP/1.0 401 Unauthorized")
                << i;
        }
        EXPECT_TRUE(c.closedWithin(10));
    }
    RawClient c(server.port);
    const std::string nonce = lastNonce(c.request("DESCRIBE", server.url(), 1));
    EXPECT_EQ(statusOf(c.request("DESCRIBE", server.url(), 2,
                                 digest("alice", "wonderland", nonce, "DESCRIBE", server.url()))),
              "RTSP/1.0 200 OK");
    server.process->signal(SIGINT);
    EXPECT_EQ(server.process->wait(), 0);
}

TEST(RtspAuth, WithoutUsersAWarningNamesWhatIsOpenBeyondLoopback) {
    // Loopback only: no warning.
    Server local;
    local.process->signal(SIGINT);
    EXPECT_EQ(local.process->wait(), 0);
    EXPECT_EQ(local.process->err().find("authentication"), std::string::npos)
        << local.process->err();
    // Every address: one line naming it.
    const uint16_t port = freePort();
    ChildProcess open({binaryPath(), "--pattern", "--rtsp", std::to_string(port)});
    ASSERT_TRUE(open.waitForStderr("RTSP server listening")) << open.err();
    open.signal(SIGINT);
    EXPECT_EQ(open.wait(), 0);
    const std::string err = open.err();
    EXPECT_NE(err.find("--rtsp on [::]:" + std::to_string(port) +
                       " (every address of this machine): no authentication"),
              std::string::npos)
        << err;
    // With users: none.
    ChildProcess locked(
        with({binaryPath(), "--pattern", "--rtsp", std::to_string(freePort())}, kUsers));
    ASSERT_TRUE(locked.waitForStderr("RTSP server listening")) << locked.err();
    locked.signal(SIGINT);
    EXPECT_EQ(locked.wait(), 0);
    EXPECT_EQ(locked.err().find("no authentication"), std::string::npos) << locked.err();
    // -l has no authentication at all: said whenever it listens beyond loopback, also beside
    // an RTSP server with users.
    ChildProcess raw(
        with({binaryPath(), "--pattern", "--rtsp", "127.0.0.1:" + std::to_string(freePort()), "-l",
              std::to_string(freePort())},
             kUsers));
    ASSERT_TRUE(raw.waitForStderr("listening on")) << raw.err();
    raw.signal(SIGINT);
    EXPECT_EQ(raw.wait(), 0);
    EXPECT_NE(raw.err().find("-l on [::]:"), std::string::npos) << raw.err();
    EXPECT_NE(raw.err().find("no authentication"), std::string::npos) << raw.err();
}

TEST(RtspAuth, TheUserFileIsReadFromCredentialsDirectoryAndABadOneEndsTheStart) {
    // As systemd's LoadCredential= hands it over: a relative --user-file in
    // $CREDENTIALS_DIRECTORY, the program started elsewhere.
    TempDir dir;
    writeText(dir.file("rtsp-users"), "# viewers\ndave:d4v3-pw\n");
    const uint16_t port = freePort();
    const std::string url = "rtsp://127.0.0.1:" + std::to_string(port) + "/";
    ChildProcess server({"env", "CREDENTIALS_DIRECTORY=" + dir.path().string(), binaryPath(),
                         "--pattern", "-s", "160x120", "--rtsp",
                         "127.0.0.1:" + std::to_string(port), "--user-file", "rtsp-users"});
    ASSERT_TRUE(server.waitForStderr("RTSP server listening")) << server.err();
    RawClient c(port);
    const std::string nonce = lastNonce(c.request("DESCRIBE", url, 1));
    EXPECT_EQ(
        statusOf(c.request("DESCRIBE", url, 2, digest("dave", "d4v3-pw", nonce, "DESCRIBE", url))),
        "RTSP/1.0 200 OK");
    server.signal(SIGINT);
    EXPECT_EQ(server.wait(), 0);
    EXPECT_EQ(server.err().find("d4v3-pw"), std::string::npos);

    // A malformed line: one line naming the file and line, exit code 2, no password.
    writeText(dir.file("bad"), "dave:d4v3-pw\ndave-d4v3-pw\n");
    const ProcessResult bad =
        runProcess({binaryPath(), "--pattern", "--rtsp", "127.0.0.1:" + std::to_string(port),
                    "--user-file", dir.file("bad")},
                   60);
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_EQ(bad.err, "h265direct: error: --user-file: " + dir.file("bad") +
                           " line 2: expects USER:PASSWORD (no ':' found) (see --help)\n");
}

}  // namespace
