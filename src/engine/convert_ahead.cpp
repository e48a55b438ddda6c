// SPDX-License-Identifier: GPL-2.0-or-later
#include "engine/convert_ahead.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/log.hpp"

namespace h265direct {
namespace {
constexpr const char* kTag = "engine";
constexpr size_t kAlign = 64;

size_t alignUp(size_t n) {
    return (n + kAlign - 1) / kAlign * kAlign;
}
}  // namespace

ConvertAhead::ConvertAhead(FrameSource& source, Converter& converter, int width, int height,
                           bool live, PictureCounts* counts)
    : source_(source),
      converter_(converter),
      live_(live),
      slots_(live ? 2 : 1),
      counts_(counts != nullptr ? *counts : ownCounts_) {
    readyFd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!readyFd_) {
        throw std::system_error(errno, std::generic_category(), "eventfd");
    }
    const int strideY = static_cast<int>(alignUp(static_cast<size_t>(width)));
    const int strideC = static_cast<int>(alignUp(static_cast<size_t>(width / 2)));
    const size_t ySize = alignUp(static_cast<size_t>(strideY) * height);
    const size_t cSize = alignUp(static_cast<size_t>(strideC) * (height / 2));
    const size_t slotSize = ySize + 2 * cSize;
    memory_.reset(new uint8_t[slotSize * static_cast<size_t>(slots_) + kAlign]);
    auto base = reinterpret_cast<uintptr_t>(memory_.get());
    uint8_t* p = memory_.get() + (alignUp(base) - base);
    for (int i = 0; i < slots_; ++i) {
        planes_[i] = {p, p + ySize, p + ySize + cSize, strideY, strideC, strideC};
        p += slotSize;
        free_.push_back(i);
    }
    worker_ = std::thread([this] { run(); });
}

ConvertAhead::~ConvertAhead() {
    workerStop_.request();
    {
        std::lock_guard lock(mutex_);
        slotFreed_.notify_all();
    }
    worker_.join();
    pending_ = FrameLease();  // back to the source, which outlives this stage
}

void ConvertAhead::run() {
    for (;;) {
        FrameLease lease;
        const Status st = source_.next(lease, workerStop_);
        {
            std::lock_guard lock(mutex_);
            if (sourceStatsWanted_) {
                sourceStats_.clear();
                source_.collectStats(sourceStats_);
                sourceStatsWanted_ = false;
            }
        }
        const uint64_t one = 1;
        if (st == Status::Again) {
            // No frame in the source's timeout: let the engine report on time all the same.
            [[maybe_unused]] ssize_t n = ::write(readyFd_.get(), &one, sizeof one);
            continue;
        }
        if (st != Status::Ok) {
            std::lock_guard lock(mutex_);
            ended_ = true;
            endStatus_ = st;
            [[maybe_unused]] ssize_t n = ::write(readyFd_.get(), &one, sizeof one);
            return;
        }
        if (paused_.load(std::memory_order_relaxed)) {
            counts_.idleFrames.fetch_add(1, std::memory_order_relaxed);
            // Wake the engine so that it sees when a receiver wants frames again.
            [[maybe_unused]] ssize_t n = ::write(readyFd_.get(), &one, sizeof one);
            continue;
        }
        int slot = -1;
        bool olderDiscontinuity = false;
        {
            std::unique_lock lock(mutex_);
            if (free_.empty() && !live_) {
                // The encoder holds the only picture: it converts this frame itself when it
                // gives the picture back (no thread switch in between); meanwhile this thread
                // reads the next one.
                pending_ = std::move(lease);
                slotFreed_.wait(lock, [&] {
                    return (!pending_.valid() && !pendingConverting_) || workerStop_.requested();
                });
                if (workerStop_.requested()) {
                    return;
                }
                continue;
            }
            slotFreed_.wait(lock, [&] {
                return !free_.empty() || (live_ && !ready_.empty()) || workerStop_.requested();
            });
            if (workerStop_.requested()) {
                return;
            }
            if (!free_.empty()) {
                slot = free_.back();
                free_.pop_back();
            } else {
                // Live, both pictures taken: one by the encoder, one waiting. This frame is
                // newer: it goes in the waiting one's place.
                slot = ready_.front();
                ready_.pop_front();
                ++skipped_;
                olderDiscontinuity = meta_[slot].discontinuity;
            }
        }
        convertInto(lease, slot, olderDiscontinuity);
    }
}

