// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>
#include <linux/videodev2.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "capture/format_negotiation.hpp"
#include "capture/v4l2_format_recording.hpp"
#include "frame/pixel_format.hpp"
#include "h265direct/config.hpp"

namespace h265direct {
namespace {

using test::loadFormatListing;

// The converter's formats (src/frame/pixel_format.cpp), spelled out so that these tests
// pin the negotiation rules on their own.
bool convertible(uint32_t fourcc) {
    static const std::set<uint32_t> kFormats = {
        V4L2_PIX_FMT_YUYV,   V4L2_PIX_FMT_UYVY,   V4L2_PIX_FMT_YVYU,   V4L2_PIX_FMT_NV12,
        V4L2_PIX_FMT_NV21,   V4L2_PIX_FMT_YUV420, V4L2_PIX_FMT_YVU420, V4L2_PIX_FMT_YUV422P,
        V4L2_PIX_FMT_RGB24,  V4L2_PIX_FMT_BGR24,  V4L2_PIX_FMT_XBGR32, V4L2_PIX_FMT_RGBX32,
        V4L2_PIX_FMT_XRGB32, V4L2_PIX_FMT_BGRX32, V4L2_PIX_FMT_BGR32,  V4L2_PIX_FMT_RGB32,
        V4L2_PIX_FMT_GREY,
    };
    return kFormats.count(fourcc) != 0;
}

NegotiationRequest request(int w, int h, int fps, uint32_t fourcc = 0) {
    NegotiationRequest r;
    r.width = w;
    r.height = h;
    r.rate = FrameRate{fps, 1};
    r.fourcc = fourcc;
    return r;
}

bool anyNoteContains(const Result<FormatChoice>& r, const std::string& text) {
    return std::any_of(r->notes.begin(), r->notes.end(),
                       [&](const std::string& n) { return n.find(text) != std::string::npos; });
}

std::string allNotes(const Result<FormatChoice>& r) {
    std::string s;
    for (const auto& n : r->notes) {
        s += n + "\n";
    }
    return s;
}

TEST(V4l2Recording, VividListingIsReadWhole) {
    const auto formats = loadFormatListing("v4l2_vivid_formats.txt");
    ASSERT_EQ(formats.size(), 83u);
    EXPECT_EQ(formats[0].fourcc, V4L2_PIX_FMT_YUYV);
    EXPECT_EQ(formats[0].description, "YUYV 4:2:2");
    ASSERT_EQ(formats[0].sizes.size(), 6u);
    EXPECT_EQ(formats[0].sizes[2].width, 640);
    EXPECT_EQ(formats[0].sizes[2].height, 480);
    ASSERT_EQ(formats[0].sizes[2].rates.discrete.size(), 8u);
    EXPECT_EQ(formats[0].sizes[2].rates.discrete.back().fps(), 25.0);
    EXPECT_EQ(formats[27].fourcc, v4l2_fourcc_be('Y', '1', '6', ' '));
}

TEST(V4l2Negotiation, ConversionCostOrder) {
    const uint32_t order[] = {V4L2_PIX_FMT_YUV420,  V4L2_PIX_FMT_NV12,  V4L2_PIX_FMT_NV21,
                              V4L2_PIX_FMT_YVU420,  V4L2_PIX_FMT_YUYV,  V4L2_PIX_FMT_UYVY,
                              V4L2_PIX_FMT_YUV422P, V4L2_PIX_FMT_RGB24, V4L2_PIX_FMT_XBGR32,
                              V4L2_PIX_FMT_GREY};
    for (size_t i = 0; i + 1 < std::size(order); ++i) {
        ASSERT_TRUE(conversionCost(order[i], convertible)) << fourccToString(order[i]);
        EXPECT_LT(*conversionCost(order[i], convertible),
                  *conversionCost(order[i + 1], convertible))
            << fourccToString(order[i]) << " vs " << fourccToString(order[i + 1]);
    }
    EXPECT_FALSE(conversionCost(V4L2_PIX_FMT_MJPEG, convertible));
    EXPECT_FALSE(conversionCost(V4L2_PIX_FMT_Y10, convertible));
}

TEST(V4l2Negotiation, VividPrefersI420AndReportsTheRateItCanGive) {
    const auto formats = loadFormatListing("v4l2_vivid_formats.txt");
    const auto r = negotiateFormat(formats, request(640, 480, 30), convertible);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(fourccToString(r->fourcc), "YU12");
    EXPECT_FALSE(r->emulated);
    EXPECT_EQ(r->width, 640);
    EXPECT_EQ(r->height, 480);
    EXPECT_TRUE(r->rateKnown);
    EXPECT_EQ(r->rate.fps(), 25.0);
    EXPECT_TRUE(anyNoteContains(r, "using 25 fps instead of the 30 fps asked for")) << allNotes(r);
}

TEST(V4l2Negotiation, VividSmallSizeGetsTheRateAsked) {
    const auto formats = loadFormatListing("v4l2_vivid_formats.txt");
    const auto r = negotiateFormat(formats, request(320, 180, 30), convertible);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(fourccToString(r->fourcc), "YU12");
    EXPECT_EQ(r->rate.fps(), 30.0);
    EXPECT_FALSE(anyNoteContains(r, "instead of")) << allNotes(r);
}

TEST(V4l2Negotiation, VividChoosesI420AtEverySizeAndRate) {
    // vivid offers no MJPEG and every format the same rates: the rate never tips the choice.
    const auto formats = loadFormatListing("v4l2_vivid_formats.txt");
    for (const auto& [w, h] :
         {std::pair{320, 180}, std::pair{640, 360}, std::pair{640, 480}, std::pair{1280, 720},
          std::pair{1920, 1080}, std::pair{3840, 2160}}) {
        for (int fps : {5, 15, 30, 60}) {
            const auto r = negotiateFormat(formats, request(w, h, fps), convertible);
            ASSERT_TRUE(r.ok()) << r.error().message;
            EXPECT_EQ(fourccToString(r->fourcc), "YU12") << w << "x" << h << " at " << fps;
            EXPECT_EQ(r->cost, 0);
            EXPECT_EQ(r->passedOver, 0u);
        }
    }
}

TEST(V4l2Negotiation, VividRateBetweenTwoOfferedTakesTheOneBelow) {
    const auto formats = loadFormatListing("v4l2_vivid_formats.txt");
    // 320x180 offers ... 15, 25, 30 ...: 20 is not among them.
    const auto r = negotiateFormat(formats, request(320, 180, 20), convertible);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->rate.fps(), 15.0);
}

TEST(V4l2Negotiation, ForcedFormatIsTaken) {
    const auto formats = loadFormatListing("v4l2_vivid_formats.txt");
    for (uint32_t fourcc : {V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_UYVY, V4L2_PIX_FMT_NV12,
                            V4L2_PIX_FMT_RGB24, V4L2_PIX_FMT_GREY}) {
        const auto r = negotiateFormat(formats, request(320, 180, 15, fourcc), convertible);
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->fourcc, fourcc);
        EXPECT_EQ(r->rate.fps(), 15.0);
    }
}

