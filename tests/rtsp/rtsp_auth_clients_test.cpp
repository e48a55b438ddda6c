// SPDX-License-Identifier: GPL-2.0-or-later
// --rtsp with users (--user): real clients, FFmpeg and GStreamer's rtspsrc, over RTP/TCP and
// RTP/UDP, with the right password, a wrong one and none. Only the right one gets a stream
// (decoded without an error); the others get nothing and are counted. A minute of playing
// with nonces that expire every 10 s, keepalives answered stale=true and sent again with the
// new nonce (suite RtspAuthMinute, ctest label auth-minute). No password ever shows on the
// program's stderr.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/child_process.hpp"
#include "common/media.hpp"
#include "common/test_util.hpp"
#include "net/net_fixture.hpp"
#include "rtsp/rtsp_server_fixture.hpp"

using namespace h265direct;
using namespace h265direct::test;

namespace {

const std::string kUser = "viewer";
// The characters that end a URL's user-info, its host or query are in the password: in the
// URL FFmpeg takes they are percent-encoded.
const std::string kPassword = "Kq7@right/3v:Xw?";
const std::string kPasswordInUrl = "Kq7%40right%2F3v%3AXw%3F";
const std::string kWrongPassword = "Zt9-wrong-8mBp";
const std::string kRight = kUser + ":" + kPassword;
const std::string kRightInUrl = kUser + ":" + kPasswordInUrl;
const std::string kWrong = kUser + ":" + kWrongPassword;

// The server with the one user, and `extra`.
std::unique_ptr<Server> serverWithUser(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--user", kRight});
    return std::make_unique<Server>(extra);
}

// Neither password, nor its URL form, nor a part of either anywhere on the program's stderr (log
// lines, stats lines, errors).
void expectNoPassword(Server& server) {
    const std::string err = server.process->err();
    for (const std::string& secret : {kPassword, kPasswordInUrl, kWrongPassword}) {
        EXPECT_EQ(err.find(secret), std::string::npos) << secret << ": " << err;
        // Nor its start (what a parse cut at the first @ / : or ? would leave of it).
        EXPECT_EQ(err.find(secret.substr(0, 3)), std::string::npos) << secret << ": " << err;
    }
}

// The end of the run: a clean exit, still without a password.
void expectCleanEnd(Server& server) {
    server.process->signal(SIGINT);
    EXPECT_EQ(server.process->wait(), 0) << server.process->err();
    expectNoPassword(server);
}

// No client of this server ever played: no "plays" log line, rtsp_playing 0 on every line.
void expectNobodyPlayed(Server& server) {
    const std::string err = server.process->err();
    EXPECT_EQ(err.find(" plays (RTP over"), std::string::npos) << err;
    EXPECT_FALSE(std::regex_search(err, std::regex("\"rtsp_playing\":[1-9]"))) << err;
}

// The wrong and the missing credentials, as user-info of the URL (FFmpeg) or rtspsrc
// properties (GStreamer).
struct Refused {
    const char* what;
    std::string userInfo;
    std::vector<std::string> props;
};
const std::vector<Refused>& refusedCases() {
    static const std::vector<Refused> cases = {
        {"wrong password", kWrong, {"user-id=" + kUser, "user-pw=" + kWrongPassword}},
        {"no credentials", "", {}},
    };
    return cases;
}

TEST(RtspAuthClients, FfmpegWithTheRightPasswordDecodesOverTcpAndUdp) {
    auto server = serverWithUser();
    TempDir dir;
    for (const std::string transport : {"tcp", "udp"}) {
        SCOPED_TRACE(transport);
        const std::string out = dir.file(transport + ".h265");
        const ProcessResult r =
            runProcess(ffmpegPull(server->url("/", kRightInUrl), transport, 45, out), 60);
        ASSERT_EQ(r.exitCode, 0) << r.err;
        expectDecodes(out, 45);
    }
    EXPECT_TRUE(server->process->waitForStderr("plays (RTP over TCP)")) << server->process->err();
    EXPECT_TRUE(server->process->waitForStderr("plays (RTP over UDP)")) << server->process->err();
    expectCleanEnd(*server);
}

TEST(RtspAuthClients, FfmpegWithAWrongPasswordOrNoneGetsNothingAndIsCounted) {
    auto server = serverWithUser();
    TempDir dir;
    long long counted = 0;
    for (const std::string transport : {"tcp", "udp"}) {
        for (const Refused& c : refusedCases()) {
            SCOPED_TRACE(transport + ", " + c.what);
            const std::string out = dir.file("out.h265");
            const ProcessResult r =
                runProcess(ffmpegPull(server->url("/", c.userInfo), transport, 10, out), 60);
            EXPECT_NE(r.exitCode, 0) << r.err;
            EXPECT_NE(r.err.find("401 Unauthorized"), std::string::npos) << r.err;
            EXPECT_FALSE(std::filesystem::exists(out) && std::filesystem::file_size(out) > 0);
            // The server counted the refusal (a stats line a second).
            EXPECT_TRUE(waitFor([&] { return server->figure("rtsp_unauthorized") > counted; }, 10))
                << server->process->err();
            counted = server->figure("rtsp_unauthorized");
        }
    }
    expectNobodyPlayed(*server);
    expectCleanEnd(*server);
}

TEST(RtspAuthClients, GstreamerWithTheRightPasswordDecodesOverTcpAndUdp) {
    auto server = serverWithUser();
    TempDir dir;
    for (const std::string protocol : {"tcp", "udp"}) {
        SCOPED_TRACE(protocol);
        const std::string out = dir.file(protocol + ".h265");
        const ProcessResult r = runProcess(
            gstPull(server->url(), protocol, 30, out, {"user-id=" + kUser, "user-pw=" + kPassword}),
            60);
        ASSERT_EQ(r.exitCode, 0) << r.err << r.out;
        expectDecodes(out, 30);
        std::string err;
        EXPECT_EQ(gstDecodeFrames(out, kWidth, kHeight, &err), 30) << err;
    }
    EXPECT_TRUE(server->process->waitForStderr("plays (RTP over TCP)")) << server->process->err();
    EXPECT_TRUE(server->process->waitForStderr("plays (RTP over UDP)")) << server->process->err();
    expectCleanEnd(*server);
}

TEST(RtspAuthClients, GstreamerWithAWrongPasswordOrNoneGetsNothingAndIsCounted) {
    auto server = serverWithUser();
    TempDir dir;
    long long counted = 0;
    for (const std::string protocol : {"tcp", "udp"}) {
        for (const Refused& c : refusedCases()) {
            SCOPED_TRACE(protocol + ", " + c.what);
            const std::string out = dir.file("out.h265");
            const ProcessResult r =
                runProcess(gstPull(server->url(), protocol, 10, out, c.props), 60);
            EXPECT_NE(r.exitCode, 0) << r.err << r.out;
            EXPECT_NE((r.err + r.out).find("Unauthorized"), std::string::npos) << r.err << r.out;
            EXPECT_FALSE(std::filesystem::exists(out) && std::filesystem::file_size(out) > 0);
            EXPECT_TRUE(waitFor([&] { return server->figure("rtsp_unauthorized") > counted; }, 10))
                << server->process->err();
            counted = server->figure("rtsp_unauthorized");
        }
    }
    expectNobodyPlayed(*server);
    expectCleanEnd(*server);
}

// ---------------------------------------------------------------- a minute of playing

// A minute at 30 frames a second.
constexpr int kMinuteFrames = 1800;

// The most consecutive stats lines in which `clients` clients played and bytes went out.
int secondsServed(Server& server, int clients) {
    std::istringstream lines(server.process->err());
    const std::regex playing("\"rtsp_playing\":([0-9]+)");
    const std::regex kbps("\"rtsp_kbps\":([0-9.]+)");
    int run = 0;
    int best = 0;
    std::string line;
    while (std::getline(lines, line)) {
        std::smatch p;
        std::smatch k;
        if (!std::regex_search(line, p, playing)) {
            continue;
        }
        const bool sending = std::regex_search(line, k, kbps) && std::stod(k[1]) > 0;
        run = std::stoi(p[1]) >= clients && sending ? run + 1 : 0;
        best = std::max(best, run);
    }
    return best;
}

// Occurrences of `text` in `in`.
int count(const std::string& in, const std::string& text) {
    int n = 0;
    for (size_t at = in.find(text); at != std::string::npos; at = in.find(text, at + 1)) {
        ++n;
    }
    return n;
}

// The server of the minute tests: nonces live 10 s, sessions time out after 10 s, so the
// clients' keepalives (FFmpeg: every 5 s; GStreamer: every 8 s while the RTSP connection is
// otherwise silent, that is over UDP) come now and then with a nonce that has expired.
std::unique_ptr<Server> minuteServer() {
    return serverWithUser({"--auth-nonce-lifetime", "10", "--rtsp-timeout", "10"});
}

// Two clients of the server played the minute through: `retried` 401s (stale nonces, seen
// by the clients) beside the first challenge of each, none of them a refusal (a wrong
// password is logged, and ten close the connection), both clients served in every stats
// line of 50 s at least; no password on the program's stderr.
void expectMinuteServed(Server& server, int retried) {
    EXPECT_GE(server.figure("rtsp_unauthorized"), 2 + retried) << server.process->err();
    const std::string err = server.process->err();
    EXPECT_EQ(err.find(" refused: "), std::string::npos) << err;
    EXPECT_EQ(err.find("without valid credentials"), std::string::npos) << err;
    EXPECT_GE(secondsServed(server, 2), 50) << err;
    expectCleanEnd(server);
}

// FFmpeg sends GET_PARAMETER every half session timeout; answered 401 with stale=true, it
// sends it again at once with the new nonce. Its trace log shows each answer's lines.
TEST(RtspAuthMinute, FfmpegPlaysAMinuteOverTcpAndUdpAsNoncesExpire) {
    auto server = minuteServer();
    TempDir dir;
    std::vector<std::unique_ptr<ChildProcess>> clients;
    for (const std::string transport : {"tcp", "udp"}) {
        std::vector<std::string> argv = ffmpegPull(server->url("/", kRightInUrl), transport,
                                                   kMinuteFrames, dir.file(transport + ".h265"));
        *std::find(argv.begin(), argv.end(), "error") = "trace";
        clients.push_back(std::make_unique<ChildProcess>(argv));
    }
    int stale = 0;
    for (size_t i = 0; i < clients.size(); ++i) {
        SCOPED_TRACE(i == 0 ? "tcp" : "udp");
        ASSERT_EQ(clients[i]->wait(150), 0) << clients[i]->err().substr(0, 20000);
        expectDecodes(dir.file(i == 0 ? "tcp.h265" : "udp.h265"), kMinuteFrames);
        // The MD5 challenge FFmpeg answers: stale=true, then the keepalive again, and a 200.
        const std::string log = clients[i]->err();
        const std::string challenge = "algorithm=MD5, qop=\"auth\", stale=true'";
        const int n = count(log, challenge);
        EXPECT_GE(n, 2) << "keepalives re-authenticated after stale=true";
        // The first one comes in mid-session, to a keepalive; the last may come too near the
        // end for another keepalive to follow. The next answer FFmpeg reads after the first
        // is a 200: its next keepalive, with the new nonce, is accepted.
        const size_t first = log.find(challenge);
        EXPECT_NE(log.find("GET_PARAMETER rtsp://", first), std::string::npos);
        const size_t next = log.find("line='RTSP/1.0 ", first);
        EXPECT_NE(next, std::string::npos);
        EXPECT_EQ(next, log.find("line='RTSP/1.0 200 OK'", first));
        stale += n;
    }
    expectMinuteServed(*server, stale);
}

// rtspsrc sends its keep-alive (GET_PARAMETER) before the session timeout while the RTSP
// connection is otherwise silent (over UDP; over TCP the interleaved data keeps it busy and
// its RTCP keeps the session alive); answered 401, it sets up the credentials again and
// retries. Its debug log says so.
TEST(RtspAuthMinute, GstreamerPlaysAMinuteOverTcpAndUdpAsNoncesExpire) {
    auto server = minuteServer();
    TempDir dir;
    std::vector<std::unique_ptr<ChildProcess>> clients;
    for (const std::string protocol : {"tcp", "udp"}) {
        std::vector<std::string> argv = {"env", "GST_DEBUG=rtspsrc:5", "GST_DEBUG_NO_COLOR=1"};
        const std::vector<std::string> pull =
            gstPull(server->url(), protocol, kMinuteFrames, dir.file(protocol + ".h265"),
                    {"user-id=" + kUser, "user-pw=" + kPassword});
        argv.insert(argv.end(), pull.begin(), pull.end());
        clients.push_back(std::make_unique<ChildProcess>(argv));
    }
    int retried = 0;
    for (size_t i = 0; i < clients.size(); ++i) {
        SCOPED_TRACE(i == 0 ? "tcp" : "udp");
        const int code = clients[i]->wait(150);
        const std::string log = clients[i]->err();
        ASSERT_EQ(code, 0) << log.substr(log.size() > 20000 ? log.size() - 20000 : 0);
        expectDecodes(dir.file(i == 0 ? "tcp.h265" : "udp.h265"), kMinuteFrames);
        const int n = count(log, "but is Unauthorized response");
        if (i == 1) {
            EXPECT_GE(n, 2) << "keep-alives answered 401 and retried";
            EXPECT_EQ(count(log, "so retrying keep-alive"), n);
        }
        retried += n;
    }
    expectMinuteServed(*server, retried);
}

}  // namespace
