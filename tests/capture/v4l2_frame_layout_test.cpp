#include <gtest/gtest.h>

#include "capture/v4l2_frame_layout.hpp"

namespace h265direct {
namespace {

TEST(V4l2FrameLayout, PackedWithPaddedLines) {
    // YUYV 322x180 where the driver pads lines to 64 bytes.
    const auto l = cameraFrameLayout(1, 1, 0, 2, 322, 180, 704);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->planeCount, 1);
    EXPECT_EQ(l->strides[0], 704);
    EXPECT_EQ(l->frameBytes, 704u * 180u);
}

TEST(V4l2FrameLayout, PlanarI420) {
    const auto l = cameraFrameLayout(3, 1, 1, 1, 320, 180, 320);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->strides[1], 160);
    EXPECT_EQ(l->strides[2], 160);
    EXPECT_EQ(l->offsets[1], 320u * 180u);
    EXPECT_EQ(l->offsets[2], 320u * 180u + 160u * 90u);
    EXPECT_EQ(l->frameBytes, 320u * 180u * 3u / 2u);
}

TEST(V4l2FrameLayout, PlanarWithOddHeightRoundsChromaUp) {
    const auto l = cameraFrameLayout(3, 1, 1, 1, 64, 35, 64);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->offsets[2], 64u * 35u + 32u * 18u);
    EXPECT_EQ(l->frameBytes, 64u * 35u + 2u * 32u * 18u);
}

TEST(V4l2FrameLayout, SemiPlanarNv12KeepsFullWidthChromaLines) {
    const auto l = cameraFrameLayout(2, 1, 1, 1, 320, 180, 384);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->planeCount, 2);
    EXPECT_EQ(l->strides[1], 384);
    EXPECT_EQ(l->offsets[1], 384u * 180u);
    EXPECT_EQ(l->frameBytes, 384u * 270u);
}

TEST(V4l2FrameLayout, Planar422) {
    const auto l = cameraFrameLayout(3, 1, 0, 1, 320, 180, 320);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->frameBytes, 320u * 180u * 2u);
}

TEST(V4l2FrameLayout, ZeroBytesPerLineMeansTight) {
    const auto l = cameraFrameLayout(1, 0, 0, 3, 320, 180, 0);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->strides[0], 960);
}

TEST(V4l2FrameLayout, Nonsense) {
    EXPECT_FALSE(cameraFrameLayout(1, 1, 0, 2, 320, 180, 320));  // line shorter than the width
    EXPECT_FALSE(cameraFrameLayout(4, 1, 1, 1, 320, 180, 320));
    EXPECT_FALSE(cameraFrameLayout(1, 1, 0, 2, 0, 180, 640));
    EXPECT_FALSE(cameraFrameLayout(1, 1, 0, 2, 320, 180, 1u << 30));
}

}  // namespace
}  // namespace h265direct