TEST(V4l2Negotiation, ForcedFormatTheDeviceLacksIsAFormatError) {
    const auto formats = loadFormatListing("v4l2_vivid_formats.txt");
    const auto r = negotiateFormat(formats, request(640, 480, 30, V4L2_PIX_FMT_MJPEG), convertible);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error().exitCode, kExitFormat);
    EXPECT_NE(r.error().message.find("does not offer pixel format MJPG"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("YUYV"), std::string::npos) << r.error().message;
}

TEST(V4l2Negotiation, ForcedFormatWeCannotConvertIsAFormatError) {
    const auto formats = loadFormatListing("v4l2_vivid_formats.txt");
    const auto r = negotiateFormat(formats, request(640, 480, 30, V4L2_PIX_FMT_HSV24), convertible);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error().exitCode, kExitFormat);
    EXPECT_NE(r.error().message.find("cannot convert"), std::string::npos) << r.error().message;
}

// vivid's multi-planar instance: the formats with a buffer per plane besides the others,
// negotiated with the pixel-format table the camera uses.
bool inTable(uint32_t fourcc) {
    return findPixelFormat(fourcc) != nullptr;
}

TEST(V4l2Recording, VividMultiplanarListingIsReadWhole) {
    const auto formats = loadFormatListing("v4l2_vivid_mplane_formats.txt");
    ASSERT_EQ(formats.size(), 93u);
    EXPECT_EQ(formats[85].fourcc, V4L2_PIX_FMT_YUV420M);
    EXPECT_EQ(formats[87].fourcc, V4L2_PIX_FMT_NV12M);
    EXPECT_EQ(formats[87].description, "Y/UV 4:2:0 (N-C)");
}

