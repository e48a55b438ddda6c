#include "frame/pixel_format.hpp"

#include <linux/videodev2.h>

#include <algorithm>
#include <cctype>

namespace h265direct {

namespace {

// The largest width or height accepted: beyond any camera or HEVC level, and small enough
// that frame sizes cannot overflow.
constexpr int kMaxDimension = 16384;

// How the bytes of one format lie in memory, beyond what PixelFormatInfo tells.
struct PlaneGeometry {
    uint32_t fourcc;
    int lumaBytesPerPixel;     // plane 0: bytes per pixel (2 for packed 4:2:2)
    int chromaBytesPerSample;  // planes 1..: bytes per chroma sample position (2 for NV)
};

const std::vector<PixelFormatInfo>& table() {
    // The order is the order --help shows: packed YUV first (what cameras give), then
    // planar YUV, RGB, grey.
    static const std::vector<PixelFormatInfo> formats = {
        {V4L2_PIX_FMT_YUYV, "YUYV", "YUV 4:2:2 packed, Y0 U Y1 V (YUY2)", 1, 1, 0},
        {V4L2_PIX_FMT_UYVY, "UYVY", "YUV 4:2:2 packed, U Y0 V Y1", 1, 1, 0},
        {V4L2_PIX_FMT_YVYU, "YVYU", "YUV 4:2:2 packed, Y0 V Y1 U", 1, 1, 0},
        {V4L2_PIX_FMT_NV12, "NV12", "YUV 4:2:0, Y plane + interleaved U V plane", 2, 1, 1},
        {V4L2_PIX_FMT_NV21, "NV21", "YUV 4:2:0, Y plane + interleaved V U plane", 2, 1, 1},
        {V4L2_PIX_FMT_YUV420, "YU12", "YUV 4:2:0 planar, Y U V (I420)", 3, 1, 1},
        {V4L2_PIX_FMT_YVU420, "YV12", "YUV 4:2:0 planar, Y V U", 3, 1, 1},
        {V4L2_PIX_FMT_YUV422P, "422P", "YUV 4:2:2 planar, Y U V (I422)", 3, 1, 0},
        {V4L2_PIX_FMT_RGB24, "RGB3", "RGB 24-bit, bytes R G B (RGB24)", 1, 0, 0},
        {V4L2_PIX_FMT_BGR24, "BGR3", "RGB 24-bit, bytes B G R (BGR24)", 1, 0, 0},
        {V4L2_PIX_FMT_XBGR32, "XR24", "RGB 32-bit, bytes B G R X (BGRX)", 1, 0, 0},
        {V4L2_PIX_FMT_RGBX32, "XB24", "RGB 32-bit, bytes R G B X (RGBX)", 1, 0, 0},
        {V4L2_PIX_FMT_XRGB32, "BX24", "RGB 32-bit, bytes X R G B (XRGB)", 1, 0, 0},
        {V4L2_PIX_FMT_BGRX32, "RX24", "RGB 32-bit, bytes X B G R (XBGR)", 1, 0, 0},
        {V4L2_PIX_FMT_BGR32, "BGR4", "RGB 32-bit, bytes B G R X (old V4L2 BGR32)", 1, 0, 0},
        {V4L2_PIX_FMT_RGB32, "RGB4", "RGB 32-bit, bytes X R G B (old V4L2 RGB32)", 1, 0, 0},
        {V4L2_PIX_FMT_GREY, "GREY", "greyscale 8-bit (Y8)", 1, 0, 0},
    };
    return formats;
}

PlaneGeometry geometry(uint32_t fourcc) {
    switch (fourcc) {
        case V4L2_PIX_FMT_YUYV:
        case V4L2_PIX_FMT_UYVY:
        case V4L2_PIX_FMT_YVYU:
            return {fourcc, 2, 0};
        case V4L2_PIX_FMT_NV12:
        case V4L2_PIX_FMT_NV21:
            return {fourcc, 1, 2};
        case V4L2_PIX_FMT_YUV420:
        case V4L2_PIX_FMT_YVU420:
        case V4L2_PIX_FMT_YUV422P:
            return {fourcc, 1, 1};
        case V4L2_PIX_FMT_RGB24:
        case V4L2_PIX_FMT_BGR24:
            return {fourcc, 3, 0};
        case V4L2_PIX_FMT_GREY:
            return {fourcc, 1, 0};
        default:
            return {fourcc, 4, 0};  // the 32-bit RGB family
    }
}

struct Alias {
    const char* text;
    uint32_t fourcc;
};

// Names people use besides the fourcc: FFmpeg / GStreamer names and the V4L2 macro names.
// Bare XRGB / BGRX... follow FFmpeg and GStreamer (byte order in memory); the "32"
// suffixed ones follow the V4L2 macros, whose names do not always match the byte order.
constexpr Alias kAliases[] = {
    {"YUY2", V4L2_PIX_FMT_YUYV},     {"YUYV422", V4L2_PIX_FMT_YUYV},
    {"UYVY422", V4L2_PIX_FMT_UYVY},  {"YVYU422", V4L2_PIX_FMT_YVYU},
    {"I420", V4L2_PIX_FMT_YUV420},   {"IYUV", V4L2_PIX_FMT_YUV420},
    {"YUV420", V4L2_PIX_FMT_YUV420}, {"YUV420P", V4L2_PIX_FMT_YUV420},
    {"YVU420", V4L2_PIX_FMT_YVU420}, {"I422", V4L2_PIX_FMT_YUV422P},
    {"Y42B", V4L2_PIX_FMT_YUV422P},  {"YUV422P", V4L2_PIX_FMT_YUV422P},
    {"RGB24", V4L2_PIX_FMT_RGB24},   {"RGB", V4L2_PIX_FMT_RGB24},
    {"BGR24", V4L2_PIX_FMT_BGR24},   {"BGR", V4L2_PIX_FMT_BGR24},
    {"BGRX", V4L2_PIX_FMT_XBGR32},   {"BGR0", V4L2_PIX_FMT_XBGR32},
    {"RGBX", V4L2_PIX_FMT_RGBX32},   {"RGB0", V4L2_PIX_FMT_RGBX32},
    {"XRGB", V4L2_PIX_FMT_XRGB32},   {"0RGB", V4L2_PIX_FMT_XRGB32},
    {"XBGR", V4L2_PIX_FMT_BGRX32},   {"0BGR", V4L2_PIX_FMT_BGRX32},
    {"XBGR32", V4L2_PIX_FMT_XBGR32}, {"RGBX32", V4L2_PIX_FMT_RGBX32},
    {"XRGB32", V4L2_PIX_FMT_XRGB32}, {"BGRX32", V4L2_PIX_FMT_BGRX32},
    {"BGR32", V4L2_PIX_FMT_BGR32},   {"RGB32", V4L2_PIX_FMT_RGB32},
    {"GRAY", V4L2_PIX_FMT_GREY},     {"GRAY8", V4L2_PIX_FMT_GREY},
    {"Y8", V4L2_PIX_FMT_GREY},       {"Y800", V4L2_PIX_FMT_GREY},
};

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
    for (const Alias& a : kAliases) {
        if (upper == a.text) {
            return a.fourcc;
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
    const PlaneGeometry g = geometry(fourcc);
    FrameLayout layout;
    layout.planeCount = info->planes;
    layout.strides[0] = width * g.lumaBytesPerPixel;
    size_t offset = static_cast<size_t>(layout.strides[0]) * static_cast<size_t>(height);
    const int chromaWidth = width >> info->xChromaShift;
    const int chromaHeight = height >> info->yChromaShift;
    for (int p = 1; p < info->planes; ++p) {
        const auto i = static_cast<size_t>(p);
        layout.strides[i] = chromaWidth * g.chromaBytesPerSample;
        layout.planeOffsets[i] = offset;
        offset += static_cast<size_t>(layout.strides[i]) * static_cast<size_t>(chromaHeight);
    }
    layout.frameBytes = offset;
    return layout;
}

}  // namespace h265direct
