// SPDX-License-Identifier: GPL-2.0-or-later
// The receiver tool against hostile or broken senders: cut streams, rejected access units,
// idle connections that must not hold -l, and waiting without waking up.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <tuple>

#include "common/child_process.hpp"
#include "common/media.hpp"
#include "h265direct/annexb.hpp"
#include "net/framing.hpp"
#include "net_fixture.hpp"

namespace h265direct::test {
namespace {

constexpr int kExitCut = 10;  // the receiver's code for a stream that ends inside a unit

std::string receiver() {
#ifdef H265D_RECEIVER
    return H265D_RECEIVER;
#else
    return {};
#endif
}

std::vector<uint8_t> framed(const std::vector<std::shared_ptr<AccessUnit>>& aus, size_t from,
                            size_t to) {
    std::vector<uint8_t> wire;
    for (size_t i = from; i < to; ++i) {
        const auto h = net::lengthHeader(aus[i]->data.size());
        wire.insert(wire.end(), h.begin(), h.end());
        wire.insert(wire.end(), aus[i]->data.begin(), aus[i]->data.end());
    }
    return wire;
}

void append(std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
}

void sendAll(int fd, const std::vector<uint8_t>& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
        ASSERT_GT(n, 0) << strerror(errno);
        off += static_cast<size_t>(n);
    }
}

// The receiver connected (-c) to a test server that sends `wire` and closes. Returns the
// exit code; stderr and the output file are left for the caller.
struct Received {
    int exitCode = -1;
    std::string err;
    std::vector<uint8_t> out;
};

Received receiveFromServer(const std::vector<uint8_t>& wire, const std::string& framing) {
    TempDir dir;
    TestListener server;
    ChildProcess rx({receiver(), "-c", "127.0.0.1:" + std::to_string(server.port), "--framing",
                     framing, "-o", dir.file("out.h265")});
    const int fd = server.accept(60);
    Received r;
    if (fd < 0) {
        ADD_FAILURE() << "the receiver did not connect";
        return r;
    }
    sendAll(fd, wire);
    ::close(fd);
    r.exitCode = rx.wait();
    r.err = rx.err();
    r.out = readFile(dir.file("out.h265"));
    return r;
}

size_t countOf(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

class ReceiverBadSenders : public ::testing::Test {
protected:
    void SetUp() override {
        if (receiver().empty()) {
            FAIL() << "h265direct-receiver is not built";
        }
    }
};

TEST_F(ReceiverBadSenders, AStreamCutInsideAUnitIsNotAllGood) {
    const auto& aus = testStream();
    std::vector<uint8_t> wire = framed(aus, 0, 5);
    const auto h = net::lengthHeader(aus[5]->data.size());
    wire.insert(wire.end(), h.begin(), h.end());
    wire.insert(wire.end(), aus[5]->data.begin(), aus[5]->data.begin() + 10);
    const Received r = receiveFromServer(wire, "length");
    EXPECT_EQ(r.exitCode, kExitCut) << r.err;
    EXPECT_NE(r.err.find("ended inside an access unit"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out == concat(aus, 0, 5)) << "the whole units, and nothing of the cut one";
}

TEST_F(ReceiverBadSenders, HelpNamesTheCutExitCode) {
    const ProcessResult r = runProcess({receiver(), "--help"});
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_NE(r.out.find("10 a connection ended inside an access unit"), std::string::npos)
        << r.out;
}

TEST_F(ReceiverBadSenders, OnlyUnitsThatPassTheCheckAreWritten) {
    const auto& aus = testStream();
    // A one-byte unit in the middle of a good stream.
    std::vector<uint8_t> wire = framed(aus, 0, 15);
    const uint8_t junk[] = {0, 0, 0, 1, 0x42};  // length 1, then the byte
    wire.insert(wire.end(), junk, junk + sizeof junk);
    append(wire, framed(aus, 15, 30));
    const Received r = receiveFromServer(wire, "length");
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("access unit 16 (1 bytes)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("bad 1 | dropped 1 |"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out == concat(aus, 0, 30)) << "the junk unit was written";
}

TEST_F(ReceiverBadSenders, AUnitAfterARejectedOneWaitsForTheNextKeyframe) {
    const auto& aus = testStream();  // keyframes every 15 units
    // Unit 3 broken (its first NAL unit cut short): 4..14 refer to it.
    std::vector<uint8_t> wire = framed(aus, 0, 3);
    const std::vector<uint8_t> broken(aus[3]->data.begin(), aus[3]->data.begin() + 5);
    const auto h = net::lengthHeader(broken.size());
    wire.insert(wire.end(), h.begin(), h.end());
    append(wire, broken);
    append(wire, framed(aus, 4, 30));
    const Received r = receiveFromServer(wire, "length");
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("bad 1 | dropped 12 |"), std::string::npos) << r.err;
    std::vector<uint8_t> expected = concat(aus, 0, 3);
    append(expected, concat(aus, 15, 30));
    EXPECT_TRUE(expected == r.out);
}

TEST_F(ReceiverBadSenders, AnnexbRejectedUnitsAreNotWritten) {
    const auto& aus = testStream();
    std::vector<uint8_t> wire = concat(aus, 0, 15);
    // A NAL unit with forbidden_zero_bit set, then garbage.
    const uint8_t junk[] = {0, 0, 0, 1, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef};
    wire.insert(wire.end(), junk, junk + sizeof junk);
    append(wire, concat(aus, 15, 30));
    const Received r = receiveFromServer(wire, "annexb");
    EXPECT_EQ(r.exitCode, 1) << r.err;
    const std::string out(r.out.begin(), r.out.end());
    EXPECT_EQ(out.find("\xde\xad\xbe\xef"), std::string::npos) << "the junk was written";
    // What was written is whole access units from a keyframe, decodable.
    const auto written = cutAccessUnits(r.out);
    ASSERT_FALSE(written.empty());
    EXPECT_TRUE(written.front()->keyframe && written.front()->hasParameterSets);
    for (const auto& au : written) {
        AccessUnit copy = *au;
        EXPECT_EQ(hevc::describeAccessUnit(copy), hevc::ParseError::None);
    }
    EXPECT_NE(r.err.find("dropped"), std::string::npos) << r.err;
}

TEST_F(ReceiverBadSenders, BothFramingsNumberUnitsFromOne) {
    const auto& aus = testStream();
    // A first access unit that is not one: a NAL unit with forbidden_zero_bit set.
    const uint8_t bad[] = {0, 0, 0, 1, 0x80, 0x01, 0x11, 0x22};
    std::vector<uint8_t> length;
    const auto h = net::lengthHeader(sizeof bad);
    length.insert(length.end(), h.begin(), h.end());
    length.insert(length.end(), bad, bad + sizeof bad);
    append(length, framed(aus, 0, 15));
    // Annex-B: an access unit delimiter ends the bad unit and opens the next one.
    const uint8_t aud[] = {0, 0, 0, 1, 0x46, 0x01, 0x50};
    std::vector<uint8_t> annexb(bad, bad + sizeof bad);
    annexb.insert(annexb.end(), aud, aud + sizeof aud);
    append(annexb, concat(aus, 0, 15));
    std::vector<uint8_t> annexbOut(aud, aud + sizeof aud);
    append(annexbOut, concat(aus, 0, 15));
    for (const auto& [framing, wire, out] :
         {std::tuple{"length", length, concat(aus, 0, 15)}, {"annexb", annexb, annexbOut}}) {
        SCOPED_TRACE(framing);
        const Received r = receiveFromServer(wire, framing);
        EXPECT_EQ(r.exitCode, 1) << r.err;
        EXPECT_NE(r.err.find("access unit 1"), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find("access unit 0"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("total: frames 16 |"), std::string::npos) << r.err;
        EXPECT_TRUE(r.out == out) << "the good units after the bad one";
    }
}

TEST_F(ReceiverBadSenders, ABadLengthIsReportedOnce) {
    const auto& aus = testStream();
    std::vector<uint8_t> wire = framed(aus, 0, 2);
    const uint8_t badLength[] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
    wire.insert(wire.end(), badLength, badLength + sizeof badLength);
    const Received r = receiveFromServer(wire, "length");
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("not the length framing"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("ended inside"), std::string::npos) << r.err;
    EXPECT_EQ(countOf(r.err, "h265direct-receiver: "), 1u) << r.err;
}

TEST_F(ReceiverBadSenders, AStreamWithoutAStartCodeIsOneError) {
    std::vector<uint8_t> wire(5000);
    for (size_t i = 0; i < wire.size(); ++i) {
        wire[i] = static_cast<uint8_t>(0x40 + i % 7);  // never 00 00 01
    }
    const Received r = receiveFromServer(wire, "annexb");
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_EQ(countOf(r.err, "h265direct-receiver: "), 1u) << r.err;
    EXPECT_TRUE(r.out.empty());
}

// Starts the receiver listening on a free port (retrying should another program take the
// port between the pick and the bind).
std::unique_ptr<ChildProcess> listeningReceiver(std::vector<std::string> extra, uint16_t& port) {
    for (int attempt = 0; attempt < 5; ++attempt) {
        port = freePort();
        std::vector<std::string> args = {receiver(), "-l", "127.0.0.1:" + std::to_string(port)};
        args.insert(args.end(), extra.begin(), extra.end());
        auto p = std::make_unique<ChildProcess>(args);
        if (p->waitForStderr("listening on")) {
            return p;
        }
        p->wait();
    }
    return nullptr;
}

TEST_F(ReceiverBadSenders, AnIdleConnectionDoesNotHoldTheListener) {
    const auto& aus = testStream();
    TempDir dir;
    uint16_t port = 0;
    auto rx = listeningReceiver({"--once", "-o", dir.file("out.h265")}, port);
    ASSERT_TRUE(rx);
    // A connection that sends nothing (a probe, a sender that hung)...
    const int idle = connectTo(port);
    ASSERT_GE(idle, 0);
    ASSERT_TRUE(rx->waitForStderr("connected"));
    // ...then the real sender: it is served at once, its stream complete.
    const int sender = connectTo(port);
    ASSERT_GE(sender, 0);
    sendAll(sender, framed(aus, 0, aus.size()));
    ::close(sender);
    EXPECT_EQ(rx->wait(), 0) << rx->err();
    // The stale one is reset afterwards: it changes nothing.
    const linger reset{1, 0};
    setsockopt(idle, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(idle);
    EXPECT_NE(rx->err().find("replaced by a newer connection"), std::string::npos) << rx->err();
    EXPECT_TRUE(readFile(dir.file("out.h265")) == concat(aus, 0, aus.size()));
}

// While a sender streams, a second one is refused (closed unread, counted, logged): it can
// neither cut the first off nor write into the output. Two real senders of different sizes:
// the output holds the first one's frames only, and decodes cleanly.
TEST_F(ReceiverBadSenders, ASecondSenderIsRefusedWhileTheFirstStreams) {
    TempDir dir;
    uint16_t port = 0;
    auto rx = listeningReceiver({"--once", "-o", dir.file("out.h265")}, port);
    ASSERT_TRUE(rx);
    const std::string target = "127.0.0.1:" + std::to_string(port);
    ChildProcess first({binaryPath(), "--pattern", "-s", "160x120", "-t", target, "-q"});
    ASSERT_TRUE(rx->waitForStderr("connected")) << rx->err();
    ASSERT_TRUE(rx->waitForStderr("fps")) << rx->err();  // its frames are coming in
    ChildProcess second(
        {binaryPath(), "--pattern", "-s", "320x240", "-t", target, "--exit-on-disconnect", "-q"});
    EXPECT_EQ(second.wait(), 8) << second.err();  // closed by the receiver
    ASSERT_TRUE(rx->waitForStderr("is streaming (1 refused)")) << rx->err();
    first.signal(SIGINT);
    EXPECT_EQ(first.wait(), 0) << first.err();
    EXPECT_EQ(rx->wait(), 0) << rx->err();
    EXPECT_NE(rx->err().find("| refused 1\n"), std::string::npos) << rx->err();
    EXPECT_EQ(rx->err().find("replaced"), std::string::npos) << rx->err();
    const ProbeInfo probe = probeHevc(dir.file("out.h265"));
    EXPECT_TRUE(probe.ok) << probe.error;
    EXPECT_EQ(probe.error, "");
    EXPECT_GT(probe.frames, 0);
    EXPECT_EQ(probe.width, 160);
    EXPECT_EQ(probe.height, 120);
}

// A sender that went silent (a lost link that never reported an error) is gone after 5 s: a
// sender that keeps reconnecting is refused until then, and then replaces it.
TEST_F(ReceiverBadSenders, ASilentSenderIsReplacedOnceItIsGone) {
    const auto& aus = testStream();
    TempDir dir;
    uint16_t port = 0;
    auto rx = listeningReceiver({"--once", "-o", dir.file("out.h265")}, port);
    ASSERT_TRUE(rx);
    const int silent = connectTo(port);
    ASSERT_GE(silent, 0);
    sendAll(silent, framed(aus, 0, aus.size()));  // then nothing, the socket left open
    ASSERT_TRUE(rx->waitForStderr("connected")) << rx->err();
    ChildProcess next({binaryPath(), "--pattern", "-s", "160x120", "-t",
                       "127.0.0.1:" + std::to_string(port), "--reconnect-min", "200",
                       "--reconnect-max", "500", "-q"});
    ASSERT_TRUE(rx->waitForStderr("is streaming (1 refused)")) << rx->err();
    ASSERT_TRUE(rx->waitForStderr("replaced by a newer connection", 30)) << rx->err();
    // The newcomer's frames are written after the silent one's.
    const auto framesSoFar = [&] {
        const std::string err = rx->err();
        const size_t at = err.rfind("| frames ");
        return at == std::string::npos ? 0ull : std::strtoull(err.c_str() + at + 9, nullptr, 10);
    };
    ASSERT_TRUE(waitFor([&] { return framesSoFar() > aus.size() + 10; }, 30)) << rx->err();
    next.signal(SIGINT);
    EXPECT_EQ(next.wait(), 0) << next.err();
    EXPECT_EQ(rx->wait(), 0) << rx->err();
    ::close(silent);
    const std::vector<uint8_t> out = readFile(dir.file("out.h265"));
    const std::vector<uint8_t> first = concat(aus, 0, aus.size());
    ASSERT_GT(out.size(), first.size());
    EXPECT_TRUE(std::equal(first.begin(), first.end(), out.begin()));
}

TEST_F(ReceiverBadSenders, ASenderResetBeforeSendingAnythingIsNoError) {
    const auto& aus = testStream();
    TempDir dir;
    uint16_t port = 0;
    auto rx =
        listeningReceiver({"-n", std::to_string(aus.size()), "-o", dir.file("out.h265")}, port);
    ASSERT_TRUE(rx);
    const int probe = connectTo(port);
    ASSERT_GE(probe, 0);
    ASSERT_TRUE(rx->waitForStderr("connected"));
    const linger reset{1, 0};
    setsockopt(probe, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(probe);
    ASSERT_TRUE(rx->waitForStderr("left before sending anything"));
    const int sender = connectTo(port);
    ASSERT_GE(sender, 0);
    sendAll(sender, framed(aus, 0, aus.size()));
    EXPECT_EQ(rx->wait(), 0) << rx->err();  // -n: ends after the sender's last unit
    ::close(sender);
    EXPECT_TRUE(readFile(dir.file("out.h265")) == concat(aus, 0, aus.size()));
}

// Waiting for a sender, the receiver sleeps: no periodic wake-ups.
TEST_F(ReceiverBadSenders, WaitingForASenderSleeps) {
    uint16_t port = 0;
    auto rx = listeningReceiver({}, port);
    ASSERT_TRUE(rx);
    const double cpu0 = rx->cpuSeconds();
    const long long wakes0 = rx->voluntarySwitches();
    const double windowSec = 3;
    std::this_thread::sleep_for(std::chrono::duration<double>(windowSec));
    EXPECT_LT(rx->cpuSeconds() - cpu0, 0.05 * windowSec);
    // Polling every 200 ms woke it 15 times in 3 s.
    EXPECT_LE(rx->voluntarySwitches() - wakes0, 2) << "woke up while nothing happened";
    rx->signal(SIGINT);
    EXPECT_EQ(rx->wait(), 0) << rx->err();
}

}  // namespace
}  // namespace h265direct::test
