// SPDX-License-Identifier: GPL-2.0-or-later
// --publish with real servers on loopback: FFmpeg as a listening RTSP server and as an SRT
// listener, GStreamer's gst-rtsp-server taking RECORD; the server restarted under a running
// publisher; and the bad inputs (URLs, no server, a server that refuses RECORD).

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/child_process.hpp"
#include "common/media.hpp"
#include "common/test_util.hpp"
#include "h265direct/annexb.hpp"
#include "h265direct/engine.hpp"
#include "h265direct/stats.hpp"
#include "net/net_fixture.hpp"
#include "publish/publish_output.hpp"

using namespace h265direct;
using namespace h265direct::test;

namespace {

std::string port(uint16_t p) {
    return std::to_string(p);
}

// The program publishing a paced 160x120 test pattern (small: quick under emulation too); extra
// arguments after.
std::vector<std::string> publisher(const std::string& url, std::vector<std::string> extra) {
    std::vector<std::string> argv = {binaryPath(), "--pattern", "-s", "160x120", "--publish", url};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

// The packets' PTS (in 90 kHz ticks) of the video stream of an MPEG-TS file.
std::vector<long long> packetPts(const std::string& path) {
    const ProcessResult r = runProcess({"ffprobe", "-v", "error", "-select_streams", "v:0",
                                        "-show_entries", "packet=pts", "-of", "csv=p=0", path});
    std::vector<long long> out;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
        line.erase(std::remove(line.begin(), line.end(), ','), line.end());
        if (!line.empty()) {
            out.push_back(std::stoll(line));
        }
    }
    return out;
}

// An FFmpeg process receiving and writing what it gets to `out` (-c copy); it ends when the
// publisher ends the session.
std::unique_ptr<ChildProcess> ffmpegReceiver(const std::string& input,
                                             std::vector<std::string> inputOptions,
                                             const std::string& format, const std::string& out) {
    std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info"};
    argv.insert(argv.end(), inputOptions.begin(), inputOptions.end());
    // Each packet written at once: a receiver that is killed leaves what it got readable.
    for (const std::string& a :
         {std::string("-i"), input, std::string("-c"), std::string("copy"), std::string("-f"),
          format, std::string("-flush_packets"), std::string("1"), std::string("-y"), out}) {
        argv.push_back(a);
    }
    return std::make_unique<ChildProcess>(argv);
}

// Waits until a socket of this machine is bound to `port`: a TCP one listening, or a UDP one
// (SRT), as /proc/net lists them. Lets a test start publishing once the server is up, so
// that the first session starts at the run's first frame.
bool waitForBound(uint16_t p, bool tcp) {
    char hex[8];
    std::snprintf(hex, sizeof hex, ":%04X ", p);
    return waitFor(
        [&] {
            for (const char* table :
                 tcp ? std::vector<const char*>{"/proc/net/tcp", "/proc/net/tcp6"}
                     : std::vector<const char*>{"/proc/net/udp", "/proc/net/udp6"}) {
                std::ifstream in(table);
                std::string line;
                while (std::getline(in, line)) {
                    // "sl local_address rem_address st ...": the local port, and for TCP
                    // the state LISTEN (0A).
                    std::istringstream fields(line);
                    std::string sl, local, remote, state;
                    fields >> sl >> local >> remote >> state;
                    if ((local + " ").find(hex) != std::string::npos && (!tcp || state == "0A")) {
                        return true;
                    }
                }
            }
            return false;
        },
        60);
}

// Under the running publisher `pub` (with --stats-json), `rounds` servers one after the other,
// each started by `startServer` writing the HEVC it gets to the file it is given: each must
// get a session, is then killed, and must hold a stream of the pattern that starts at an IDR;
// and the publisher must count each loss.
void killServersOneAfterAnother(
    ChildProcess& pub, int rounds, const TempDir& dir,
    const std::function<std::unique_ptr<ChildProcess>(const std::string&)>& startServer) {
    for (int round = 0; round < rounds; ++round) {
        const std::string out = dir.file("round" + std::to_string(round) + ".hevc");
        auto server = startServer(out);
        // FFmpeg's first progress line: the session is up and frames are being written.
        ASSERT_TRUE(server->waitForStderr("frame=", 60)) << server->err() << pub.err();
        server->signal(SIGKILL);
        server->wait(30);
        const ProbeInfo info = probeHevc(out);
        ASSERT_TRUE(info.ok) << round << ": " << info.error;
        EXPECT_EQ(info.width, 160);
        EXPECT_GE(info.frames, 1) << round;
        const std::vector<bool> keys = probeKeyframes(out);
        ASSERT_FALSE(keys.empty()) << round;
        EXPECT_TRUE(keys.front()) << round;
        // The publisher noticed: its figures count this loss.
        ASSERT_TRUE(
            pub.waitForStderr("\"publish1_disconnects\":" + std::to_string(round + 1) + ",", 60))
            << pub.err();
    }
}

}  // namespace

