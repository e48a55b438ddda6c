// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture/v4l2_frame_layout.hpp"

namespace h265direct {

namespace {

constexpr size_t kMaxLine = 1u << 20;

bool sane(int planes, int xChromaShift, int yChromaShift, int width, int height) {
    return planes >= 1 && planes <= 3 && width > 0 && height > 0 && xChromaShift >= 0 &&
           yChromaShift >= 0 && xChromaShift <= 2 && yChromaShift <= 2;
}

size_t chromaLines(int height, int yChromaShift) {
    return (static_cast<size_t>(height) + (1u << yChromaShift) - 1) >> yChromaShift;
}

}  // namespace

std::optional<CameraFrameLayout> cameraFrameLayout(int planes, int xChromaShift, int yChromaShift,
                                                   int bytesPerPixel, int width, int height,
                                                   uint32_t bytesPerLine) {
    if (!sane(planes, xChromaShift, yChromaShift, width, height) || bytesPerPixel <= 0) {
        return std::nullopt;
    }
    const size_t minLine = static_cast<size_t>(width) * static_cast<size_t>(bytesPerPixel);
    // Some drivers leave bytesperline 0 for tightly packed lines.
    const size_t line = bytesPerLine == 0 ? minLine : bytesPerLine;
    if (line < minLine || line > kMaxLine) {
        return std::nullopt;
    }
    CameraFrameLayout layout;
    layout.planeCount = planes;
    layout.strides[0] = static_cast<int>(line);
    size_t offset = line * static_cast<size_t>(height);
    for (int p = 1; p < planes; ++p) {
        // Semi-planar: one interleaved chroma plane as wide in bytes as the luma lines.
        // Planar: each chroma plane's lines are the luma's divided by the subsampling.
        const size_t chromaLine = planes == 2 ? line : line >> xChromaShift;
        layout.strides[static_cast<size_t>(p)] = static_cast<int>(chromaLine);
        layout.offsets[static_cast<size_t>(p)] = offset;
        offset += chromaLine * chromaLines(height, yChromaShift);
    }
    layout.frameBytes = offset;
    layout.bufferBytes[0] = offset;
    return layout;
}

std::optional<CameraFrameLayout> cameraSeparatePlanesLayout(
    int planes, int xChromaShift, int yChromaShift, int chromaBytesPerSample, int width, int height,
    const std::array<uint32_t, 3>& bytesPerLine) {
    if (!sane(planes, xChromaShift, yChromaShift, width, height) || chromaBytesPerSample <= 0) {
        return std::nullopt;
    }
    CameraFrameLayout layout;
    layout.planeCount = planes;
    layout.bufferCount = planes;
    for (int p = 0; p < planes; ++p) {
        const auto i = static_cast<size_t>(p);
        const size_t samples =
            p == 0 ? static_cast<size_t>(width)
                   : (static_cast<size_t>(width) + (1u << xChromaShift) - 1) >> xChromaShift;
        const size_t minLine =
            p == 0 ? samples : samples * static_cast<size_t>(chromaBytesPerSample);
        const size_t line = bytesPerLine[i] == 0 ? minLine : bytesPerLine[i];
        if (line < minLine || line > kMaxLine) {
            return std::nullopt;
        }
        const size_t lines =
            p == 0 ? static_cast<size_t>(height) : chromaLines(height, yChromaShift);
        layout.strides[i] = static_cast<int>(line);
        layout.buffer[i] = p;
        layout.bufferBytes[i] = line * lines;
        layout.frameBytes += line * lines;
    }
    return layout;
}

}  // namespace h265direct
