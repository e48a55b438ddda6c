// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "h265direct/stats.hpp"
#include "net/net_sinks.hpp"
#include "net/tcp_output.hpp"
#include "net_fixture.hpp"

namespace h265direct::test {
namespace {

class TcpClient : public NetIoTest {};
H265D_NET_IO_SUITE(TcpClient);
class NetworkSinks : public NetIoTest {};
H265D_NET_IO_SUITE(NetworkSinks);

using net::TcpOutput;

NetConfig clientConfig(uint16_t port, const std::string& host = "127.0.0.1") {
    NetConfig c = ioConfig();
    c.connect = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                std::to_string(port);
    c.reconnectMinMs = 20;
    c.reconnectMaxMs = 100;
    c.finishTimeoutMs = 2000;
    return c;
}

std::vector<uint8_t> lengthFramed(const std::vector<std::shared_ptr<AccessUnit>>& aus,
                                  size_t from = 0, size_t to = SIZE_MAX) {
    std::vector<uint8_t> out;
    for (size_t i = from; i < std::min(to, aus.size()); ++i) {
        const uint32_t n = static_cast<uint32_t>(aus[i]->data.size());
        const uint8_t h[4] = {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                              static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
        out.insert(out.end(), h, h + 4);
        out.insert(out.end(), aus[i]->data.begin(), aus[i]->data.end());
    }
    return out;
}

void runClientStream(NetConfig config, bool v6, const std::vector<std::shared_ptr<AccessUnit>>& aus,
                     const std::vector<uint8_t>& expected, uint64_t* zeroCopySends = nullptr) {
    TestListener server(v6);
    config.connect = (v6 ? "[::1]:" : "127.0.0.1:") + std::to_string(server.port);
    TcpOutput out(TcpOutput::Mode::Client, config, [] {});
    EXPECT_TRUE(out.wantsFrames());
    for (size_t i = 0; i < aus.size(); ++i) {
        out.consume(stamped(aus[i], i));
    }
    const int fd = server.accept();
    ASSERT_GE(fd, 0);
    std::vector<uint8_t> got;
    std::thread reader([&] {
        got = readSome(fd, SIZE_MAX, 10);
        ::close(fd);  // at the end of the stream, as receivers do
    });
    out.finish();  // delivers everything queued, then closes
    reader.join();
    EXPECT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected) << "received bytes differ from the stream";
    const net::OutputStats s = out.stats();
    EXPECT_EQ(s.framesSent, aus.size());
    EXPECT_EQ(s.bytesSent, expected.size());
    EXPECT_EQ(s.drops, 0u);
    EXPECT_EQ(s.connects, 1u);
    if (zeroCopySends) {
        *zeroCopySends = s.zeroCopySends;
    }
    EXPECT_EQ(out.fatalError(), 0);
}

TEST_P(TcpClient, UsesTheIoPathItWasGiven) {
    TestListener server;
    NetConfig c = clientConfig(server.port);
    c.finishTimeoutMs = 100;
    TcpOutput out(TcpOutput::Mode::Client, c, [] {});
    const std::string path = currentIoPath()->name;
    EXPECT_STREQ(out.ioBackend(), path == "epoll" ? "epoll" : "io_uring");
    if (path == "uring_old") {
        // The probe reports an older kernel: the output makes do without the newer features.
        EXPECT_NE(out.ioDescription().find("single-shot accept"), std::string::npos)
            << out.ioDescription();
        EXPECT_NE(out.ioDescription().find("no zero-copy send"), std::string::npos)
            << out.ioDescription();
        EXPECT_EQ(out.ioDescription().find("single issuer"), std::string::npos)
            << out.ioDescription();
    }
    StatsReport report;
    out.collectStats(report);
    const StatsReport::Field* io = report.find("client_io");
    ASSERT_NE(io, nullptr) << report.toJson();
    EXPECT_EQ(std::get<std::string>(io->value), out.ioDescription());
}

TEST_P(TcpClient, SendsTheLengthFramingByteForByte) {
    const auto& aus = testStream();
    runClientStream(clientConfig(0), false, aus, lengthFramed(aus));
}

TEST_P(TcpClient, SendsRawAnnexbWithTheAnnexbFraming) {
    const auto& aus = testStream();
    NetConfig c = clientConfig(0);
    c.framing = Framing::AnnexB;
    runClientStream(c, false, aus, concat(aus));
}

TEST_P(TcpClient, ConnectsOverIpv6) {
    const auto& aus = testStream();
    runClientStream(clientConfig(0), true, aus, lengthFramed(aus));
}

TEST_P(TcpClient, ZeroCopySendsTheSameBytes) {
    const auto& aus = testStream(30, 10, "640x480");
    NetConfig c = clientConfig(0);
    c.zeroCopy = ZeroCopy::On;
    uint64_t zc = 0;
    runClientStream(c, false, aus, lengthFramed(aus), &zc);
    if (zeroCopyExpected()) {
        EXPECT_GT(zc, 0u) << "no zero-copy send was made (kernel "
                          << "without SEND_ZC?)";
    } else {
        EXPECT_EQ(zc, 0u) << currentIoPath()->name << " has no zero-copy send";
    }
}

TEST_P(TcpClient, AutoZeroCopyUsesItForLargeWritesOnly) {
    const auto& aus = testStream(30, 10, "640x480");
    NetConfig c = clientConfig(0);
    c.zeroCopy = ZeroCopy::Auto;
    c.zeroCopyMinBytes = 1 << 30;  // nothing is that large
    uint64_t zc = 1;
    runClientStream(c, false, aus, lengthFramed(aus), &zc);
    EXPECT_EQ(zc, 0u);
}

TEST_P(TcpClient, KeepsRetryingWhileNobodyListensAndStartsAtAKeyframe) {
    const auto& aus = testStream();
    const uint16_t port = freePort();
    TcpOutput out(TcpOutput::Mode::Client, clientConfig(port), [] {});
    Feeder feeder(out, aus, 2000);
    feeder.start(100000);
    ASSERT_TRUE(waitFor([&] { return out.stats().connectFailures >= 2; }));
    EXPECT_EQ(out.fatalError(), 0);
    EXPECT_GT(out.stats().unsent, 0u);
    // The server comes up late: the client finds it and starts with a keyframe.
    TestListener server(false, port);
    const int fd = server.accept();
    ASSERT_GE(fd, 0);
    const std::vector<uint8_t> got = readSome(fd, 20000);
    server.close();
    ::close(fd);
    feeder.stop();
    out.finish();
    std::vector<std::vector<uint8_t>> frames;
    // Cut at a frame boundary: parse the complete frames only.
    const std::vector<uint8_t> whole(
        got.begin(), got.begin() + static_cast<std::ptrdiff_t>(wholeFramesLength(got)));
    ASSERT_TRUE(parseLengthFraming(whole, frames));
    ASSERT_GE(frames.size(), 2u);
    EXPECT_TRUE(framesAreStreamUnits(frames, aus)) << "the stream did not start at a keyframe";
    EXPECT_GE(out.stats().connects, 1u);
}

TEST_P(TcpClient, ReconnectsAfterTheServerRestartsTwice) {
    const auto& aus = testStream();
    TestListener server;
    const uint16_t port = server.port;
    TcpOutput out(TcpOutput::Mode::Client, clientConfig(port), [] {});
    Feeder feeder(out, aus, 2000);
    feeder.start(100000);
    TempDir dir;
    for (int round = 0; round < 3; ++round) {
        if (round > 0) {
            // A fresh server on the same port.
            TestListener fresh(false, port);
            server.close();
            server.fd = std::exchange(fresh.fd, -1);
        }
        const int fd = server.accept();
        ASSERT_GE(fd, 0) << "round " << round;
        std::vector<uint8_t> got = readSome(fd, 15000);
        // The server dies: its sockets go away mid-stream.
        server.close();
        ::close(fd);
        const size_t i = wholeFramesLength(got);
        got.resize(i);
        std::vector<std::vector<uint8_t>> frames;
        ASSERT_TRUE(parseLengthFraming(got, frames));
        ASSERT_GE(frames.size(), 2u);
        EXPECT_TRUE(framesAreStreamUnits(frames, aus)) << "round " << round;
        std::vector<uint8_t> annexb;
        for (const auto& f : frames) {
            annexb.insert(annexb.end(), f.begin(), f.end());
        }
        const std::string path = dir.file("r" + std::to_string(round) + ".h265");
        writeFile(path, annexb.data(), annexb.size());
        EXPECT_EQ(decodedFrames(path), static_cast<int>(frames.size())) << "round " << round;
    }
    ASSERT_TRUE(waitFor([&] { return out.stats().disconnects >= 3; }));
    feeder.stop();
    out.finish();
    const net::OutputStats s = out.stats();
    EXPECT_EQ(s.connects, 3u);
    EXPECT_EQ(out.fatalError(), 0);
    StatsReport report;
    out.collectStats(report);
    ASSERT_NE(report.find("client_reconnects"), nullptr);
    EXPECT_EQ(std::get<int64_t>(report.find("client_reconnects")->value), 2);
}

TEST_P(TcpClient, ExitOnDisconnectReportsANetworkFailure) {
    NetConfig c = clientConfig(freePort());
    c.exitOnDisconnect = true;
    TcpOutput out(TcpOutput::Mode::Client, c, [] {});
    ASSERT_TRUE(waitFor([&] { return out.fatalError() != 0; }));
    EXPECT_EQ(out.fatalError(), kExitNetwork);
    EXPECT_EQ(out.stats().connectFailures, 1u);
}

TEST_P(TcpClient, ExitOnDisconnectWhenTheServerGoesAway) {
    const auto& aus = testStream();
    TestListener server;
    NetConfig c = clientConfig(server.port);
    c.exitOnDisconnect = true;
    TcpOutput out(TcpOutput::Mode::Client, c, [] {});
    Feeder feeder(out, aus, 2000);
    feeder.start(100000);
    const int fd = server.accept();
    ASSERT_GE(fd, 0);
    readSome(fd, 2000);
    ::close(fd);
    server.close();
    ASSERT_TRUE(waitFor([&] { return out.fatalError() != 0; }));
    EXPECT_EQ(out.fatalError(), kExitNetwork);
    feeder.stop();
}

TEST_P(TcpClient, FinishWhileRetryingEndsPromptly) {
    TcpOutput out(TcpOutput::Mode::Client, clientConfig(freePort()), [] {});
    ASSERT_TRUE(waitFor([&] { return out.stats().connectFailures >= 1; }));
    out.finish();
    EXPECT_EQ(out.fatalError(), 0);
}

void expectStartupError(const NetConfig& c, int code, const std::string& text) {
    try {
        makeNetworkSinks(c, [] {});
        ADD_FAILURE() << "no error for " << c.connect << c.listen;
    } catch (const StartupError& e) {
        EXPECT_EQ(e.exitCode(), code) << e.what();
        EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
}

TEST_P(NetworkSinks, BadAddressesAreUsageErrors) {
    NetConfig c = ioConfig();
    c.connect = "127.0.0.1";
    expectStartupError(c, kExitUsage, "-t: '127.0.0.1': no port given");
    c.connect = "127.0.0.1:0";
    expectStartupError(c, kExitUsage, "-t: port 0 is out of range 1..65535");
    c.connect = "127.0.0.1:99999";
    expectStartupError(c, kExitUsage, "-t: port 99999 is out of range 1..65535");
    c.connect = "no-such-host.invalid:5005";
    expectStartupError(c, kExitUsage, "-t: cannot resolve 'no-such-host.invalid'");
    c.connect.clear();
    c.listen = "0";
    expectStartupError(c, kExitUsage, "-l: port 0 is out of range");
    c.listen = "127.0.0.1:99999";
    expectStartupError(c, kExitUsage, "-l: port 99999 is out of range");
    c.listen = "no-such-host.invalid:5005";
    expectStartupError(c, kExitUsage, "-l: cannot resolve");
    c.listen = "192.0.2.1:5005";  // not an address of this machine
    expectStartupError(c, kExitUsage, "-l: cannot listen on 192.0.2.1:5005");
}

TEST_P(NetworkSinks, APortInUseIsANetworkError) {
    TestListener taken;
    NetConfig c = ioConfig();
    c.listen = "127.0.0.1:" + std::to_string(taken.port);
    expectStartupError(c, kExitNetwork, "Address already in use");
}

TEST_P(NetworkSinks, MakesOneSinkPerOption) {
    TestListener server;
    NetConfig c = ioConfig();
    c.finishTimeoutMs = 100;  // the test server never reads
    EXPECT_TRUE(makeNetworkSinks(c, [] {}).empty());
    c.connect = "127.0.0.1:" + std::to_string(server.port);
    c.listen = "127.0.0.1:" + std::to_string(freePort());
    auto sinks = makeNetworkSinks(c, [] {});
    ASSERT_EQ(sinks.size(), 2u);
    EXPECT_STREQ(sinks[0]->name(), "tcp-server");
    EXPECT_STREQ(sinks[1]->name(), "tcp-client");
    EXPECT_FALSE(sinks[0]->wantsFrames());  // nobody connected
    for (auto& s : sinks) {
        s->finish();
    }
}

}  // namespace
}  // namespace h265direct::test
