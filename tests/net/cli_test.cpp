// SPDX-License-Identifier: GPL-2.0-or-later
// The h265direct program's TCP outputs end to end, against real peers: GStreamer, FFmpeg and
// readers written here. One file (over 500 lines) because every case uses the same helpers
// (background runs, frame readers, decode checks).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <random>
#include <sstream>

#include "common/child_process.hpp"
#include "h265direct/annexb.hpp"
#include "h265direct/config.hpp"
#include "net_fixture.hpp"

namespace h265direct::test {
namespace {

class Cli : public NetIoTest {};
H265D_NET_IO_SUITE(Cli);

bool netOptionsWired() {
    static const bool wired = [] {
        const ProcessResult r = runProcess({binaryPath(), "--help"}, 30);
        return r.out.find("--target") != std::string::npos;
    }();
    return wired;
}

// A program without the network options is a failure here, never a reason to skip.
#define REQUIRE_NET_CLI() \
    ASSERT_TRUE(netOptionsWired()) << "the program's --help shows no -t/--target option"

// True once something listens on the TCP port (IPv4 or IPv6), read from /proc.
bool isListening(uint16_t port) {
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            std::istringstream s(line);
            std::string slot, local, remote, state;
            s >> slot >> local >> remote >> state;
            const size_t colon = local.rfind(':');
            if (colon != std::string::npos && state == "0A" &&
                std::stoul(local.substr(colon + 1), nullptr, 16) == port) {
                return true;
            }
        }
    }
    return false;
}

// Runs the program in the background; the result is there after join().
struct Background {
    ProcessResult result;
    std::thread thread;
    explicit Background(std::vector<std::string> args, double timeoutSec = 60) {
        args.insert(args.begin(), {binaryPath(), "--io", currentIoPath()->io});
        thread = std::thread([this, args, timeoutSec] { result = runProcess(args, timeoutSec); });
    }
    ProcessResult& join() {
        if (thread.joinable()) {
            thread.join();
        }
        return result;
    }
    ~Background() { join(); }
};

// Reads length-framed access units until `want` whole ones arrived, the stream ended, or
// nothing came for idleSec. A partial last frame is left out.
std::vector<std::vector<uint8_t>> readFrames(int fd, size_t want, double idleSec = 10) {
    std::vector<uint8_t> bytes;
    std::vector<std::vector<uint8_t>> frames;
    uint8_t buf[65536];
    size_t pos = 0;
    while (frames.size() < want) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(idleSec * 1000)) != 1) {
            break;
        }
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        bytes.insert(bytes.end(), buf, buf + n);
        while (bytes.size() - pos >= 4 && frames.size() < want) {
            const size_t len = (size_t{bytes[pos]} << 24) | (size_t{bytes[pos + 1]} << 16) |
                               (size_t{bytes[pos + 2]} << 8) | bytes[pos + 3];
            if (bytes.size() - pos - 4 < len) {
                break;
            }
            frames.emplace_back(bytes.begin() + static_cast<std::ptrdiff_t>(pos + 4),
                                bytes.begin() + static_cast<std::ptrdiff_t>(pos + 4 + len));
            pos += 4 + len;
        }
    }
    return frames;
}

// Checks each frame with the project's parser; the first must be a keyframe with VPS/SPS/PPS.
::testing::AssertionResult wholeUnitsFromAKeyframe(const std::vector<std::vector<uint8_t>>& f) {
    if (f.empty()) {
        return ::testing::AssertionFailure() << "no frames";
    }
    for (size_t i = 0; i < f.size(); ++i) {
        AccessUnit au;
        au.data = f[i];
        const hevc::ParseError e = hevc::describeAccessUnit(au);
        if (e != hevc::ParseError::None) {
            return ::testing::AssertionFailure() << "frame " << i << ": " << hevc::toString(e);
        }
        if (i == 0 && !(au.keyframe && au.hasParameterSets)) {
            return ::testing::AssertionFailure() << "the first frame is not a keyframe with "
                                                    "parameter sets";
        }
    }
    return ::testing::AssertionSuccess();
}

