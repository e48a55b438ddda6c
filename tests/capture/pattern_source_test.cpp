// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>
#include <linux/videodev2.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>
#include <vector>

#include "capture/frame_source.hpp"
#include "capture/pattern_source.hpp"
#include "convert/converter.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/stop_signal.hpp"
#include "frame/pixel_format.hpp"

namespace h265direct {
namespace {

SourceConfig patternConfig(int w = 160, int h = 120, uint32_t fourcc = 0, bool pace = false) {
    SourceConfig c;
    c.kind = SourceKind::Pattern;
    c.width = w;
    c.height = h;
    c.fourcc = fourcc;
    c.pace = pace;
    return c;
}

std::vector<uint8_t> copyFrame(const FrameLease& lease) {
    const FrameView& v = lease.view();
    return {v.planes[0], v.planes[0] + v.bytes};
}

// The frame as I420, through the project's converter.
std::vector<uint8_t> toI420(const FrameSource& src, const FrameView& view) {
    const FrameFormat& f = src.format();
    Converter conv(f);
    std::vector<uint8_t> out(size_t(f.width) * f.height * 3 / 2);
    const int w = f.width, h = f.height;
    I420Planes dst{out.data(), out.data() + w * h, out.data() + w * h * 5 / 4, w, w / 2, w / 2};
    EXPECT_EQ(conv.convert(view, dst), Status::Ok);
    return out;
}

TEST(PatternSource, DefaultsToYuyv640x480At30Paced) {
    SourceConfig c;
    auto src = openSource(c);
    const FrameFormat& f = src->format();
    EXPECT_EQ(f.fourcc, V4L2_PIX_FMT_YUYV);
    EXPECT_EQ(f.width, 640);
    EXPECT_EQ(f.height, 480);
    EXPECT_EQ(f.fpsNum, 30);
    EXPECT_EQ(f.fpsDen, 1);
    EXPECT_EQ(f.strides[0], 1280);
    EXPECT_EQ(src->describe(), "pattern 640x480 YUYV @ 30/1 fps (paced)");
    c.pace = false;
    c.fourcc = V4L2_PIX_FMT_NV12;
    EXPECT_EQ(openSource(c)->describe(), "pattern 640x480 NV12 @ 30/1 fps (unpaced)");
}

TEST(PatternSource, FramesMoveAndCountUp) {
    auto src = openSource(patternConfig());
    StopSignal stop;
    std::vector<std::vector<uint8_t>> frames;
    for (uint64_t i = 0; i < 5; ++i) {
        FrameLease lease;
        ASSERT_EQ(src->next(lease, stop), Status::Ok);
        ASSERT_TRUE(lease.valid());
        EXPECT_EQ(lease.view().sequence, i);
        EXPECT_EQ(lease.view().bytes, size_t{160} * 120 * 2);
        frames.push_back(copyFrame(lease));
    }
    for (size_t i = 1; i < frames.size(); ++i) {
        size_t changed = 0;
        for (size_t b = 0; b < frames[i].size(); ++b) {
            changed += frames[i][b] != frames[i - 1][b];
        }
        // Everything scrolls: most of the picture changes from one frame to the next.
        EXPECT_GT(changed, frames[i].size() / 3) << "frame " << i;
    }
}

TEST(PatternSource, HasDetail) {
    auto src = openSource(patternConfig(320, 240));
    StopSignal stop;
    FrameLease lease;
    ASSERT_EQ(src->next(lease, stop), Status::Ok);
    const auto i420 = toI420(*src, lease.view());
    const int w = 320, h = 240;
    double sum = 0, sum2 = 0;
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const double v = i420[size_t(y) * w + x];
            sum += v;
            sum2 += v * v;
        }
    }
    const double n = double(w) * h;
    const double variance = sum2 / n - (sum / n) * (sum / n);
    EXPECT_GT(variance, 1000.0);
    // Share of 16x16 blocks busy with fine detail (mean step between neighbours over 12
    // levels): the bars and ramps have none, the detail block covers a ninth.
    int busy = 0, blocks = 0;
    for (int by = 0; by + 16 <= h; by += 16) {
        for (int bx = 0; bx + 16 <= w; bx += 16) {
            double steps = 0;
            for (int y = by; y < by + 16; ++y) {
                for (int x = bx + 1; x < bx + 16; ++x) {
                    steps += std::abs(int(i420[size_t(y) * w + x]) - i420[size_t(y) * w + x - 1]);
                }
            }
            busy += steps / (16 * 15) > 12.0;
            ++blocks;
        }
    }
    EXPECT_GE(busy, blocks / 20);
    // Luma stays in the limited range the stream promises.
    EXPECT_GE(*std::min_element(i420.begin(), i420.begin() + w * h), 16);
    EXPECT_LE(*std::max_element(i420.begin(), i420.begin() + w * h), 235);
}