TEST(Publish, RtspRecordIntoFfmpegListeningServerDecodes) {
    TempDir dir;
    const uint16_t p = freePort();
    const std::string url = "rtsp://127.0.0.1:" + port(p) + "/live";
    auto server = ffmpegReceiver(url, {"-rtsp_flags", "listen"}, "hevc", dir.file("got.hevc"));
    ASSERT_TRUE(waitForBound(p, true)) << server->err();
    const ProcessResult pub = runProcess(publisher(url, {"--frames", "60", "-q"}), 120);
    ASSERT_EQ(pub.exitCode, 0) << pub.err;
    EXPECT_EQ(pub.err, "");
    ASSERT_EQ(server->wait(60), 0) << server->err();
    const ProbeInfo info = probeHevc(dir.file("got.hevc"));
    ASSERT_TRUE(info.ok) << info.error;
    EXPECT_EQ(info.width, 160);
    EXPECT_EQ(info.height, 120);
    // Every frame the run made reached the server: the session started at the first frame.
    EXPECT_EQ(info.frames, 60);
    const std::vector<bool> keys = probeKeyframes(dir.file("got.hevc"));
    ASSERT_FALSE(keys.empty());
    EXPECT_TRUE(keys.front());
}

TEST(Publish, SrtIntoFfmpegListenerGivesMpegTsWithCaptureTimePts) {
    TempDir dir;
    const uint16_t p = freePort();
    auto server = ffmpegReceiver("srt://127.0.0.1:" + port(p) + "?mode=listener", {}, "mpegts",
                                 dir.file("got.ts"));
    ASSERT_TRUE(waitForBound(p, false)) << server->err();
    const ProcessResult pub = runProcess(
        publisher("srt://127.0.0.1:" + port(p) + "?streamid=cam", {"--frames", "60", "-q"}), 120);
    ASSERT_EQ(pub.exitCode, 0) << pub.err;
    EXPECT_EQ(pub.err, "");
    server->wait(60);  // FFmpeg reports the closed SRT connection as an input error
    // MPEG-TS, probed as such (a forced raw-HEVC reading would scan the TS packets for start
    // codes); the decoder must have nothing to say.
    const ProbeInfo info = probeHevc(dir.file("got.ts"), "mpegts");
    ASSERT_TRUE(info.ok) << info.error;
    EXPECT_EQ(info.error, "");
    EXPECT_EQ(info.width, 160);
    EXPECT_EQ(info.height, 120);
    EXPECT_EQ(info.frames, 60);
    // Capture times at 30 fps: PTS one frame period (3000 ticks of 90 kHz) apart. On a busy
    // machine the paced source is late now and then (and starts its schedule again), which
    // the capture times show: the median step must be the period within 1 ms. That PTS are
    // the capture times exactly is PublishOutput.PtsAreTheCaptureTimes.
    const std::vector<long long> pts = packetPts(dir.file("got.ts"));
    ASSERT_EQ(pts.size(), 60u);
    std::vector<long long> steps;
    for (size_t i = 1; i < pts.size(); ++i) {
        steps.push_back(pts[i] - pts[i - 1]);
        EXPECT_GT(steps.back(), 0) << i;
    }
    std::sort(steps.begin(), steps.end());
    EXPECT_NEAR(static_cast<double>(steps[steps.size() / 2]), 3000.0, 90.0);
}

