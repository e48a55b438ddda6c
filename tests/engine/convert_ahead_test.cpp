// SPDX-License-Identifier: GPL-2.0-or-later
#include "engine/convert_ahead.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "capture/frame_source.hpp"
#include "convert/converter.hpp"
#include "core/unique_fd.hpp"

using namespace h265direct;

namespace {

SourceConfig patternConfig(bool pace, int fps) {
    SourceConfig c;
    c.kind = SourceKind::Pattern;
    c.width = 64;
    c.height = 48;
    c.fpsNum = fps;
    c.pace = pace;
    return c;
}

std::vector<uint8_t> lumaOf(const I420Planes& p, int w, int h) {
    std::vector<uint8_t> y;
    for (int row = 0; row < h; ++row) {
        y.insert(y.end(), p.y + static_cast<size_t>(row) * p.strideY,
                 p.y + static_cast<size_t>(row) * p.strideY + w);
    }
    return y;
}

// A live camera the test drives: next() hands out a frame only once the test produced it, so
// that "the stage took every frame so far" is an event the test can wait for, not a time.
class ManualSource final : public FrameSource {
public:
    static constexpr int kW = 64, kH = 48;
    ManualSource() {
        format_.fourcc = 0x56595559;  // YUYV
        format_.width = kW;
        format_.height = kH;
        format_.strides = {kW * 2, 0, 0};
        for (auto& b : buffers_) {
            b.assign(size_t{kW} * kH * 2, 0x80);
        }
        ready_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    }
    const FrameFormat& format() const override { return format_; }
    std::string describe() const override { return "manual"; }
    Status next(FrameLease& out, const StopSignal& stop) override {
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                if (handedOut_ < produced_) {
                    const uint32_t i = static_cast<uint32_t>(handedOut_ % kBuffers);
                    FrameView v;
                    v.planes[0] = buffers_[i].data();
                    v.strides[0] = kW * 2;
                    v.bytes = buffers_[i].size();
                    v.sequence = handedOut_++;
                    out = FrameLease(this, i, v);
                    return Status::Ok;
                }
                asking_ = true;
                changed_.notify_all();
            }
            pollfd fds[2] = {{ready_.get(), POLLIN, 0}, {stop.fd(), POLLIN, 0}};
            poll(fds, 2, -1);
            uint64_t n = 0;
            [[maybe_unused]] ssize_t got = ::read(ready_.get(), &n, sizeof n);
            std::lock_guard lock(mutex_);
            asking_ = false;
            if (stop.requested()) {
                return Status::Stopped;
            }
        }
    }
    void produce(uint64_t frames) {
        std::lock_guard lock(mutex_);
        produced_ += frames;
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(ready_.get(), &one, sizeof one);
    }
    // True once `frames` frames were handed out and the stage asks for the next one (it is
    // done with them). The bound only ends a failing test.
    bool waitUntilAsked(uint64_t frames) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(60),
                                 [&] { return handedOut_ == frames && asking_; });
    }

private:
    static constexpr uint32_t kBuffers = 4;
    FrameFormat format_;
    std::vector<uint8_t> buffers_[kBuffers];
    UniqueFd ready_;
    std::mutex mutex_;
    std::condition_variable changed_;
    uint64_t produced_ = 0;
    uint64_t handedOut_ = 0;
    bool asking_ = false;
};

}  // namespace

TEST(ConvertAhead, UnpacedDeliversEveryFrameInOrderConvertedLikeInline) {
    auto source = openSource(patternConfig(false, 30));
    auto reference = openSource(patternConfig(false, 30));
    Converter converter(source->format());
    Converter refConverter(reference->format());
    std::vector<uint8_t> refY(64 * 48), refU(32 * 24), refV(32 * 24);
    const I420Planes refPlanes{refY.data(), refU.data(), refV.data(), 64, 32, 32};
    StopSignal stop;
    ConvertAhead ahead(*source, converter, 64, 48, /*live=*/false);
    uint64_t lastSequence = 0;
    for (int i = 0; i < 40; ++i) {
        // A slow consumer now and then: an unpaced source must still lose nothing.
        if (i % 10 == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        const ConvertAhead::Picture p = ahead.take(stop);
        ASSERT_EQ(p.status, Status::Ok);
        if (i > 0) {
            EXPECT_EQ(p.sequence, lastSequence + 1);
        }
        lastSequence = p.sequence;
        FrameLease lease;
        ASSERT_EQ(reference->next(lease, stop), Status::Ok);
        ASSERT_EQ(refConverter.convert(lease.view(), refPlanes), Status::Ok);
        EXPECT_EQ(lumaOf(*p.planes, 64, 48), refY) << "frame " << i;
        ahead.giveBack(p.slot);
    }
    StatsReport r;
    ahead.collectStats(r);
    const auto* skipped = r.find("skipped");
    EXPECT_TRUE(skipped == nullptr || std::get<int64_t>(skipped->value) == 0);
}

TEST(ConvertAhead, LiveSourceGivesTheNewestFrameAndCountsTheSkipped) {
    ManualSource source;
    Converter converter(source.format());
    StopSignal stop;
    ConvertAhead ahead(source, converter, 64, 48, /*live=*/true);
    source.produce(1);
    ConvertAhead::Picture p = ahead.take(stop);
    ASSERT_EQ(p.status, Status::Ok);
    EXPECT_EQ(p.sequence, 0u);
    uint64_t last = 0;
    uint64_t gaps = 0;
    for (int i = 0; i < 3; ++i) {
        // Encoding slower than the camera: five frames come while a picture is encoded.
        source.produce(5);
        ASSERT_TRUE(source.waitUntilAsked(last + 6)) << "the stage did not take the frames";
        ahead.giveBack(p.slot);
        p = ahead.take(stop);
        ASSERT_EQ(p.status, Status::Ok);
        EXPECT_EQ(p.sequence, last + 5) << "not the newest frame";
        gaps += p.sequence - last - 1;
        last = p.sequence;
    }
    ahead.giveBack(p.slot);
    StatsReport r;
    ahead.collectStats(r);
    ASSERT_NE(r.find("skipped"), nullptr);
    const int64_t skipped = std::get<int64_t>(r.find("skipped")->value);
    EXPECT_GT(gaps, 10u);
    // Every frame left out between two takes was skipped by this stage, and counted.
    EXPECT_EQ(static_cast<uint64_t>(skipped), gaps);
}

TEST(ConvertAhead, StopWakesAWaitingTake) {
    auto source = openSource(patternConfig(true, 1));  // one frame per second
    Converter converter(source->format());
    StopSignal stop;
    ConvertAhead ahead(*source, converter, 64, 48, true);
    ConvertAhead::Picture first = ahead.take(stop);  // frame 0 comes at once
    ASSERT_EQ(first.status, Status::Ok);
    ahead.giveBack(first.slot);
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        stop.request();
    });
    const ConvertAhead::Picture p = ahead.take(stop);
    stopper.join();
    EXPECT_EQ(p.status, Status::Stopped);
}

