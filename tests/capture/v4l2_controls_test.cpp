// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>
#include <linux/videodev2.h>

#include <string>
#include <vector>

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
    const Result<std::vector<CameraControl>> parsed =
        parseControlList("brightness=200,power_line_frequency=50 Hz");
    ASSERT_TRUE(parsed) << parsed.error().message;
    const std::vector<CameraControl>& out = parsed.value();
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].name, "brightness");
    EXPECT_EQ(out[0].value, "200");
    EXPECT_EQ(out[1].name, "power_line_frequency");
    EXPECT_EQ(out[1].value, "50 Hz");
    for (const char* bad : {"", "brightness", "=3", "brightness=", "a=1,", "a=1,,b=2"}) {
        const Result<std::vector<CameraControl>> none = parseControlList(bad);
        ASSERT_FALSE(none) << bad;
        EXPECT_EQ(none.error().exitCode, kExitUsage) << bad;
        EXPECT_NE(none.error().message.find("is not NAME=VALUE"), std::string::npos)
            << bad << ": " << none.error().message;
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

// What resolveControlValue makes of `text`: the value, or "error: " and the reason.
std::string resolved(const V4l2Control& c, const std::string& text) {
    const Result<int64_t> r = resolveControlValue(c, text);
    if (!r) {
        EXPECT_EQ(r.error().exitCode, kExitUsage) << r.error().message;
        return "error: " + r.error().message;
    }
    return std::to_string(r.value());
}

bool refused(const V4l2Control& c, const std::string& text) {
    return resolved(c, text).rfind("error: ", 0) == 0;
}

TEST(V4l2Controls, IntegersInRangeAndOnTheirStep) {
    EXPECT_EQ(resolved(integer(0, 255, 1), "200"), "200");
    EXPECT_EQ(resolved(integer(-10, 10, 1), "-10"), "-10");
    EXPECT_EQ(resolved(integer(0, 255, 1), "0x10"), "16");
    EXPECT_EQ(resolved(integer(0, 255, 1), "256"), "error: out of range 0..255");
    EXPECT_TRUE(refused(integer(0, 255, 1), "-1"));
    EXPECT_EQ(resolved(integer(0, 255, 1), "12a"), "error: not a whole number");
    EXPECT_EQ(resolved(integer(3, 99, 4), "9"), "error: not on its step of 4 from 3");
    EXPECT_EQ(resolved(integer(3, 99, 4), "11"), "11");
}

TEST(V4l2Controls, BooleansMenusAndWhatCannotBeSet) {
    V4l2Control b;
    b.type = V4L2_CTRL_TYPE_BOOLEAN;
    EXPECT_EQ(resolved(b, "On"), "1");
    EXPECT_EQ(resolved(b, "false"), "0");
    EXPECT_TRUE(refused(b, "2"));

    V4l2Control m;
    m.type = V4L2_CTRL_TYPE_MENU;
    m.minimum = 0;
    m.maximum = 3;
    m.menu = {{0, "Disabled"}, {1, "50 Hz"}, {3, "Auto"}};  // 2 is a hole
    EXPECT_EQ(resolved(m, "50 hz"), "1");
    EXPECT_EQ(resolved(m, "3"), "3");
    EXPECT_EQ(resolved(m, "2"), "error: not one of its entries: 0 (Disabled), 1 (50 Hz), 3 (Auto)");

    V4l2Control mask;
    mask.type = V4L2_CTRL_TYPE_BITMASK;
    mask.maximum = 0x80002000;
    EXPECT_EQ(resolved(mask, "0x80000000"), std::to_string(0x80000000));
    EXPECT_EQ(resolved(mask, "0x1"), "error: has bits outside the mask 0x80002000");

    V4l2Control ro = integer(0, 10, 1);
    ro.flags = V4L2_CTRL_FLAG_READ_ONLY;
    EXPECT_EQ(resolved(ro, "5"), "error: the control is read-only");

    V4l2Control s;
    s.type = V4L2_CTRL_TYPE_STRING;
    EXPECT_EQ(resolved(s, "x"), "error: a str control cannot be set with --ctrl");
}

}  // namespace
}  // namespace h265direct
