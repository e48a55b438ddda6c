// SPDX-License-Identifier: GPL-2.0-or-later
#include "convert/converter.hpp"

#include <gtest/gtest.h>
#include <linux/videodev2.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/test_util.hpp"
#include "core/error.hpp"
#include "frame/pixel_format.hpp"

namespace h265direct {
namespace {

using test::haveProgram;
using test::readFile;
using test::runProcess;
using test::TempDir;
using test::writeFile;

constexpr int kW = 64;
constexpr int kH = 48;

struct Rgb {
    uint8_t r, g, b;
};

// Colour bars on the top half, smooth RGB ramps on the bottom half: every 2x2 block is
// nearly uniform, so subsampling methods agree, while the colours differ enough between
// bars that a swapped plane or byte shows.
std::vector<Rgb> makeRgb() {
    static const Rgb bars[8] = {{235, 235, 235}, {235, 235, 16}, {16, 235, 235}, {16, 235, 16},
                                {235, 16, 235},  {235, 16, 16},  {16, 16, 235},  {16, 16, 16}};
    std::vector<Rgb> rgb(size_t{kW} * kH);
    for (int y = 0; y < kH; ++y) {
        for (int x = 0; x < kW; ++x) {
            Rgb& p = rgb[size_t(y) * kW + x];
            if (y < kH / 2) {
                p = bars[x * 8 / kW];
            } else {
                p = {uint8_t(x * 4), uint8_t((y - kH / 2) * 10), uint8_t(255 - x * 4)};
            }
        }
    }
    return rgb;
}

struct Yuv444 {
    std::vector<uint8_t> y, u, v;
};

uint8_t clamp8(double v) {
    return uint8_t(std::clamp(std::lround(v), 0L, 255L));
}

// BT.601, limited range: the conversion a player undoes for this stream.
Yuv444 toYuv444(const std::vector<Rgb>& rgb) {
    Yuv444 out;
    for (const Rgb& p : rgb) {
        const double r = p.r / 255.0, g = p.g / 255.0, b = p.b / 255.0;
        const double y = 0.299 * r + 0.587 * g + 0.114 * b;
        out.y.push_back(clamp8(16 + 219 * y));
        out.u.push_back(clamp8(128 + 224 * (b - y) / 1.772));
        out.v.push_back(clamp8(128 + 224 * (r - y) / 1.402));
    }
    return out;
}

// Chroma averaged over xs x ys blocks.
std::vector<uint8_t> subsample(const std::vector<uint8_t>& plane, int xs, int ys) {
    std::vector<uint8_t> out;
    for (int y = 0; y < kH; y += ys) {
        for (int x = 0; x < kW; x += xs) {
            int sum = 0;
            for (int dy = 0; dy < ys; ++dy) {
                for (int dx = 0; dx < xs; ++dx) {
                    sum += plane[size_t(y + dy) * kW + x + dx];
                }
            }
            out.push_back(uint8_t((sum + xs * ys / 2) / (xs * ys)));
        }
    }
    return out;
}

// Lays the picture out as the V4L2 documentation describes each format, byte by byte.
std::vector<uint8_t> pack(uint32_t fourcc, const std::vector<Rgb>& rgb, const Yuv444& yuv) {
    std::vector<uint8_t> out;
    const auto u422 = subsample(yuv.u, 2, 1), v422 = subsample(yuv.v, 2, 1);
    const auto u420 = subsample(yuv.u, 2, 2), v420 = subsample(yuv.v, 2, 2);
    auto packed422 = [&](int yPos, int uPos, int vPos) {
        out.resize(size_t{kW} * kH * 2);
        for (size_t i = 0; i < u422.size(); ++i) {
            uint8_t* q = &out[i * 4];
            q[yPos] = yuv.y[i * 2];
            q[yPos + 2] = yuv.y[i * 2 + 1];
            q[uPos] = u422[i];
            q[vPos] = v422[i];
        }
    };
    auto append = [&](const std::vector<uint8_t>& plane) {
        out.insert(out.end(), plane.begin(), plane.end());
    };
    auto interleave = [&](const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
        for (size_t i = 0; i < a.size(); ++i) {
            out.push_back(a[i]);
            out.push_back(b[i]);
        }
    };
    // order: which source byte goes at each position; 'x' is padding.
    auto packedRgb = [&](const char* order) {
        for (const Rgb& p : rgb) {
            for (const char* c = order; *c != 0; ++c) {
                out.push_back(*c == 'r' ? p.r : *c == 'g' ? p.g : *c == 'b' ? p.b : 0xa5);
            }
        }
    };
    switch (fourcc) {
        case V4L2_PIX_FMT_YUYV:
            packed422(0, 1, 3);
            break;
        case V4L2_PIX_FMT_UYVY:
            packed422(1, 0, 2);
            break;
        case V4L2_PIX_FMT_YVYU:
            packed422(0, 3, 1);
            break;
        case V4L2_PIX_FMT_VYUY:
            packed422(1, 2, 0);
            break;
        case V4L2_PIX_FMT_NV12:
        case V4L2_PIX_FMT_NV12M:  // (planes one after the other, as a file holds them)
            append(yuv.y);
            interleave(u420, v420);
            break;
        case V4L2_PIX_FMT_NV21:
        case V4L2_PIX_FMT_NV21M:
            append(yuv.y);
            interleave(v420, u420);
            break;
        case V4L2_PIX_FMT_YUV420:
        case V4L2_PIX_FMT_YUV420M:
            append(yuv.y);
            append(u420);
            append(v420);
            break;
        case V4L2_PIX_FMT_YVU420:
        case V4L2_PIX_FMT_YVU420M:
            append(yuv.y);
            append(v420);
            append(u420);
            break;
        case V4L2_PIX_FMT_YUV422P:
        case V4L2_PIX_FMT_YUV422M:
            append(yuv.y);
            append(u422);
            append(v422);
            break;
        case V4L2_PIX_FMT_YVU422M:
            append(yuv.y);
            append(v422);
            append(u422);
            break;
        case V4L2_PIX_FMT_YUV444M:
            append(yuv.y);
            append(yuv.u);
            append(yuv.v);
            break;
        case V4L2_PIX_FMT_NV16:
        case V4L2_PIX_FMT_NV16M:
            append(yuv.y);
            interleave(u422, v422);
            break;
        case V4L2_PIX_FMT_NV61:
        case V4L2_PIX_FMT_NV61M:
            append(yuv.y);
            interleave(v422, u422);
            break;
        case V4L2_PIX_FMT_YVU444M:
            append(yuv.y);
            append(yuv.v);
            append(yuv.u);
            break;
        case V4L2_PIX_FMT_RGB24:
            packedRgb("rgb");
            break;
        case V4L2_PIX_FMT_BGR24:
            packedRgb("bgr");
            break;
        case V4L2_PIX_FMT_XBGR32:
            packedRgb("bgrx");
            break;  // XR24
        case V4L2_PIX_FMT_RGBX32:
            packedRgb("rgbx");
            break;  // XB24
        case V4L2_PIX_FMT_XRGB32:
            packedRgb("xrgb");
            break;  // BX24
        case V4L2_PIX_FMT_BGRX32:
            packedRgb("xbgr");
            break;  // RX24
        case V4L2_PIX_FMT_BGR32:
            packedRgb("bgrx");
            break;
        case V4L2_PIX_FMT_RGB32:
            packedRgb("xrgb");
            break;
        case V4L2_PIX_FMT_GREY:
            for (const Rgb& p : rgb) {
                out.push_back(p.g);
            }
            break;
        default:
            ADD_FAILURE() << "no packer for " << fourccToString(fourcc);
    }
    return out;
}

// FFmpeg's name for the same bytes, a filter when FFmpeg has no such layout, and the
// scaler's flags where ours differ from FFmpeg's bicubic default (4:4:4: an area average,
// where bicubic rings by up to 19 levels at the bars' edges on both chroma axes). FFmpeg 5.1
// cannot convert semi-planar 4:2:2 at all: it gets the same picture as planar 4:2:2
// (`samePictureAs`), the same samples in other places.
struct FfmpegInput {
    const char* pixFmt;
    const char* filter;
    const char* swsFlags = nullptr;
    uint32_t samePictureAs = 0;
};
FfmpegInput ffmpegInput(uint32_t fourcc) {
    switch (fourcc) {
        case V4L2_PIX_FMT_YUYV:
            return {"yuyv422", nullptr};
        case V4L2_PIX_FMT_UYVY:
            return {"uyvy422", nullptr};
        case V4L2_PIX_FMT_YVYU:
            return {"yvyu422", nullptr};
        case V4L2_PIX_FMT_VYUY:
            return {"uyvy422", "shuffleplanes=0:2:1"};  // FFmpeg has no VYUY
        case V4L2_PIX_FMT_NV12:
        case V4L2_PIX_FMT_NV12M:
            return {"nv12", nullptr};
        case V4L2_PIX_FMT_NV21:
        case V4L2_PIX_FMT_NV21M:
            return {"nv21", nullptr};
        case V4L2_PIX_FMT_YUV420:
        case V4L2_PIX_FMT_YUV420M:
            return {"yuv420p", nullptr};
        case V4L2_PIX_FMT_YVU420:
        case V4L2_PIX_FMT_YVU420M:
            return {"yuv420p", "shuffleplanes=0:2:1"};
        case V4L2_PIX_FMT_YUV422P:
        case V4L2_PIX_FMT_YUV422M:
            return {"yuv422p", nullptr};
        case V4L2_PIX_FMT_YVU422M:
            return {"yuv422p", "shuffleplanes=0:2:1"};
        case V4L2_PIX_FMT_YUV444M:
            return {"yuv444p", nullptr, "area"};
        case V4L2_PIX_FMT_NV16:
        case V4L2_PIX_FMT_NV61:
        case V4L2_PIX_FMT_NV16M:
        case V4L2_PIX_FMT_NV61M:
            return {"yuv422p", nullptr, nullptr, V4L2_PIX_FMT_YUV422P};
        case V4L2_PIX_FMT_YVU444M:
            return {"yuv444p", "shuffleplanes=0:2:1", "area"};
        case V4L2_PIX_FMT_RGB24:
            return {"rgb24", nullptr};
        case V4L2_PIX_FMT_BGR24:
            return {"bgr24", nullptr};
        case V4L2_PIX_FMT_XBGR32:
            return {"bgr0", nullptr};
        case V4L2_PIX_FMT_RGBX32:
            return {"rgb0", nullptr};
        case V4L2_PIX_FMT_XRGB32:
            return {"0rgb", nullptr};
        case V4L2_PIX_FMT_BGRX32:
            return {"0bgr", nullptr};
        case V4L2_PIX_FMT_BGR32:
            return {"bgr0", nullptr};
        case V4L2_PIX_FMT_RGB32:
            return {"0rgb", nullptr};
        case V4L2_PIX_FMT_GREY:
            return {"gray", nullptr};
        default:
            return {nullptr, nullptr};
    }
}

std::vector<uint8_t> ffmpegToI420(const TempDir& dir, const std::string& name,
                                  const std::vector<uint8_t>& input, const FfmpegInput& ff) {
    const std::string in = dir.file(name + ".raw");
    const std::string out = dir.file(name + ".i420");
    writeFile(in, input.data(), input.size());
    std::vector<std::string> argv = {"ffmpeg",
                                     "-nostdin",
                                     "-loglevel",
                                     "error",
                                     "-y",
                                     "-f",
                                     "rawvideo",
                                     "-pix_fmt",
                                     ff.pixFmt,
                                     "-s",
                                     std::to_string(kW) + "x" + std::to_string(kH),
                                     "-i",
                                     in};
    if (ff.filter != nullptr) {
        argv.insert(argv.end(), {"-vf", ff.filter});
    }
    if (ff.swsFlags != nullptr) {
        argv.insert(argv.end(), {"-sws_flags", ff.swsFlags});
    }
    argv.insert(argv.end(), {"-f", "rawvideo", "-pix_fmt", "yuv420p", out});
    const auto r = runProcess(argv, 60);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return readFile(out);
}

struct Diff {
    int max = 0;
    double mean = 0;
};
Diff diff(const uint8_t* a, const uint8_t* b, size_t n) {
    Diff d;
    long sum = 0;
    for (size_t i = 0; i < n; ++i) {
        const int e = std::abs(int(a[i]) - int(b[i]));
        d.max = std::max(d.max, e);
        sum += e;
    }
    d.mean = double(sum) / double(n);
    return d;
}

// The converter's output in one contiguous I420 buffer, with padded output lines to
// check that it honours the destination strides.
std::vector<uint8_t> convertWith(uint32_t fourcc, const std::vector<uint8_t>& src) {
    const auto layout = packedLayout(fourcc, kW, kH);
    EXPECT_TRUE(layout);
    FrameFormat fmt;
    fmt.fourcc = fourcc;
    fmt.width = kW;
    fmt.height = kH;
    fmt.strides = layout->strides;
    Converter conv(fmt);
    FrameView view;
    for (int p = 0; p < layout->planeCount; ++p) {
        view.planes[p] = src.data() + layout->planeOffsets[p];
        view.strides[p] = layout->strides[p];
    }
    view.bytes = src.size();

    constexpr int kPad = 16;
    std::vector<uint8_t> y((kW + kPad) * kH, 0x11), u((kW / 2 + kPad) * kH / 2, 0x22),
        v((kW / 2 + kPad) * kH / 2, 0x33);
    I420Planes dst{y.data(), u.data(), v.data(), kW + kPad, kW / 2 + kPad, kW / 2 + kPad};
    EXPECT_EQ(conv.convert(view, dst), Status::Ok);

    std::vector<uint8_t> out;
    auto take = [&](const std::vector<uint8_t>& plane, int w, int h, int stride) {
        for (int row = 0; row < h; ++row) {
            const uint8_t* line = plane.data() + size_t(row) * stride;
            out.insert(out.end(), line, line + w);
            // The padding past each line stays untouched.
            EXPECT_TRUE(
                std::all_of(line + w, line + stride, [&](uint8_t b) { return b == plane.back(); }));
        }
    };
    take(y, kW, kH, dst.strideY);
    take(u, kW / 2, kH / 2, dst.strideU);
    take(v, kW / 2, kH / 2, dst.strideV);
    return out;
}

struct Tolerance {
    int max;
    double mean;
};

void expectClose(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want, Tolerance luma,
                 Tolerance chroma, const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    const size_t ySize = size_t{kW} * kH, cSize = ySize / 4;
    const char* names[3] = {"Y", "U", "V"};
    const size_t offsets[3] = {0, ySize, ySize + cSize};
    const size_t sizes[3] = {ySize, cSize, cSize};
    for (int p = 0; p < 3; ++p) {
        const Diff d = diff(got.data() + offsets[p], want.data() + offsets[p], sizes[p]);
        const Tolerance t = p == 0 ? luma : chroma;
        EXPECT_LE(d.max, t.max) << what << " plane " << names[p] << " mean " << d.mean;
        EXPECT_LE(d.mean, t.mean) << what << " plane " << names[p] << " max " << d.max;
    }
}

class ConverterFormats : public ::testing::TestWithParam<uint32_t> {};

// For every format: the same picture laid out by hand per the V4L2 documentation,
// converted by us, is compared with (1) FFmpeg converting the same bytes and (2) the
// picture's own BT.601 limited-range values.
TEST_P(ConverterFormats, MatchesFfmpegAndTheIntendedPicture) {
    if (!haveProgram("ffmpeg")) {
        GTEST_SKIP() << "ffmpeg not installed";
    }
    const uint32_t fourcc = GetParam();
    const std::string name = fourccToString(fourcc);
    const auto rgb = makeRgb();
    const auto yuv = toYuv444(rgb);
    const auto src = pack(fourcc, rgb, yuv);
    const auto layout = packedLayout(fourcc, kW, kH);
    ASSERT_TRUE(layout);
    ASSERT_EQ(src.size(), layout->frameBytes);

    const auto ours = convertWith(fourcc, src);
    TempDir dir;
    const FfmpegInput ff = ffmpegInput(fourcc);
    ASSERT_NE(ff.pixFmt, nullptr);
    const auto ffmpeg =
        ffmpegToI420(dir, name, ff.samePictureAs != 0 ? pack(ff.samePictureAs, rgb, yuv) : src, ff);

    const PixelFormatInfo* info = findPixelFormat(fourcc);
    const bool exact = info->yChromaShift == 1;  // 4:2:0 sources: only repacked
    // FFmpeg's default bicubic filter rings by up to 12 levels at the sharp chroma edges of
    // the bars where we sample; on average both stay within about a level. A wrong byte
    // order or a swapped plane costs tens of levels on average (checked below).
    expectClose(ours, ffmpeg, {exact ? 0 : 2, exact ? 0.0 : 0.6},
                {exact ? 0 : 14, exact ? 0.0 : 1.5}, name + " vs ffmpeg");

    std::vector<uint8_t> intended;
    if (fourcc == V4L2_PIX_FMT_GREY) {
        // Grey is full range: 0..255 becomes 16..235, chroma neutral.
        for (const Rgb& p : rgb) {
            intended.push_back(clamp8(16 + p.g * 219.0 / 255.0));
        }
        intended.resize(intended.size() * 3 / 2, 128);
    } else {
        intended = yuv.y;
        const auto u = subsample(yuv.u, 2, 2), v = subsample(yuv.v, 2, 2);
        intended.insert(intended.end(), u.begin(), u.end());
        intended.insert(intended.end(), v.begin(), v.end());
    }
    expectClose(ours, intended, {exact ? 0 : 2, exact ? 0.0 : 0.6},
                {exact ? 0 : 3, exact ? 0.0 : 1.2}, name + " vs intended");

    // The tolerances have teeth: the U plane compared with V is far outside them.
    if (fourcc != V4L2_PIX_FMT_GREY) {
        const size_t ySize = size_t{kW} * kH, cSize = ySize / 4;
        EXPECT_GT(diff(ours.data() + ySize, intended.data() + ySize + cSize, cSize).mean, 10.0);
    }
}

std::vector<uint32_t> allFormats() {
    std::vector<uint32_t> out;
    for (const PixelFormatInfo& f : supportedPixelFormats()) {
        out.push_back(f.fourcc);
    }
    return out;
}

// The same picture as BGR24 and as RGB24 converts to the same bytes, on every CPU. (libswscale's
// special BGR24 routine averages chroma in its x86 assembly but point-samples it in its C
// version, which aarch64 runs; the converter keeps BGR24 off that routine.)
TEST(Converter, Bgr24ConvertsExactlyAsRgb24) {
    const auto rgb = makeRgb();
    const auto yuv = toYuv444(rgb);
    const auto bgr24 = convertWith(V4L2_PIX_FMT_BGR24, pack(V4L2_PIX_FMT_BGR24, rgb, yuv));
    const auto rgb24 = convertWith(V4L2_PIX_FMT_RGB24, pack(V4L2_PIX_FMT_RGB24, rgb, yuv));
    ASSERT_EQ(bgr24.size(), size_t{kW} * kH * 3 / 2);
    EXPECT_TRUE(bgr24 == rgb24) << "BGR24 and RGB24 of one picture convert differently";
}

INSTANTIATE_TEST_SUITE_P(All, ConverterFormats, ::testing::ValuesIn(allFormats()),
                         [](const auto& p) { return fourccToString(p.param); });

FrameFormat format(uint32_t fourcc, int w = kW, int h = kH) {
    FrameFormat f;
    f.fourcc = fourcc;
    f.width = w;
    f.height = h;
    return f;
}

TEST(Converter, PassThroughI420GivesTheSourcePlanes) {
    Converter conv(format(V4L2_PIX_FMT_YUV420));
    ASSERT_TRUE(conv.passThrough());
    std::vector<uint8_t> frame(size_t{kW} * kH * 3 / 2);
    FrameView view;
    view.planes = {frame.data(), frame.data() + kW * kH, frame.data() + kW * kH * 5 / 4};
    view.strides = {kW, kW / 2, kW / 2};
    view.bytes = frame.size();
    const I420Planes p = conv.passThroughPlanes(view);
    EXPECT_EQ(p.y, frame.data());
    EXPECT_EQ(p.u, frame.data() + kW * kH);
    EXPECT_EQ(p.v, frame.data() + kW * kH * 5 / 4);
    EXPECT_EQ(p.strideY, kW);
    EXPECT_EQ(p.strideU, kW / 2);
    EXPECT_EQ(p.strideV, kW / 2);
}

TEST(Converter, PassThroughYv12SwapsChromaPointers) {
    Converter conv(format(V4L2_PIX_FMT_YVU420));
    ASSERT_TRUE(conv.passThrough());
    std::vector<uint8_t> frame(size_t{kW} * kH * 3 / 2);
    FrameView view;
    uint8_t* vPlane = frame.data() + kW * kH;
    uint8_t* uPlane = vPlane + kW * kH / 4;
    view.planes = {frame.data(), vPlane, uPlane};
    view.strides = {kW + 8, kW / 2 + 4, kW / 2 + 2};
    view.bytes = frame.size();
    const I420Planes p = conv.passThroughPlanes(view);
    EXPECT_EQ(p.y, frame.data());
    EXPECT_EQ(p.u, uPlane);
    EXPECT_EQ(p.v, vPlane);
    EXPECT_EQ(p.strideY, kW + 8);
    EXPECT_EQ(p.strideU, kW / 2 + 2);
    EXPECT_EQ(p.strideV, kW / 2 + 4);
}

TEST(Converter, OtherFormatsAreNotPassedThrough) {
    for (const PixelFormatInfo& f : supportedPixelFormats()) {
        Converter conv(format(f.fourcc));
        EXPECT_EQ(conv.passThrough(),
                  f.fourcc == V4L2_PIX_FMT_YUV420 || f.fourcc == V4L2_PIX_FMT_YVU420 ||
                      f.fourcc == V4L2_PIX_FMT_YUV420M || f.fourcc == V4L2_PIX_FMT_YVU420M)
            << f.name;
    }
}

// A camera's NV12M / YUV420M... frame: each plane in a buffer of its own (its own mapping),
// with its own padded lines. Converted from where the planes lie, it gives what the same
// picture gives from one contiguous buffer.
TEST(Converter, PlanesInBuffersOfTheirOwn) {
    const auto rgb = makeRgb();
    const auto yuv = toYuv444(rgb);
    for (const PixelFormatInfo& f : supportedPixelFormats()) {
        if (f.buffers == 1) {
            continue;
        }
        const auto tight = pack(f.fourcc, rgb, yuv);
        const auto layout = packedLayout(f.fourcc, kW, kH);
        ASSERT_TRUE(layout);
        std::vector<std::vector<uint8_t>> buffers;
        FrameView view;
        for (int p = 0; p < layout->planeCount; ++p) {
            const auto i = static_cast<size_t>(p);
            const int line = layout->strides[i];
            const int stride = line + 16 * (p + 1);
            const int rows = p == 0 ? kH : kH >> f.yChromaShift;
            buffers.emplace_back(static_cast<size_t>(stride) * static_cast<size_t>(rows), 0x5a);
            for (int r = 0; r < rows; ++r) {
                std::copy_n(tight.data() + layout->planeOffsets[i] +
                                static_cast<size_t>(r) * static_cast<size_t>(line),
                            line, buffers.back().data() + static_cast<size_t>(r * stride));
            }
            view.planes[i] = buffers.back().data();
            view.strides[i] = stride;
            view.bytes += buffers.back().size();
        }
        FrameFormat fmt = format(f.fourcc);
        fmt.strides = view.strides;
        Converter conv(fmt);
        std::vector<uint8_t> out(size_t{kW} * kH * 3 / 2);
        I420Planes dst{out.data(), out.data() + kW * kH, out.data() + kW * kH * 5 / 4, kW, kW / 2,
                       kW / 2};
        if (conv.passThrough()) {
            const I420Planes in = conv.passThroughPlanes(view);
            for (int r = 0; r < kH; ++r) {
                std::copy_n(in.y + r * in.strideY, kW, dst.y + r * kW);
            }
            for (int r = 0; r < kH / 2; ++r) {
                std::copy_n(in.u + r * in.strideU, kW / 2, dst.u + r * kW / 2);
                std::copy_n(in.v + r * in.strideV, kW / 2, dst.v + r * kW / 2);
            }
        } else {
            ASSERT_EQ(conv.convert(view, dst), Status::Ok) << f.name;
        }
        EXPECT_EQ(out, convertWith(f.fourcc, tight)) << f.name;
    }
}

TEST(Converter, PaddedSourceLines) {
    // A camera may pad lines: stride 80 for a 64-pixel YUYV... line of 128 bytes -> 160.
    const auto rgb = makeRgb();
    const auto yuv = toYuv444(rgb);
    const auto tight = pack(V4L2_PIX_FMT_YUYV, rgb, yuv);
    constexpr int kStride = kW * 2 + 32;
    std::vector<uint8_t> padded(size_t{kStride} * kH, 0xee);
    for (int row = 0; row < kH; ++row) {
        std::copy_n(tight.data() + row * kW * 2, kW * 2, padded.data() + row * kStride);
    }
    FrameFormat f = format(V4L2_PIX_FMT_YUYV);
    f.strides = {kStride, 0, 0};
    Converter conv(f);
    FrameView view;
    view.planes[0] = padded.data();
    view.strides[0] = kStride;
    view.bytes = padded.size();
    std::vector<uint8_t> out(size_t{kW} * kH * 3 / 2);
    I420Planes dst{out.data(), out.data() + kW * kH, out.data() + kW * kH * 5 / 4, kW, kW / 2,
                   kW / 2};
    ASSERT_EQ(conv.convert(view, dst), Status::Ok);
    EXPECT_EQ(out, convertWith(V4L2_PIX_FMT_YUYV, tight));
}

TEST(Converter, ShortFrameIsAnErrorNotACrash) {
    Converter conv(format(V4L2_PIX_FMT_YUYV));
    std::vector<uint8_t> frame(size_t{kW} * kH * 2);
    std::vector<uint8_t> out(size_t{kW} * kH * 3 / 2);
    I420Planes dst{out.data(), out.data() + kW * kH, out.data() + kW * kH * 5 / 4, kW, kW / 2,
                   kW / 2};
    FrameView view;
    view.planes[0] = frame.data();
    view.strides[0] = kW * 2;
    view.bytes = frame.size() - 1;
    EXPECT_EQ(conv.convert(view, dst), Status::Error);
    view.bytes = frame.size();
    view.strides[0] = kW;  // shorter than a line of pixels
    EXPECT_EQ(conv.convert(view, dst), Status::Error);
    view.strides[0] = kW * 2;
    view.planes[0] = nullptr;
    EXPECT_EQ(conv.convert(view, dst), Status::Error);
    view.planes[0] = frame.data();
    EXPECT_EQ(conv.convert(view, dst), Status::Ok);
}

TEST(Converter, RejectsUnsupportedFormatsAndSizes) {
    try {
        Converter conv(format(V4L2_PIX_FMT_MJPEG));
        FAIL() << "MJPG accepted";
    } catch (const StartupError& e) {
        EXPECT_EQ(e.exitCode(), kExitUsage);
        EXPECT_NE(std::string(e.what()).find("unsupported pixel format MJPG"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(Converter(format(V4L2_PIX_FMT_YUYV, 63, 48)), StartupError);
    EXPECT_THROW(Converter(format(V4L2_PIX_FMT_NV12, 64, 47)), StartupError);
    // RGB has odd sizes, but the 4:2:0 output has not.
    EXPECT_THROW(Converter(format(V4L2_PIX_FMT_RGB24, 63, 47)), StartupError);
    EXPECT_THROW(Converter(format(V4L2_PIX_FMT_YUYV, 0, 0)), StartupError);
    FrameFormat f = format(V4L2_PIX_FMT_YUYV);
    f.strides = {kW, 0, 0};  // shorter than its pixels
    EXPECT_THROW(Converter{f}, StartupError);
}

}  // namespace
}  // namespace h265direct
