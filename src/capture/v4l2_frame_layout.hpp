// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace h265direct {

// Where the planes of one captured frame lie in its buffers, from what the driver answered
// to VIDIOC_S_FMT (bytesperline may be larger than the width needs: padded lines).
struct CameraFrameLayout {
    int planeCount = 0;
    std::array<int, 3> strides{};
    std::array<size_t, 3>
        offsets{};          // in the plane's buffer; planes in memory order (YV12: Y, V, U)
    size_t frameBytes = 0;  // bytes the planes span, over all buffers
    // The buffers a frame comes in: 1, or one per plane (the multi-planar API's formats with
    // planes of their own, NV12M...). `buffer` says which holds each plane, `bufferBytes`
    // how much of each the planes need.
    int bufferCount = 1;
    std::array<int, 3> buffer{};
    std::array<size_t, 3> bufferBytes{};
};

// planes / chroma shifts as in PixelFormatInfo, all planes in one buffer. nullopt when
// bytesperline is too small for the width or the numbers make no sense.
std::optional<CameraFrameLayout> cameraFrameLayout(int planes, int xChromaShift, int yChromaShift,
                                                   int bytesPerPixel, int width, int height,
                                                   uint32_t bytesPerLine);

// Each plane in a buffer of its own with its own bytesperline (0: tight), as the driver
// answered for each plane. chromaBytesPerSample as in PixelFormatInfo (2 for NV12M's
// interleaved plane). nullopt as above.
std::optional<CameraFrameLayout> cameraSeparatePlanesLayout(
    int planes, int xChromaShift, int yChromaShift, int chromaBytesPerSample, int width, int height,
    const std::array<uint32_t, 3>& bytesPerLine);

}  // namespace h265direct