TEST(Publish, RtspServerKilledThreeTimesEachNewSessionStartsAtAnIdr) {
    TempDir dir;
    const uint16_t p = freePort();
    const std::string url = "rtsp://127.0.0.1:" + port(p) + "/live";
    ChildProcess pub(publisher(url, {"--stats-json", "--reconnect-min", "50", "--reconnect-max",
                                     "400", "--keyframe-request-interval", "0"}));
    killServersOneAfterAnother(pub, 3, dir, [&](const std::string& out) {
        return ffmpegReceiver(url, {"-rtsp_flags", "listen"}, "hevc", out);
    });
    if (HasFatalFailure()) {
        return;
    }
    // The figures up to the last whole line (the program keeps running; it is killed after).
    std::string stats = pub.err();  // --stats-json lines are on stderr
    stats.resize(stats.rfind('\n') + 1);
    pub.signal(SIGKILL);
    EXPECT_NE(stats.find("lost the session with " + url), std::string::npos) << stats;
    const size_t last = stats.rfind("\"publish1_state\"");
    ASSERT_NE(last, std::string::npos) << stats;
    const std::string line = stats.substr(last, stats.find('\n', last) - last);
    auto field = [&line](const std::string& key) {
        const size_t at = line.find("\"" + key + "\":");
        return at == std::string::npos ? -1LL : std::atoll(line.c_str() + at + key.size() + 3);
    };
    // Three sessions, three losses, and every frame the encoder made while the server was
    // away counted (it kept encoding).
    EXPECT_EQ(field("publish1_sessions"), 3) << line;
    EXPECT_EQ(field("publish1_disconnects"), 3) << line;
    EXPECT_GT(field("publish1_unsent"), 0) << line;
    // The frames encoded so far: the sum of every interval's "frames" (the engine thread
    // gathers its figures and the outputs' at the same point).
    long long encoded = 0;
    for (size_t at = stats.find(",\"frames\":"); at != std::string::npos;
         at = stats.find(",\"frames\":", at + 1)) {
        encoded += std::atoll(stats.c_str() + at + 10);
    }
    // Nothing lost without being counted: sent + made while away + dropped + queued.
    EXPECT_EQ(field("publish1_frames") + field("publish1_unsent") + field("publish1_drops") +
                  field("publish1_queue"),
              encoded)
        << stats;
}

// SRT: a listener that dies without a word (killed) is noticed by libsrt only when the peer
// has been silent for its idle timeout (about 5 s); then the session counts as lost, the
// publisher retries, and the next listener on the port gets a session that starts at an IDR.
TEST(Publish, SrtListenerKilledThreeTimesEachNewSessionStartsAtAnIdr) {
    TempDir dir;
    const uint16_t p = freePort();
    const std::string listener = "srt://127.0.0.1:" + port(p) + "?mode=listener";
    ChildProcess pub(publisher("srt://127.0.0.1:" + port(p) + "?streamid=cam",
                               {"--stats-json", "--reconnect-min", "50", "--reconnect-max", "400",
                                "--keyframe-request-interval", "0"}));
    killServersOneAfterAnother(pub, 3, dir, [&](const std::string& out) {
        return ffmpegReceiver(listener, {}, "hevc", out);
    });
    if (HasFatalFailure()) {
        return;
    }
    std::string stats = pub.err();
    stats.resize(stats.rfind('\n') + 1);
    pub.signal(SIGKILL);
    EXPECT_NE(stats.find("lost the session with srt://127.0.0.1:" + port(p)), std::string::npos)
        << stats;
    const std::string sessions = "\"publish1_sessions\":";
    const size_t last = stats.rfind(sessions);
    ASSERT_NE(last, std::string::npos) << stats;
    EXPECT_EQ(std::atoll(stats.c_str() + last + sessions.size()), 3) << stats;
}

// The problem in one error line holding `text` (besides it, at most the engine's own line
// saying that an output failed and the run stops).
void expectOneErrorLine(const ProcessResult& r, const std::string& text) {
    std::istringstream in(r.err);
    std::string line;
    int lines = 0;
    bool found = false;
    while (std::getline(in, line)) {
        if (line.find("an output failed; stopping") != std::string::npos) {
            continue;
        }
        ++lines;
        found = found ||
                (line.find(text) != std::string::npos && line.find("error: ") != std::string::npos);
    }
    EXPECT_EQ(lines, 1) << r.err;
    EXPECT_TRUE(found) << text << " in\n" << r.err;
}

TEST(Publish, BadUrlsAreUsageErrorsBeforeAnyCapture) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"rtsp://", "has no host"},
        {"127.0.0.1:8554/x", "is not a URL"},
        {"http://127.0.0.1:8554/x", "unknown scheme 'http://'"},
        {"srt://127.0.0.1", "has no port"},
        {"rtsp://127.0.0.1:99999/x", "99999"},
        {"srt://127.0.0.1:9000?mode=listener", "mode=caller"},
    };
    for (const auto& [url, text] : cases) {
        // A device that does not exist: the URL is refused before the source is opened.
        const ProcessResult r =
            runProcess({binaryPath(), "-d", "/dev/nonexistent-camera", "--publish", url}, 60);
        EXPECT_EQ(r.exitCode, 2) << url << ": " << r.err;
        expectOneErrorLine(r, text);
    }
}