class PatternFormats : public ::testing::TestWithParam<uint32_t> {};

// The same picture in every format: each converts to (nearly) the I420 of the YUYV one.
TEST_P(PatternFormats, SamePictureInEveryFormat) {
    const uint32_t fourcc = GetParam();
    StopSignal stop;
    auto ref = openSource(patternConfig(96, 64));
    auto src = openSource(patternConfig(96, 64, fourcc));
    EXPECT_EQ(src->format().fourcc, fourcc);
    for (int i = 0; i < 3; ++i) {
        FrameLease a, b;
        ASSERT_EQ(ref->next(a, stop), Status::Ok);
        ASSERT_EQ(src->next(b, stop), Status::Ok);
        EXPECT_EQ(b.view().bytes, packedLayout(fourcc, 96, 64)->frameBytes);
        const auto want = toI420(*ref, a.view());
        const auto got = toI420(*src, b.view());
        const size_t luma = 96 * 64;
        const size_t compared = fourcc == V4L2_PIX_FMT_GREY ? luma : want.size();
        long sum = 0;
        int worst = 0;
        for (size_t k = 0; k < compared; ++k) {
            const int d = std::abs(int(want[k]) - int(got[k]));
            sum += d;
            worst = std::max(worst, d);
        }
        // RGB formats clip colours outside the RGB cube and round twice.
        EXPECT_LT(double(sum) / double(compared), 3.0) << "frame " << i << " max " << worst;
    }
}

