// SPDX-License-Identifier: GPL-2.0-or-later
#include "engine/picture_source.hpp"

#include "core/log.hpp"
#include "encode/x265_encoder.hpp"
#include "engine/convert_ahead.hpp"

namespace h265direct {
namespace {
constexpr const char* kTag = "engine";

// The source delivers I420: the encoder reads the capture buffer in place, which goes back
// as soon as x265 has copied it (Picture::encoded()).
class PassThroughPictures final : public PictureSource {
public:
    PassThroughPictures(FrameSource& source, Converter& converter)
        : source_(source), converter_(converter) {}

    Status next(Picture& out, const StopSignal& stop) override {
        FrameLease lease;
        if (const Status st = nextWanted(source_, lease, stop); st != Status::Ok) {
            return st;
        }
        fill(out, converter_.passThroughPlanes(lease.view()), lease.view());
        holdLease(out, std::move(lease));
        return Status::Ok;
    }
    void collectStats(StatsReport& report) override { source_.collectStats(report); }

private:
    FrameSource& source_;
    Converter& converter_;
};

// Converted on the engine thread into the encoder's own input picture; the capture buffer
// returns to the source before the (long) encode.
class InlinePictures final : public PictureSource {
public:
    InlinePictures(FrameSource& source, Converter& converter, X265Encoder& encoder)
        : source_(source),
          converter_(converter),
          target_(encoder.inputPlanes()) {}  // allocated now, not on the frame path

    Status next(Picture& out, const StopSignal& stop) override {
        FrameLease lease;
        if (const Status st = nextWanted(source_, lease, stop); st != Status::Ok) {
            return st;
        }
        const FrameView& view = lease.view();
        if (converter_.convert(view, target_) != Status::Ok) {
            counts_.shortFrames.fetch_add(1, std::memory_order_relaxed);
            if (shortThrottle_.allow()) {
                LOG_WARN(kTag, "frame %llu is shorter than its format needs: skipped",
                         static_cast<unsigned long long>(view.sequence));
            }
            return Status::Again;
        }
        fill(out, target_, view);
        return Status::Ok;  // the lease goes back here
    }
    void collectStats(StatsReport& report) override { source_.collectStats(report); }

private:
    FrameSource& source_;
    Converter& converter_;
    const I420Planes& target_;
    LogThrottle shortThrottle_;
};

// Captured and converted on the stage's thread while the engine encodes; the picture goes
// back to the stage when the handle is destroyed, after the access unit is published, so
// that converting a frame that waits for it (unpaced sources) never delays the delivery.
class AheadPictures final : public PictureSource {
public:
    AheadPictures(FrameSource& source, Converter& converter, bool live)
        : ahead_(source, converter, source.format().width, source.format().height, live, &counts_) {
    }

    Status next(Picture& out, const StopSignal& stop) override {
        const bool wantedNow = wanted();
        ahead_.setPaused(!wantedNow);
        const ConvertAhead::Picture p = ahead_.take(stop);
        if (p.status != Status::Ok) {
            return p.status;
        }
        if (!wantedNow) {
            // Converted before the stage saw the pause: not encoded (counted).
            counts_.idleFrames.fetch_add(1, std::memory_order_relaxed);
            ahead_.giveBack(p.slot);
            return Status::Again;
        }
        fill(out, *p.planes, p.captureNs, p.discontinuity, p.sequence);
        holdSlot(out, p.slot);
        return Status::Ok;
    }
    void collectStats(StatsReport& report) override { ahead_.collectStats(report); }

private:
    void giveBack(int slot) override { ahead_.giveBack(slot); }

    ConvertAhead ahead_;
};

}  // namespace

Picture& Picture::operator=(Picture&& o) noexcept {
    if (this != &o) {
        reset();
        planes_ = o.planes_;
        captureNs_ = o.captureNs_;
        discontinuity_ = o.discontinuity_;
        sequence_ = o.sequence_;
        lease_ = std::move(o.lease_);
        owner_ = std::exchange(o.owner_, nullptr);
        slot_ = o.slot_;
    }
    return *this;
}

void Picture::reset() {
    lease_.release();
    if (owner_ != nullptr) {
        std::exchange(owner_, nullptr)->giveBack(slot_);
    }
}

void PictureSource::collectCounts(StatsReport& report) const {
    const uint64_t shortFrames = counts_.shortFrames.load(std::memory_order_relaxed);
    const uint64_t idleFrames = counts_.idleFrames.load(std::memory_order_relaxed);
    if (shortFrames > 0) {
        report.add("short_frames", static_cast<int64_t>(shortFrames));
    }
    if (idleFrames > 0) {
        report.add("idle_frames", static_cast<int64_t>(idleFrames));
    }
}

std::unique_ptr<PictureSource> makePictureSource(FrameSource& source, Converter& converter,
                                                 X265Encoder& encoder, bool convertAhead,
                                                 bool live) {
    if (converter.passThrough()) {
        return std::make_unique<PassThroughPictures>(source, converter);
    }
    if (convertAhead) {
        return std::make_unique<AheadPictures>(source, converter, live);
    }
    return std::make_unique<InlinePictures>(source, converter, encoder);
}

}  // namespace h265direct