TEST(Publish, UnreachableServerWithExitOnDisconnectExitsWithTheNetworkCode) {
    const uint16_t p = freePort();  // nothing listens there
    const ProcessResult r = runProcess(
        publisher("rtsp://127.0.0.1:" + port(p) + "/x", {"--exit-on-disconnect", "-q"}), 120);
    EXPECT_EQ(r.exitCode, 8) << r.err;
    expectOneErrorLine(r, "cannot publish to rtsp://127.0.0.1:" + port(p) + "/x");
}

TEST(Publish, UnreachableServerIsRetriedAndCountedWhileTheRunGoesOn) {
    const uint16_t p = freePort();
    const ProcessResult r = runProcess(
        publisher("srt://127.0.0.1:" + port(p), {"--frames", "45", "--connect-timeout", "200",
                                                 "--reconnect-min", "50", "--stats-json"}),
        120);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("cannot publish to srt://127.0.0.1:" + port(p)), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("\"publish1_state\":\"finished\""), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("\"publish1_sessions\":0"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("\"publish1_sessions\":1"), std::string::npos) << r.err;
    // The last figures count the failed attempts.
    const size_t last = r.err.rfind("\"publish1_failures\":");
    ASSERT_NE(last, std::string::npos) << r.err;
    EXPECT_GT(std::atoll(r.err.c_str() + last + 20), 0) << r.err;
}

// The last report comes after the outputs finished. With a report due after every frame (a
// 1 ms interval) the last frame ends an interval, and one more report still follows: it holds
// the output's final state, and the reports' frames add up to the run's.
TEST(Publish, TheLastReportComesAfterTheOutputsFinished) {
    const uint16_t p = freePort();  // nothing listens there
    EngineConfig config;
    config.source.width = 160;
    config.source.height = 120;
    config.source.pace = false;
    config.maxFrames = 30;
    config.stats.intervalMs = 1;
    config.stats.quiet = true;
    config.output.net.publish = {"srt://127.0.0.1:" + port(p)};
    config.output.net.connectTimeoutMs = 200;
    config.output.net.reconnectMinMs = 50;
    Engine engine(config);
    std::vector<std::string> states;
    int64_t frames = 0;
    engine.onStats([&](const StatsReport& r) {
        frames += std::get<int64_t>(r.find("frames")->value);
        const StatsReport::Field* state = r.find("publish1_state");
        states.push_back(state != nullptr ? std::get<std::string>(state->value) : "(none)");
    });
    ASSERT_EQ(engine.run(), kExitOk);
    ASSERT_GE(states.size(), 2u);
    EXPECT_EQ(states.back(), "finished");
    EXPECT_EQ(frames, 30);
}

TEST(Publish, ServerThatRefusesRecordIsReportedInOneLine) {
    const uint16_t p = freePort();
    ChildProcess server({"/usr/bin/python3", H265D_RTSP_RECORD_SERVER, port(p), "--refuse"});
    ASSERT_TRUE(server.waitForStderr("ready", 60)) << server.err();
    const ProcessResult r = runProcess(
        publisher("rtsp://127.0.0.1:" + port(p) + "/cam", {"--exit-on-disconnect", "-q"}), 120);
    EXPECT_EQ(r.exitCode, 8) << r.err;
    expectOneErrorLine(r, "cannot publish to rtsp://127.0.0.1:" + port(p) + "/cam");
}

// A server's reason phrase reaches the log escaped: no ESC, C1 control or DEL on the terminal.
TEST(Publish, AServersControlCharactersAreEscapedInTheLog) {
    const uint16_t p = freePort();
    ChildProcess server({"/usr/bin/python3", H265D_HOSTILE_RTSP_SERVER, port(p)});
    ASSERT_TRUE(server.waitForStderr("ready", 60)) << server.err();
    const ProcessResult r = runProcess(
        publisher("rtsp://127.0.0.1:" + port(p) + "/cam", {"--exit-on-disconnect", "-q"}), 120);
    EXPECT_EQ(r.exitCode, 8) << r.err;
    expectOneErrorLine(r, "403 \\x1b[2J\\xc2\\x9b\\x7fGo away");
    for (const char c : r.err) {
        const auto u = static_cast<unsigned char>(c);
        ASSERT_TRUE((u >= 0x20 && u < 0x7f) || c == '\n') << "byte " << int(u) << " in " << r.err;
    }
}

