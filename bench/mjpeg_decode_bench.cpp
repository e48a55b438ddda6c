// SPDX-License-Identifier: GPL-2.0-or-later
// MJPEG to I420 per frame, one thread: libv4lconvert (what libv4l2 runs for the formats it
// emulates from an MJPEG camera, the path h265direct uses) against FFmpeg's mjpeg decoder
// (libavcodec), whose 4:2:0 planes the encoder could take as they are (4:2:2 ones would go
// through h265direct's own conversion, counted here). The frames are JPEGs made by ffmpeg at
// build time (bench/CMakeLists.txt).
#include <benchmark/benchmark.h>
#include <libv4l-plugin.h>
#include <libv4lconvert.h>
#include <linux/videodev2.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
}

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "convert/converter.hpp"
#include "frame/pixel_format.hpp"

namespace h265direct {
namespace {

std::vector<std::vector<uint8_t>> loadFrames(int w, int h) {
    std::vector<std::vector<uint8_t>> frames;
    for (int i = 1;; ++i) {
        char path[512];
        std::snprintf(path, sizeof path, "%s/%dx%d/frame%02d.jpg", H265D_MJPEG_SAMPLES, w, h, i);
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            break;
        }
        frames.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return frames;
}

v4l2_format pixFormat(uint32_t fourcc, int w, int h, uint32_t bytes) {
    v4l2_format f{};
    f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    f.fmt.pix.width = static_cast<uint32_t>(w);
    f.fmt.pix.height = static_cast<uint32_t>(h);
    f.fmt.pix.pixelformat = fourcc;
    f.fmt.pix.field = V4L2_FIELD_NONE;
    f.fmt.pix.sizeimage = bytes;
    f.fmt.pix.bytesperline = fourcc == V4L2_PIX_FMT_YUV420 ? static_cast<uint32_t>(w) : 0;
    return f;
}

// libv4lconvert asks its device what it is when created; with no device here, a capture
// device that offers MJPEG answers, and every other request fails as a missing ioctl would.
int fakeDeviceIoctl(void*, int, unsigned long request, void* arg) {
    if (request == VIDIOC_QUERYCAP) {
        auto* cap = static_cast<v4l2_capability*>(arg);
        *cap = v4l2_capability{};
        cap->capabilities = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_DEVICE_CAPS;
        cap->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
        return 0;
    }
    errno = ENOTTY;
    return -1;
}

void BM_MjpegToI420_Libv4lconvert(benchmark::State& state) {
    const int w = static_cast<int>(state.range(0));
    const int h = static_cast<int>(state.range(1));
    auto frames = loadFrames(w, h);
    if (frames.empty()) {
        state.SkipWithError("no JPEG samples");
        return;
    }
    libv4l_dev_ops ops{};
    ops.ioctl = fakeDeviceIoctl;
    v4lconvert_data* conv = v4lconvert_create_with_dev_ops(-1, nullptr, &ops);
    if (conv == nullptr) {
        state.SkipWithError("v4lconvert_create failed");
        return;
    }
    std::vector<uint8_t> out(size_t(w) * h * 3 / 2);
    const v4l2_format dst = pixFormat(V4L2_PIX_FMT_YUV420, w, h, uint32_t(out.size()));
    size_t i = 0;
    for (auto _ : state) {
        auto& jpeg = frames[i++ % frames.size()];
        const v4l2_format src = pixFormat(V4L2_PIX_FMT_MJPEG, w, h, uint32_t(jpeg.size()));
        if (v4lconvert_convert(conv, &src, &dst, jpeg.data(), int(jpeg.size()), out.data(),
                               int(out.size())) != int(out.size())) {
            state.SkipWithError(v4lconvert_get_error_message(conv));
            break;
        }
        benchmark::ClobberMemory();
    }
    v4lconvert_destroy(conv);
    state.SetItemsProcessed(state.iterations());
}

void BM_MjpegToI420_Libavcodec(benchmark::State& state) {
    const int w = static_cast<int>(state.range(0));
    const int h = static_cast<int>(state.range(1));
    auto frames = loadFrames(w, h);
    if (frames.empty()) {
        state.SkipWithError("no JPEG samples");
        return;
    }
    const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
    AVCodecContext* ctx = codec ? avcodec_alloc_context3(codec) : nullptr;
    if (ctx == nullptr) {
        state.SkipWithError("no mjpeg decoder");
        return;
    }
    ctx->thread_count = 1;
    AVPacket* pkt = av_packet_alloc();
    AVFrame* pic = av_frame_alloc();
    if (avcodec_open2(ctx, codec, nullptr) < 0 || pkt == nullptr || pic == nullptr) {
        state.SkipWithError("avcodec_open2 failed");
        return;
    }
    FrameFormat fmt;  // the decoder's 4:2:2 planes, as h265direct would take them
    fmt.fourcc = V4L2_PIX_FMT_YUV422P;
    fmt.width = w;
    fmt.height = h;
    std::optional<Converter> to420;
    std::vector<uint8_t> out(size_t(w) * h * 3 / 2);
    const I420Planes dst{out.data(), out.data() + w * h, out.data() + w * h * 5 / 4, w, w / 2,
                         w / 2};
    size_t i = 0;
    for (auto _ : state) {
        auto& jpeg = frames[i++ % frames.size()];
        pkt->data = jpeg.data();
        pkt->size = int(jpeg.size());
        if (avcodec_send_packet(ctx, pkt) < 0 || avcodec_receive_frame(ctx, pic) < 0) {
            state.SkipWithError("decode failed");
            break;
        }
        if (pic->format == AV_PIX_FMT_YUVJ420P || pic->format == AV_PIX_FMT_YUV420P) {
            av_frame_unref(pic);  // I420 already
            benchmark::ClobberMemory();
            continue;
        }
        if (pic->format != AV_PIX_FMT_YUVJ422P && pic->format != AV_PIX_FMT_YUV422P) {
            state.SkipWithError("the samples are neither 4:2:0 nor 4:2:2");
            break;
        }
        if (!to420) {
            fmt.strides = {pic->linesize[0], pic->linesize[1], pic->linesize[2]};
            to420.emplace(fmt);
        }
        FrameView view;
        for (int p = 0; p < 3; ++p) {
            view.planes[p] = pic->data[p];
            view.strides[p] = pic->linesize[p];
        }
        view.bytes = size_t(pic->linesize[0] + pic->linesize[1] + pic->linesize[2]) * size_t(h);
        if (to420->convert(view, dst) != Status::Ok) {
            state.SkipWithError("convert failed");
            break;
        }
        av_frame_unref(pic);
        benchmark::ClobberMemory();
    }
    av_frame_free(&pic);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_MjpegToI420_Libv4lconvert)
    ->Args({640, 480})
    ->Args({1280, 720})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MjpegToI420_Libavcodec)
    ->Args({640, 480})
    ->Args({1280, 720})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace h265direct
