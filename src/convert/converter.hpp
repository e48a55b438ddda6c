// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <memory>

#include "core/status.hpp"
#include "frame/frame.hpp"
#include "frame/i420.hpp"

namespace h265direct {

// Turns frames of one source format into I420 of the same size: Y'CbCr and grey formats by
// our own loops (yuv_convert.hpp), RGB formats by libswscale, loaded on first use.
class Converter {
public:
    // Throws StartupError (kExitUsage / kExitFormat) for a format it cannot convert, or
    // kExitFailure when an RGB format needs libswscale and it cannot be loaded.
    explicit Converter(const FrameFormat& in);
    ~Converter();
    Converter(const Converter&) = delete;
    Converter& operator=(const Converter&) = delete;

    // The source is I420 already: no conversion and no copy; hand the source planes to the
    // encoder (see passThroughPlanes).
    bool passThrough() const { return passThrough_; }
    // For pass-through: the source planes as an I420 picture (read-only in practice).
    I420Planes passThroughPlanes(const FrameView& src) const;
    // Writes src into dst. Error only for a frame too short for the format.
    Status convert(const FrameView& src, const I420Planes& dst);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    bool passThrough_ = false;
};

}  // namespace h265direct
