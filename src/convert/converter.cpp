#include "convert/converter.hpp"

#include <linux/videodev2.h>

#include <algorithm>
#include <string>
#include <utility>

#include "convert/pixel_format.hpp"
#include "convert/sws_format.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

extern "C" {
#include <libswscale/swscale.h>
}

namespace h265direct {

namespace {

// Same size in and out, so the filter only decides how chroma is subsampled (4:2:2 and RGB
// to 4:2:0). YUYV and YVYU (converted as YUYV), UYVY, NV12/21, I420/YV12 and BGR24 take
// swscale's unscaled paths, which ignore it. For 422P, RGB and grey SWS_POINT measured
// 35-40% faster than SWS_FAST_BILINEAR (720p: 422P 0.39 vs 0.63 ms, RGB24 1.02 vs 1.58 ms;
// BM_SwsFlags in bench/convert_bench.cpp) while staying within 2 levels of an exact 2x2
// chroma average on test pictures (fast bilinear: 1) - far below what the encoder changes
// at these bitrates.
constexpr int kSwsFlags = SWS_POINT;

std::string supportedList() {
    std::string list;
    for (const PixelFormatInfo& f : supportedPixelFormats()) {
        if (!list.empty()) {
            list += ' ';
        }
        list += f.name;
    }
    return list;
}

}  // namespace

struct Converter::Impl {
    FrameFormat format;
    SwsFormat sws;
    int planeCount = 0;
    std::array<int, 3> rows{};      // lines of each plane
    std::array<int, 3> rowBytes{};  // bytes of one line of each plane, without padding
    SwsContext* context = nullptr;
    LogThrottle throttle;

    ~Impl() { sws_freeContext(context); }
};

Converter::Converter(const FrameFormat& in) : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    const std::string name = fourccToString(in.fourcc);
    const PixelFormatInfo* info = findPixelFormat(in.fourcc);
    const std::optional<SwsFormat> sws = swsFormatFor(in.fourcc);
    if (info == nullptr || !sws) {
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
    m.sws = *sws;
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
    // x265 copies its input picture line by line with any stride, so I420 (or YV12, planes
    // swapped) from the source is handed over as it is.
    passThrough_ = in.fourcc == V4L2_PIX_FMT_YUV420 || in.fourcc == V4L2_PIX_FMT_YVU420;

    m.context = sws_getContext(in.width, in.height, m.sws.format, in.width, in.height,
                               AV_PIX_FMT_YUV420P, kSwsFlags, nullptr, nullptr, nullptr);
    if (m.context == nullptr) {
        throw StartupError(kExitFormat,
                           "libswscale cannot convert " + name + " " + size + " to I420");
    }
    if (!setColourDetails(m.context, m.sws.format, AV_PIX_FMT_YUV420P)) {
        LOG_DEBUG("convert", "swscale kept its default colour settings for %s", name.c_str());
    }
}

Converter::~Converter() = default;

I420Planes Converter::passThroughPlanes(const FrameView& src) const {
    const size_t u = impl_->sws.swapChroma ? 2 : 1;
    const size_t v = impl_->sws.swapChroma ? 1 : 2;
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
    uint8_t* out[4] = {dst.y, dst.u, dst.v, nullptr};
    int outStrides[4] = {dst.strideY, dst.strideU, dst.strideV, 0};
    if (m.sws.swapChroma) {
        std::swap(out[1], out[2]);
        std::swap(outStrides[1], outStrides[2]);
    }
    const int lines = sws_scale(m.context, planes, strides, 0, m.format.height, out, outStrides);
    if (lines != m.format.height) {
        if (m.throttle.allow()) {
            LOG_ERROR("convert", "swscale wrote %d of %d lines", lines, m.format.height);
        }
        return Status::Error;
    }
    return Status::Ok;
}

}  // namespace h265direct