TEST(Publish, RtspRecordIntoGstRtspServerAndASecondClientPullsIt) {
    TempDir dir;
    const uint16_t p = freePort();
    ChildProcess server({"/usr/bin/python3", H265D_RTSP_RECORD_SERVER, port(p)});
    ASSERT_TRUE(server.waitForStderr("ready", 60)) << server.err();
    // A short GOP: the viewer joins mid-stream and starts at the next keyframe.
    ChildProcess pub(publisher("rtsp://127.0.0.1:" + port(p) + "/cam", {"--keyint", "10", "-q"}));
    ASSERT_TRUE(server.waitForStderr("recording", 60)) << server.err() << pub.err();
    // A viewer of the server (not of h265direct) takes 30 frames of what was published.
    const ProcessResult viewer =
        runProcess({"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-rtsp_transport",
                    "tcp", "-i", "rtsp://127.0.0.1:" + port(p) + "/play", "-frames:v", "30", "-c",
                    "copy", "-f", "hevc", "-y", dir.file("viewer.hevc")},
                   120);
    ASSERT_EQ(viewer.exitCode, 0) << viewer.err << server.err();
    const ProbeInfo info = probeHevc(dir.file("viewer.hevc"));
    ASSERT_TRUE(info.ok) << info.error;
    EXPECT_EQ(info.width, 160);
    EXPECT_EQ(info.height, 120);
    EXPECT_GE(info.frames, 25);
    // Still publishing after the viewer's 30 frames.
    EXPECT_EQ(pub.err(), "");
}

// The output itself, fed units with chosen capture times: the MPEG-TS PTS are those times
// (90 kHz, from the session's first unit) to the tick, a gap included.
TEST(PublishOutput, PtsAreTheCaptureTimes) {
    TempDir dir;
    const uint16_t p = freePort();
    auto server = ffmpegReceiver("srt://127.0.0.1:" + std::to_string(p) + "?mode=listener", {},
                                 "mpegts", dir.file("got.ts"));
    ASSERT_TRUE(waitForBound(p, false)) << server->err();
    const auto& units = testStream(60, 15, "160x120");
    std::vector<int64_t> captures;
    int64_t t = 5'000'000'000;  // any origin: only the differences count
    for (size_t i = 0; i < units.size(); ++i) {
        captures.push_back(t);
        t += i == 29 ? 100'000'000 : 33'366'667;  // 29.97 fps, and a 100 ms gap after unit 29
    }
    NetConfig config;
    config.reconnectMinMs = 50;
    std::atomic<int> keyframeRequests{0};
    {
        publish::PublishOutput out("srt://127.0.0.1:" + std::to_string(p) + "?streamid=pts", 1,
                                   config, [&keyframeRequests] { ++keyframeRequests; });
        for (size_t i = 0; i < units.size(); ++i) {
            auto au = std::make_shared<AccessUnit>(*units[i]);
            ASSERT_EQ(hevc::describeAccessUnit(*au), hevc::ParseError::None);
            au->captureTimeNs = captures[i];
            au->frameNumber = i;
            out.consume(au);
        }
        // Every unit was taken (the queue holds 120) and the session starts at unit 0; the
        // end of the run would cut a session still being opened, so wait for the sending.
        EXPECT_TRUE(waitFor([&out] { return out.stats().framesSent == 60; }, 60))
            << out.stats().state << " sent " << out.stats().framesSent << " queued "
            << out.stats().queueFrames << "\n"
            << server->err();
        out.finish();
        const publish::PublishStats s = out.stats();
        EXPECT_EQ(s.framesSent, 60u);
        EXPECT_EQ(s.drops + s.unsent, 0u);
        EXPECT_EQ(s.sessions, 1u);
    }
    server->wait(60);
    const std::vector<long long> pts = packetPts(dir.file("got.ts"));
    ASSERT_EQ(pts.size(), 60u);
    for (size_t i = 1; i < pts.size(); ++i) {
        const long long want = (captures[i] - captures[0]) * 9 / 100'000;  // ns -> 90 kHz
        EXPECT_NEAR(static_cast<double>(pts[i] - pts[0]), static_cast<double>(want), 1.0) << i;
    }
}