std::vector<uint8_t> joined(const std::vector<std::vector<uint8_t>>& frames) {
    std::vector<uint8_t> out;
    for (const auto& f : frames) {
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

int decodeCount(const std::vector<uint8_t>& annexb, const TempDir& dir, const std::string& name) {
    const std::string path = dir.file(name);
    writeFile(path, annexb.data(), annexb.size());
    return decodedFrames(path);
}

// The last JSON stats line holding key; its integer value (-1 if none).
long long lastJsonInt(const std::string& err, const std::string& key) {
    long long value = -1;
    const std::string needle = "\"" + key + "\":";
    size_t at = 0;
    while ((at = err.find(needle, at)) != std::string::npos) {
        at += needle.size();
        value = std::atoll(err.c_str() + at);
    }
    return value;
}

TEST_P(Cli, TheLengthFramingCarriesExactlyTheOutputFile) {
    REQUIRE_NET_CLI();
    TempDir dir;
    TestListener server;
    Background run({"--pattern", "-s", "160x120", "--frames", "45", "--no-pace", "-q", "-o",
                    dir.file("out.h265"), "-t", "127.0.0.1:" + std::to_string(server.port)});
    const int fd = server.accept(20);
    ASSERT_GE(fd, 0);
    const std::vector<uint8_t> wire = readSome(fd, SIZE_MAX, 20);
    ::close(fd);
    const ProcessResult& r = run.join();
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::vector<std::vector<uint8_t>> frames;
    ASSERT_TRUE(parseLengthFraming(wire, frames)) << "not the length framing";
    EXPECT_EQ(frames.size(), 45u);
    EXPECT_TRUE(wholeUnitsFromAKeyframe(frames));
    EXPECT_TRUE(joined(frames) == readFile(dir.file("out.h265")))
        << "the payload differs from the -o file";
}

TEST_P(Cli, GstreamerTcpserversrcDecodesTheAnnexbStream) {
    REQUIRE_NET_CLI();
    if (!haveProgram("gst-launch-1.0")) {
        GTEST_SKIP() << "no gst-launch-1.0";
    }
    TempDir dir;
    const uint16_t port = freePort();
    std::thread gst([&] {
        const ProcessResult g = runShell(
            "gst-launch-1.0 -q tcpserversrc host=127.0.0.1 port=" + std::to_string(port) +
                " ! h265parse ! avdec_h265 ! videoconvert ! video/x-raw,format=I420 ! filesink "
                "location=" +
                dir.file("gst.yuv"),
            60);
        EXPECT_EQ(g.exitCode, 0) << g.err;
    });
    ASSERT_TRUE(waitFor([&] { return isListening(port); }, 20));
    const ProcessResult r = runProcess(
        {binaryPath(), "--io", currentIoPath()->io, "--pattern", "-s", "160x120", "--frames", "30",
         "--no-pace", "-q", "--framing", "annexb", "-t", "127.0.0.1:" + std::to_string(port)},
        60);
    gst.join();
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readFile(dir.file("gst.yuv")).size(), 30u * 160 * 120 * 3 / 2);
}

TEST_P(Cli, FfmpegDecodesTheAnnexbStream) {
    REQUIRE_NET_CLI();
    TempDir dir;
    const uint16_t port = freePort();
    std::thread ff([&] {
        const ProcessResult f = runShell(
            "ffmpeg -nostdin -v error -f hevc -i 'tcp://127.0.0.1:" + std::to_string(port) +
                "?listen' -f rawvideo -pix_fmt yuv420p -y " + dir.file("ff.yuv"),
            60);
        EXPECT_EQ(f.exitCode, 0) << f.err;
        EXPECT_EQ(f.err, "");
    });
    ASSERT_TRUE(waitFor([&] { return isListening(port); }, 20));
    const ProcessResult r = runProcess(
        {binaryPath(), "--io", currentIoPath()->io, "--pattern", "-s", "160x120", "--frames", "30",
         "--no-pace", "-q", "--framing", "annexb", "-t", "127.0.0.1:" + std::to_string(port)},
        60);
    ff.join();
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readFile(dir.file("ff.yuv")).size(), 30u * 160 * 120 * 3 / 2);
}