TEST(V4l2Negotiation, MultiplanarVividFormats) {
    const auto formats = loadFormatListing("v4l2_vivid_mplane_formats.txt");
    // Unforced: I420 in one buffer and in three cost the same; the device's order decides.
    const auto r = negotiateFormat(formats, request(320, 180, 15), inTable);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(fourccToString(r->fourcc), "YU12");
    EXPECT_EQ(r->cost, 0);
    for (uint32_t fourcc :
         {V4L2_PIX_FMT_NV12M, V4L2_PIX_FMT_NV21M, V4L2_PIX_FMT_YUV420M, V4L2_PIX_FMT_YVU420M,
          V4L2_PIX_FMT_YUV422M, V4L2_PIX_FMT_YVU422M, V4L2_PIX_FMT_YUV444M, V4L2_PIX_FMT_YVU444M,
          V4L2_PIX_FMT_NV16M, V4L2_PIX_FMT_NV61M}) {
        const auto f = negotiateFormat(formats, request(320, 180, 15, fourcc), inTable);
        ASSERT_TRUE(f.ok()) << f.error().message;
        EXPECT_EQ(f->fourcc, fourcc);
        EXPECT_EQ(f->rate.fps(), 15.0);
        EXPECT_EQ(f->cost, findPixelFormat(fourcc)->cost);
    }
    EXPECT_EQ(negotiateFormat(formats, request(320, 180, 15, V4L2_PIX_FMT_YUV420M), inTable)->cost,
              0);
    // Semi-planar 4:4:4 is offered but not in the table.
    const auto bad = negotiateFormat(formats, request(320, 180, 15, V4L2_PIX_FMT_NV24), inTable);
    EXPECT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().exitCode, kExitFormat);
    EXPECT_NE(bad.error().message.find("cannot convert"), std::string::npos) << bad.error().message;
}

TEST(V4l2Negotiation, SizeTheDeviceLacksListsTheSizesItHas) {
    const auto formats = loadFormatListing("v4l2_vivid_formats.txt");
    const auto r = negotiateFormat(formats, request(800, 600, 30), convertible);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error().exitCode, kExitFormat);
    EXPECT_NE(r.error().message.find("cannot capture 800x600"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("320x180, 640x360, 640x480, 1280x720, 1920x1080, 3840x2160"),
              std::string::npos)
        << r.error().message;
}

TEST(V4l2Negotiation, UvcWebcamTakesNativeYuyvOverEmulatedI420) {
    const auto formats = loadFormatListing("v4l2_uvc_webcam_formats.txt");
    ASSERT_EQ(formats.size(), 6u);
    EXPECT_TRUE(formats[1].compressed);
    EXPECT_TRUE(formats[4].emulated);
    const auto r = negotiateFormat(formats, request(640, 480, 30), convertible);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(fourccToString(r->fourcc), "YUYV");
    EXPECT_FALSE(r->emulated);
    EXPECT_EQ(r->rate.fps(), 30.0);
}

TEST(V4l2Negotiation, UvcWebcamAt720pTakesMjpegForTheRate) {
    // USB 2.0: YUYV reaches only 10 fps at 1280x720, MJPG 30. The rate asked for comes
    // first: YU12 decoded by libv4l2 from MJPG, although the decode costs far more.
    const auto formats = loadFormatListing("v4l2_uvc_webcam_formats.txt");
    const auto r = negotiateFormat(formats, request(1280, 720, 30), convertible);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(fourccToString(r->fourcc), "YU12");
    EXPECT_TRUE(r->emulated);
    EXPECT_EQ(r->sourceFourcc, V4L2_PIX_FMT_MJPEG);
    EXPECT_TRUE(r->reachesRate);
    EXPECT_EQ(r->cost, kMjpegDecodeCost);  // YU12 itself costs nothing on top of the decode
    EXPECT_EQ(r->rate.fps(), 30.0);
    EXPECT_EQ(r->passedOver, V4L2_PIX_FMT_YUYV);
    EXPECT_FALSE(anyNoteContains(r, "instead of")) << allNotes(r);
    EXPECT_TRUE(anyNoteContains(r,
                                "YU12 (converted by libv4l2 from MJPG) chosen: reaches the 30 "
                                "fps asked for at 1280x720"))
        << allNotes(r);
    EXPECT_TRUE(anyNoteContains(r,
                                "chosen for its rate over YUYV (cost 20, only 10 fps at "
                                "1280x720)"))
        << allNotes(r);
}

