// SPDX-License-Identifier: GPL-2.0-or-later
#include "convert/converter.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "convert/yuv_convert.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "frame/pixel_format.hpp"
#include "frame/sws_format.hpp"
#include "frame/swscale_lib.hpp"

namespace h265direct {

namespace {

// libswscale (RGB and planar 4:4:4 sources): same size in and out, so the filter only
// decides how chroma is subsampled.
// SWS_POINT measured 35-40% faster than SWS_FAST_BILINEAR (720p RGB24: 1.02 vs 1.58 ms;
// BM_SwsFlags in bench/convert_bench.cpp) while staying within 2 levels of an exact 2x2
// chroma average on test pictures (fast bilinear: 1) - far below what the encoder changes
// at these bitrates.
constexpr int kSwsFlags = SWS_POINT;

// BGR24 to I420 alone has a special unscaled routine in libswscale whose result depends on
// the CPU: its x86 assembly averages each 2x2 block's chroma, its portable C version (aarch64,
// and everything else) takes the top-left pixel's. SWS_ACCURATE_RND rules that routine out, so
// BGR24 goes through the same path as every other RGB format and converts alike everywhere.
int swsFlagsFor(AVPixelFormat format) {
    if (format == AV_PIX_FMT_YUV444P) {
        return SWS_AREA;
    }
    return format == AV_PIX_FMT_BGR24 ? kSwsFlags | SWS_ACCURATE_RND : kSwsFlags;
}

std::string supportedList() {
    std::string list;
    for (const PixelFormatInfo& f : supportedPixelFormats()) {
        appendItem(list, " ", f.name);
    }
    return list;
}

}  // namespace

struct Converter::Impl {
    FrameFormat format;
    const PixelFormatInfo* info = nullptr;
    int planeCount = 0;
    std::array<int, 3> rows{};      // lines of each plane
    std::array<int, 3> rowBytes{};  // bytes of one line of each plane, without padding
    const SwscaleLib* lib = nullptr;
    SwsContext* context = nullptr;
    LogThrottle throttle;

    ~Impl() {
        if (context != nullptr) {
            lib->freeContext(context);
        }
    }
};

Converter::Converter(const FrameFormat& in) : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    const std::string name = fourccToString(in.fourcc);
    const PixelFormatInfo* info = findPixelFormat(in.fourcc);
    if (info == nullptr) {
        throw StartupError(kExitUsage, "unsupported pixel format " + name +
                                           " (supported: " + supportedList() + ")");
    }
    const std::string size = std::to_string(in.width) + "x" + std::to_string(in.height);
    const std::optional<FrameLayout> layout = packedLayout(in.fourcc, in.width, in.height);
    if (!layout) {
        throw StartupError(kExitFormat, "frame size " + size + " is not possible in " + name);
    }
    if (in.width % 2 != 0 || in.height % 2 != 0) {
        throw StartupError(kExitFormat, "frame size " + size +
                                            ": the stream is 4:2:0 and needs an even width "
                                            "and height");
    }
    m.format = in;
    m.info = info;
    m.planeCount = layout->planeCount;
    for (int p = 0; p < m.planeCount; ++p) {
        const auto i = static_cast<size_t>(p);
        m.rowBytes[i] = layout->strides[i];
        m.rows[i] = p == 0 ? in.height : in.height >> info->yChromaShift;
        if (m.format.strides[i] == 0) {
            m.format.strides[i] = layout->strides[i];
        } else if (m.format.strides[i] < layout->strides[i]) {
            throw StartupError(kExitFormat, "plane " + std::to_string(p) + " of " + name + " " +
                                                size + ": line of " +
                                                std::to_string(m.format.strides[i]) +
                                                " bytes is shorter than its pixels");
        }
    }
    // x265 copies its input picture line by line with any stride, so planar 4:2:0 from the
    // source (I420, or YV12 with its chroma planes swapped) is handed over as it is.
    passThrough_ = info->layout == Layout::kPlanar && info->yChromaShift == 1;
    const bool planar444 = info->layout == Layout::kPlanar && info->xChromaShift == 0;
    if (info->layout != Layout::kRgb && !planar444) {
        return;  // our own loops
    }
    m.lib = &swscaleLib(("converting " + name).c_str());
    const SwsFormat i420{AV_PIX_FMT_YUV420P, false, false};
    m.context =
        m.lib->getContext(in.width, in.height, info->sws.format, in.width, in.height, i420.format,
                          swsFlagsFor(info->sws.format), nullptr, nullptr, nullptr);
    if (m.context == nullptr) {
        throw StartupError(kExitFormat,
                           "libswscale cannot convert " + name + " " + size + " to I420");
    }
    if (!setColourDetails(*m.lib, m.context, info->sws, i420)) {
        LOG_DEBUG("convert", "swscale kept its default colour settings for %s", name.c_str());
    }
}