TEST_P(Cli, TheServerStartsLateAndIsRestartedTwice) {
    REQUIRE_NET_CLI();
    TempDir dir;
    const uint16_t port = freePort();
    ChildProcess run({binaryPath(), "--io", currentIoPath()->io, "--pattern", "-s", "160x120",
                      "--stats-json", "--reconnect-min", "50", "--reconnect-max", "200", "-t",
                      "127.0.0.1:" + std::to_string(port)});
    // The sender is up first and finds nobody.
    ASSERT_TRUE(run.waitForStderr("cannot connect to 127.0.0.1:" + std::to_string(port)))
        << run.err();
    for (int round = 0; round < 3; ++round) {
        TestListener server(false, port);
        const int fd = server.accept(10);
        ASSERT_GE(fd, 0) << "round " << round;
        const auto frames = readFrames(fd, 12);
        // Killed mid-stream: the listener and the connection go at once.
        server.close();
        ::close(fd);
        ASSERT_GE(frames.size(), 12u) << "round " << round;
        EXPECT_TRUE(wholeUnitsFromAKeyframe(frames)) << "round " << round;
        EXPECT_EQ(decodeCount(joined(frames), dir, "r" + std::to_string(round) + ".h265"),
                  static_cast<int>(frames.size()))
            << "round " << round;
    }
    run.signal(SIGTERM);
    EXPECT_EQ(run.wait(), 0) << run.err();
    const std::string err = run.err();
    EXPECT_GE(lastJsonInt(err, "client_reconnects"), 2) << err;
    EXPECT_GE(lastJsonInt(err, "client_connect_failures"), 1) << err;
}

