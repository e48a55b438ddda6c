// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <random>

#include "net/tcp_output.hpp"
#include "net_fixture.hpp"

namespace h265direct::test {
namespace {

class TcpServer : public NetIoTest {};
H265D_NET_IO_SUITE(TcpServer);

using net::TcpOutput;

NetConfig serverConfig() {
    NetConfig c = ioConfig();
    c.listen = "127.0.0.1:" + std::to_string(freePort());
    c.finishTimeoutMs = 2000;
    c.keyframeRequestIntervalMs = 100;
    return c;
}

// Keeps the whole frames of a length-framed byte stream (a cut connection ends mid-frame).
std::vector<std::vector<uint8_t>> wholeFrames(const std::vector<uint8_t>& bytes) {
    const size_t i = wholeFramesLength(bytes);
    std::vector<std::vector<uint8_t>> frames;
    EXPECT_TRUE(parseLengthFraming(
        std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(i)),
        frames));
    return frames;
}

// Decodes the frames' Annex-B concatenation; returns the decoded picture count or -1.
int decodeFrames(const std::vector<std::vector<uint8_t>>& frames, const std::string& path) {
    std::vector<uint8_t> annexb;
    for (const auto& f : frames) {
        annexb.insert(annexb.end(), f.begin(), f.end());
    }
    writeFile(path, annexb.data(), annexb.size());
    return decodedFrames(path);
}

TEST_P(TcpServer, AJoinerStartsAtTheNextKeyframeAndAsksForOne) {
    const auto& aus = testStream();
    std::atomic<int> requests{0};
    NetConfig c = serverConfig();
    TcpOutput out(TcpOutput::Mode::Server, c, [&] { ++requests; });
    EXPECT_FALSE(out.wantsFrames());
    const int fd = connectTo(out.localPort());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(waitFor([&] { return out.stats().peers.size() == 1; }));
    EXPECT_TRUE(out.wantsFrames());
    EXPECT_EQ(requests.load(), 1);
    // Units 3.. : the receiver must get nothing before unit 15, the next keyframe.
    for (size_t i = 3; i < aus.size(); ++i) {
        out.consume(stamped(aus[i], i));
    }
    std::vector<uint8_t> got;
    std::thread reader([&] {
        got = readSome(fd, SIZE_MAX, 10);
        ::close(fd);
    });
    out.finish();
    reader.join();
    std::vector<std::vector<uint8_t>> frames;
    ASSERT_TRUE(parseLengthFraming(got, frames));
    ASSERT_EQ(frames.size(), aus.size() - 15);
    for (size_t i = 0; i < frames.size(); ++i) {
        EXPECT_EQ(frames[i], aus[15 + i]->data) << "frame " << i;
    }
    const net::OutputStats s = out.stats();
    EXPECT_EQ(s.drops, 0u);  // passing over the start of a GOP is no drop
    EXPECT_EQ(s.connects, 1u);
}

TEST_P(TcpServer, ManyReceiversJoinAndLeaveEachDecodesFromItsFirstByte) {
    const auto& aus = testStream(90, 30);
    NetConfig c = serverConfig();
    std::atomic<Feeder*> feederRef{nullptr};
    TcpOutput out(TcpOutput::Mode::Server, c, [&] {
        if (Feeder* f = feederRef.load()) {
            f->requestKeyframe();
        }
    });
    auto feeder = std::make_unique<Feeder>(out, aus, 3000);  // stops before out goes
    feederRef = feeder.get();
    feeder->start(SIZE_MAX);
    constexpr int kReceivers = 24;
    TempDir dir;
    std::vector<std::vector<uint8_t>> received(kReceivers);
    std::vector<std::thread> threads;
    for (int r = 0; r < kReceivers; ++r) {
        threads.emplace_back([&, r] {
            std::mt19937 rng(static_cast<unsigned>(r) * 7919u);
            std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
            const int fd = connectTo(out.localPort());
            if (fd < 0) {
                return;
            }
            // Stay for a while, read a random amount, leave abruptly.
            received[static_cast<size_t>(r)] = readSome(fd, 5000 + rng() % 40000, 5);
            ::close(fd);
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    feeder->stop();
    out.finish();
    int decodedReceivers = 0;
    for (int r = 0; r < kReceivers; ++r) {
        const auto frames = wholeFrames(received[static_cast<size_t>(r)]);
        ASSERT_GE(frames.size(), 1u) << "receiver " << r << " got nothing";
        EXPECT_TRUE(framesAreStreamUnits(frames, aus))
            << "receiver " << r << " did not start at a keyframe with parameter sets";
        const int n = decodeFrames(frames, dir.file("r" + std::to_string(r) + ".h265"));
        EXPECT_EQ(n, static_cast<int>(frames.size())) << "receiver " << r;
        decodedReceivers += n == static_cast<int>(frames.size()) ? 1 : 0;
    }
    EXPECT_EQ(decodedReceivers, kReceivers);
    const net::OutputStats s = out.stats();
    EXPECT_EQ(s.connects, static_cast<uint64_t>(kReceivers));
    // Joiners close together share keyframes: far fewer requests than receivers.
    EXPECT_GE(s.keyframeRequests, 1u);
    EXPECT_LE(s.keyframeRequests, static_cast<uint64_t>(kReceivers));
}

TEST_P(TcpServer, ASlowReceiverDropsWholeFramesTheFastOneLosesNothing) {
    const auto& aus = testStream(60, 15, "640x480");
    NetConfig c = serverConfig();
    c.peerQueueFrames = 10;
    c.peerQueueBytes = 256 * 1024;
    c.sendBufferBytes = 32 * 1024;  // else the kernel takes megabytes before the queue fills
    std::atomic<Feeder*> feederRef{nullptr};
    TcpOutput out(TcpOutput::Mode::Server, c, [&] {
        if (Feeder* f = feederRef.load()) {
            f->requestKeyframe();
        }
    });
    const int fast = connectTo(out.localPort());
    const int slow = connectTo(out.localPort(), 4096);
    ASSERT_GE(fast, 0);
    ASSERT_GE(slow, 0);
    ASSERT_TRUE(waitFor([&] { return out.stats().peers.size() == 2; }));
    std::vector<uint8_t> fastBytes, slowBytes;
    std::atomic<bool> stopSlow{false};
    std::thread fastReader([&] {
        fastBytes = readSome(fast, SIZE_MAX, 10);
        ::close(fast);
    });
    std::thread slowReader([&] {
        // Reads a little now and then: a fraction of the bitrate.
        uint8_t buf[2048];
        while (true) {
            pollfd p{slow, POLLIN, 0};
            if (poll(&p, 1, 5000) != 1) {
                break;
            }
            const ssize_t n = ::read(slow, buf, sizeof buf);
            if (n <= 0) {
                break;
            }
            slowBytes.insert(slowBytes.end(), buf, buf + n);
            if (!stopSlow.load()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        ::close(slow);
    });
    auto feeder = std::make_unique<Feeder>(out, aus, 4000);
    feederRef = feeder.get();
    // The fast one keeps up by construction, not by the scheduler's grace: the next unit
    // waits until the fast one has taken all but half a queue of the units handed over (the
    // slow one is not waited for).
    feeder->gate([&] {
        const net::OutputStats s = out.stats();
        return !s.peers.empty() &&
               s.peers[0].framesSent + c.peerQueueFrames / 2 >= feeder->sent().size();
    });
    feeder->start(400);
    size_t maxQueueBytes = 0;
    while (!feeder->done()) {
        for (const auto& p : out.stats().peers) {
            maxQueueBytes = std::max(maxQueueBytes, p.queueBytes);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const net::OutputStats during = out.stats();
    stopSlow.store(true);
    out.finish();
    fastReader.join();
    slowReader.join();
    feeder->stop();
    EXPECT_LE(maxQueueBytes, c.peerQueueBytes);

    // The fast receiver: every unit handed over, in order, byte for byte.
    std::vector<std::vector<uint8_t>> fastFrames;
    ASSERT_TRUE(parseLengthFraming(fastBytes, fastFrames));
    const std::vector<size_t> sent = feeder->sent();
    ASSERT_EQ(fastFrames.size(), sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
        ASSERT_EQ(fastFrames[i], aus[sent[i]]->data) << "fast receiver, frame " << i;
    }
    // The slow one: fewer frames, whole ones, decodable, drops counted.
    std::vector<std::vector<uint8_t>> slowFrames;
    ASSERT_TRUE(parseLengthFraming(slowBytes, slowFrames));
    EXPECT_LT(slowFrames.size(), sent.size());
    EXPECT_TRUE(framesAreStreamUnits(slowFrames, aus));
    TempDir dir;
    EXPECT_EQ(decodeFrames(slowFrames, dir.file("slow.h265")), static_cast<int>(slowFrames.size()));
    ASSERT_EQ(during.peers.size(), 2u);
    EXPECT_EQ(during.peers[0].drops, 0u);
    EXPECT_GT(during.peers[1].drops, 0u);
    EXPECT_GE(out.stats().drops, during.peers[1].drops);
}

TEST_P(TcpServer, GarbageAndHalfClosingPeersStillGetTheStream) {
    const auto& aus = testStream();
    NetConfig c = serverConfig();
    TcpOutput out(TcpOutput::Mode::Server, c, [] {});
    const int garbage = connectTo(out.localPort());
    const int halfClosed = connectTo(out.localPort());
    ASSERT_GE(garbage, 0);
    ASSERT_GE(halfClosed, 0);
    ASSERT_EQ(::shutdown(halfClosed, SHUT_WR), 0);
    std::vector<uint8_t> noise(100000);
    std::mt19937 rng(5);
    for (auto& b : noise) {
        b = static_cast<uint8_t>(rng());
    }
    ASSERT_EQ(::write(garbage, noise.data(), noise.size()), static_cast<ssize_t>(noise.size()));
    ASSERT_TRUE(waitFor([&] { return out.stats().peers.size() == 2; }));
    for (size_t i = 0; i < aus.size(); ++i) {
        out.consume(stamped(aus[i], i));
    }
    std::vector<uint8_t> a, b;
    std::thread ra([&] {
        a = readSome(garbage, SIZE_MAX, 10);
        ::close(garbage);
    });
    std::thread rb([&] {
        b = readSome(halfClosed, SIZE_MAX, 10);
        ::close(halfClosed);
    });
    out.finish();
    ra.join();
    rb.join();
    std::vector<std::vector<uint8_t>> fa, fb;
    ASSERT_TRUE(parseLengthFraming(a, fa));
    ASSERT_TRUE(parseLengthFraming(b, fb));
    EXPECT_EQ(fa.size(), aus.size());
    EXPECT_EQ(fb.size(), aus.size());
    EXPECT_TRUE(framesAreStreamUnits(fa, aus));
    EXPECT_TRUE(framesAreStreamUnits(fb, aus));
}

TEST_P(TcpServer, APortAloneListensOnIpv4AndIpv6) {
    const auto& aus = testStream();
    NetConfig c = ioConfig();
    c.listen = std::to_string(freePort());
    TcpOutput out(TcpOutput::Mode::Server, c, [] {});
    const int v4 = connectTo(out.localPort());
    ASSERT_GE(v4, 0);
    const int v6 = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    a.sin6_port = htons(out.localPort());
    ASSERT_EQ(::connect(v6, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_TRUE(waitFor([&] { return out.stats().peers.size() == 2; }));
    for (size_t i = 0; i < aus.size(); ++i) {
        out.consume(stamped(aus[i], i));
    }
    std::vector<uint8_t> b4, b6;
    std::thread r4([&] {
        b4 = readSome(v4, SIZE_MAX, 10);
        ::close(v4);
    });
    std::thread r6([&] {
        b6 = readSome(v6, SIZE_MAX, 10);
        ::close(v6);
    });
    out.finish();
    r4.join();
    r6.join();
    EXPECT_FALSE(b4.empty());
    EXPECT_TRUE(b4 == b6);
    std::vector<std::vector<uint8_t>> frames;
    ASSERT_TRUE(parseLengthFraming(b6, frames));
    EXPECT_EQ(frames.size(), aus.size());
}

TEST_P(TcpServer, ExitOnDisconnectWhenTheLastReceiverLeaves) {
    NetConfig c = serverConfig();
    c.exitOnDisconnect = true;
    std::atomic<Feeder*> feederRef{nullptr};
    TcpOutput out(TcpOutput::Mode::Server, c, [&] {
        if (Feeder* f = feederRef.load()) {
            f->requestKeyframe();
        }
    });
    const int a = connectTo(out.localPort());
    const int b = connectTo(out.localPort());
    ASSERT_TRUE(waitFor([&] { return out.stats().peers.size() == 2; }));
    // A closed peer shows when a send to it fails (its end of stream could be a half-close).
    auto feeder = std::make_unique<Feeder>(out, testStream(), 2000);
    feederRef = feeder.get();
    feeder->start(SIZE_MAX);
    ::close(a);
    ASSERT_TRUE(waitFor([&] { return out.stats().peers.size() == 1; }));
    EXPECT_EQ(out.fatalError(), 0);
    ::close(b);
    ASSERT_TRUE(waitFor([&] { return out.fatalError() != 0; }));
    EXPECT_EQ(out.fatalError(), kExitNetwork);
    feeder->stop();
}

TEST_P(TcpServer, MaxPeersRefusesTheExtraReceiver) {
    NetConfig c = serverConfig();
    c.maxPeers = 1;
    c.finishTimeoutMs = 100;
    TcpOutput out(TcpOutput::Mode::Server, c, [] {});
    const int a = connectTo(out.localPort());
    ASSERT_TRUE(waitFor([&] { return out.stats().peers.size() == 1; }));
    const int b = connectTo(out.localPort());
    // The second is closed at once: it reads end of stream.
    EXPECT_TRUE(readSome(b, 1, 5).empty());
    EXPECT_EQ(out.stats().peers.size(), 1u);
    EXPECT_EQ(out.stats().refused, 1u);
    ::close(a);
    ::close(b);
}

TEST_P(TcpServer, StatsNameTheFigures) {
    NetConfig c = serverConfig();
    TcpOutput out(TcpOutput::Mode::Server, c, [] {});
    const int fd = connectTo(out.localPort());
    ASSERT_TRUE(waitFor([&] { return out.stats().peers.size() == 1; }));
    const auto& aus = testStream();
    for (size_t i = 0; i < aus.size(); ++i) {
        out.consume(stamped(aus[i], i));
    }
    const std::vector<uint8_t> got = readSome(fd, concat(aus).size() + 4 * aus.size(), 10);
    ASSERT_TRUE(waitFor([&] { return out.stats().framesSent == aus.size(); }));
    StatsReport r;
    out.collectStats(r);
    for (const char* key :
         {"server_peers", "server_kbps", "server_bytes", "server_queue", "server_drops",
          "server_peer_queues", "server_latency_p50_ms", "server_latency_p99_ms"}) {
        EXPECT_NE(r.find(key), nullptr) << key;
    }
    EXPECT_EQ(std::get<int64_t>(r.find("server_peers")->value), 1);
    EXPECT_EQ(std::get<int64_t>(r.find("server_bytes")->value), static_cast<int64_t>(got.size()));
    EXPECT_GT(std::get<double>(r.find("server_kbps")->value), 0.0);
    EXPECT_GT(std::get<double>(r.find("server_latency_p99_ms")->value), 0.0);
    ::close(fd);
}

}  // namespace
}  // namespace h265direct::test
