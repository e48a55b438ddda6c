// SPDX-License-Identifier: GPL-2.0-or-later
// An engine with nobody to encode for: it must end when an output fails, and sleep (not spin)
// while it waits for a receiver. Real program, real sockets on loopback.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/child_process.hpp"
#include "common/test_util.hpp"
#include "core/unique_fd.hpp"
#include "h265direct/config.hpp"

namespace h265direct::test {
namespace {

// A loopback TCP socket bound to a free port; listening only if asked. A bound socket that
// does not listen refuses connections, and holding it keeps the port from anyone else.
struct BoundPort {
    UniqueFd fd;
    uint16_t port = 0;
    explicit BoundPort(bool listen) {
        fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 ||
            (listen && ::listen(fd.get(), 4) != 0) ||
            getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            throw std::runtime_error("cannot bind a loopback socket");
        }
        port = ntohs(a.sin_port);
    }
};

// -t to a port that refuses, with --exit-on-disconnect: the run ends with the network code,
// whether or not the engine encodes while it has no receiver.
void expectClientFailureEnds(const std::vector<std::string>& extra) {
    BoundPort refusing(false);
    std::vector<std::string> args = {binaryPath(),
                                     "--pattern",
                                     "-s",
                                     "160x120",
                                     "--frames",
                                     "30",
                                     "-t",
                                     "127.0.0.1:" + std::to_string(refusing.port),
                                     "--exit-on-disconnect"};
    args.insert(args.end(), extra.begin(), extra.end());
    // The bound is for a hang only: the failure is seen within one connect attempt.
    const ProcessResult r = runProcess(args, 60);
    EXPECT_FALSE(r.timedOut) << "still running after 60 s\n" << r.err;
    EXPECT_EQ(r.exitCode, kExitNetwork) << r.err;
    EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

TEST(Idle, ClientThatCannotConnectEndsThePacedRun) {
    expectClientFailureEnds({});
}

TEST(Idle, ClientThatCannotConnectEndsTheUnpacedRun) {
    expectClientFailureEnds({"--no-pace"});
}

TEST(Idle, ClientThatCannotConnectEndsTheRunThatKeepsEncoding) {
    expectClientFailureEnds({"--keep-encoding"});
}

// -l with no receiver and an unpaced source (frames as fast as asked): the engine must sleep
// until a receiver comes. Measured as an upper bound on CPU time and on wake-ups over a few
// seconds, then a receiver connects and gets frames (the sleep ends on that event).
TEST(Idle, ServerWithoutReceiverSleeps) {
    // -l binds the port itself: take a free one, and try again should another program take
    // it in between.
    std::unique_ptr<ChildProcess> p;
    uint16_t port = 0;
    for (int attempt = 0; attempt < 5 && !p; ++attempt) {
        port = BoundPort(false).port;
        p = std::make_unique<ChildProcess>(
            std::vector<std::string>{binaryPath(), "--pattern", "--no-pace", "-s", "320x240", "-l",
                                     "127.0.0.1:" + std::to_string(port)});
        if (!p->waitForStderr("encoder: ")) {
            ASSERT_NE(p->wait(), 0);
            ASSERT_NE(p->err().find("listen"), std::string::npos) << p->err();
            p.reset();
        }
    }
    ASSERT_TRUE(p) << "no free port found";
    const double cpu0 = p->cpuSeconds();
    const long long wakes0 = p->voluntarySwitches();
    const double windowSec = 3;
    std::this_thread::sleep_for(std::chrono::duration<double>(windowSec));
    const double cpu = p->cpuSeconds() - cpu0;
    const long long wakes = p->voluntarySwitches() - wakes0;
    // Spinning took a whole core (3 s of CPU in 3 s). Sleeping: the stats line once a second.
    EXPECT_LT(cpu, 0.05 * windowSec) << "CPU seconds used while waiting for a receiver";
    EXPECT_LT(wakes, 20 * windowSec) << "wake-ups while waiting for a receiver";

    // A receiver comes: frames flow at once.
    UniqueFd rx(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ASSERT_EQ(::connect(rx.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    pollfd pf{rx.get(), POLLIN, 0};
    ASSERT_EQ(poll(&pf, 1, 60'000), 1) << "no frame for the receiver";
    uint8_t buf[4096];
    EXPECT_GT(::read(rx.get(), buf, sizeof buf), 0);
    rx.reset();
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(), 0) << p->err();
}

// An unpaced file with -l: nothing is read before a receiver comes, so the first receiver
// gets the whole file (a file read while nobody listened would be used up, unencoded).
TEST(Idle, UnpacedFileWaitsForTheFirstReceiver) {
    TempDir dir;
    const std::string raw = dir.file("in.yuyv");
    constexpr int kFrames = 10;
    std::vector<uint8_t> frames(size_t{64} * 64 * 2 * kFrames);
    for (size_t i = 0; i < frames.size(); ++i) {
        frames[i] = static_cast<uint8_t>(i * 7 / 5);
    }
    writeFile(raw, frames.data(), frames.size());
    std::unique_ptr<ChildProcess> p;
    uint16_t port = 0;
    for (int attempt = 0; attempt < 5 && !p; ++attempt) {
        port = BoundPort(false).port;
        p = std::make_unique<ChildProcess>(std::vector<std::string>{
            binaryPath(), "--input", raw, "--pixel-format", "YUYV", "-s", "64x64", "--no-pace",
            "-l", "127.0.0.1:" + std::to_string(port)});
        if (!p->waitForStderr("encoder: ")) {
            ASSERT_NE(p->wait(), 0);
            ASSERT_NE(p->err().find("listen"), std::string::npos) << p->err();
            p.reset();
        }
    }
    ASSERT_TRUE(p) << "no free port found";
    // A stats line: the engine has run for a second with nobody listening.
    ASSERT_TRUE(p->waitForStderr("[Bandwidth]")) << p->err();
    UniqueFd rx(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ASSERT_EQ(::connect(rx.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << p->err();
    // The run ends at the end of the file; the stream with it.
    std::vector<uint8_t> bytes;
    uint8_t buf[65536];
    for (;;) {
        pollfd pf{rx.get(), POLLIN, 0};
        ASSERT_EQ(poll(&pf, 1, 60'000), 1) << "the stream did not end";
        const ssize_t n = ::read(rx.get(), buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        bytes.insert(bytes.end(), buf, buf + n);
    }
    int units = 0;
    size_t at = 0;
    while (at + 4 <= bytes.size()) {
        const size_t len = (size_t{bytes[at]} << 24) | (size_t{bytes[at + 1]} << 16) |
                           (size_t{bytes[at + 2]} << 8) | bytes[at + 3];
        at += 4 + len;
        ++units;
    }
    EXPECT_EQ(at, bytes.size()) << "a cut frame";
    EXPECT_EQ(units, kFrames) << p->err();
    EXPECT_EQ(p->wait(), 0) << p->err();
}

}  // namespace
}  // namespace h265direct::test