TEST_P(Cli, ASlowReceiverBesideAFastOne) {
    REQUIRE_NET_CLI();
    TempDir dir;
    const uint16_t port = freePort();
    Background run({"--pattern", "-s", "320x240", "-b", "3000", "--duration", "3", "--stats-json",
                    "--queue-frames", "8", "--send-buffer", "16k", "-o", dir.file("out.h265"), "-l",
                    "127.0.0.1:" + std::to_string(port)});
    ASSERT_TRUE(waitFor([&] { return isListening(port); }, 20));
    const int fast = connectTo(port);
    ASSERT_GE(fast, 0);
    // The fast one is receiver 1: the server has taken it when its first bytes come.
    pollfd first{fast, POLLIN, 0};
    ASSERT_EQ(poll(&first, 1, 20000), 1);
    const int slow = connectTo(port, 4096);
    ASSERT_GE(slow, 0);
    std::vector<std::vector<uint8_t>> fastFrames;
    std::thread fastReader([&] {
        fastFrames = readFrames(fast, SIZE_MAX, 10);
        ::close(fast);
    });
    std::vector<uint8_t> slowBytes;
    std::thread slowReader([&] {
        uint8_t buf[1024];
        while (true) {
            pollfd p{slow, POLLIN, 0};
            if (poll(&p, 1, 10000) != 1) {
                break;
            }
            const ssize_t n = ::read(slow, buf, sizeof buf);
            if (n <= 0) {
                break;
            }
            slowBytes.insert(slowBytes.end(), buf, buf + n);
            std::this_thread::sleep_for(std::chrono::milliseconds(40));  // ~25 KB/s
        }
        ::close(slow);
    });
    const ProcessResult& r = run.join();
    fastReader.join();
    slowReader.join();
    EXPECT_EQ(r.exitCode, 0) << r.err;
    // The fast receiver lost nothing: from its first keyframe to the end, the -o file.
    const std::vector<uint8_t> file = readFile(dir.file("out.h265"));
    const std::vector<uint8_t> fastPayload = joined(fastFrames);
    ASSERT_TRUE(wholeUnitsFromAKeyframe(fastFrames));
    ASSERT_LE(fastPayload.size(), file.size());
    EXPECT_TRUE(std::equal(fastPayload.begin(), fastPayload.end(),
                           file.end() - static_cast<std::ptrdiff_t>(fastPayload.size())))
        << "the fast receiver's stream is not the end of the -o file";
    // The slow one: whole units from a keyframe, decodable, fewer of them; drops counted.
    std::vector<std::vector<uint8_t>> slowFrames;
    {
        std::vector<uint8_t> whole;
        const size_t i = wholeFramesLength(slowBytes);
        whole.assign(slowBytes.begin(), slowBytes.begin() + static_cast<std::ptrdiff_t>(i));
        ASSERT_TRUE(parseLengthFraming(whole, slowFrames));
    }
    EXPECT_TRUE(wholeUnitsFromAKeyframe(slowFrames));
    EXPECT_LT(slowFrames.size(), fastFrames.size());
    EXPECT_EQ(decodeCount(joined(slowFrames), dir, "slow.h265"),
              static_cast<int>(slowFrames.size()));
    EXPECT_GT(lastJsonInt(r.err, "server_drops"), 0) << r.err;
    // Per receiver: "1:qN/d0 2:qM/dK" - the fast one (1) has no drops.
    EXPECT_NE(r.err.find("\"1:q"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("\"1:q0/d1"), std::string::npos);
    const size_t last = r.err.rfind("\"server_peer_queues\":\"1:");
    ASSERT_NE(last, std::string::npos) << r.err;
    const std::string detail = r.err.substr(last, r.err.find('"', last + 23) - last);
    EXPECT_NE(detail.find("/d0 "), std::string::npos) << detail;
}

TEST_P(Cli, TwentyReceiversJoinAndLeaveEachDecodesFromItsFirstByte) {
    REQUIRE_NET_CLI();
    TempDir dir;
    const uint16_t port = freePort();
    Background run({"--pattern", "-s", "160x120", "--duration", "4", "--keyint", "60",
                    "--keyframe-request-interval", "300", "-q", "-o", dir.file("out.h265"), "-l",
                    "127.0.0.1:" + std::to_string(port)});
    ASSERT_TRUE(waitFor([&] { return isListening(port); }, 20));
    constexpr int kReceivers = 22;
    std::vector<std::vector<std::vector<uint8_t>>> got(kReceivers);
    std::vector<std::thread> threads;
    for (int i = 0; i < kReceivers; ++i) {
        threads.emplace_back([&, i] {
            std::mt19937 rng(static_cast<unsigned>(i) * 104729u + 1);
            std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 2000));
            const int fd = connectTo(port);
            if (fd < 0) {
                return;
            }
            got[static_cast<size_t>(i)] = readFrames(fd, 8 + rng() % 30, 5);
            ::close(fd);
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    const ProcessResult& r = run.join();
    EXPECT_EQ(r.exitCode, 0) << r.err;
    for (int i = 0; i < kReceivers; ++i) {
        const auto& frames = got[static_cast<size_t>(i)];
        ASSERT_FALSE(frames.empty()) << "receiver " << i;
        EXPECT_TRUE(wholeUnitsFromAKeyframe(frames)) << "receiver " << i;
        EXPECT_EQ(decodeCount(joined(frames), dir, "r" + std::to_string(i) + ".h265"),
                  static_cast<int>(frames.size()))
            << "receiver " << i;
    }
    // Joiners share keyframes: far fewer keyframes than frames.
    AccessUnit au;
    std::vector<NalUnitInfo> nals;
    const std::vector<uint8_t> file = readFile(dir.file("out.h265"));
    ASSERT_EQ(hevc::splitNalUnits(file, nals), hevc::ParseError::None);
    size_t idr = 0, pictures = 0;
    for (const NalUnitInfo& n : nals) {
        if (hevc::isVcl(n.type)) {
            ++pictures;
            idr += hevc::isIdr(n.type) ? 1 : 0;
        }
    }
    EXPECT_GT(pictures, 60u);
    EXPECT_LE(idr, pictures / 4) << idr << " keyframes in " << pictures << " pictures";
}

TEST_P(Cli, GarbageSendingAndHalfClosingReceiversStillDecode) {
    REQUIRE_NET_CLI();
    TempDir dir;
    const uint16_t port = freePort();
    // 60 frames, however long the machine takes to encode them (both receivers join at once).
    Background run({"--pattern", "-s", "160x120", "--frames", "60", "-q", "-l",
                    "127.0.0.1:" + std::to_string(port)});
    ASSERT_TRUE(waitFor([&] { return isListening(port); }, 20));
    const int garbage = connectTo(port);
    const int halfClosed = connectTo(port);
    ASSERT_GE(garbage, 0);
    ASSERT_GE(halfClosed, 0);
    ASSERT_EQ(::shutdown(halfClosed, SHUT_WR), 0);
    std::mt19937 rng(11);
    std::vector<uint8_t> noise(64 * 1024);
    for (auto& b : noise) {
        b = static_cast<uint8_t>(rng());
    }
    std::vector<std::vector<uint8_t>> a, b;
    std::thread ra([&] {
        // Interleaves garbage with reading.
        std::vector<uint8_t> bytes;
        for (int i = 0; i < 4; ++i) {
            EXPECT_GT(::write(garbage, noise.data(), noise.size()), 0);
            auto more = readSome(garbage, 4000, 5);
            bytes.insert(bytes.end(), more.begin(), more.end());
        }
        auto rest = readSome(garbage, SIZE_MAX, 5);
        bytes.insert(bytes.end(), rest.begin(), rest.end());
        ::close(garbage);
        EXPECT_TRUE(parseLengthFraming(bytes, a));
    });
    std::thread rb([&] {
        b = readFrames(halfClosed, SIZE_MAX, 5);
        ::close(halfClosed);
    });
    ra.join();
    rb.join();
    const ProcessResult& r = run.join();
    EXPECT_EQ(r.exitCode, 0) << r.err;
    for (const auto* frames : {&a, &b}) {
        ASSERT_GE(frames->size(), 20u);
        EXPECT_TRUE(wholeUnitsFromAKeyframe(*frames));
        EXPECT_EQ(decodeCount(joined(*frames), dir, frames == &a ? "a.h265" : "b.h265"),
                  static_cast<int>(frames->size()));
    }
}

TEST_P(Cli, BadTargetAndListenValues) {
    REQUIRE_NET_CLI();
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"-t", "localhost"}, "'localhost': no port given"},
        {{"-t", "127.0.0.1:0"}, "port 0 is out of range 1..65535"},
        {{"-t", "127.0.0.1:99999"}, "port 99999 is out of range 1..65535"},
        {{"-t", "no-such-host.invalid:5005"}, "cannot resolve 'no-such-host.invalid'"},
        {{"-l", "0"}, "port 0 is out of range 1..65535"},
        {{"-l", "99999"}, "port 99999 is out of range 1..65535"},
        {{"-l", "host.invalid:"}, "no port given"},
        {{"-l", "no-such-host.invalid:5005"}, "cannot resolve 'no-such-host.invalid'"},
        {{"--framing", "rtp", "-t", "127.0.0.1:5005"}, "--framing"},
    };
    for (const auto& [args, text] : cases) {
        std::vector<std::string> argv = {binaryPath(), "--io",     currentIoPath()->io,
                                         "--pattern",  "--frames", "1"};
        argv.insert(argv.end(), args.begin(), args.end());
        const ProcessResult r = runProcess(argv, 30);
        EXPECT_EQ(r.exitCode, kExitUsage) << args[0] << " " << args[1] << ": " << r.err;
        EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    }
}

