// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture/paced_source.hpp"

#include <poll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text.hpp"

namespace h265direct {

namespace {

// Enough for a frame being converted while the next is read, plus one held by a slow
// consumer (e.g. an I420 frame handed straight to the encoder).
constexpr size_t kRingSize = 4;
constexpr size_t kAlign = 64;
constexpr int kMaxRateTerm = 1'000'000;

__extension__ using Uint128 = unsigned __int128;

std::string sizeText(int w, int h) {
    return std::to_string(w) + "x" + std::to_string(h);
}

}  // namespace

FrameLayout checkRawSourceConfig(const SourceConfig& config, uint32_t fourcc) {
    const std::string size = sizeText(config.width, config.height);
    const PixelFormatInfo* info = findPixelFormat(fourcc);
    if (info == nullptr) {
        std::string names;
        for (const PixelFormatInfo& f : supportedPixelFormats()) {
            appendItem(names, " ", f.name);
        }
        throw StartupError(kExitUsage, "--pixel-format: unsupported pixel format " +
                                           fourccToString(fourcc) + " (supported: " + names + ")");
    }
    const std::optional<FrameLayout> layout = packedLayout(fourcc, config.width, config.height);
    if (!layout) {
        throw StartupError(kExitUsage, "-s " + size + ": not a possible " + info->name +
                                           " frame size (1..16384, even where chroma is "
                                           "subsampled)");
    }
    if (config.width % 2 != 0 || config.height % 2 != 0) {
        throw StartupError(kExitUsage, "-s " + size +
                                           ": width and height must be even (the stream is "
                                           "4:2:0)");
    }
    if (config.fpsNum <= 0 || config.fpsDen <= 0 || config.fpsNum > kMaxRateTerm ||
        config.fpsDen > kMaxRateTerm) {
        throw StartupError(kExitUsage, "-r " + std::to_string(config.fpsNum) + "/" +
                                           std::to_string(config.fpsDen) +
                                           ": frame rate out of range");
    }
    return *layout;
}

void PacedSource::FreeDeleter::operator()(uint8_t* p) const {
    std::free(p);
}

PacedSource::PacedSource(const FrameFormat& format, const FrameLayout& layout, bool pace)
    : format_(format), layout_(layout), pace_(pace) {
    format_.strides = layout.strides;
    const size_t bytes = (layout.frameBytes + kAlign - 1) / kAlign * kAlign;
    for (size_t i = 0; i < kRingSize; ++i) {
        auto* p = static_cast<uint8_t*>(std::aligned_alloc(kAlign, bytes));
        if (p == nullptr) {
            throw StartupError(kExitFailure, "out of memory for " + std::to_string(kRingSize) +
                                                 " frames of " + std::to_string(bytes) + " bytes");
        }
        ring_.emplace_back(p);
    }
    leased_ = std::make_unique<std::atomic<bool>[]>(kRingSize);
    if (pace_) {
        timer_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
        if (!timer_) {
            throw StartupError(kExitFailure,
                               std::string("timerfd_create: ") + std::strerror(errno));
        }
    }
}

PacedSource::~PacedSource() = default;

std::string PacedSource::describeFormat() const {
    return sizeText(format_.width, format_.height) + " " + fourccToString(format_.fourcc) + " @ " +
           std::to_string(format_.fpsNum) + "/" + std::to_string(format_.fpsDen) + " fps (" +
           (pace_ ? "paced" : "unpaced") + ")";
}

int64_t PacedSource::deadlineOf(uint64_t tick) const {
    // 128-bit: tick * den * 1e9 overflows 64 bits for long runs at odd rates.
    const Uint128 ns = Uint128{tick} * static_cast<uint64_t>(format_.fpsDen) * 1'000'000'000u /
                       static_cast<uint64_t>(format_.fpsNum);
    return anchorNs_ + static_cast<int64_t>(ns);
}

Status PacedSource::waitUntil(int64_t deadlineNs, const StopSignal& stop) {
    itimerspec spec{};
    spec.it_value = toTimespec(deadlineNs);
    if (timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
        LOG_ERROR("capture", "timerfd_settime: %s", std::strerror(errno));
        return Status::Error;
    }
    pollfd fds[2] = {{timer_.get(), POLLIN, 0}, {stop.fd(), POLLIN, 0}};
    for (;;) {
        const int n = poll(fds, 2, -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            LOG_ERROR("capture", "poll: %s", std::strerror(errno));
            return Status::Error;
        }
        if (fds[1].revents != 0 || stop.requested()) {
            return Status::Stopped;
        }
        if (fds[0].revents != 0) {
            uint64_t expirations = 0;
            [[maybe_unused]] ssize_t r = ::read(timer_.get(), &expirations, sizeof expirations);
            return Status::Ok;
        }
    }
}

Status PacedSource::next(FrameLease& out, const StopSignal& stop) {
    out = FrameLease();
    if (stop.requested()) {
        return Status::Stopped;
    }
    uint32_t slot = 0;
    while (slot < ring_.size() && leased_[slot].load(std::memory_order_acquire)) {
        ++slot;
    }
    if (slot == ring_.size()) {
        LOG_ERROR("capture", "all %zu frame buffers are still lent out", ring_.size());
        return Status::Error;
    }
    uint8_t* frame = ring_[slot].get();
    // Made before the wait, so that the frame is ready the moment it is due, like a
    // camera's.
    const Status made = produce(frame, sequence_);
    if (made != Status::Ok) {
        return made;
    }
    if (pace_) {
        const int64_t now = monotonicNs();
        if (!started_) {
            started_ = true;
            anchorNs_ = now;
            tick_ = 0;
        }
        int64_t due = deadlineOf(tick_);
        if (now > due && now - due > deadlineOf(tick_ + 1) - due) {
            // More than a frame behind (a slow consumer): start the schedule again from
            // now rather than deliver a burst to catch up.
            anchorNs_ = now;
            tick_ = 0;
            due = now;
            ++lateTotal_;
        }
        if (now < due) {
            const Status waited = waitUntil(due, stop);
            if (waited != Status::Ok) {
                return waited;
            }
        }
        ++tick_;
    }
    FrameView view;
    for (int p = 0; p < layout_.planeCount; ++p) {
        const auto i = static_cast<size_t>(p);
        view.planes[i] = frame + layout_.planeOffsets[i];
        view.strides[i] = layout_.strides[i];
    }
    view.bytes = layout_.frameBytes;
    view.captureNs = monotonicNs();
    view.sequence = sequence_++;
    leased_[slot].store(true, std::memory_order_release);
    out = FrameLease(this, slot, view);
    return Status::Ok;
}

void PacedSource::releaseFrame(uint32_t index) {
    if (index < ring_.size()) {
        leased_[index].store(false, std::memory_order_release);
    }
}

void PacedSource::collectStats(StatsReport& report) {
    // Only when it happened: behind schedule means the consumer is too slow for the rate.
    if (lateTotal_ != lateReported_) {
        report.add("source_behind", static_cast<int64_t>(lateTotal_ - lateReported_), "x");
        lateReported_ = lateTotal_;
    }
}

}  // namespace h265direct
