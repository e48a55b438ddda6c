// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/unique_fd.hpp"
#include "frame/frame.hpp"
#include "frame/pixel_format.hpp"

namespace h265direct {

// Checks what the pattern and file sources share: a supported format, a size that format
// and the 4:2:0 stream can have, a sane frame rate. Throws StartupError(kExitUsage) naming
// the option. Returns the tightly packed layout of one frame.
FrameLayout checkRawSourceConfig(const SourceConfig& config, uint32_t fourcc);

// A source that makes its frames itself (test pattern, raw file): a small ring of
// reusable frame buffers, and optional pacing at the frame rate on an absolute timerfd
// deadline, woken early by the stop signal.
class PacedSource : public FrameSource {
public:
    ~PacedSource() override;
    const FrameFormat& format() const override { return format_; }
    Status next(FrameLease& out, const StopSignal& stop) override;
    void collectStats(StatsReport& report) override;

    bool paced() const { return pace_; }
    // "640x480 YUYV @ 30/1 fps (paced)"
    std::string describeFormat() const;

protected:
    PacedSource(const FrameFormat& format, const FrameLayout& layout, bool pace);
    const FrameLayout& layout() const { return layout_; }
    // Fills `frame` (layout().frameBytes bytes) with frame number `index`: Ok, EndOfStream
    // or Error (logged by the implementation).
    virtual Status produce(uint8_t* frame, uint64_t index) = 0;
    void releaseFrame(uint32_t index) override;

private:
    struct FreeDeleter {
        void operator()(uint8_t* p) const;
    };
    Status waitUntil(int64_t deadlineNs, const StopSignal& stop);
    int64_t deadlineOf(uint64_t tick) const;

    FrameFormat format_;
    FrameLayout layout_;
    bool pace_;
    UniqueFd timer_;
    std::vector<std::unique_ptr<uint8_t, FreeDeleter>> ring_;
    std::unique_ptr<std::atomic<bool>[]> leased_;
    uint64_t sequence_ = 0;
    // Pacing: frame `tick_` is due at anchorNs_ + tick_ frame periods.
    bool started_ = false;
    int64_t anchorNs_ = 0;
    uint64_t tick_ = 0;
    uint64_t lateTotal_ = 0;
    uint64_t lateReported_ = 0;
};

}  // namespace h265direct