TEST_P(Cli, APortInUseIsANetworkError) {
    REQUIRE_NET_CLI();
    TestListener taken;
    const ProcessResult r =
        runProcess({binaryPath(), "--io", currentIoPath()->io, "--pattern", "--frames", "1", "-l",
                    "127.0.0.1:" + std::to_string(taken.port)},
                   30);
    EXPECT_EQ(r.exitCode, kExitNetwork) << r.err;
    EXPECT_NE(r.err.find("Address already in use"), std::string::npos) << r.err;
}

TEST_P(Cli, APortNobodyListensOn) {
    REQUIRE_NET_CLI();
    const std::string target = "127.0.0.1:" + std::to_string(freePort());
    // Default: keep running, keep trying, say so.
    ProcessResult r =
        runProcess({binaryPath(), "--io", currentIoPath()->io, "--pattern", "-s", "160x120",
                    "--duration", "1", "--reconnect-min", "50", "-t", target},
                   30);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("cannot connect to " + target + ": Connection refused; retrying"),
              std::string::npos)
        << r.err;
    // Asked to: end with the network exit code and the reason.
    r = runProcess({binaryPath(), "--io", currentIoPath()->io, "--pattern", "-s", "160x120",
                    "--duration", "5", "--exit-on-disconnect", "-t", target},
                   30);
    EXPECT_EQ(r.exitCode, kExitNetwork) << r.err;
    EXPECT_NE(r.err.find("cannot connect to " + target + ": Connection refused"), std::string::npos)
        << r.err;
}

}  // namespace
}  // namespace h265direct::test

