#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace h265direct {

// What the project knows of a raw pixel format, by V4L2 fourcc.
struct PixelFormatInfo {
    uint32_t fourcc;
    const char* name;  // the fourcc as text, e.g. "YUYV"
    const char* description;
    int planes;        // planes in memory: 1 packed, 2 semi-planar, 3 planar
    int xChromaShift;  // log2 horizontal chroma subsampling (0 for RGB / GREY)
    int yChromaShift;  // log2 vertical chroma subsampling
};

// Every format h265direct converts to I420 (the list shown by --help).
const std::vector<PixelFormatInfo>& supportedPixelFormats();
const PixelFormatInfo* findPixelFormat(uint32_t fourcc);

// "YUYV", "yuyv", "I420" (alias of YU12), "RGB24" (alias of RGB3)... -> fourcc.
std::optional<uint32_t> parseFourcc(std::string_view text);
// "YUYV", "Y16" (trailing spaces dropped), "Y16 -BE" (V4L2's big-endian flag); non-printable
// bytes as '?'.
std::string fourccToString(uint32_t fourcc);

// A tightly packed frame of this format and size: bytes per line of each plane and the
// total size. nullopt when the size is impossible for the format (0, odd where chroma is
// subsampled, absurdly large).
struct FrameLayout {
    std::array<int, 3> strides{};
    std::array<size_t, 3> planeOffsets{};
    int planeCount = 0;
    size_t frameBytes = 0;
};
std::optional<FrameLayout> packedLayout(uint32_t fourcc, int width, int height);

}  // namespace h265direct
