#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace h265direct {

// Where the planes of one captured frame lie in its buffer, from what the driver answered
// to VIDIOC_S_FMT (bytesperline may be larger than the width needs: padded lines).
struct CameraFrameLayout {
    int planeCount = 0;
    std::array<int, 3> strides{};
    std::array<size_t, 3> offsets{};  // planes in memory order (YV12: Y, V, U)
    size_t frameBytes = 0;            // bytes the planes span
};

// planes / chroma shifts as in PixelFormatInfo. nullopt when bytesperline is too small for
// the width or the numbers make no sense.
std::optional<CameraFrameLayout> cameraFrameLayout(int planes, int xChromaShift, int yChromaShift,
                                                   int bytesPerPixel, int width, int height,
                                                   uint32_t bytesPerLine);

}  // namespace h265direct