void ConvertAhead::convertInto(FrameLease& lease, int slot, bool olderDiscontinuity) {
    const FrameView& view = lease.view();
    const bool converted = converter_.convert(view, planes_[slot]) == Status::Ok;
    meta_[slot] = Picture{Status::Ok,
                          &planes_[slot],
                          view.captureNs,
                          view.sequence,
                          view.discontinuity || olderDiscontinuity,
                          slot};
    // The capture buffer goes back before the picture waits for the encoder.
    lease.release();
    std::lock_guard lock(mutex_);
    if (!converted) {
        counts_.shortFrames.fetch_add(1, std::memory_order_relaxed);
        free_.push_back(slot);
        slotFreed_.notify_one();
        return;
    }
    if (live_) {
        // Newest frame wins: one picture waiting at most, so latency stays bounded.
        while (!ready_.empty()) {
            const int old = ready_.front();
            ready_.pop_front();
            meta_[slot].discontinuity = meta_[slot].discontinuity || meta_[old].discontinuity;
            free_.push_back(old);
            ++skipped_;
        }
    }
    ready_.push_back(slot);
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(readyFd_.get(), &one, sizeof one);
}

ConvertAhead::Picture ConvertAhead::take(const StopSignal& stop) {
    // Drain the wake-up count before looking: a picture pushed after the look writes the
    // eventfd again, so the poll below cannot sleep through it.
    uint64_t drained = 0;
    [[maybe_unused]] ssize_t n = ::read(readyFd_.get(), &drained, sizeof drained);
    for (bool waited = false;; waited = true) {
        {
            std::lock_guard lock(mutex_);
            if (!ready_.empty()) {
                const int slot = ready_.front();
                ready_.pop_front();
                return meta_[slot];
            }
            if (ended_) {
                return Picture{endStatus_};
            }
        }
        if (stop.requested()) {
            return Picture{Status::Stopped};
        }
        if (waited) {
            // Woken with nothing to take (a source timeout, a frame left unconverted).
            return Picture{Status::Again};
        }
        pollfd fds[2] = {{readyFd_.get(), POLLIN, 0}, {stop.fd(), POLLIN, 0}};
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            LOG_ERROR(kTag, "poll: %s", strerror(errno));
            return Picture{Status::Error};
        }
        n = ::read(readyFd_.get(), &drained, sizeof drained);
    }
}

void ConvertAhead::giveBack(int slot) {
    FrameLease pending;
    {
        std::lock_guard lock(mutex_);
        if (!pending_.valid()) {
            free_.push_back(slot);
            slotFreed_.notify_one();
            return;
        }
        // A frame read while the picture was encoded: convert it here, at once.
        pending = std::move(pending_);
        pendingConverting_ = true;
    }
    convertInto(pending, slot, false);
    // Only now that its buffer is back may the next frame be read: into the same buffer,
    // so one frame of the source's format stays resident, not two.
    std::lock_guard lock(mutex_);
    pendingConverting_ = false;
    slotFreed_.notify_one();
}

void ConvertAhead::collectStats(StatsReport& report) {
    std::lock_guard lock(mutex_);
    for (const StatsReport::Field& f : sourceStats_.fields()) {
        if (f.key == "skipped" && std::holds_alternative<int64_t>(f.value)) {
            continue;  // merged with this stage's own below
        }
        report.add(f);
    }
    int64_t skipped = static_cast<int64_t>(skipped_);
    if (const auto* f = sourceStats_.find("skipped");
        f != nullptr && std::holds_alternative<int64_t>(f->value)) {
        skipped += std::get<int64_t>(f->value);
    }
    skipped_ = 0;
    if (live_ || skipped > 0) {
        report.add("skipped", skipped);
    }
    sourceStats_.clear();
    sourceStatsWanted_ = true;
}

}  // namespace h265direct
