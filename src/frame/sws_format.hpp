// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

extern "C" {
#include <libavutil/pixfmt.h>
}

struct SwsContext;

namespace h265direct {

struct SwscaleLib;

// How libswscale names a V4L2 format (the `sws` column of the pixel-format table).
struct SwsFormat {
    AVPixelFormat format = AV_PIX_FMT_NONE;
    // The format is `format` with Cb and Cr exchanged (YV12 = I420, YVYU = YUYV): use
    // `format` and swap the U and V planes on the other side of the conversion.
    bool swapChroma = false;
    bool rgb = false;  // R'G'B' (full range); otherwise Y'CbCr or grey
};

// Sets the colour conversion of a context between src and dst formats: Y'CbCr is BT.601
// limited range, RGB and grey full range (see the .cpp for why). Returns false when
// swscale refused the settings.
bool setColourDetails(const SwscaleLib& lib, SwsContext* context, const SwsFormat& src,
                      const SwsFormat& dst);

}  // namespace h265direct
