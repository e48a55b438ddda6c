// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "frame/sws_format.hpp"

namespace h265direct {

// The byte order of each 2-pixel group of a packed 4:2:2 format.
enum class Packed422Order {
    kYuyv,  // Y0 Cb Y1 Cr
    kUyvy,  // Cb Y0 Cr Y1
    kYvyu,  // Y0 Cr Y1 Cb
    kVyuy,  // Cr Y0 Cb Y1
};

// Byte offsets of Y0, Cb and Cr in a group of an order (Y1 is at Y0 + 2).
struct Packed422Offsets {
    int y0;
    int cb;
    int cr;
};
constexpr Packed422Offsets packed422Offsets(Packed422Order order) {
    switch (order) {
        case Packed422Order::kUyvy:
            return {1, 0, 2};
        case Packed422Order::kYvyu:
            return {0, 3, 1};
        case Packed422Order::kVyuy:
            return {1, 2, 0};
        case Packed422Order::kYuyv:
            break;
    }
    return {0, 1, 3};
}

// How a format's samples lie, which is also how it is handled: the converter's routine for
// it (src/convert/converter.cpp) and the way the test pattern writes it
// (src/capture/pattern_source.cpp) are chosen by this and the row's other columns alone.
enum class Layout {
    kPacked422,   // one plane of 2-pixel groups in `packedOrder`: own vectorised loop
    kSemiPlanar,  // Y plane, then one plane of interleaved chroma pairs (`crFirst`): own loop
    kPlanar,      // Y, then two chroma planes (Cb first, or Cr with `crFirst`): own loop; 4:2:0
                  // is handed to the encoder as it is
    kGrey,        // one plane of full-range grey: own loop (limited-range luma, grey chroma)
    kRgb,         // R'G'B' in any byte order: libswscale, `sws` names it
};

// Everything the project knows of a raw pixel format, by V4L2 fourcc: one row of the
// table in pixel_format.cpp, read by every module.
struct PixelFormatInfo {
    uint32_t fourcc;
    const char* name;  // the fourcc as text, e.g. "YUYV"
    const char* description;
    const char* aliases;  // other names --pixel-format takes, space-separated ("" for none)
    Layout layout;
    int planes;                  // planes in memory: 1 packed, 2 semi-planar, 3 planar
    int xChromaShift;            // log2 horizontal chroma subsampling (0 for RGB / GREY)
    int yChromaShift;            // log2 vertical chroma subsampling
    int lumaBytesPerPixel;       // plane 0: bytes per pixel (2 for packed 4:2:2)
    int chromaBytesPerSample;    // planes 1..: bytes per chroma sample position (2 for NV)
    bool crFirst;                // Cr before Cb (NV21, YV12; packed orders say it themselves)
    Packed422Order packedOrder;  // kPacked422 only
    SwsFormat sws;               // libswscale's name of it (RGB conversion, tests, benchmarks)
    int cost;     // the camera negotiation's cost of turning it into I420: 0 = I420 itself,
                  // larger = more work (format_negotiation.hpp)
    int buffers;  // memory buffers a camera frame comes in: 1, or `planes` for the V4L2
                  // formats whose planes lie in buffers of their own (NV12M "NM12"...; the
                  // multi-planar API). Read from a file, the planes follow one another.
};

// Every format h265direct converts to I420, in the order --help shows them.
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