TEST(V4l2Negotiation, ListFormatsSaysWhatWasChosenAndWhy) {
    const auto formats = loadFormatListing("v4l2_uvc_webcam_formats.txt");
    EXPECT_EQ(choiceText(formats, request(1280, 720, 30), convertible),
              "for 1280x720 at 30 fps h265direct would capture YU12 (converted by libv4l2) at "
              "30 fps\n"
              "  YU12 (converted by libv4l2 from MJPG) chosen: reaches the 30 fps asked for at "
              "1280x720; the cheapest of those to turn into I420 (cost 340); the camera itself "
              "offers YUYV MJPG\n"
              "  chosen for its rate over YUYV (cost 20, only 10 fps at 1280x720)\n");
    EXPECT_EQ(choiceText(formats, request(1280, 720, 30, V4L2_PIX_FMT_YUYV), convertible),
              "for 1280x720 at 30 fps h265direct would capture YUYV at 10 fps\n"
              "  forced with --pixel-format; cost 20 to turn into I420\n"
              "  the device offers at most 10 fps for YUYV 1280x720: using 10 fps instead of the "
              "30 fps asked for\n");
    EXPECT_EQ(choiceText(formats, request(1024, 768, 30), convertible)
                  .rfind("for 1024x768 at 30 fps: the device cannot capture 1024x768", 0),
              0u);
}

TEST(V4l2Negotiation, UvcWebcamAt720pAnd10FpsTakesYuyv) {
    // Both reach 10 fps: the cheapest wins, and the camera's own YUYV beats libv4l2's copy.
    const auto formats = loadFormatListing("v4l2_uvc_webcam_formats.txt");
    const auto r = negotiateFormat(formats, request(1280, 720, 10), convertible);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(fourccToString(r->fourcc), "YUYV");
    EXPECT_FALSE(r->emulated);
    EXPECT_TRUE(r->reachesRate);
    EXPECT_EQ(r->cost, 20);
    EXPECT_EQ(r->rate.fps(), 10.0);
    EXPECT_EQ(r->passedOver, 0u);
    EXPECT_FALSE(anyNoteContains(r, "chosen for its rate")) << allNotes(r);
}

TEST(V4l2Negotiation, UvcWebcamAt800x600And30FpsTakesMjpegAnd20FpsYuyv) {
    const auto formats = loadFormatListing("v4l2_uvc_webcam_formats.txt");
    const auto fast = negotiateFormat(formats, request(800, 600, 30), convertible);
    ASSERT_TRUE(fast.ok()) << fast.error().message;
    EXPECT_EQ(fourccToString(fast->fourcc), "YU12");
    EXPECT_EQ(fast->sourceFourcc, V4L2_PIX_FMT_MJPEG);
    const auto slow = negotiateFormat(formats, request(800, 600, 20), convertible);
    ASSERT_TRUE(slow.ok()) << slow.error().message;
    EXPECT_EQ(fourccToString(slow->fourcc), "YUYV");
}