Converter::~Converter() = default;

I420Planes Converter::passThroughPlanes(const FrameView& src) const {
    const size_t u = impl_->info->crFirst ? 2 : 1;
    const size_t v = impl_->info->crFirst ? 1 : 2;
    I420Planes out;
    // x265 only reads its input picture; its API just lacks const.
    out.y = const_cast<uint8_t*>(src.planes[0]);
    out.u = const_cast<uint8_t*>(src.planes[u]);
    out.v = const_cast<uint8_t*>(src.planes[v]);
    out.strideY = src.strides[0];
    out.strideU = src.strides[u];
    out.strideV = src.strides[v];
    return out;
}

Status Converter::convert(const FrameView& src, const I420Planes& dst) {
    Impl& m = *impl_;
    const uint8_t* planes[4] = {nullptr, nullptr, nullptr, nullptr};
    int strides[4] = {0, 0, 0, 0};
    size_t needed = 0;
    for (int p = 0; p < m.planeCount; ++p) {
        const auto i = static_cast<size_t>(p);
        planes[p] = src.planes[i];
        strides[p] = src.strides[i];
        if (planes[p] == nullptr || strides[p] < m.rowBytes[i]) {
            if (m.throttle.allow()) {
                LOG_ERROR("convert", "frame %llu: plane %d missing or its lines too short",
                          static_cast<unsigned long long>(src.sequence), p);
            }
            return Status::Error;
        }
        needed += static_cast<size_t>(strides[p]) * static_cast<size_t>(m.rows[i] - 1) +
                  static_cast<size_t>(m.rowBytes[i]);
    }
    if (src.bytes < needed) {
        if (m.throttle.allow()) {
            LOG_ERROR("convert", "frame %llu: %zu bytes, a %dx%d %s frame needs %zu",
                      static_cast<unsigned long long>(src.sequence), src.bytes, m.format.width,
                      m.format.height, fourccToString(m.format.fourcc).c_str(), needed);
        }
        return Status::Error;
    }
    const int w = m.format.width;
    const int h = m.format.height;
    const PixelFormatInfo& f = *m.info;
    switch (f.layout) {
        case Layout::kPacked422:
            packed422ToI420(planes[0], strides[0], f.packedOrder, w, h, dst);
            return Status::Ok;
        case Layout::kSemiPlanar:
            semiPlanarToI420(planes[0], strides[0], planes[1], strides[1], f.crFirst,
                             f.yChromaShift == 0, w, h, dst);
            return Status::Ok;
        case Layout::kPlanar: {
            if (f.xChromaShift == 0) {  // 4:4:4: libswscale, Cb before Cr
                if (f.crFirst) {
                    std::swap(planes[1], planes[2]);
                    std::swap(strides[1], strides[2]);
                }
                break;
            }
            const int cb = f.crFirst ? 2 : 1;
            const int cr = f.crFirst ? 1 : 2;
            planarToI420(planes[0], strides[0], planes[cb], strides[cb], planes[cr], strides[cr],
                         f.yChromaShift == 0, w, h, dst);
            return Status::Ok;
        }
        case Layout::kGrey:
            greyToI420(planes[0], strides[0], w, h, dst);
            return Status::Ok;
        case Layout::kRgb:
            break;
    }
    uint8_t* out[4] = {dst.y, dst.u, dst.v, nullptr};
    const int outStrides[4] = {dst.strideY, dst.strideU, dst.strideV, 0};
    const int lines = m.lib->scale(m.context, planes, strides, 0, h, out, outStrides);
    if (lines != m.format.height) {
        if (m.throttle.allow()) {
            LOG_ERROR("convert", "swscale wrote %d of %d lines", lines, m.format.height);
        }
        return Status::Error;
    }
    return Status::Ok;
}

}  // namespace h265direct
