// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <vector>

#include "h265direct/stats.hpp"

namespace h265direct {

// The engine's own per-interval figures: payload bandwidth, fps, frames, keyframes, encode
// time per frame and capture-to-output latency (p50/p99), plus run totals.
class FrameStats {
public:
    explicit FrameStats(int64_t startNs);
    void onFrame(size_t payloadBytes, bool keyframe, int64_t encodeNs, int64_t latencyNs);
    // Fills `out` with the interval ending now and starts the next one.
    void report(int64_t nowNs, StatsReport& out);
    // Figures of the whole run so far.
    void totals(int64_t nowNs, StatsReport& out) const;

    uint64_t totalFrames() const { return totalFrames_; }
    uint64_t intervalFrames() const { return frames_; }

private:
    int64_t startNs_;
    int64_t intervalStartNs_;
    uint64_t bytes_ = 0;
    uint64_t frames_ = 0;
    uint64_t keyframes_ = 0;
    int64_t encodeNsSum_ = 0;
    std::vector<int64_t> latencies_;
    uint64_t totalBytes_ = 0;
    uint64_t totalFrames_ = 0;
    uint64_t totalKeyframes_ = 0;
};

}  // namespace h265direct
