// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "capture/frame_source.hpp"
#include "convert/converter.hpp"
#include "core/status.hpp"
#include "core/stop_signal.hpp"
#include "h265direct/stats.hpp"

namespace h265direct {

class PictureSource;
class X265Encoder;

// One picture ready for the encoder. Whatever holds its pixels (the source's buffer, a
// converted picture of the convert-ahead stage) goes back when the handle is destroyed, or
// earlier where the source allows it (`encoded()`).
class Picture {
public:
    Picture() = default;
    Picture(const Picture&) = delete;
    Picture& operator=(const Picture&) = delete;
    Picture(Picture&& o) noexcept { *this = std::move(o); }
    Picture& operator=(Picture&& o) noexcept;
    ~Picture() { reset(); }

    const I420Planes* planes() const { return &planes_; }
    int64_t captureNs() const { return captureNs_; }
    // The source lost frames or restarted before this one: the encoder starts a keyframe.
    bool discontinuity() const { return discontinuity_; }
    uint64_t sequence() const { return sequence_; }

    // The encoder has its own copy now (x265 copies the picture inside encode()): a capture
    // buffer read in place goes back to the source at once, before the access unit is
    // published.
    void encoded() { lease_.release(); }
    // Everything goes back.
    void reset();

private:
    friend class PictureSource;
    I420Planes planes_{};
    int64_t captureNs_ = 0;
    bool discontinuity_ = false;
    uint64_t sequence_ = 0;
    FrameLease lease_;                // the source's frame, read in place (pass-through)
    PictureSource* owner_ = nullptr;  // the stage's picture `slot_` (convert-ahead)
    int slot_ = -1;
};

// Frames not encoded, counted where they are left out (on whichever thread), reported once.
struct PictureCounts {
    std::atomic<uint64_t> shortFrames{0};  // too short for their format
    std::atomic<uint64_t> idleFrames{0};   // captured while no output wanted frames
};

// The engine's frame path up to the encoder: the next picture, in the encoder's format, with
// its capture time and discontinuity flag. Three kinds, chosen once at the start:
//   - pass-through: the source delivers I420 already; the encoder reads its buffer in place;
//   - inline: converted on the engine thread into the encoder's own input picture;
//   - ahead: captured and converted on a second thread while the engine encodes
//     (convert_ahead.hpp).
// The source's frames taken while nobody wants them are handed back unencoded and counted.
class PictureSource {
public:
    virtual ~PictureSource() = default;

    // Ok with `out` filled; Again (nothing to encode this time: a source timeout, a frame
    // left out and counted; the caller reports on time and asks again), Stopped,
    // EndOfStream, DeviceLost or Error (the source's word).
    virtual Status next(Picture& out, const StopSignal& stop) = 0;
    // Whether an output wants frames now. While not, frames are read (a live source must
    // keep up) but not converted or encoded.
    void setWanted(bool wanted) { wanted_.store(wanted, std::memory_order_relaxed); }

    // The source's figures of the last interval (`skipped` included).
    virtual void collectStats(StatsReport& report) = 0;
    // The frames left out since the start: `short_frames`, `idle_frames` (when any).
    void collectCounts(StatsReport& report) const;

    PictureCounts& counts() { return counts_; }

protected:
    bool wanted() const { return wanted_.load(std::memory_order_relaxed); }
    // The source's next frame into `lease` when an output wants it: Ok, or the source's
    // status, or Again for a frame nobody wanted (counted, and gone back to the source).
    Status nextWanted(FrameSource& source, FrameLease& lease, const StopSignal& stop) {
        const Status st = source.next(lease, stop);
        if (st != Status::Ok) {
            return st;
        }
        if (!wanted()) {
            lease.release();
            counts_.idleFrames.fetch_add(1, std::memory_order_relaxed);
            return Status::Again;
        }
        return Status::Ok;
    }
    static void fill(Picture& p, const I420Planes& planes, const FrameView& view) {
        p.planes_ = planes;
        p.captureNs_ = view.captureNs;
        p.discontinuity_ = view.discontinuity;
        p.sequence_ = view.sequence;
    }
    static void fill(Picture& p, const I420Planes& planes, int64_t captureNs, bool discontinuity,
                     uint64_t sequence) {
        p.planes_ = planes;
        p.captureNs_ = captureNs;
        p.discontinuity_ = discontinuity;
        p.sequence_ = sequence;
    }
    static void holdLease(Picture& p, FrameLease&& lease) { p.lease_ = std::move(lease); }
    void holdSlot(Picture& p, int slot) {
        p.owner_ = this;
        p.slot_ = slot;
    }
    // The picture `slot` handed out by holdSlot() comes back.
    virtual void giveBack(int /*slot*/) {}

    PictureCounts counts_;

private:
    friend class Picture;
    std::atomic<bool> wanted_{true};
};

// The kind the source's format and the configuration call for. `convertAhead`: convert on a
// second thread (when the format needs converting); `live`: the source runs at its own pace
// (camera, paced), so the ahead stage keeps only the newest frame. Throws std::system_error
// when a thread's resources cannot be had.
std::unique_ptr<PictureSource> makePictureSource(FrameSource& source, Converter& converter,
                                                 X265Encoder& encoder, bool convertAhead,
                                                 bool live);

}  // namespace h265direct
