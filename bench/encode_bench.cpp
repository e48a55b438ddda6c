// SPDX-License-Identifier: GPL-2.0-or-later
// Encode cost per frame with the default settings (ultrafast, zerolatency, 1000 kbit/s ABR,
// keyint 2 s) on moving synthetic content.
//
//   build/bench/encode_bench --benchmark_min_time=3s
//
// Real time per frame is the latency the encoder adds; "cpu" here is process CPU time (all
// x265 threads), comparable with user+sys per frame of other encoders.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "encode/x265_encoder.hpp"

namespace h265direct {
namespace {

constexpr int kFps = 30;
constexpr int kMaxShift = 64;

// A camera-like picture: large shapes, gradients and fine noise, larger than the frame so
// that each frame can show a shifted window of it.
class MovingTexture {
public:
    MovingTexture(int width, int height)
        : width_(width + kMaxShift),
          height_(height + kMaxShift),
          y_(static_cast<size_t>(width_) * height_),
          u_(y_.size() / 4),
          v_(y_.size() / 4) {
        uint32_t seed = 12345;
        auto noise = [&seed] {
            seed = seed * 1664525u + 1013904223u;
            return static_cast<int>(seed >> 28);  // 0..15
        };
        for (int y = 0; y < height_; ++y) {
            for (int x = 0; x < width_; ++x) {
                int shape = ((x / 40 + y / 30) % 3) * 50;
                int value = 30 + shape + (x + y) / 16 % 60 + noise();
                y_[static_cast<size_t>(y) * width_ + x] = static_cast<uint8_t>(value);
            }
        }
        for (int y = 0; y < height_ / 2; ++y) {
            for (int x = 0; x < width_ / 2; ++x) {
                size_t at = static_cast<size_t>(y) * (width_ / 2) + x;
                u_[at] = static_cast<uint8_t>(100 + (x / 20) % 5 * 10 + noise() / 4);
                v_[at] = static_cast<uint8_t>(150 - (y / 15) % 5 * 10 + noise() / 4);
            }
        }
    }

    // Frame n: the window moved by (2n, n) pixels, wrapping after kMaxShift.
    void copyFrame(int n, const I420Planes& dst, int width, int height) const {
        int dx = (2 * n) % kMaxShift & ~1;
        int dy = n % kMaxShift & ~1;
        for (int y = 0; y < height; ++y) {
            std::memcpy(dst.y + static_cast<ptrdiff_t>(y) * dst.strideY,
                        &y_[static_cast<size_t>(y + dy) * width_ + dx], static_cast<size_t>(width));
        }
        int cw = width_ / 2;
        for (int y = 0; y < height / 2; ++y) {
            size_t at = static_cast<size_t>(y + dy / 2) * cw + dx / 2;
            std::memcpy(dst.u + static_cast<ptrdiff_t>(y) * dst.strideU, &u_[at],
                        static_cast<size_t>(width / 2));
            std::memcpy(dst.v + static_cast<ptrdiff_t>(y) * dst.strideV, &v_[at],
                        static_cast<size_t>(width / 2));
        }
    }

private:
    int width_;
    int height_;
    std::vector<uint8_t> y_, u_, v_;
};

// Args: width, height, threads (0 = x265's choice).
void BM_EncodeFrame(benchmark::State& state) {
    const int width = static_cast<int>(state.range(0));
    const int height = static_cast<int>(state.range(1));
    EncoderConfig config;
    config.threads = static_cast<int>(state.range(2));
    X265Encoder encoder(config, width, height, kFps, 1);
    MovingTexture texture(width, height);

    int64_t frame = 0;
    int64_t bytes = 0;
    int64_t keyframes = 0;
    for (auto _ : state) {
        state.PauseTiming();
        texture.copyFrame(static_cast<int>(frame), encoder.inputPlanes(), width, height);
        state.ResumeTiming();
        EncodedFrame out;
        if (encoder.encode(frame, out) != Status::Ok) {
            state.SkipWithError("encode did not return an access unit");
            break;
        }
        bytes += static_cast<int64_t>(out.bytes.size());
        keyframes += out.keyframe ? 1 : 0;
        ++frame;
    }
    state.SetLabel(encoder.describe());
    state.SetItemsProcessed(frame);
    state.counters["kbit/s@30fps"] =
        frame > 0 ? static_cast<double>(bytes) * 8.0 * kFps / 1000.0 / static_cast<double>(frame)
                  : 0;
    state.counters["keyframes"] = static_cast<double>(keyframes);
}

BENCHMARK(BM_EncodeFrame)
    ->ArgNames({"w", "h", "threads"})
    ->Args({640, 480, 0})
    ->Args({1280, 720, 0})
    ->Args({640, 480, 1})
    ->Args({1280, 720, 1})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace
}  // namespace h265direct
