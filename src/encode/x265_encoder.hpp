// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/status.hpp"
#include "frame/i420.hpp"
#include "h265direct/config.hpp"

namespace h265direct {

// One encoded picture, straight from x265: valid until the next encode()/flush() call.
struct EncodedFrame {
    std::span<const uint8_t> bytes;  // contiguous Annex-B bytes of the access unit
    int64_t pts = 0;
    bool keyframe = false;  // x265 says IDR/IRAP
};

// libx265, configured for the lowest latency: HEVC Main 4:2:0 8-bit, parameter sets before
// every keyframe, every keyframe an IDR (closed GOP).
class X265Encoder {
public:
    // Throws StartupError(kExitUsage) for settings x265 rejects (bad preset, tune...).
    // fullRange: the pictures' samples span 0..255 (FrameFormat::fullRange).
    X265Encoder(const EncoderConfig& config, int width, int height, int fpsNum, int fpsDen,
                bool fullRange = false);
    ~X265Encoder();
    X265Encoder(const X265Encoder&) = delete;
    X265Encoder& operator=(const X265Encoder&) = delete;

    // The encoder-owned input picture the converter writes into (allocated on first use;
    // throws std::bad_alloc when memory is short, at the first frame).
    const I420Planes& inputPlanes();
    // Encodes the input picture (or `external`, e.g. a pass-through camera buffer, which
    // must stay valid until this returns). Ok with `out` filled when an access unit came
    // out; Again when x265 held the picture back (never with zerolatency).
    Status encode(int64_t pts, EncodedFrame& out, const I420Planes* external = nullptr);
    // Drains pictures x265 still holds; Ok while it returns one, EndOfStream when empty.
    Status flush(EncodedFrame& out);
    // Thread-safe: the next picture becomes an IDR (with VPS/SPS/PPS).
    void requestKeyframe() { keyframeRequested_.store(true, std::memory_order_relaxed); }

    int keyint() const { return keyint_; }
    // One line: preset, tune, rate control, keyint, threads.
    std::string describe() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::atomic<bool> keyframeRequested_{false};
    int keyint_ = 0;
};

}  // namespace h265direct
