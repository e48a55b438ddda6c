// SPDX-License-Identifier: GPL-2.0-or-later
// Conversion to I420 per frame (Converter, as the engine uses it: own loops for Y'CbCr and
// grey, libswscale for RGB), libswscale on the same conversions with each filter (what the
// own loops replace, and the choice of filter for RGB), and the test pattern's cost per
// frame.
#include <benchmark/benchmark.h>
#include <linux/videodev2.h>

#include <cstdint>
#include <vector>

#include "capture/frame_source.hpp"
#include "convert/converter.hpp"
#include "frame/pixel_format.hpp"
#include "frame/sws_format.hpp"
#include "frame/swscale_lib.hpp"

namespace h265direct {
namespace {

// A source frame with some structure (not all zero, not constant).
std::vector<uint8_t> makeFrame(size_t bytes) {
    std::vector<uint8_t> frame(bytes);
    uint32_t x = 12345;
    for (size_t i = 0; i < bytes; ++i) {
        x = x * 1103515245u + 12345u;
        frame[i] = static_cast<uint8_t>((i / 7 + (x >> 28)) & 0xff);
    }
    return frame;
}

struct I420Buffer {
    std::vector<uint8_t> data;
    I420Planes planes;
    I420Buffer(int w, int h) : data(size_t(w) * h * 3 / 2) {
        planes = {data.data(), data.data() + w * h, data.data() + w * h * 5 / 4, w, w / 2, w / 2};
    }
};

void convertFrame(benchmark::State& state, uint32_t fourcc) {
    const int w = static_cast<int>(state.range(0));
    const int h = static_cast<int>(state.range(1));
    const auto layout = packedLayout(fourcc, w, h);
    FrameFormat fmt;
    fmt.fourcc = fourcc;
    fmt.width = w;
    fmt.height = h;
    fmt.strides = layout->strides;
    Converter conv(fmt);
    const auto src = makeFrame(layout->frameBytes);
    FrameView view;
    for (int p = 0; p < layout->planeCount; ++p) {
        view.planes[p] = src.data() + layout->planeOffsets[p];
        view.strides[p] = layout->strides[p];
    }
    view.bytes = src.size();
    I420Buffer dst(w, h);
    for (auto _ : state) {
        if (conv.convert(view, dst.planes) != Status::Ok) {
            state.SkipWithError("convert failed");
            break;
        }
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel(fourccToString(fourcc) + "->I420");
}

#define CONVERT_BENCH(NAME, FOURCC)               \
    void BM_Convert_##NAME(benchmark::State& s) { \
        convertFrame(s, FOURCC);                  \
    }                                             \
    BENCHMARK(BM_Convert_##NAME)->Args({640, 480})->Args({1280, 720})->Unit(benchmark::kMicrosecond)

CONVERT_BENCH(YUYV, V4L2_PIX_FMT_YUYV);
CONVERT_BENCH(UYVY, V4L2_PIX_FMT_UYVY);
CONVERT_BENCH(YVYU, V4L2_PIX_FMT_YVYU);
CONVERT_BENCH(VYUY, V4L2_PIX_FMT_VYUY);
CONVERT_BENCH(NV12, V4L2_PIX_FMT_NV12);
CONVERT_BENCH(NV21, V4L2_PIX_FMT_NV21);
CONVERT_BENCH(YU12, V4L2_PIX_FMT_YUV420);
CONVERT_BENCH(422P, V4L2_PIX_FMT_YUV422P);
CONVERT_BENCH(RGB3, V4L2_PIX_FMT_RGB24);
CONVERT_BENCH(BGR3, V4L2_PIX_FMT_BGR24);
CONVERT_BENCH(XR24, V4L2_PIX_FMT_XBGR32);
CONVERT_BENCH(GREY, V4L2_PIX_FMT_GREY);

// The same conversions straight through libswscale with each filter (range(2) is the
// SWS_* flag): for Y'CbCr formats what the own loops are measured against, for RGB what
// chose the Converter's flag.
void swsFlags(benchmark::State& state, uint32_t fourcc) {
    const SwscaleLib& lib = swscaleLib("the benchmark");
    const int w = static_cast<int>(state.range(0));
    const int h = static_cast<int>(state.range(1));
    const int flags = static_cast<int>(state.range(2));
    const auto layout = packedLayout(fourcc, w, h);
    const SwsFormat* fmt = &findPixelFormat(fourcc)->sws;
    const SwsFormat i420{AV_PIX_FMT_YUV420P, false, false};
    SwsContext* ctx =
        lib.getContext(w, h, fmt->format, w, h, i420.format, flags, nullptr, nullptr, nullptr);
    setColourDetails(lib, ctx, *fmt, i420);
    const auto src = makeFrame(layout->frameBytes);
    const uint8_t* planes[4] = {};
    int strides[4] = {};
    for (int p = 0; p < layout->planeCount; ++p) {
        planes[p] = src.data() + layout->planeOffsets[p];
        strides[p] = layout->strides[p];
    }
    I420Buffer dst(w, h);
    uint8_t* const out[4] = {dst.planes.y, dst.planes.u, dst.planes.v, nullptr};
    const int outStrides[4] = {w, w / 2, w / 2, 0};
    for (auto _ : state) {
        lib.scale(ctx, planes, strides, 0, h, out, outStrides);
        benchmark::ClobberMemory();
    }
    lib.freeContext(ctx);
    state.SetLabel(fourccToString(fourcc) + (flags == SWS_POINT           ? " point"
                                             : flags == SWS_FAST_BILINEAR ? " fast_bilinear"
                                                                          : " bicubic"));
}

#define SWS_BENCH(NAME, FOURCC)                                                     \
    void BM_SwsFlags_##NAME(benchmark::State& s) {                                  \
        swsFlags(s, FOURCC);                                                        \
    }                                                                               \
    BENCHMARK(BM_SwsFlags_##NAME)                                                   \
        ->ArgsProduct({{1280}, {720}, {SWS_POINT, SWS_FAST_BILINEAR, SWS_BICUBIC}}) \
        ->Unit(benchmark::kMicrosecond)

SWS_BENCH(YUYV, V4L2_PIX_FMT_YUYV);
SWS_BENCH(UYVY, V4L2_PIX_FMT_UYVY);
SWS_BENCH(NV12, V4L2_PIX_FMT_NV12);
SWS_BENCH(GREY, V4L2_PIX_FMT_GREY);
SWS_BENCH(422P, V4L2_PIX_FMT_YUV422P);
SWS_BENCH(RGB3, V4L2_PIX_FMT_RGB24);
SWS_BENCH(XR24, V4L2_PIX_FMT_XBGR32);

// The test pattern, unpaced: what making one frame costs (range(2) is the fourcc).
void BM_Pattern(benchmark::State& state) {
    SourceConfig config;
    config.kind = SourceKind::Pattern;
    config.width = static_cast<int>(state.range(0));
    config.height = static_cast<int>(state.range(1));
    config.fourcc = static_cast<uint32_t>(state.range(2));
    config.pace = false;
    auto source = openSource(config);
    StopSignal stop;
    for (auto _ : state) {
        FrameLease lease;
        if (source->next(lease, stop) != Status::Ok) {
            state.SkipWithError("no frame");
            break;
        }
        benchmark::DoNotOptimize(lease.view().planes[0]);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel(fourccToString(config.fourcc));
}
BENCHMARK(BM_Pattern)
    ->Args({640, 480, V4L2_PIX_FMT_YUYV})
    ->Args({1280, 720, V4L2_PIX_FMT_YUYV})
    ->Args({640, 480, V4L2_PIX_FMT_NV12})
    ->Args({640, 480, V4L2_PIX_FMT_RGB24})
    ->Args({1280, 720, V4L2_PIX_FMT_XBGR32})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace h265direct
