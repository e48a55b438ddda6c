// SPDX-License-Identifier: GPL-2.0-or-later
#include "engine/frame_stats.hpp"

#include "core/percentile.hpp"

namespace h265direct {

FrameStats::FrameStats(int64_t startNs) : startNs_(startNs), intervalStartNs_(startNs) {
    latencies_.reserve(256);
}

void FrameStats::onFrame(size_t payloadBytes, bool keyframe, int64_t encodeNs, int64_t latencyNs) {
    bytes_ += payloadBytes;
    ++frames_;
    keyframes_ += keyframe ? 1 : 0;
    encodeNsSum_ += encodeNs;
    latencies_.push_back(latencyNs);
    totalBytes_ += payloadBytes;
    ++totalFrames_;
    totalKeyframes_ += keyframe ? 1 : 0;
}

void FrameStats::report(int64_t nowNs, StatsReport& out) {
    const double seconds = static_cast<double>(nowNs - intervalStartNs_) / 1e9;
    const double safe = seconds > 0 ? seconds : 1;
    out.add("interval_s", seconds, "s", 2);
    out.add("kbps", static_cast<double>(bytes_) * 8 / 1000 / safe, "kbit/s", 0);
    out.add("fps", static_cast<double>(frames_) / safe, "", 1);
    out.add("frames", static_cast<int64_t>(frames_));
    out.add("keyframes", static_cast<int64_t>(keyframes_));
    out.add("encode_ms",
            frames_ ? static_cast<double>(encodeNsSum_) / 1e6 / static_cast<double>(frames_) : 0.0,
            "ms", 2);
    out.add("latency_p50_ms", static_cast<double>(percentile(latencies_, 0.50)) / 1e6, "ms", 2);
    out.add("latency_p99_ms", static_cast<double>(percentile(latencies_, 0.99)) / 1e6, "ms", 2);
    intervalStartNs_ = nowNs;
    bytes_ = frames_ = keyframes_ = 0;
    encodeNsSum_ = 0;
    latencies_.clear();
}

void FrameStats::totals(int64_t nowNs, StatsReport& out) const {
    const double seconds = static_cast<double>(nowNs - startNs_) / 1e9;
    out.add("total_s", seconds, "s", 2);
    out.add("total_frames", static_cast<int64_t>(totalFrames_));
    out.add("total_keyframes", static_cast<int64_t>(totalKeyframes_));
    out.add("total_bytes", static_cast<int64_t>(totalBytes_), "B");
    out.add("avg_kbps", seconds > 0 ? static_cast<double>(totalBytes_) * 8 / 1000 / seconds : 0.0,
            "kbit/s", 0);
}

}  // namespace h265direct
