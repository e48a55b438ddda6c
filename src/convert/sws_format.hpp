#pragma once

#include <cstdint>
#include <optional>

extern "C" {
#include <libavutil/pixfmt.h>
}

struct SwsContext;

namespace h265direct {

// How libswscale names a V4L2 format.
struct SwsFormat {
    AVPixelFormat format = AV_PIX_FMT_NONE;
    // YV12 is I420 with the chroma planes the other way round: swscale gets YUV420P and the
    // two chroma plane pointers swapped.
    bool swapChroma = false;
};

std::optional<SwsFormat> swsFormatFor(uint32_t fourcc);

// Sets the colour conversion of a context between src and dst formats: Y'CbCr is BT.601
// limited range, RGB and grey full range (see the .cpp for why). Returns false when
// swscale refused the settings.
bool setColourDetails(SwsContext* context, AVPixelFormat src, AVPixelFormat dst);

}  // namespace h265direct