TEST(V4l2Negotiation, NoFormatReachesTheRateTheFastestWins) {
    CameraFormatDesc nv12;
    nv12.fourcc = V4L2_PIX_FMT_NV12;
    SizeCaps slow;
    slow.width = 1920;
    slow.height = 1080;
    slow.rates.discrete = {FrameRate{5, 1}};
    nv12.sizes = {slow};
    CameraFormatDesc rgb = nv12;
    rgb.fourcc = V4L2_PIX_FMT_RGB24;
    rgb.sizes[0].rates.discrete = {FrameRate{15, 1}, FrameRate{5, 1}};
    CameraFormatDesc yuyv = rgb;
    yuyv.fourcc = V4L2_PIX_FMT_YUYV;
    const auto r = negotiateFormat({nv12, rgb, yuyv}, request(1920, 1080, 30), convertible);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(fourccToString(r->fourcc), "YUYV");  // 15 fps beats 5; then YUYV is cheaper
    EXPECT_FALSE(r->reachesRate);
    EXPECT_EQ(r->rate.fps(), 15.0);
    EXPECT_EQ(r->passedOver, V4L2_PIX_FMT_NV12);
    EXPECT_TRUE(anyNoteContains(r, "the fastest offered at 1920x1080 (15 fps, 30 asked for)"))
        << allNotes(r);
    EXPECT_TRUE(anyNoteContains(r, "using 15 fps instead of the 30 fps asked for")) << allNotes(r);
}

TEST(V4l2Negotiation, UvcWebcamForcedEmulatedFormat) {
    const auto formats = loadFormatListing("v4l2_uvc_webcam_formats.txt");
    const auto r =
        negotiateFormat(formats, request(1280, 720, 30, V4L2_PIX_FMT_YUV420), convertible);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(fourccToString(r->fourcc), "YU12");
    EXPECT_TRUE(r->emulated);
    EXPECT_EQ(r->rate.fps(), 30.0);
}

TEST(V4l2Negotiation, MjpegOnlyCameraWorksThroughLibv4l2) {
    const auto formats = loadFormatListing("v4l2_mjpeg_only_formats.txt");
    const auto r = negotiateFormat(formats, request(1280, 720, 30), convertible);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(fourccToString(r->fourcc), "YU12");
    EXPECT_TRUE(r->emulated);
    EXPECT_EQ(r->rate.fps(), 30.0);
    EXPECT_TRUE(anyNoteContains(r, "libv4l2")) << allNotes(r);
    EXPECT_TRUE(anyNoteContains(r, "MJPG")) << allNotes(r);
}

TEST(V4l2Negotiation, MjpegWithoutConversionIsAClearError) {
    const auto formats = loadFormatListing("v4l2_mjpeg_raw_formats.txt");
    ASSERT_EQ(formats.size(), 1u);
    const auto r = negotiateFormat(formats, request(640, 480, 30), convertible);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error().exitCode, kExitFormat);
    EXPECT_NE(r.error().message.find("no pixel format h265direct can convert (it offers: MJPG)"),
              std::string::npos)
        << r.error().message;
}

TEST(V4l2Negotiation, RgbOnlyCameraWithSizeRange) {
    const auto formats = loadFormatListing("v4l2_rgb_only_formats.txt");
    ASSERT_EQ(formats.size(), 1u);
    ASSERT_EQ(formats[0].sizes.size(), 1u);
    ASSERT_TRUE(formats[0].sizes[0].range);
    const auto r = negotiateFormat(formats, request(640, 480, 30), convertible);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(fourccToString(r->fourcc), "RGB3");
    EXPECT_EQ(r->rate.fps(), 30.0);
    EXPECT_TRUE(anyNoteContains(
        r, "RGB3 chosen: reaches the 30 fps asked for at 640x480; cost 30 to turn into I420"))
        << allNotes(r);

    const auto fast = negotiateFormat(formats, request(640, 480, 60), convertible);
    ASSERT_TRUE(fast.ok()) << fast.error().message;
    EXPECT_EQ(fast->rate.fps(), 30.0);
    EXPECT_TRUE(anyNoteContains(fast, "instead of the 60 fps")) << allNotes(fast);

    const auto off = negotiateFormat(formats, request(644, 480, 30), convertible);
    EXPECT_FALSE(off.ok());
    EXPECT_EQ(off.error().exitCode, kExitFormat);
    EXPECT_NE(off.error().message.find("160x120 to 1280x1024 in steps of 8x8"), std::string::npos)
        << off.error().message;
}

