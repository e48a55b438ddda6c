// SPDX-License-Identifier: GPL-2.0-or-later
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

TEST(V4l2FrameLayout, OneBufferHoldsEveryPlane) {
    const auto l = cameraFrameLayout(2, 1, 1, 1, 320, 180, 320);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->bufferCount, 1);
    EXPECT_EQ(l->buffer[1], 0);
    EXPECT_EQ(l->bufferBytes[0], l->frameBytes);
}

// NV12M (NM12) as vivid gives it at 320x180: Y in one buffer, the CbCr pairs in another.
TEST(V4l2FrameLayout, SeparatePlanesNv12m) {
    const auto l = cameraSeparatePlanesLayout(2, 1, 1, 2, 320, 180, {320, 320, 0});
    ASSERT_TRUE(l);
    EXPECT_EQ(l->bufferCount, 2);
    EXPECT_EQ(l->buffer[0], 0);
    EXPECT_EQ(l->buffer[1], 1);
    EXPECT_EQ(l->offsets[1], 0u);
    EXPECT_EQ(l->strides[1], 320);
    EXPECT_EQ(l->bufferBytes[0], 57600u);
    EXPECT_EQ(l->bufferBytes[1], 28800u);
    EXPECT_EQ(l->frameBytes, 86400u);
}

// YUV420M (YM12) with the driver's own line lengths, padded, and YUV422M (YM16).
TEST(V4l2FrameLayout, SeparatePlanesPlanar) {
    const auto l = cameraSeparatePlanesLayout(3, 1, 1, 1, 320, 180, {384, 192, 192});
    ASSERT_TRUE(l);
    EXPECT_EQ(l->bufferCount, 3);
    EXPECT_EQ(l->buffer[2], 2);
    EXPECT_EQ(l->strides[0], 384);
    EXPECT_EQ(l->strides[2], 192);
    EXPECT_EQ(l->bufferBytes[0], 384u * 180u);
    EXPECT_EQ(l->bufferBytes[1], 192u * 90u);
    EXPECT_EQ(l->bufferBytes[2], 192u * 90u);
    const auto t = cameraSeparatePlanesLayout(3, 1, 0, 1, 320, 180, {0, 0, 0});
    ASSERT_TRUE(t);
    EXPECT_EQ(t->strides[1], 160);
    EXPECT_EQ(t->bufferBytes[1], 160u * 180u);
    EXPECT_EQ(t->frameBytes, 320u * 180u * 2u);
}

TEST(V4l2FrameLayout, SeparatePlanesNonsense) {
    // A chroma line shorter than its samples (NV12M's pairs need the full width).
    EXPECT_FALSE(cameraSeparatePlanesLayout(2, 1, 1, 2, 320, 180, {320, 160, 0}));
    EXPECT_FALSE(cameraSeparatePlanesLayout(3, 1, 1, 1, 320, 180, {320, 160, 100}));
    EXPECT_FALSE(cameraSeparatePlanesLayout(0, 1, 1, 1, 320, 180, {320, 160, 160}));
    EXPECT_FALSE(cameraSeparatePlanesLayout(3, 1, 1, 1, 320, 0, {320, 160, 160}));
}

}  // namespace
}  // namespace h265direct