// Secrets: the SRT passphrase end to end with srt-live-transmit (libsrt's own listener), and
// no secret on stderr or in --print-config, whatever happens to the session.
namespace {

const std::string kPassphrase = "Right-Passphrase-42";
const std::string kStreamUser = "TopSecretStreamUser7";

void expectNoSecret(const std::string& text, const std::vector<std::string>& secrets) {
    for (const std::string& s : secrets) {
        EXPECT_EQ(text.find(s), std::string::npos) << "'" << s << "' in\n" << text;
    }
}

// srt-live-transmit listening on `p` with `passphrase`, writing the decrypted MPEG-TS to
// `out`; it ends when the caller's session ends (-a:no: no waiting for another).
std::unique_ptr<ChildProcess> srtLiveTransmit(uint16_t p, const std::string& passphrase,
                                              const std::string& out) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{"srt-live-transmit", "-a:no",
                                 "srt://:" + port(p) + "?mode=listener&passphrase=" + passphrase,
                                 "file://con"},
        out);
}

std::string srtUrl(uint16_t p, const std::string& passphrase) {
    return "srt://127.0.0.1:" + port(p) + "?passphrase=" + passphrase +
           "&pbkeylen=32&streamid=publish:cam:" + kStreamUser;
}

}  // namespace

TEST(Publish, SrtPassphraseIntoSrtLiveTransmitDecodes) {
    TempDir dir;
    const uint16_t p = freePort();
    auto server = srtLiveTransmit(p, kPassphrase, dir.file("got.ts"));
    ASSERT_TRUE(waitForBound(p, false)) << server->err();
    // -vv: every message there is, libsrt's own lines included.
    const ProcessResult pub =
        runProcess(publisher(srtUrl(p, kPassphrase), {"--frames", "60", "-vv"}), 120);
    ASSERT_EQ(pub.exitCode, 0) << pub.err;
    expectNoSecret(pub.err, {kPassphrase, kStreamUser});
    EXPECT_NE(pub.err.find("publishing to srt://127.0.0.1:" + port(p) +
                           "?passphrase=***&pbkeylen=32&streamid=***"),
              std::string::npos)
        << pub.err;
    ASSERT_EQ(server->wait(60), 0) << server->err();
    // srt-live-transmit decrypted it: FFmpeg decodes every frame without a word.
    const ProbeInfo info = probeHevc(dir.file("got.ts"), "mpegts");
    ASSERT_TRUE(info.ok) << info.error;
    EXPECT_EQ(info.error, "");
    EXPECT_EQ(info.width, 160);
    EXPECT_EQ(info.height, 120);
    EXPECT_EQ(info.frames, 60);
    // The same configuration printed: the secrets masked, one note saying so.
    const ProcessResult config =
        runProcess(publisher(srtUrl(p, kPassphrase), {"--print-config"}), 60);
    ASSERT_EQ(config.exitCode, 0) << config.err;
    expectNoSecret(config.out + config.err, {kPassphrase, kStreamUser});
    EXPECT_NE(config.out.find("publish = [\"srt://127.0.0.1:" + port(p) +
                              "?passphrase=***&pbkeylen=32&streamid=***\"]"),
              std::string::npos)
        << config.out;
    EXPECT_NE(config.err.find("--print-config hid 2 secrets as ***"), std::string::npos)
        << config.err;
}

TEST(Publish, SrtWrongPassphraseIsRefusedCountedAndRedacted) {
    TempDir dir;
    const uint16_t p = freePort();
    auto server = srtLiveTransmit(p, kPassphrase, dir.file("got.ts"));
    ASSERT_TRUE(waitForBound(p, false)) << server->err();
    const std::string wrong = "Wrong-Passphrase-99";
    const ProcessResult pub =
        runProcess(publisher(srtUrl(p, wrong), {"--frames", "45", "--connect-timeout", "500",
                                                "--reconnect-min", "50", "--stats-json", "-vv"}),
                   120);
    ASSERT_EQ(pub.exitCode, 0) << pub.err;
    expectNoSecret(pub.err, {wrong, kStreamUser});
    // Each attempt failed, in words that say why, and was counted; no session began.
    EXPECT_NE(pub.err.find("cannot publish to srt://127.0.0.1:" + port(p) +
                           "?passphrase=***&pbkeylen=32&streamid=***: "),
              std::string::npos)
        << pub.err;
    EXPECT_NE(pub.err.find("Incorrect passphrase"), std::string::npos) << pub.err;
    const size_t last = pub.err.rfind("\"publish1_failures\":");
    ASSERT_NE(last, std::string::npos) << pub.err;
    EXPECT_GT(std::atoll(pub.err.c_str() + last + 20), 0) << pub.err;
    EXPECT_EQ(pub.err.find("\"publish1_sessions\":1"), std::string::npos) << pub.err;
    // The listener took nothing: nothing to decode.
    server->signal(SIGTERM);
    server->wait(30);
    EXPECT_TRUE(readFile(dir.file("got.ts")).empty());
}