namespace h265direct::test {
namespace {

// Out of file descriptors (a low `ulimit -n`), the server closes the receivers it cannot take
// (they see the end of the stream at once, not a silent hang), counts them, says why, and
// keeps serving the others; a place freed is taken by the next receiver.
TEST_P(Cli, OutOfDescriptorsRefusesReceiversAndServesTheOthers) {
    REQUIRE_NET_CLI();
    const uint16_t port = freePort();
    ProcessResult r;
    std::thread run([&] {
        r = runShell("ulimit -n 24 && exec " + binaryPath() + " --io " + currentIoPath()->io +
                         " --pattern -s 160x120 --duration 8 --keyint 15 --stats-json -l "
                         "127.0.0.1:" +
                         std::to_string(port),
                     60);
    });
    ASSERT_TRUE(waitFor([&] { return isListening(port); }, 20));
    std::vector<int> served;
    int refusedFd = -1;
    for (int i = 0; i < 40 && refusedFd < 0; ++i) {
        const int fd = connectTo(port);
        ASSERT_GE(fd, 0);
        if (readFrames(fd, 1, 5).size() == 1) {
            served.push_back(fd);
        } else {
            refusedFd = fd;
        }
    }
    ASSERT_GE(refusedFd, 0) << "no receiver was refused";
    // Closed, not left hanging in the backlog: it reads the end of the stream.
    pollfd p{refusedFd, POLLIN, 0};
    char byte = 0;
    EXPECT_EQ(poll(&p, 1, 0), 1);
    EXPECT_EQ(::read(refusedFd, &byte, 1), 0);
    ::close(refusedFd);
    EXPECT_FALSE(served.empty());
    // A receiver leaves: the next one is served.
    ::close(served.back());
    served.pop_back();
    // (The server notices the leaving at its next send to it; until then newcomers are
    // refused.)
    std::vector<std::vector<uint8_t>> frames;
    ASSERT_TRUE(waitFor(
        [&] {
            const int next = connectTo(port);
            frames = next >= 0 ? readFrames(next, 5, 5) : frames;
            ::close(next);
            return frames.size() == 5;
        },
        20))
        << "no receiver was served after one left";
    EXPECT_TRUE(wholeUnitsFromAKeyframe(frames));
    for (int fd : served) {
        ::close(fd);
    }
    run.join();
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("out of file descriptors"), std::string::npos) << r.err;
    EXPECT_GE(lastJsonInt(r.err, "server_refused"), 1) << r.err;
}

// Runs the program for `seconds` as a -l server with one reader that reads everything and,
// when `stalled`, a second receiver that never reads. Returns the program's result; its
// peak RSS in kB in maxRssKb; the reader's frames in frames.
ProcessResult serveWithStalledReceiver(bool stalled, long& maxRssKb,
                                       std::vector<std::vector<uint8_t>>& frames) {
    const uint16_t port = freePort();
    ProcessResult r;
    std::thread run([&] {
        r = runShell("/usr/bin/time -f 'maxrss_kb %M' " + binaryPath() + " --io " +
                         currentIoPath()->io +
                         " --pattern -s 320x240 -b 2000 --keyint 30 --duration 6 "
                         "--queue-frames 30 --stats-json -l 127.0.0.1:" +
                         std::to_string(port),
                     60);
    });
    EXPECT_TRUE(waitFor([&] { return isListening(port); }, 20));
    const int reader = connectTo(port);
    const int still = stalled ? connectTo(port, 4096) : -1;
    frames = readFrames(reader, SIZE_MAX, 10);
    run.join();
    ::close(reader);
    if (still >= 0) {
        ::close(still);
    }
    const size_t at = r.err.rfind("maxrss_kb ");
    maxRssKb = at == std::string::npos ? -1 : std::atol(r.err.c_str() + at + 10);
    return r;
}

// A receiver that stops reading is not left to the kernel's buffers (which at this bitrate
// would hold many seconds, until TCP_USER_TIMEOUT cuts it): the capped send buffer fills,
// its queue fills, it is skipped to the next keyframe (drops counted), memory stays bounded
// (process RSS, not only counters), and the reader beside it gets everything.
TEST_P(Cli, AStalledReceiverIsSkippedWithBoundedMemory) {
    REQUIRE_NET_CLI();
    TempDir dir;
    long baseRss = 0;
    long stalledRss = 0;
    std::vector<std::vector<uint8_t>> frames;
    const ProcessResult base = serveWithStalledReceiver(false, baseRss, frames);
    ASSERT_EQ(base.exitCode, 0) << base.err;
    const ProcessResult r = serveWithStalledReceiver(true, stalledRss, frames);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("is too slow (queue full: "), std::string::npos) << r.err;
    EXPECT_GT(lastJsonInt(r.err, "server_drops"), 0) << r.err;
    EXPECT_EQ(r.err.find("connection lost"), std::string::npos) << r.err;
    ASSERT_GT(baseRss, 0) << base.err;
    ASSERT_GT(stalledRss, 0) << r.err;
    // The stalled receiver's share: at most its queue (30 units of a 2 Mbit/s stream, under
    // 1 MB) and its send buffer; 8 MB is room for allocator noise.
    EXPECT_LT(stalledRss - baseRss, 8 * 1024) << "peak RSS " << stalledRss << " kB with, "
                                              << baseRss << " kB without the stalled receiver";
    ASSERT_GT(frames.size(), 60u);
    EXPECT_TRUE(wholeUnitsFromAKeyframe(frames));
    EXPECT_EQ(decodeCount(joined(frames), dir, "reader.h265"), static_cast<int>(frames.size()));
}

}  // namespace
}  // namespace h265direct::test

