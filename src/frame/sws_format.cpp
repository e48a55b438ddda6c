// SPDX-License-Identifier: GPL-2.0-or-later
#include "frame/sws_format.hpp"

#include "frame/swscale_lib.hpp"

namespace h265direct {

namespace {

// 1 = full range (0..255), 0 = limited (16..235 luma, 16..240 chroma).
int rangeOf(const SwsFormat& f) {
    // RGB is full range by definition. Grey is taken as full range because that is what
    // monochrome sensors deliver and what FFmpeg and GStreamer assume for GRAY8; mapping it
    // to limited-range luma keeps black black and white white on a player.
    // Y'CbCr from a camera is limited range (the V4L2 default quantization for Y'CbCr),
    // and limited range is what every decoder assumes when the stream does not say.
    if (f.rgb || f.format == AV_PIX_FMT_GRAY8) {
        return 1;
    }
    return 0;
}

}  // namespace

bool setColourDetails(const SwscaleLib& lib, SwsContext* context, const SwsFormat& src,
                      const SwsFormat& dst) {
    // BT.601 matrix on both sides: the stream carries no colour description, and BT.601 is
    // what V4L2 uses for SD Y'CbCr (and what FFmpeg's rgb->yuv default is), so YUV sources
    // pass through unchanged and RGB sources get the matrix a player applies by default
    // for video of this kind. Both sides YUV and limited range: no value is touched beyond
    // the chroma resampling.
    const int* bt601 = lib.getCoefficients(SWS_CS_ITU601);
    return lib.setColorspaceDetails(context, bt601, rangeOf(src), bt601, rangeOf(dst), 0, 1 << 16,
                                    1 << 16) >= 0;
}

}  // namespace h265direct
