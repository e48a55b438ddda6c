// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <random>

#include "net/peer_queue.hpp"

namespace h265direct::net {
namespace {

AccessUnitPtr unit(size_t size, bool key, uint8_t fill, uint64_t n = 0) {
    auto au = std::make_shared<AccessUnit>();
    au->data.assign(size, fill);
    au->keyframe = key;
    au->idr = key;
    au->hasParameterSets = key;
    au->frameNumber = n;
    return au;
}

// Takes everything the queue has, with sends cut short at random points, as a socket would.
std::vector<uint8_t> drain(PeerQueue& q, std::mt19937& rng, std::vector<uint64_t>* done = nullptr) {
    std::vector<uint8_t> wire;
    SendBatch b;
    while (!q.empty()) {
        q.prepare(b, 3);
        std::vector<uint8_t> bytes;
        for (size_t i = 0; i < b.msg.msg_iovlen; ++i) {
            const auto* p = static_cast<const uint8_t*>(b.msg.msg_iov[i].iov_base);
            bytes.insert(bytes.end(), p, p + b.msg.msg_iov[i].iov_len);
        }
        EXPECT_EQ(bytes.size(), b.bytes);
        const size_t sent = 1 + rng() % bytes.size();
        wire.insert(wire.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(sent));
        q.complete(sent, [&](const AccessUnitPtr& au) {
            if (done) {
                done->push_back(au->frameNumber);
            }
        });
    }
    return wire;
}

TEST(PeerQueue, ShortSendsDeliverEveryByteInOrder) {
    PeerQueue q(1 << 20, 100, Framing::Length);
    std::vector<uint8_t> expected;
    for (uint64_t i = 0; i < 20; ++i) {
        auto au = unit(10 + i * 37, i == 0, static_cast<uint8_t>(i + 1), i);
        const auto h = lengthHeader(au->data.size());
        expected.insert(expected.end(), h.begin(), h.end());
        expected.insert(expected.end(), au->data.begin(), au->data.end());
        ASSERT_EQ(q.offer(au), PeerQueue::Offer::Queued);
    }
    std::mt19937 rng(1);
    std::vector<uint64_t> done;
    EXPECT_EQ(drain(q, rng, &done), expected);
    ASSERT_EQ(done.size(), 20u);
    for (uint64_t i = 0; i < 20; ++i) {
        EXPECT_EQ(done[i], i);
    }
    EXPECT_EQ(q.bytes(), 0u);
    EXPECT_EQ(q.drops(), 0u);
}

TEST(PeerQueue, AnnexbFramingAddsNothing) {
    PeerQueue q(1 << 20, 100, Framing::AnnexB);
    q.offer(unit(100, true, 1));
    q.offer(unit(50, false, 2));
    EXPECT_EQ(q.bytes(), 150u);
    std::mt19937 rng(2);
    const auto wire = drain(q, rng);
    ASSERT_EQ(wire.size(), 150u);
    EXPECT_EQ(wire[0], 1);
    EXPECT_EQ(wire[149], 2);
}

TEST(PeerQueue, TheOverflowIsReportedAsItWasBeforeTheDrop) {
    PeerQueue q(1 << 20, 4, Framing::Length);
    EXPECT_EQ(q.lastOverflow().frames, 0u);
    q.offer(unit(10, true, 1));
    for (int i = 0; i < 3; ++i) {
        q.offer(unit(20, false, 2));
    }
    ASSERT_EQ(q.offer(unit(30, false, 3)), PeerQueue::Offer::GapStarted);
    // The drop emptied the queue; what overflowed was four units of 14 + 3 x 24 bytes.
    EXPECT_EQ(q.frames(), 0u);
    EXPECT_EQ(q.lastOverflow().frames, 4u);
    EXPECT_EQ(q.lastOverflow().bytes, 14u + 3 * 24u);
    EXPECT_EQ(q.maxFrames(), 4u);
    EXPECT_EQ(q.maxBytes(), 1u << 20);
}

TEST(PeerQueue, FrameLimitDropsWholeUnitsUntilTheNextKeyframe) {
    PeerQueue q(1 << 20, 4, Framing::Length);
    EXPECT_EQ(q.offer(unit(10, true, 1)), PeerQueue::Offer::Queued);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(q.offer(unit(10, false, 2)), PeerQueue::Offer::Queued);
    }
    EXPECT_EQ(q.frames(), 4u);
    // Full: the new unit and the unsent ones go; the queue waits for a keyframe.
    EXPECT_EQ(q.offer(unit(10, false, 3)), PeerQueue::Offer::GapStarted);
    EXPECT_TRUE(q.waitingForStartPoint());
    EXPECT_EQ(q.frames(), 0u);
    EXPECT_EQ(q.drops(), 5u);
    EXPECT_EQ(q.offer(unit(10, false, 4)), PeerQueue::Offer::Dropped);
    EXPECT_EQ(q.drops(), 6u);
    EXPECT_EQ(q.offer(unit(10, true, 5)), PeerQueue::Offer::Queued);
    EXPECT_FALSE(q.waitingForStartPoint());
    EXPECT_EQ(q.frames(), 1u);
}

TEST(PeerQueue, ByteLimitCountsFramingHeaders) {
    PeerQueue q(100, 100, Framing::Length);
    EXPECT_EQ(q.offer(unit(46, true, 1)), PeerQueue::Offer::Queued);   // 50 bytes
    EXPECT_EQ(q.offer(unit(46, false, 1)), PeerQueue::Offer::Queued);  // 100 bytes
    EXPECT_EQ(q.bytes(), 100u);
    EXPECT_EQ(q.offer(unit(1, false, 1)), PeerQueue::Offer::GapStarted);
}

TEST(PeerQueue, AUnitBeingSentIsNeverDropped) {
    PeerQueue q(1 << 20, 3, Framing::Length);
    q.offer(unit(1000, true, 1, 0));
    q.offer(unit(10, false, 2, 1));
    SendBatch b;
    q.prepare(b, 1);  // unit 0 is in the kernel now
    q.offer(unit(10, false, 3, 2));
    EXPECT_EQ(q.offer(unit(10, false, 4, 3)), PeerQueue::Offer::GapStarted);
    EXPECT_EQ(q.frames(), 1u);  // unit 0 stays
    q.complete(500, [](const AccessUnitPtr&) {});
    // Half sent: a keyframe that fits resumes the stream right after it.
    EXPECT_EQ(q.offer(unit(10, true, 5, 4)), PeerQueue::Offer::Queued);
    std::vector<uint64_t> done;
    std::mt19937 rng(3);
    drain(q, rng, &done);
    EXPECT_EQ(done, (std::vector<uint64_t>{0, 4}));
}

TEST(PeerQueue, AKeyframeThatFitsAfterClearingResumesAtOnce) {
    PeerQueue q(1 << 20, 3, Framing::Length);
    q.offer(unit(10, true, 1, 0));
    q.offer(unit(10, false, 1, 1));
    q.offer(unit(10, false, 1, 2));
    // A keyframe arrives on a full queue: the stale units go, the keyframe starts afresh.
    EXPECT_EQ(q.offer(unit(10, true, 2, 3)), PeerQueue::Offer::Queued);
    EXPECT_FALSE(q.waitingForStartPoint());
    EXPECT_EQ(q.frames(), 1u);
    EXPECT_EQ(q.drops(), 3u);
}

TEST(PeerQueue, AJoinerStartsAtAKeyframeWithParameterSets) {
    PeerQueue q(1 << 20, 10, Framing::Length);
    q.waitForStartPoint();
    EXPECT_EQ(q.offer(unit(10, false, 1)), PeerQueue::Offer::Dropped);
    auto craWithoutHeaders = std::make_shared<AccessUnit>(*unit(10, true, 1));
    craWithoutHeaders->hasParameterSets = false;
    EXPECT_EQ(q.offer(craWithoutHeaders), PeerQueue::Offer::Dropped);
    EXPECT_EQ(q.offer(unit(10, true, 1)), PeerQueue::Offer::Queued);
    EXPECT_EQ(q.offer(unit(10, false, 1)), PeerQueue::Offer::Queued);
    EXPECT_EQ(q.frames(), 2u);
}

TEST(PeerQueue, ATooLargeKeyframeKeepsWaiting) {
    PeerQueue q(100, 10, Framing::Length);
    q.waitForStartPoint();
    EXPECT_EQ(q.offer(unit(200, true, 1)), PeerQueue::Offer::Dropped);
    EXPECT_TRUE(q.waitingForStartPoint());
    EXPECT_EQ(q.frames(), 0u);
}

TEST(PeerQueue, BatchesHoldTheBytesTheKernelMayStillRead) {
    PeerQueue q(1 << 20, 10, Framing::Length);
    auto au = unit(64, true, 9);
    std::weak_ptr<const AccessUnit> weak = au;
    q.offer(au);
    au.reset();
    SendBatch b;
    q.prepare(b, 8);
    q.complete(b.bytes, [](const AccessUnitPtr&) {});
    EXPECT_TRUE(q.empty());
    // Sent, but the batch (a zero-copy send waiting for its notification) still holds it.
    EXPECT_FALSE(weak.expired());
    ASSERT_EQ(b.iov.size(), 2u);
    EXPECT_EQ(b.iov[0].iov_len, 4u);
    EXPECT_EQ(static_cast<const uint8_t*>(b.iov[0].iov_base)[3], 64);
    b.clear();
    EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace h265direct::net
