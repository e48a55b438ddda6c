// SPDX-License-Identifier: GPL-2.0-or-later
#include "engine/picture_source.hpp"

#include <gtest/gtest.h>
#include <linux/videodev2.h>

#include <vector>

#include "encode/x265_encoder.hpp"

using namespace h265direct;

namespace {

constexpr int kW = 64, kH = 48;

SourceConfig patternConfig(uint32_t fourcc) {
    SourceConfig c;
    c.kind = SourceKind::Pattern;
    c.width = kW;
    c.height = kH;
    c.fpsNum = 30;
    c.fourcc = fourcc;
    c.pace = false;
    return c;
}

std::vector<uint8_t> planeOf(const uint8_t* p, int stride, int w, int h) {
    std::vector<uint8_t> out;
    for (int row = 0; row < h; ++row) {
        out.insert(out.end(), p + static_cast<size_t>(row) * stride,
                   p + static_cast<size_t>(row) * stride + w);
    }
    return out;
}

struct Kind {
    const char* name;
    uint32_t fourcc;
    bool convertAhead;
};

class PictureSources : public ::testing::TestWithParam<Kind> {};

}  // namespace

// Every kind hands the encoder the picture the converter makes of the source's frame, in
// order, none lost (unpaced), with the frame's sequence number.
TEST_P(PictureSources, DeliverTheConvertedFramesInOrder) {
    const Kind kind = GetParam();
    auto source = openSource(patternConfig(kind.fourcc));
    auto reference = openSource(patternConfig(kind.fourcc));
    Converter converter(source->format());
    Converter refConverter(reference->format());
    EncoderConfig ec;
    X265Encoder encoder(ec, kW, kH, 30, 1);
    std::vector<uint8_t> y(kW * kH), u(kW * kH / 4), v(kW * kH / 4);
    const I420Planes refPlanes{y.data(), u.data(), v.data(), kW, kW / 2, kW / 2};
    auto pictures = makePictureSource(*source, converter, encoder, kind.convertAhead, false);
    StopSignal stop;
    for (uint64_t i = 0; i < 12; ++i) {
        Picture p;
        ASSERT_EQ(pictures->next(p, stop), Status::Ok);
        EXPECT_EQ(p.sequence(), i);
        FrameLease lease;
        ASSERT_EQ(reference->next(lease, stop), Status::Ok);
        const I420Planes ref =
            refConverter.passThrough() ? refConverter.passThroughPlanes(lease.view()) : refPlanes;
        if (!refConverter.passThrough()) {
            ASSERT_EQ(refConverter.convert(lease.view(), refPlanes), Status::Ok);
        }
        const I420Planes& got = *p.planes();
        EXPECT_EQ(planeOf(got.y, got.strideY, kW, kH), planeOf(ref.y, ref.strideY, kW, kH))
            << kind.name << " frame " << i;
        EXPECT_EQ(planeOf(got.v, got.strideV, kW / 2, kH / 2),
                  planeOf(ref.v, ref.strideV, kW / 2, kH / 2))
            << kind.name << " frame " << i;
        p.encoded();
    }
    StatsReport r;
    pictures->collectCounts(r);
    EXPECT_EQ(r.find("idle_frames"), nullptr);
    EXPECT_EQ(r.find("short_frames"), nullptr);
}

// Frames read while no output wants any are not handed to the encoder: counted once, as
// idle_frames, whichever kind left them out; frames flow again once wanted.
TEST_P(PictureSources, FramesNobodyWantsAreCountedNotDelivered) {
    const Kind kind = GetParam();
    auto source = openSource(patternConfig(kind.fourcc));
    Converter converter(source->format());
    EncoderConfig ec;
    X265Encoder encoder(ec, kW, kH, 30, 1);
    auto pictures = makePictureSource(*source, converter, encoder, kind.convertAhead, false);
    StopSignal stop;
    pictures->setWanted(false);
    for (int i = 0; i < 5; ++i) {
        Picture p;
        EXPECT_EQ(pictures->next(p, stop), Status::Again) << kind.name;
    }
    pictures->setWanted(true);
    Picture p;
    Status st;
    do {
        st = pictures->next(p, stop);  // Again: a frame the stage read while paused
    } while (st == Status::Again);
    ASSERT_EQ(st, Status::Ok);
    StatsReport r;
    pictures->collectCounts(r);
    ASSERT_NE(r.find("idle_frames"), nullptr) << kind.name;
    const int64_t idle = std::get<int64_t>(r.find("idle_frames")->value);
    EXPECT_GE(idle, 5);
    // Every frame the source gave before the delivered one was counted as idle. The ahead
    // stage reads on while paused, so it may have counted frames after that one too.
    if (kind.convertAhead) {
        EXPECT_GE(idle, static_cast<int64_t>(p.sequence())) << kind.name;
    } else {
        EXPECT_EQ(idle, static_cast<int64_t>(p.sequence())) << kind.name;
    }
}

INSTANTIATE_TEST_SUITE_P(Kinds, PictureSources,
                         ::testing::Values(Kind{"pass-through", V4L2_PIX_FMT_YUV420, false},
                                           Kind{"inline", V4L2_PIX_FMT_YUYV, false},
                                           Kind{"ahead", V4L2_PIX_FMT_YUYV, true}),
                         [](const ::testing::TestParamInfo<Kind>& param) {
                             return std::string(param.param.convertAhead ? "Ahead"
                                                : param.param.fourcc == V4L2_PIX_FMT_YUV420
                                                    ? "PassThrough"
                                                    : "Inline");
                         });
