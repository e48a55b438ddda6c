// SPDX-License-Identifier: GPL-2.0-or-later
#include "frame/pixel_format.hpp"

#include <linux/videodev2.h>

#include <algorithm>
#include <cctype>

namespace h265direct {

namespace {

// The largest width or height accepted: beyond any camera or HEVC level, and small enough
// that frame sizes cannot overflow.
constexpr int kMaxDimension = 16384;

// One row per format. The order is the order --help shows: packed YUV first (what cameras
// give), then planar YUV, RGB, grey. Costs: I420 itself needs no work; semi-planar 4:2:0
// only de-interleaves chroma; YV12 swaps planes; packed and semi-planar 4:2:2 halve chroma
// vertically; 4:4:4 halves chroma both ways (libswscale); RGB needs a colour-space matrix
// per pixel; grey loses the colour the camera may have. Bare RGB aliases (XRGB, BGRX...)
// follow FFmpeg and GStreamer (byte order in memory); the "32" suffixed ones follow the V4L2
// macros, whose names do not always match the byte order.
constexpr auto P = Layout::kPacked422;
constexpr auto S = Layout::kSemiPlanar;
constexpr auto Q = Layout::kPlanar;
constexpr auto G = Layout::kGrey;
constexpr auto R = Layout::kRgb;
constexpr auto kYuyv = Packed422Order::kYuyv;
constexpr auto kUyvy = Packed422Order::kUyvy;
constexpr auto kYvyu = Packed422Order::kYvyu;
constexpr auto kVyuy = Packed422Order::kVyuy;

const std::vector<PixelFormatInfo>& table() {
    // clang-format off
    static const std::vector<PixelFormatInfo> formats = {
        // fourcc, name, description, aliases,
        //   layout, planes, x/y chroma shift, luma bytes/pixel, chroma bytes/sample, Cr first,
        //   packed order, libswscale format {format, swap Cb/Cr, rgb}, negotiation cost,
        //   buffers
        {V4L2_PIX_FMT_YUYV, "YUYV", "YUV 4:2:2 packed, Y0 U Y1 V (YUY2)", "YUY2 YUYV422",
         P, 1, 1, 0, 2, 0, false, kYuyv, {AV_PIX_FMT_YUYV422, false, false}, 20, 1},
        {V4L2_PIX_FMT_UYVY, "UYVY", "YUV 4:2:2 packed, U Y0 V Y1", "UYVY422",
         P, 1, 1, 0, 2, 0, false, kUyvy, {AV_PIX_FMT_UYVY422, false, false}, 21, 1},
        {V4L2_PIX_FMT_YVYU, "YVYU", "YUV 4:2:2 packed, Y0 V Y1 U", "YVYU422",
         P, 1, 1, 0, 2, 0, false, kYvyu, {AV_PIX_FMT_YUYV422, true, false}, 22, 1},
        {V4L2_PIX_FMT_VYUY, "VYUY", "YUV 4:2:2 packed, V Y0 U Y1", "",
         P, 1, 1, 0, 2, 0, false, kVyuy, {AV_PIX_FMT_UYVY422, true, false}, 23, 1},
        {V4L2_PIX_FMT_NV12, "NV12", "YUV 4:2:0, Y plane + interleaved U V plane", "",
         S, 2, 1, 1, 1, 2, false, kYuyv, {AV_PIX_FMT_NV12, false, false}, 10, 1},
        {V4L2_PIX_FMT_NV21, "NV21", "YUV 4:2:0, Y plane + interleaved V U plane", "",
         S, 2, 1, 1, 1, 2, true, kYuyv, {AV_PIX_FMT_NV21, false, false}, 11, 1},
        {V4L2_PIX_FMT_NV12M, "NM12", "NV12 with each plane in a buffer of its own (NV12M)", "NV12M",
         S, 2, 1, 1, 1, 2, false, kYuyv, {AV_PIX_FMT_NV12, false, false}, 10, 2},
        {V4L2_PIX_FMT_NV21M, "NM21", "NV21 with each plane in a buffer of its own (NV21M)", "NV21M",
         S, 2, 1, 1, 1, 2, true, kYuyv, {AV_PIX_FMT_NV21, false, false}, 11, 2},
        {V4L2_PIX_FMT_NV16, "NV16", "YUV 4:2:2, Y plane + interleaved U V plane", "",
         S, 2, 1, 0, 1, 2, false, kYuyv, {AV_PIX_FMT_NV16, false, false}, 26, 1},
        {V4L2_PIX_FMT_NV61, "NV61", "YUV 4:2:2, Y plane + interleaved V U plane", "",
         S, 2, 1, 0, 1, 2, true, kYuyv, {AV_PIX_FMT_NV16, true, false}, 26, 1},
        {V4L2_PIX_FMT_NV16M, "NM16", "YUV 4:2:2, Y plane + interleaved U V plane, a buffer each (NV16M)",
         "NV16M", S, 2, 1, 0, 1, 2, false, kYuyv, {AV_PIX_FMT_NV16, false, false}, 26, 2},
        {V4L2_PIX_FMT_NV61M, "NM61", "NM16 with V before U (NV61M)",
         "NV61M", S, 2, 1, 0, 1, 2, true, kYuyv, {AV_PIX_FMT_NV16, true, false}, 26, 2},
        {V4L2_PIX_FMT_YUV420, "YU12", "YUV 4:2:0 planar, Y U V (I420)", "I420 IYUV YUV420 YUV420P",
         Q, 3, 1, 1, 1, 1, false, kYuyv, {AV_PIX_FMT_YUV420P, false, false}, 0, 1},
        {V4L2_PIX_FMT_YVU420, "YV12", "YUV 4:2:0 planar, Y V U", "YVU420",
         Q, 3, 1, 1, 1, 1, true, kYuyv, {AV_PIX_FMT_YUV420P, true, false}, 12, 1},
        {V4L2_PIX_FMT_YUV420M, "YM12", "YU12 with each plane in a buffer of its own (YUV420M)",
         "YUV420M", Q, 3, 1, 1, 1, 1, false, kYuyv, {AV_PIX_FMT_YUV420P, false, false}, 0, 3},
        {V4L2_PIX_FMT_YVU420M, "YM21", "YV12 with each plane in a buffer of its own (YVU420M)",
         "YVU420M", Q, 3, 1, 1, 1, 1, true, kYuyv, {AV_PIX_FMT_YUV420P, true, false}, 12, 3},
        {V4L2_PIX_FMT_YUV422P, "422P", "YUV 4:2:2 planar, Y U V (I422)", "I422 Y42B YUV422P",
         Q, 3, 1, 0, 1, 1, false, kYuyv, {AV_PIX_FMT_YUV422P, false, false}, 24, 1},
        {V4L2_PIX_FMT_YUV422M, "YM16", "422P with each plane in a buffer of its own (YUV422M)",
         "YUV422M", Q, 3, 1, 0, 1, 1, false, kYuyv, {AV_PIX_FMT_YUV422P, false, false}, 24, 3},
        {V4L2_PIX_FMT_YVU422M, "YM61", "YM16 with V before U (YVU422M)",
         "YVU422M", Q, 3, 1, 0, 1, 1, true, kYuyv, {AV_PIX_FMT_YUV422P, true, false}, 25, 3},
        {V4L2_PIX_FMT_YUV444M, "YM24", "YUV 4:4:4 planar, each plane in a buffer of its own (YUV444M)",
         "YUV444M", Q, 3, 0, 0, 1, 1, false, kYuyv, {AV_PIX_FMT_YUV444P, false, false}, 26, 3},
        {V4L2_PIX_FMT_YVU444M, "YM42", "YM24 with V before U (YVU444M)",
         "YVU444M", Q, 3, 0, 0, 1, 1, true, kYuyv, {AV_PIX_FMT_YUV444P, true, false}, 27, 3},
        {V4L2_PIX_FMT_RGB24, "RGB3", "RGB 24-bit, bytes R G B (RGB24)", "RGB24 RGB",
         R, 1, 0, 0, 3, 0, false, kYuyv, {AV_PIX_FMT_RGB24, false, true}, 30, 1},
        {V4L2_PIX_FMT_BGR24, "BGR3", "RGB 24-bit, bytes B G R (BGR24)", "BGR24 BGR",
         R, 1, 0, 0, 3, 0, false, kYuyv, {AV_PIX_FMT_BGR24, false, true}, 31, 1},
        {V4L2_PIX_FMT_XBGR32, "XR24", "RGB 32-bit, bytes B G R X (BGRX)", "BGRX BGR0 XBGR32",
         R, 1, 0, 0, 4, 0, false, kYuyv, {AV_PIX_FMT_BGR0, false, true}, 33, 1},
        {V4L2_PIX_FMT_RGBX32, "XB24", "RGB 32-bit, bytes R G B X (RGBX)", "RGBX RGB0 RGBX32",
         R, 1, 0, 0, 4, 0, false, kYuyv, {AV_PIX_FMT_RGB0, false, true}, 35, 1},
        {V4L2_PIX_FMT_XRGB32, "BX24", "RGB 32-bit, bytes X R G B (XRGB)", "XRGB 0RGB XRGB32",
         R, 1, 0, 0, 4, 0, false, kYuyv, {AV_PIX_FMT_0RGB, false, true}, 32, 1},
        {V4L2_PIX_FMT_BGRX32, "RX24", "RGB 32-bit, bytes X B G R (XBGR)", "XBGR 0BGR BGRX32",
         R, 1, 0, 0, 4, 0, false, kYuyv, {AV_PIX_FMT_0BGR, false, true}, 34, 1},
        {V4L2_PIX_FMT_BGR32, "BGR4", "RGB 32-bit, bytes B G R X (old V4L2 BGR32)", "BGR32",
         R, 1, 0, 0, 4, 0, false, kYuyv, {AV_PIX_FMT_BGR0, false, true}, 39, 1},
        {V4L2_PIX_FMT_RGB32, "RGB4", "RGB 32-bit, bytes X R G B (old V4L2 RGB32)", "RGB32",
         R, 1, 0, 0, 4, 0, false, kYuyv, {AV_PIX_FMT_0RGB, false, true}, 38, 1},
        {V4L2_PIX_FMT_GREY, "GREY", "greyscale 8-bit (Y8)", "GRAY GRAY8 Y8 Y800",
         G, 1, 0, 0, 1, 0, false, kYuyv, {AV_PIX_FMT_GRAY8, false, false}, 60, 1},
    };
    // clang-format on
    return formats;
}

}  // namespace

const std::vector<PixelFormatInfo>& supportedPixelFormats() {
    return table();
}

const PixelFormatInfo* findPixelFormat(uint32_t fourcc) {
    for (const PixelFormatInfo& f : table()) {
        if (f.fourcc == fourcc) {
            return &f;
        }
    }
    return nullptr;
}

std::optional<uint32_t> parseFourcc(std::string_view text) {
    if (text.empty() || text.size() > 16) {
        return std::nullopt;
    }
    std::string upper(text);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    for (const PixelFormatInfo& f : table()) {
        if (upper == f.name) {
            return f.fourcc;
        }
    }
    for (const PixelFormatInfo& f : table()) {
        std::string_view rest = f.aliases;
        while (!rest.empty()) {
            const size_t end = std::min(rest.find(' '), rest.size());
            if (upper == rest.substr(0, end)) {
                return f.fourcc;
            }
            rest.remove_prefix(std::min(end + 1, rest.size()));
        }
    }
    return std::nullopt;
}

std::string fourccToString(uint32_t fourcc) {
    std::string s(4, ' ');
    for (int i = 0; i < 4; ++i) {
        const auto c = static_cast<unsigned char>((fourcc >> (8 * i)) & 0xff);
        s[static_cast<size_t>(i)] = std::isprint(c) ? static_cast<char>(c) : '?';
    }
    // V4L2 marks big-endian variants with the top bit.
    if ((fourcc & (1u << 31)) != 0) {
        s[3] = static_cast<char>((fourcc >> 24) & 0x7f);
        return s + "-BE";
    }
    while (!s.empty() && s.back() == ' ') {  // "Y16 " -> "Y16"
        s.pop_back();
    }
    return s;
}

std::optional<FrameLayout> packedLayout(uint32_t fourcc, int width, int height) {
    const PixelFormatInfo* info = findPixelFormat(fourcc);
    if (info == nullptr || width <= 0 || height <= 0 || width > kMaxDimension ||
        height > kMaxDimension) {
        return std::nullopt;
    }
    // Subsampled chroma needs whole chroma samples: odd sizes do not exist in these formats.
    if ((width & ((1 << info->xChromaShift) - 1)) != 0 ||
        (height & ((1 << info->yChromaShift) - 1)) != 0) {
        return std::nullopt;
    }
    FrameLayout layout;
    layout.planeCount = info->planes;
    layout.strides[0] = width * info->lumaBytesPerPixel;
    size_t offset = static_cast<size_t>(layout.strides[0]) * static_cast<size_t>(height);
    const int chromaWidth = width >> info->xChromaShift;
    const int chromaHeight = height >> info->yChromaShift;
    for (int p = 1; p < info->planes; ++p) {
        const auto i = static_cast<size_t>(p);
        layout.strides[i] = chromaWidth * info->chromaBytesPerSample;
        layout.planeOffsets[i] = offset;
        offset += static_cast<size_t>(layout.strides[i]) * static_cast<size_t>(chromaHeight);
    }
    layout.frameBytes = offset;
    return layout;
}

}  // namespace h265direct