TEST(V4l2Negotiation, DriverThatListsNoSizesIsTrusted) {
    CameraFormatDesc yuyv;
    yuyv.fourcc = V4L2_PIX_FMT_YUYV;
    yuyv.description = "YUYV";
    const auto r = negotiateFormat({yuyv}, request(720, 576, 25), convertible);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->width, 720);
    EXPECT_EQ(r->height, 576);
    EXPECT_FALSE(r->rateKnown);
    EXPECT_EQ(r->rate.fps(), 25.0);
}

TEST(V4l2Negotiation, NativeThatReachesTheRateBeatsCheaperNativeThatDoesNot) {
    CameraFormatDesc nv12;
    nv12.fourcc = V4L2_PIX_FMT_NV12;
    SizeCaps slow;
    slow.width = 1280;
    slow.height = 720;
    slow.rates.discrete = {FrameRate{10, 1}, FrameRate{5, 1}};
    nv12.sizes = {slow};
    CameraFormatDesc yuyv;
    yuyv.fourcc = V4L2_PIX_FMT_YUYV;
    SizeCaps quick = slow;
    quick.rates.discrete = {FrameRate{30, 1}};
    yuyv.sizes = {quick};
    const auto r = negotiateFormat({nv12, yuyv}, request(1280, 720, 30), convertible);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(fourccToString(r->fourcc), "YUYV");
    // Asking for 10 fps makes both fit: the cheaper one wins again.
    const auto r10 = negotiateFormat({nv12, yuyv}, request(1280, 720, 10), convertible);
    ASSERT_TRUE(r10.ok());
    EXPECT_EQ(fourccToString(r10->fourcc), "NV12");
}

TEST(V4l2Negotiation, PickRate) {
    RateCaps d;
    d.discrete = {FrameRate{1, 1}, FrameRate{25, 1}, FrameRate{30, 1}, FrameRate{60, 1}};
    EXPECT_EQ(pickRate(d, {30, 1})->fps(), 30.0);
    EXPECT_EQ(pickRate(d, {29, 1})->fps(), 25.0);
    EXPECT_EQ(pickRate(d, {120, 1})->fps(), 60.0);
    RateCaps high;
    high.discrete = {FrameRate{50, 1}, FrameRate{60, 1}};
    EXPECT_EQ(pickRate(high, {30, 1})->fps(), 50.0);  // none at or below: the slowest above
    // UVC states 30 fps as a time per frame of 333333 x 100 ns.
    RateCaps uvc;
    uvc.discrete = {FrameRate{10000000, 333333}, FrameRate{10000000, 400000}};
    EXPECT_EQ(compareRates(*pickRate(uvc, {30, 1}), FrameRate{30, 1}), 0);
    RateCaps range;
    range.slowest = FrameRate{1, 1};
    range.fastest = FrameRate{30, 1};
    EXPECT_EQ(pickRate(range, {60, 1})->fps(), 30.0);
    EXPECT_EQ(pickRate(range, {15, 2})->fps(), 7.5);
    EXPECT_FALSE(pickRate(RateCaps{}, {30, 1}));
}

TEST(V4l2Negotiation, SizeRangeContains) {
    SizeCaps s;
    s.range = true;
    s.width = 16;
    s.height = 16;
    s.maxWidth = 1920;
    s.maxHeight = 1080;
    s.stepWidth = 16;
    s.stepHeight = 8;
    EXPECT_TRUE(s.contains(640, 480));
    EXPECT_TRUE(s.contains(1920, 1080));
    EXPECT_FALSE(s.contains(648, 480));
    EXPECT_FALSE(s.contains(640, 484));
    EXPECT_FALSE(s.contains(1936, 1080));
    EXPECT_FALSE(s.contains(0, 0));
}

TEST(V4l2Negotiation, RateAndFourccText) {
    EXPECT_EQ(formatRate({30, 1}), "30");
    EXPECT_EQ(formatRate({25, 2}), "12.5");
    EXPECT_EQ(formatRate({30000, 1001}), "29.97");
    EXPECT_EQ(formatRate({0, 1}), "?");
    EXPECT_EQ(fourccToString(V4L2_PIX_FMT_Y10), "Y10");
    EXPECT_EQ(fourccToString(V4L2_PIX_FMT_MJPEG), "MJPG");
}

}  // namespace
}  // namespace h265direct
