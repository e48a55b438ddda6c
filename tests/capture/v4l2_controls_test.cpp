#include <gtest/gtest.h>
#include <linux/videodev2.h>

#include "capture/v4l2_controls.hpp"

namespace h265direct {
namespace {

TEST(V4l2Controls, IdentifiersAreTheOnesV4l2CtlUses) {
    EXPECT_EQ(controlIdentifier("Brightness"), "brightness");
    EXPECT_EQ(controlIdentifier("White Balance, Automatic"), "white_balance_automatic");
    EXPECT_EQ(controlIdentifier("Power Line Frequency"), "power_line_frequency");
    EXPECT_EQ(controlIdentifier("Exposure Time, Absolute"), "exposure_time_absolute");
    EXPECT_EQ(controlIdentifier("  Gain (dB)  "), "gain_db");
    EXPECT_EQ(controlIdentifier("Integer 64 Bits"), "integer_64_bits");
    EXPECT_EQ(controlIdentifier("---"), "");
}

TEST(V4l2Controls, ListsOfNameValuePairs) {
    std::vector<CameraControl> out;
    std::string reason;
    ASSERT_TRUE(parseControlList("brightness=200,power_line_frequency=50 Hz", out, reason));
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].name, "brightness");
    EXPECT_EQ(out[0].value, "200");
    EXPECT_EQ(out[1].name, "power_line_frequency");
    EXPECT_EQ(out[1].value, "50 Hz");
    for (const char* bad : {"", "brightness", "=3", "brightness=", "a=1,", "a=1,,b=2"}) {
        std::vector<CameraControl> none;
        EXPECT_FALSE(parseControlList(bad, none, reason)) << bad;
        EXPECT_NE(reason.find("is not NAME=VALUE"), std::string::npos) << bad << ": " << reason;
    }
}

V4l2Control integer(int64_t lo, int64_t hi, uint64_t step) {
    V4l2Control c;
    c.type = V4L2_CTRL_TYPE_INTEGER;
    c.name = "brightness";
    c.minimum = lo;
    c.maximum = hi;
    c.step = step;
    return c;
}

TEST(V4l2Controls, IntegersInRangeAndOnTheirStep) {
    int64_t v = 0;
    std::string reason;
    EXPECT_TRUE(resolveControlValue(integer(0, 255, 1), "200", v, reason));
    EXPECT_EQ(v, 200);
    EXPECT_TRUE(resolveControlValue(integer(-10, 10, 1), "-10", v, reason));
    EXPECT_EQ(v, -10);
    EXPECT_TRUE(resolveControlValue(integer(0, 255, 1), "0x10", v, reason));
    EXPECT_EQ(v, 16);
    EXPECT_FALSE(resolveControlValue(integer(0, 255, 1), "256", v, reason));
    EXPECT_EQ(reason, "out of range 0..255");
    EXPECT_FALSE(resolveControlValue(integer(0, 255, 1), "-1", v, reason));
    EXPECT_FALSE(resolveControlValue(integer(0, 255, 1), "12a", v, reason));
    EXPECT_EQ(reason, "not a whole number");
    EXPECT_FALSE(resolveControlValue(integer(3, 99, 4), "9", v, reason));
    EXPECT_EQ(reason, "not on its step of 4 from 3");
    EXPECT_TRUE(resolveControlValue(integer(3, 99, 4), "11", v, reason));
    EXPECT_EQ(v, 11);
}

TEST(V4l2Controls, BooleansMenusAndWhatCannotBeSet) {
    int64_t v = -1;
    std::string reason;
    V4l2Control b;
    b.type = V4L2_CTRL_TYPE_BOOLEAN;
    EXPECT_TRUE(resolveControlValue(b, "On", v, reason));
    EXPECT_EQ(v, 1);
    EXPECT_TRUE(resolveControlValue(b, "false", v, reason));
    EXPECT_EQ(v, 0);
    EXPECT_FALSE(resolveControlValue(b, "2", v, reason));

    V4l2Control m;
    m.type = V4L2_CTRL_TYPE_MENU;
    m.minimum = 0;
    m.maximum = 3;
    m.menu = {{0, "Disabled"}, {1, "50 Hz"}, {3, "Auto"}};  // 2 is a hole
    EXPECT_TRUE(resolveControlValue(m, "50 hz", v, reason));
    EXPECT_EQ(v, 1);
    EXPECT_TRUE(resolveControlValue(m, "3", v, reason));
    EXPECT_EQ(v, 3);
    EXPECT_FALSE(resolveControlValue(m, "2", v, reason));
    EXPECT_EQ(reason, "not one of its entries: 0 (Disabled), 1 (50 Hz), 3 (Auto)");

    V4l2Control mask;
    mask.type = V4L2_CTRL_TYPE_BITMASK;
    mask.maximum = 0x80002000;
    EXPECT_TRUE(resolveControlValue(mask, "0x80000000", v, reason));
    EXPECT_EQ(v, 0x80000000);
    EXPECT_FALSE(resolveControlValue(mask, "0x1", v, reason));
    EXPECT_EQ(reason, "has bits outside the mask 0x80002000");

    V4l2Control ro = integer(0, 10, 1);
    ro.flags = V4L2_CTRL_FLAG_READ_ONLY;
    EXPECT_FALSE(resolveControlValue(ro, "5", v, reason));
    EXPECT_EQ(reason, "the control is read-only");

    V4l2Control s;
    s.type = V4L2_CTRL_TYPE_STRING;
    EXPECT_FALSE(resolveControlValue(s, "x", v, reason));
    EXPECT_EQ(reason, "a str control cannot be set with --ctrl");
}

}  // namespace
}  // namespace h265direct