// No server at all: the retries' messages (libavformat's "Connection to URL failed" among
// them) show every URL redacted.
TEST(Publish, UnreachableServersShowNoSecret) {
    const uint16_t p = freePort();  // nothing listens there
    const std::string password = "Rtsp/Pass?w#rd@1";
    const ProcessResult r = runProcess(
        publisher(srtUrl(p, kPassphrase),
                  {"--publish", "rtsp://admin:" + password + "@127.0.0.1:" + port(p) + "/live",
                   "--frames", "30", "--connect-timeout", "200", "--reconnect-min", "50", "-vv"}),
        120);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    expectNoSecret(r.err, {kPassphrase, kStreamUser, password, "Rtsp", "w#rd"});
    EXPECT_NE(r.err.find("cannot publish to rtsp://admin:***@127.0.0.1:" + port(p) + "/live: "),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("cannot publish to srt://127.0.0.1:" + port(p) + "?passphrase=***"),
              std::string::npos)
        << r.err;
}

TEST(Publish, PassphraseOutsideTenToSeventyNineAndBadKeyLengthAreUsageErrors) {
    for (const std::string& query :
         {std::string("passphrase=Short1234"), "passphrase=" + std::string(80, 'x'),
          "passphrase=" + kPassphrase + "&pbkeylen=20"}) {
        const ProcessResult r = runProcess({binaryPath(), "-d", "/dev/nonexistent-camera",
                                            "--publish", "srt://127.0.0.1:9000?" + query},
                                           60);
        EXPECT_EQ(r.exitCode, 2) << query << ": " << r.err;
        expectOneErrorLine(r,
                           query.find("pbkeylen") == std::string::npos ? "10..79" : "pbkeylen=20");
        expectNoSecret(r.err, {"Short1234", std::string(80, 'x'), kPassphrase});
    }
}

// An RTSP password holding '/', '?', '#' and '@' as written: the server (gst-rtsp-server with
// Digest) takes it, a wrong one is refused (401) in one line, and neither is ever shown.
TEST(Publish, RtspPasswordWithUrlCharactersAuthenticatesAndIsNeverShown) {
    const uint16_t p = freePort();
    const std::string password = "p/a?s#s@w0rd";
    ChildProcess server(
        {"/usr/bin/python3", H265D_RTSP_RECORD_SERVER, port(p), "--user", "admin:" + password});
    ASSERT_TRUE(server.waitForStderr("ready", 60)) << server.err();
    const std::string url = "rtsp://admin:" + password + "@127.0.0.1:" + port(p) + "/cam";
    const ProcessResult right = runProcess(publisher(url, {"--frames", "30", "-vv"}), 120);
    ASSERT_EQ(right.exitCode, 0) << right.err;
    EXPECT_TRUE(server.waitForStderr("recording", 60)) << server.err();
    EXPECT_NE(right.err.find("publishing to rtsp://admin:***@127.0.0.1:" + port(p) + "/cam"),
              std::string::npos)
        << right.err;
    expectNoSecret(right.err, {password, "w0rd"});
    const std::string wrong = "Wrong/Pass#1";
    const ProcessResult refused =
        runProcess(publisher("rtsp://admin:" + wrong + "@127.0.0.1:" + port(p) + "/cam",
                             {"--exit-on-disconnect", "-q"}),
                   120);
    EXPECT_EQ(refused.exitCode, 8) << refused.err;
    expectOneErrorLine(refused, "cannot publish to rtsp://admin:***@127.0.0.1:" + port(p) +
                                    "/cam: starting the RTSP session: method ANNOUNCE failed: 401");
    expectNoSecret(refused.err, {wrong, "Wrong", "Pass#1"});
}