// ---------------------------------------------------------------- io_uring refused

#ifdef H265D_NO_URING_LAUNCHER
namespace h265direct::test {
// Where io_uring_setup is refused (Docker's default seccomp profile, kernel.io_uring_disabled),
// the program streams over epoll and says so at start. The launcher installs such a filter.
namespace {

const char* const kFallbackLine =
    "network I/O: epoll (io_uring not usable: io_uring_setup: Operation not permitted)";

std::vector<std::string> underFilter(std::vector<std::string> args) {
    args.insert(args.begin(), {H265D_NO_URING_LAUNCHER, binaryPath()});
    return args;
}

}  // namespace

TEST(NoUring, TheFilterRefusesIoUringToThoseWhoInsist) {
    const ProcessResult r = runProcess(
        underFilter({"--io", "uring", "--pattern", "--frames", "1", "-l", "127.0.0.1:1"}), 60);
    EXPECT_EQ(r.exitCode, kExitNetwork) << r.err;
    EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
}

TEST(NoUring, VersionNamesTheEpollPathAndWhy) {
    const ProcessResult r = runProcess(underFilter({"--version"}), 60);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find(std::string("\n") + kFallbackLine + "\n"), std::string::npos) << r.out;
}

TEST(NoUring, TargetToGstreamerTcpserversrcDecodes) {
    ASSERT_TRUE(haveProgram("gst-launch-1.0")) << "no gst-launch-1.0 (tools/setup.sh installs it)";
    TempDir dir;
    const uint16_t port = freePort();
    std::thread gst([&] {
        const ProcessResult g = runShell(
            "gst-launch-1.0 -q tcpserversrc host=127.0.0.1 port=" + std::to_string(port) +
                " ! h265parse ! avdec_h265 ! videoconvert ! video/x-raw,format=I420 ! filesink "
                "location=" +
                dir.file("gst.yuv"),
            60);
        EXPECT_EQ(g.exitCode, 0) << g.err;
    });
    ASSERT_TRUE(waitFor([&] { return isListening(port); }, 20));
    const ProcessResult r =
        runProcess(underFilter({"--pattern", "-s", "160x120", "--frames", "30", "--no-pace",
                                "--framing", "annexb", "-t", "127.0.0.1:" + std::to_string(port)}),
                   60);
    gst.join();
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find(kFallbackLine), std::string::npos) << r.err;
    EXPECT_EQ(readFile(dir.file("gst.yuv")).size(), 30u * 160 * 120 * 3 / 2);
}

TEST(NoUring, ListenServesTwoReceiversDecodableStreams) {
    TempDir dir;
    const uint16_t port = freePort();
    ProcessResult r;
    std::thread run([&] {
        r = runProcess(underFilter({"--pattern", "-s", "160x120", "--duration", "3", "--keyint",
                                    "15", "-l", "127.0.0.1:" + std::to_string(port)}),
                       60);
    });
    ASSERT_TRUE(waitFor([&] { return isListening(port); }, 20));
    std::vector<std::vector<uint8_t>> got[2];
    std::vector<std::thread> receivers;
    for (int i = 0; i < 2; ++i) {
        receivers.emplace_back([&, i] {
            const int fd = connectTo(port);
            if (fd >= 0) {
                got[i] = readFrames(fd, 30, 10);
                ::close(fd);
            }
        });
    }
    for (auto& t : receivers) {
        t.join();
    }
    run.join();
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find(kFallbackLine), std::string::npos) << r.err;
    for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(got[i].size(), 30u) << "receiver " << i;
        EXPECT_TRUE(wholeUnitsFromAKeyframe(got[i])) << "receiver " << i;
        EXPECT_EQ(decodeCount(joined(got[i]), dir, "r" + std::to_string(i) + ".h265"), 30)
            << "receiver " << i;
    }
}

}  // namespace h265direct::test
#endif