TEST(ConvertAhead, PausedFramesAreNotConvertedButCounted) {
    ManualSource source;
    Converter converter(source.format());
    StopSignal stop;
    ConvertAhead ahead(source, converter, 64, 48, true);
    ahead.setPaused(true);
    for (uint64_t i = 0; i < 10; ++i) {
        source.produce(1);
        ASSERT_TRUE(source.waitUntilAsked(i + 1));
        EXPECT_EQ(ahead.idleFrames(), i + 1);
    }
    ahead.setPaused(false);
    source.produce(1);
    ConvertAhead::Picture p;
    do {
        p = ahead.take(stop);  // Again: woken by a paused frame
    } while (p.status == Status::Again);
    ASSERT_EQ(p.status, Status::Ok);
    EXPECT_EQ(p.sequence, 10u) << "a paused frame was handed on";
    ahead.giveBack(p.slot);
}

TEST(ConvertAhead, DestroyedMidStreamWithoutHanging) {
    auto source = openSource(patternConfig(false, 30));
    Converter converter(source->format());
    StopSignal stop;
    ConvertAhead ahead(*source, converter, 64, 48, false);
    // The pattern never ends; destroying the stage mid-stream must not hang or leak.
    for (int i = 0; i < 3; ++i) {
        const ConvertAhead::Picture p = ahead.take(stop);
        ASSERT_EQ(p.status, Status::Ok);
        ahead.giveBack(p.slot);
    }
}

namespace {

// An unpaced YUYV source that counts how many of its frames are lent at once.
class CountingSource final : public FrameSource {
public:
    static constexpr int kW = 64, kH = 48, kBuffers = 4;
    CountingSource() {
        format_.fourcc = 0x56595559;  // YUYV
        format_.width = kW;
        format_.height = kH;
        format_.strides = {kW * 2, 0, 0};
        for (auto& b : buffers_) {
            b.assign(size_t{kW} * kH * 2, 0x80);
        }
    }
    const FrameFormat& format() const override { return format_; }
    std::string describe() const override { return "counting"; }
    Status next(FrameLease& out, const StopSignal& stop) override {
        if (stop.requested()) {
            return Status::Stopped;
        }
        if (sequence_ == kFrames) {
            return Status::EndOfStream;
        }
        for (uint32_t i = 0; i < kBuffers; ++i) {
            if (!lent_[i].exchange(true)) {
                const int now = ++lentNow_;
                int seen = mostLent.load();
                while (now > seen && !mostLent.compare_exchange_weak(seen, now)) {
                }
                FrameView v;
                v.planes[0] = buffers_[i].data();
                v.strides[0] = kW * 2;
                v.bytes = buffers_[i].size();
                v.sequence = sequence_++;
                out = FrameLease(this, i, v);
                return Status::Ok;
            }
        }
        ADD_FAILURE() << "all " << kBuffers << " buffers lent";
        return Status::Error;
    }
    std::atomic<int> mostLent{0};
    static constexpr uint64_t kFrames = 60;

protected:
    void releaseFrame(uint32_t index) override {
        // A release that takes a while (a camera's QBUF can): whoever reads the next frame
        // before it returns has two frames lent.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        --lentNow_;
        lent_[index].store(false);
    }

private:
    FrameFormat format_;
    std::vector<uint8_t> buffers_[kBuffers];
    std::atomic<bool> lent_[kBuffers] = {};
    std::atomic<int> lentNow_{0};
    uint64_t sequence_ = 0;
};

}  // namespace

// Unpaced, the next frame is read while the current one encodes and converted when the
// encoder gives its picture back: one frame of the source is lent at a time (so one frame of
// the source's format is resident), and none is lost.
TEST(ConvertAhead, UnpacedLendsOneSourceFrameAtATime) {
    CountingSource source;
    Converter converter(source.format());
    StopSignal stop;
    ConvertAhead ahead(source, converter, CountingSource::kW, CountingSource::kH,
                       /*live=*/false);
    uint64_t taken = 0;
    for (;;) {
        const ConvertAhead::Picture p = ahead.take(stop);
        if (p.status == Status::EndOfStream) {
            break;
        }
        ASSERT_EQ(p.status, Status::Ok);
        EXPECT_EQ(p.sequence, taken);
        ++taken;
        // Encoding takes a while: the stage has read the next frame by now.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        ahead.giveBack(p.slot);
    }
    EXPECT_EQ(taken, CountingSource::kFrames);
    EXPECT_EQ(source.mostLent.load(), 1);
}
