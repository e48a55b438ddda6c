// SPDX-License-Identifier: GPL-2.0-or-later
// The negotiation's cost order against the converter's real table: every format h265direct
// converts has a place in the order, and nothing else is taken.

#include <gtest/gtest.h>
#include <linux/videodev2.h>

#include "capture/format_negotiation.hpp"
#include "capture/v4l2_format_recording.hpp"
#include "frame/pixel_format.hpp"

namespace h265direct {
namespace {

bool converterTakes(uint32_t fourcc) {
    return findPixelFormat(fourcc) != nullptr;
}

TEST(V4l2ConverterTable, EveryConvertibleFormatIsRanked) {
    for (const PixelFormatInfo& f : supportedPixelFormats()) {
        const auto cost = conversionCost(f.fourcc, converterTakes);
        ASSERT_TRUE(cost) << f.name;
        EXPECT_NE(*cost, kUnrankedConversionCost) << f.name << " has no place in the cost order";
    }
    EXPECT_EQ(conversionCost(V4L2_PIX_FMT_YUV420, converterTakes), 0);
    EXPECT_FALSE(conversionCost(V4L2_PIX_FMT_MJPEG, converterTakes));
}

TEST(V4l2ConverterTable, VividChoicesWithTheRealTable) {
    const auto formats = test::loadFormatListing("v4l2_vivid_formats.txt");
    NegotiationRequest req;
    req.width = 320;
    req.height = 180;
    req.rate = FrameRate{30, 1};
    const auto r = negotiateFormat(formats, req, converterTakes);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->fourcc, V4L2_PIX_FMT_YUV420);
    // Without I420 and the 4:2:0 formats, packed 4:2:2 comes next.
    std::vector<CameraFormatDesc> no420;
    for (const auto& f : formats) {
        if (f.fourcc != V4L2_PIX_FMT_YUV420 && f.fourcc != V4L2_PIX_FMT_YVU420 &&
            f.fourcc != V4L2_PIX_FMT_NV12 && f.fourcc != V4L2_PIX_FMT_NV21) {
            no420.push_back(f);
        }
    }
    const auto r2 = negotiateFormat(no420, req, converterTakes);
    ASSERT_TRUE(r2.ok()) << r2.error().message;
    EXPECT_EQ(r2->fourcc, V4L2_PIX_FMT_YUYV);
}

// VYUY, which vivid offers, is taken: asked for by name, and chosen on its own when the
// cheaper Y'CbCr formats are gone (before RGB and grey).
TEST(V4l2ConverterTable, VividVyuyIsUsable) {
    const auto formats = test::loadFormatListing("v4l2_vivid_formats.txt");
    NegotiationRequest req;
    req.width = 320;
    req.height = 180;
    req.rate = FrameRate{15, 1};
    req.fourcc = V4L2_PIX_FMT_VYUY;
    const auto forced = negotiateFormat(formats, req, converterTakes);
    ASSERT_TRUE(forced.ok()) << forced.error().message;
    EXPECT_EQ(forced->fourcc, V4L2_PIX_FMT_VYUY);
    EXPECT_EQ(forced->rate.fps(), 15.0);

    std::vector<CameraFormatDesc> rest;
    for (const auto& f : formats) {
        const PixelFormatInfo* info = findPixelFormat(f.fourcc);
        if (f.fourcc == V4L2_PIX_FMT_VYUY || info == nullptr || info->layout == Layout::kRgb ||
            info->layout == Layout::kGrey) {
            rest.push_back(f);
        }
    }
    req.fourcc = 0;
    const auto chosen = negotiateFormat(rest, req, converterTakes);
    ASSERT_TRUE(chosen.ok()) << chosen.error().message;
    EXPECT_EQ(chosen->fourcc, V4L2_PIX_FMT_VYUY);
}

}  // namespace
}  // namespace h265direct