std::vector<uint32_t> allFormats() {
    std::vector<uint32_t> out;
    for (const PixelFormatInfo& f : supportedPixelFormats()) {
        out.push_back(f.fourcc);
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(All, PatternFormats, ::testing::ValuesIn(allFormats()),
                         [](const auto& p) { return fourccToString(p.param); });

// VYUY is UYVY with Cb and Cr exchanged: the same picture, byte for byte but those two.
TEST(PatternSource, VyuyIsUyvyWithChromaExchanged) {
    StopSignal stop;
    auto uyvy = openSource(patternConfig(96, 64, V4L2_PIX_FMT_UYVY));
    auto vyuy = openSource(patternConfig(96, 64, V4L2_PIX_FMT_VYUY));
    for (int i = 0; i < 2; ++i) {
        FrameLease a, b;
        ASSERT_EQ(uyvy->next(a, stop), Status::Ok);
        ASSERT_EQ(vyuy->next(b, stop), Status::Ok);
        ASSERT_EQ(a.view().bytes, size_t{96} * 64 * 2);
        ASSERT_EQ(b.view().bytes, a.view().bytes);
        const uint8_t* u = a.view().planes[0];
        const uint8_t* v = b.view().planes[0];
        int wrong = 0;
        for (size_t g = 0; g < a.view().bytes; g += 4) {
            wrong += v[g] != u[g + 2] || v[g + 1] != u[g + 1] || v[g + 2] != u[g] ||
                     v[g + 3] != u[g + 3];
        }
        EXPECT_EQ(wrong, 0) << "frame " << i;
    }
}

TEST(PatternSource, SmallAndOddShapedFramesWork) {
    StopSignal stop;
    for (auto [w, h] : {std::pair{2, 2}, {16, 2}, {2, 16}, {62, 18}, {64, 20}, {1922, 10}}) {
        auto src = openSource(patternConfig(w, h));
        FrameLease lease;
        EXPECT_EQ(src->next(lease, stop), Status::Ok) << w << "x" << h;
        EXPECT_EQ(lease.view().bytes, size_t(w) * h * 2);
    }
}

TEST(PatternSource, RejectsBadSettings) {
    auto expectUsage = [](SourceConfig c, const std::string& text) {
        try {
            openSource(c);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const StartupError& e) {
            EXPECT_EQ(e.exitCode(), kExitUsage) << e.what();
            EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
        }
    };
    expectUsage(patternConfig(0, 0), "-s 0x0");
    expectUsage(patternConfig(-640, 480), "-s -640x480");
    expectUsage(patternConfig(641, 480), "-s 641x480");
    expectUsage(patternConfig(640, 481), "-s 640x481");
    expectUsage(patternConfig(640, 481, V4L2_PIX_FMT_RGB24), "even");
    expectUsage(patternConfig(20000, 480), "-s 20000x480");
    expectUsage(patternConfig(640, 480, V4L2_PIX_FMT_MJPEG), "MJPG");
    SourceConfig c = patternConfig();
    c.fpsNum = 0;
    expectUsage(c, "-r 0/1");
    c.fpsNum = 30;
    c.fpsDen = -1;
    expectUsage(c, "-r 30/-1");
}

TEST(PatternSource, LeasesComeFromASmallRing) {
    auto src = openSource(patternConfig(32, 16));
    StopSignal stop;
    std::vector<FrameLease> held(4);
    for (auto& lease : held) {
        ASSERT_EQ(src->next(lease, stop), Status::Ok);
    }
    for (size_t i = 0; i < held.size(); ++i) {
        for (size_t j = i + 1; j < held.size(); ++j) {
            EXPECT_NE(held[i].view().planes[0], held[j].view().planes[0]);
        }
    }
    FrameLease extra;
    EXPECT_EQ(src->next(extra, stop), Status::Error);  // all lent out
    const uint8_t* freed = held[2].view().planes[0];
    held[2].release();
    ASSERT_EQ(src->next(extra, stop), Status::Ok);
    EXPECT_EQ(extra.view().planes[0], freed);
}

TEST(PatternSource, PacingHoldsTheRate) {
    SourceConfig c = patternConfig(64, 32, 0, true);
    c.fpsNum = 60;
    auto src = openSource(c);
    StopSignal stop;
    FrameLease lease;
    ASSERT_EQ(src->next(lease, stop), Status::Ok);
    const int64_t first = lease.view().captureNs;
    int64_t last = first;
    for (int i = 0; i < 30; ++i) {
        ASSERT_EQ(src->next(lease, stop), Status::Ok);
        EXPECT_GE(lease.view().captureNs, last);
        last = lease.view().captureNs;
    }
    // A lower bound only: 30 frame periods at 60 fps cannot pass in less than 0.5 s.
    EXPECT_GE(last - first, 450'000'000);
}

TEST(PatternSource, SlowConsumerRestartsTheScheduleInsteadOfBursting) {
    SourceConfig c = patternConfig(64, 32, 0, true);
    c.fpsNum = 50;  // 20 ms a frame
    auto src = openSource(c);
    StopSignal stop;
    FrameLease lease;
    ASSERT_EQ(src->next(lease, stop), Status::Ok);
    StatsReport quiet;
    src->collectStats(quiet);
    EXPECT_EQ(quiet.find("source_behind"), nullptr);
    // Five frame periods late: the frames missed are not delivered in a burst.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_EQ(src->next(lease, stop), Status::Ok);
    const int64_t late = lease.view().captureNs;
    ASSERT_EQ(src->next(lease, stop), Status::Ok);
    EXPECT_GE(lease.view().captureNs - late, 18'000'000);
    StatsReport report;
    src->collectStats(report);
    const auto* behind = report.find("source_behind");
    ASSERT_NE(behind, nullptr);
    // The five missed periods are one event, not five. (The call after it is late too if
    // this thread lost the processor for a frame period in between: at most two.)
    EXPECT_GE(std::get<int64_t>(behind->value), 1);
    EXPECT_LE(std::get<int64_t>(behind->value), 2);
    report.clear();
    src->collectStats(report);
    EXPECT_EQ(report.find("source_behind"), nullptr);  // counted per interval
}

TEST(PatternSource, UnpacedDoesNotWait) {
    SourceConfig c = patternConfig(64, 32, 0, false);
    c.fpsNum = 1;  // one frame a second if it were paced
    auto src = openSource(c);
    StopSignal stop;
    const int64_t start = monotonicNs();
    FrameLease lease;
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(src->next(lease, stop), Status::Ok);
    }
    // Paced, the third frame would be due 2 s after the first.
    EXPECT_LT(monotonicNs() - start, 2'000'000'000);
}

TEST(PatternSource, StopWakesAPacedWait) {
    SourceConfig c = patternConfig(64, 32, 0, true);
    c.fpsNum = 1;
    c.fpsDen = 3600;  // the next frame is due in an hour
    auto src = openSource(c);
    StopSignal stop;
    FrameLease lease;
    ASSERT_EQ(src->next(lease, stop), Status::Ok);  // the first is due at once
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        stop.request();
    });
    EXPECT_EQ(src->next(lease, stop), Status::Stopped);
    EXPECT_FALSE(lease.valid());
    stopper.join();
    EXPECT_EQ(src->next(lease, stop), Status::Stopped);
}

TEST(PatternSource, StopBeforeTheCall) {
    auto src = openSource(patternConfig());
    StopSignal stop;
    stop.request();
    FrameLease lease;
    EXPECT_EQ(src->next(lease, stop), Status::Stopped);
}

}  // namespace
}  // namespace h265direct
