// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "core/status.hpp"
#include "core/stop_signal.hpp"
#include "h265direct/config.hpp"
#include "h265direct/stats.hpp"

// The frame types every module shares: a raw frame's format, a view of its planes, the lease
// a source lends it under, and the source interface.

namespace h265direct {

struct FrameFormat {
    uint32_t fourcc = 0;  // V4L2 fourcc (V4L2_PIX_FMT_*)
    int width = 0;
    int height = 0;
    int fpsNum = 30;
    int fpsDen = 1;
    // Bytes per line of each plane as the source lays them out (0 for absent planes).
    std::array<int, 3> strides{};
    // Y'CbCr samples span 0..255 as in JPEG (a camera's MJPEG decoded by libv4l2), not
    // BT.601's limited 16..235 / 16..240; the stream says which.
    bool fullRange = false;
};

// Read-only view of one raw frame.
struct FrameView {
    std::array<const uint8_t*, 3> planes{};
    std::array<int, 3> strides{};
    size_t bytes = 0;            // bytes of frame data (all planes)
    int64_t captureNs = 0;       // CLOCK_MONOTONIC time the frame was produced
    uint64_t sequence = 0;       // the source's frame counter (gaps = frames lost upstream)
    bool discontinuity = false;  // first frame after the source restarted (device returned)
};

class FrameSource;

// A frame lent by its source. Move-only; destroying or release()-ing it hands the buffer
// back (for a camera: queues it to the driver again). Never outlives its source.
class FrameLease {
public:
    FrameLease() = default;
    FrameLease(FrameSource* owner, uint32_t index, const FrameView& view)
        : owner_(owner), index_(index), view_(view) {}
    FrameLease(const FrameLease&) = delete;
    FrameLease& operator=(const FrameLease&) = delete;
    FrameLease(FrameLease&& o) noexcept
        : owner_(std::exchange(o.owner_, nullptr)), index_(o.index_), view_(o.view_) {}
    FrameLease& operator=(FrameLease&& o) noexcept {
        if (this != &o) {
            release();
            owner_ = std::exchange(o.owner_, nullptr);
            index_ = o.index_;
            view_ = o.view_;
        }
        return *this;
    }
    ~FrameLease() { release(); }

    bool valid() const { return owner_ != nullptr; }
    const FrameView& view() const { return view_; }
    void release();

private:
    FrameSource* owner_ = nullptr;
    uint32_t index_ = 0;
    FrameView view_;
};

class FrameSource {
public:
    virtual ~FrameSource() = default;
    virtual const FrameFormat& format() const = 0;
    // One line for the user: what the source is and what it delivers.
    virtual std::string describe() const = 0;
    // Waits for the next frame (paced at the frame rate where the source paces). Returns
    // Ok with `out` filled, Stopped when stop was requested, EndOfStream, Again (no frame
    // within the source's timeout: the caller reports it and calls again), DeviceLost, or
    // Error. Waits must also wake when stop.fd() becomes readable.
    virtual Status next(FrameLease& out, const StopSignal& stop) = 0;
    // Per-interval figures (frames dropped by the driver, skipped, reconnects...).
    virtual void collectStats(StatsReport& /*report*/) {}

protected:
    friend class FrameLease;
    // The lease with this index is handed back.
    virtual void releaseFrame(uint32_t /*index*/) {}
};

inline void FrameLease::release() {
    if (owner_ != nullptr) {
        std::exchange(owner_, nullptr)->releaseFrame(index_);
    }
}

}  // namespace h265direct
