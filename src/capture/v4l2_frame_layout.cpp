#include "capture/v4l2_frame_layout.hpp"

namespace h265direct {

std::optional<CameraFrameLayout> cameraFrameLayout(int planes, int xChromaShift, int yChromaShift,
                                                   int bytesPerPixel, int width, int height,
                                                   uint32_t bytesPerLine) {
    if (planes < 1 || planes > 3 || width <= 0 || height <= 0 || bytesPerPixel <= 0 ||
        xChromaShift < 0 || yChromaShift < 0 || xChromaShift > 2 || yChromaShift > 2) {
        return std::nullopt;
    }
    const size_t minLine = static_cast<size_t>(width) * static_cast<size_t>(bytesPerPixel);
    // Some drivers leave bytesperline 0 for tightly packed lines.
    const size_t line = bytesPerLine == 0 ? minLine : bytesPerLine;
    if (line < minLine || line > (1u << 20)) {
        return std::nullopt;
    }
    CameraFrameLayout layout;
    layout.planeCount = planes;
    layout.strides[0] = static_cast<int>(line);
    size_t offset = line * static_cast<size_t>(height);
    const size_t chromaLines =
        (static_cast<size_t>(height) + (1u << yChromaShift) - 1) >> yChromaShift;
    for (int p = 1; p < planes; ++p) {
        // Semi-planar: one interleaved chroma plane as wide in bytes as the luma lines.
        // Planar: each chroma plane's lines are the luma's divided by the subsampling.
        const size_t chromaLine = planes == 2 ? line : line >> xChromaShift;
        layout.strides[static_cast<size_t>(p)] = static_cast<int>(chromaLine);
        layout.offsets[static_cast<size_t>(p)] = offset;
        offset += chromaLine * chromaLines;
    }
    layout.frameBytes = offset;
    return layout;
}

}  // namespace h265direct
