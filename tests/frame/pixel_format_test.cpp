// SPDX-License-Identifier: GPL-2.0-or-later
#include "frame/pixel_format.hpp"

#include <gtest/gtest.h>
#include <linux/videodev2.h>

#include <set>

namespace h265direct {
namespace {

TEST(PixelFormat, TableListsEveryFormatOnce) {
    const auto& formats = supportedPixelFormats();
    std::set<uint32_t> seen;
    for (const PixelFormatInfo& f : formats) {
        EXPECT_TRUE(seen.insert(f.fourcc).second) << f.name;
        EXPECT_EQ(fourccToString(f.fourcc), f.name);
        EXPECT_EQ(findPixelFormat(f.fourcc), &f);
        EXPECT_EQ(parseFourcc(f.name), f.fourcc);
    }
    for (uint32_t fourcc :
         {V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_UYVY, V4L2_PIX_FMT_YVYU, V4L2_PIX_FMT_VYUY,
          V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_NV21, V4L2_PIX_FMT_YUV420, V4L2_PIX_FMT_YVU420,
          V4L2_PIX_FMT_YUV422P, V4L2_PIX_FMT_RGB24, V4L2_PIX_FMT_BGR24, V4L2_PIX_FMT_XRGB32,
          V4L2_PIX_FMT_XBGR32, V4L2_PIX_FMT_BGRX32, V4L2_PIX_FMT_RGBX32, V4L2_PIX_FMT_RGB32,
          V4L2_PIX_FMT_BGR32, V4L2_PIX_FMT_GREY}) {
        EXPECT_NE(findPixelFormat(fourcc), nullptr) << fourccToString(fourcc);
    }
    for (const PixelFormatInfo& f : formats) {
        // Separate buffers: one per plane.
        EXPECT_TRUE(f.buffers == 1 || f.buffers == f.planes) << f.name;
    }
    EXPECT_EQ(parseFourcc("nv12m"), V4L2_PIX_FMT_NV12M);
    EXPECT_EQ(parseFourcc("YM12"), V4L2_PIX_FMT_YUV420M);
    EXPECT_EQ(findPixelFormat(V4L2_PIX_FMT_YUV420M)->buffers, 3);
    EXPECT_EQ(findPixelFormat(V4L2_PIX_FMT_MJPEG), nullptr);
    EXPECT_EQ(findPixelFormat(0), nullptr);
}

TEST(PixelFormat, ParsesCaseInsensitivelyAndAliases) {
    EXPECT_EQ(parseFourcc("YUYV"), V4L2_PIX_FMT_YUYV);
    EXPECT_EQ(parseFourcc("yuyv"), V4L2_PIX_FMT_YUYV);
    EXPECT_EQ(parseFourcc("YuY2"), V4L2_PIX_FMT_YUYV);
    EXPECT_EQ(parseFourcc("uyvy"), V4L2_PIX_FMT_UYVY);
    EXPECT_EQ(parseFourcc("yvyu"), V4L2_PIX_FMT_YVYU);
    EXPECT_EQ(parseFourcc("vyuy"), V4L2_PIX_FMT_VYUY);
    EXPECT_EQ(parseFourcc("nv12"), V4L2_PIX_FMT_NV12);
    EXPECT_EQ(parseFourcc("NV21"), V4L2_PIX_FMT_NV21);
    EXPECT_EQ(parseFourcc("I420"), V4L2_PIX_FMT_YUV420);
    EXPECT_EQ(parseFourcc("i420"), V4L2_PIX_FMT_YUV420);
    EXPECT_EQ(parseFourcc("yu12"), V4L2_PIX_FMT_YUV420);
    EXPECT_EQ(parseFourcc("yuv420p"), V4L2_PIX_FMT_YUV420);
    EXPECT_EQ(parseFourcc("YV12"), V4L2_PIX_FMT_YVU420);
    EXPECT_EQ(parseFourcc("422p"), V4L2_PIX_FMT_YUV422P);
    EXPECT_EQ(parseFourcc("I422"), V4L2_PIX_FMT_YUV422P);
    EXPECT_EQ(parseFourcc("RGB24"), V4L2_PIX_FMT_RGB24);
    EXPECT_EQ(parseFourcc("rgb3"), V4L2_PIX_FMT_RGB24);
    EXPECT_EQ(parseFourcc("bgr24"), V4L2_PIX_FMT_BGR24);
    EXPECT_EQ(parseFourcc("BGR3"), V4L2_PIX_FMT_BGR24);
    EXPECT_EQ(parseFourcc("grey"), V4L2_PIX_FMT_GREY);
    EXPECT_EQ(parseFourcc("GRAY8"), V4L2_PIX_FMT_GREY);
    // Fourcc texts of the 32-bit family.
    EXPECT_EQ(parseFourcc("XR24"), V4L2_PIX_FMT_XBGR32);
    EXPECT_EQ(parseFourcc("xb24"), V4L2_PIX_FMT_RGBX32);
    EXPECT_EQ(parseFourcc("BX24"), V4L2_PIX_FMT_XRGB32);
    EXPECT_EQ(parseFourcc("RX24"), V4L2_PIX_FMT_BGRX32);
    // Bare names are the byte order in memory (FFmpeg / GStreamer), "32" names the V4L2
    // macros.
    EXPECT_EQ(parseFourcc("BGRX"), V4L2_PIX_FMT_XBGR32);
    EXPECT_EQ(parseFourcc("bgr0"), V4L2_PIX_FMT_XBGR32);
    EXPECT_EQ(parseFourcc("RGBX"), V4L2_PIX_FMT_RGBX32);
    EXPECT_EQ(parseFourcc("XRGB"), V4L2_PIX_FMT_XRGB32);
    EXPECT_EQ(parseFourcc("XBGR"), V4L2_PIX_FMT_BGRX32);
    EXPECT_EQ(parseFourcc("XBGR32"), V4L2_PIX_FMT_XBGR32);
    EXPECT_EQ(parseFourcc("BGRX32"), V4L2_PIX_FMT_BGRX32);
    EXPECT_EQ(parseFourcc("XRGB32"), V4L2_PIX_FMT_XRGB32);
    EXPECT_EQ(parseFourcc("RGBX32"), V4L2_PIX_FMT_RGBX32);
    EXPECT_EQ(parseFourcc("RGB32"), V4L2_PIX_FMT_RGB32);
    EXPECT_EQ(parseFourcc("BGR32"), V4L2_PIX_FMT_BGR32);
}

TEST(PixelFormat, RejectsUnknownText) {
    for (const char* bad : {"", "MJPG", "H264", "YUYV ", " YUYV", "YUY", "YUYVX", "I4200", "rgb48",
                            "NV24", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}) {
        EXPECT_FALSE(parseFourcc(bad).has_value()) << '"' << bad << '"';
    }
}

TEST(PixelFormat, FourccToStringShowsUnprintableBytes) {
    EXPECT_EQ(fourccToString(V4L2_PIX_FMT_NV12), "NV12");
    EXPECT_EQ(fourccToString(0), "????");
    EXPECT_EQ(fourccToString(v4l2_fourcc_be('Y', '1', '6', ' ')), "Y16 -BE");
    EXPECT_EQ(fourccToString(v4l2_fourcc('Y', '1', '6', ' ')), "Y16");
}

TEST(PixelFormat, PackedLayoutOfEachFormat) {
    struct Case {
        uint32_t fourcc;
        int planes;
        std::array<int, 3> strides;
        std::array<size_t, 3> offsets;
        size_t bytes;
    };
    constexpr int w = 640;
    constexpr int h = 480;
    constexpr size_t luma = size_t{w} * h;
    const Case cases[] = {
        {V4L2_PIX_FMT_YUYV, 1, {1280, 0, 0}, {0, 0, 0}, luma * 2},
        {V4L2_PIX_FMT_UYVY, 1, {1280, 0, 0}, {0, 0, 0}, luma * 2},
        {V4L2_PIX_FMT_YVYU, 1, {1280, 0, 0}, {0, 0, 0}, luma * 2},
        {V4L2_PIX_FMT_VYUY, 1, {1280, 0, 0}, {0, 0, 0}, luma * 2},
        {V4L2_PIX_FMT_NV12, 2, {640, 640, 0}, {0, luma, 0}, luma * 3 / 2},
        {V4L2_PIX_FMT_NV21, 2, {640, 640, 0}, {0, luma, 0}, luma * 3 / 2},
        {V4L2_PIX_FMT_YUV420, 3, {640, 320, 320}, {0, luma, luma * 5 / 4}, luma * 3 / 2},
        {V4L2_PIX_FMT_YVU420, 3, {640, 320, 320}, {0, luma, luma * 5 / 4}, luma * 3 / 2},
        {V4L2_PIX_FMT_YUV422P, 3, {640, 320, 320}, {0, luma, luma * 3 / 2}, luma * 2},
        // Each plane in a buffer of its own from a camera; in a file one after the other.
        {V4L2_PIX_FMT_NV12M, 2, {640, 640, 0}, {0, luma, 0}, luma * 3 / 2},
        {V4L2_PIX_FMT_NV21M, 2, {640, 640, 0}, {0, luma, 0}, luma * 3 / 2},
        {V4L2_PIX_FMT_YUV420M, 3, {640, 320, 320}, {0, luma, luma * 5 / 4}, luma * 3 / 2},
        {V4L2_PIX_FMT_YVU420M, 3, {640, 320, 320}, {0, luma, luma * 5 / 4}, luma * 3 / 2},
        {V4L2_PIX_FMT_YUV422M, 3, {640, 320, 320}, {0, luma, luma * 3 / 2}, luma * 2},
        {V4L2_PIX_FMT_YVU422M, 3, {640, 320, 320}, {0, luma, luma * 3 / 2}, luma * 2},
        {V4L2_PIX_FMT_YUV444M, 3, {640, 640, 640}, {0, luma, luma * 2}, luma * 3},
        {V4L2_PIX_FMT_NV16M, 2, {640, 640, 0}, {0, luma, 0}, luma * 2},
        {V4L2_PIX_FMT_NV61M, 2, {640, 640, 0}, {0, luma, 0}, luma * 2},
        {V4L2_PIX_FMT_NV16, 2, {640, 640, 0}, {0, luma, 0}, luma * 2},
        {V4L2_PIX_FMT_NV61, 2, {640, 640, 0}, {0, luma, 0}, luma * 2},
        {V4L2_PIX_FMT_YVU444M, 3, {640, 640, 640}, {0, luma, luma * 2}, luma * 3},
        {V4L2_PIX_FMT_RGB24, 1, {1920, 0, 0}, {0, 0, 0}, luma * 3},
        {V4L2_PIX_FMT_BGR24, 1, {1920, 0, 0}, {0, 0, 0}, luma * 3},
        {V4L2_PIX_FMT_XBGR32, 1, {2560, 0, 0}, {0, 0, 0}, luma * 4},
        {V4L2_PIX_FMT_RGBX32, 1, {2560, 0, 0}, {0, 0, 0}, luma * 4},
        {V4L2_PIX_FMT_XRGB32, 1, {2560, 0, 0}, {0, 0, 0}, luma * 4},
        {V4L2_PIX_FMT_BGRX32, 1, {2560, 0, 0}, {0, 0, 0}, luma * 4},
        {V4L2_PIX_FMT_RGB32, 1, {2560, 0, 0}, {0, 0, 0}, luma * 4},
        {V4L2_PIX_FMT_BGR32, 1, {2560, 0, 0}, {0, 0, 0}, luma * 4},
        {V4L2_PIX_FMT_GREY, 1, {640, 0, 0}, {0, 0, 0}, luma},
    };
    EXPECT_EQ(std::size(cases), supportedPixelFormats().size());
    for (const Case& c : cases) {
        SCOPED_TRACE(fourccToString(c.fourcc));
        const auto layout = packedLayout(c.fourcc, w, h);
        ASSERT_TRUE(layout.has_value());
        EXPECT_EQ(layout->planeCount, c.planes);
        EXPECT_EQ(layout->strides, c.strides);
        EXPECT_EQ(layout->planeOffsets, c.offsets);
        EXPECT_EQ(layout->frameBytes, c.bytes);
    }
}

TEST(PixelFormat, PackedLayoutRejectsImpossibleSizes) {
    for (const PixelFormatInfo& f : supportedPixelFormats()) {
        SCOPED_TRACE(f.name);
        EXPECT_FALSE(packedLayout(f.fourcc, 0, 0));
        EXPECT_FALSE(packedLayout(f.fourcc, 0, 480));
        EXPECT_FALSE(packedLayout(f.fourcc, 640, 0));
        EXPECT_FALSE(packedLayout(f.fourcc, -640, 480));
        EXPECT_FALSE(packedLayout(f.fourcc, 640, -480));
        EXPECT_FALSE(packedLayout(f.fourcc, -2, -2));
        EXPECT_FALSE(packedLayout(f.fourcc, 16386, 480));
        EXPECT_FALSE(packedLayout(f.fourcc, 640, 16386));
        EXPECT_FALSE(packedLayout(f.fourcc, 1 << 30, 1 << 30));
        EXPECT_TRUE(packedLayout(f.fourcc, 16384, 16384));
        EXPECT_TRUE(packedLayout(f.fourcc, 2, 2));
        // Odd widths exist only without horizontal subsampling, odd heights only without
        // vertical subsampling.
        EXPECT_EQ(packedLayout(f.fourcc, 641, 480).has_value(), f.xChromaShift == 0);
        EXPECT_EQ(packedLayout(f.fourcc, 640, 481).has_value(), f.yChromaShift == 0);
        EXPECT_EQ(packedLayout(f.fourcc, 1, 1).has_value(),
                  f.xChromaShift == 0 && f.yChromaShift == 0);
    }
    EXPECT_FALSE(packedLayout(V4L2_PIX_FMT_YUYV, 641, 480));
    EXPECT_TRUE(packedLayout(V4L2_PIX_FMT_YUYV, 640, 481));
    EXPECT_FALSE(packedLayout(V4L2_PIX_FMT_NV12, 640, 481));
    EXPECT_FALSE(packedLayout(V4L2_PIX_FMT_YUV420, 641, 480));
    EXPECT_TRUE(packedLayout(V4L2_PIX_FMT_RGB24, 641, 481));
    EXPECT_FALSE(packedLayout(V4L2_PIX_FMT_MJPEG, 640, 480));
    EXPECT_FALSE(packedLayout(0, 640, 480));
}

TEST(PixelFormat, LargestFrameSizeDoesNotOverflow) {
    const auto layout = packedLayout(V4L2_PIX_FMT_XRGB32, 16384, 16384);
    ASSERT_TRUE(layout);
    EXPECT_EQ(layout->frameBytes, size_t{16384} * 16384 * 4);
}

}  // namespace
}  // namespace h265direct
