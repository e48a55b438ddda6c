// SPDX-License-Identifier: GPL-2.0-or-later
#include "encode/x265_encoder.hpp"

#include <x265.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "encode/nal_join.hpp"
#include "h265direct/annexb.hpp"

namespace h265direct {

namespace {

constexpr const char* kTag = "encode";
// Above this no camera stream makes sense; it also keeps kbit/s * 1000 inside x265's int.
constexpr int kMaxKbps = 1'000'000;
constexpr int kMaxThreads = 256;
// Plane rows start on this boundary so that x265's SIMD reads of the input are aligned.
constexpr int kPlaneAlign = 64;

std::string nameList(const char* const* names) {
    std::string list;
    for (const char* const* n = names; *n != nullptr; ++n) {
        if (!list.empty()) {
            list += ", ";
        }
        list += *n;
    }
    return list;
}

bool inList(const char* const* names, const std::string& value) {
    for (const char* const* n = names; *n != nullptr; ++n) {
        if (value == *n) {
            return true;
        }
    }
    return false;
}

// The default tune is zerolatency; "none" (or nothing) is how a user turns it off.
bool noTune(const std::string& tune) {
    return tune.empty() || tune == "none";
}

int alignUp(int value, int alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

struct ParamFree {
    const x265_api* api;
    void operator()(x265_param* p) const { api->param_free(p); }
};
struct EncoderClose {
    const x265_api* api;
    void operator()(x265_encoder* e) const { api->encoder_close(e); }
};
struct PictureFree {
    const x265_api* api;
    void operator()(x265_picture* p) const { api->picture_free(p); }
};
struct AlignedFree {
    void operator()(uint8_t* p) const { std::free(p); }
};

using ParamPtr = std::unique_ptr<x265_param, ParamFree>;
using EncoderPtr = std::unique_ptr<x265_encoder, EncoderClose>;
using PicturePtr = std::unique_ptr<x265_picture, PictureFree>;

}  // namespace

struct X265Encoder::Impl {
    const x265_api* api = nullptr;
    // x265 keeps a pointer to this text (numaPools) for the encoder's lifetime; set through
    // param_parse it would be a copy that x265 never frees.
    std::string pools;
    ParamPtr param{nullptr, ParamFree{nullptr}};
    EncoderPtr encoder{nullptr, EncoderClose{nullptr}};
    PicturePtr picIn{nullptr, PictureFree{nullptr}};
    PicturePtr picOut{nullptr, PictureFree{nullptr}};
    // The encoder's own input picture, made on first use: with pass-through or the
    // convert-ahead stage, x265 reads other buffers and this memory is never needed.
    std::unique_ptr<uint8_t, AlignedFree> planeMemory;
    I420Planes planes;
    int width = 0;
    int height = 0;
    void allocatePlanes();
    // Only used if x265 ever hands back NAL payloads that are not back to back.
    std::vector<uint8_t> gathered;
    bool flushing = false;
    bool warnedScattered = false;
    LogThrottle errorThrottle;
    std::string description;

    void set(const char* name, const std::string& value, const char* option) {
        int rc = api->param_parse(param.get(), name, value.c_str());
        if (rc != 0) {
            throw StartupError(kExitUsage,
                               std::string(option) + ": x265 rejects " + name + "=" + value);
        }
    }

    bool infoSeiSent = false;

    Status collect(x265_nal* nals, uint32_t count, EncodedFrame& out);
};

namespace {

void validate(const EncoderConfig& c, int width, int height, int fpsNum, int fpsDen) {
    if (!inList(x265_preset_names, c.preset)) {
        throw StartupError(kExitUsage, "--preset: unknown preset '" + c.preset + "' (" +
                                           nameList(x265_preset_names) + ")");
    }
    if (!noTune(c.tune) && !inList(x265_tune_names, c.tune)) {
        throw StartupError(kExitUsage, "--tune: unknown tune '" + c.tune + "' (" +
                                           nameList(x265_tune_names) + ", none)");
    }
    auto checkRate = [](const char* option, int value, int min) {
        if (value < min || value > kMaxKbps) {
            throw StartupError(kExitUsage, std::string(option) + ": " + std::to_string(value) +
                                               " is out of range (" + std::to_string(min) + ".." +
                                               std::to_string(kMaxKbps) + " kbit/s)");
        }
    };
    checkRate("--bitrate", c.bitrateKbps, 1);
    checkRate("--vbv-maxrate", c.vbvMaxrateKbps, 0);
    checkRate("--vbv-bufsize", c.vbvBufsizeKbit, 0);
    if (c.vbvMaxrateKbps > 0 && c.vbvMaxrateKbps < c.bitrateKbps) {
        throw StartupError(kExitUsage, "--vbv-maxrate: " + std::to_string(c.vbvMaxrateKbps) +
                                           " kbit/s is below --bitrate " +
                                           std::to_string(c.bitrateKbps));
    }
    if (c.keyint < 0) {
        throw StartupError(kExitUsage,
                           "--keyint: " + std::to_string(c.keyint) + " is negative (0 = auto)");
    }
    if (c.threads < 0 || c.threads > kMaxThreads) {
        throw StartupError(kExitUsage, "--threads: " + std::to_string(c.threads) +
                                           " is out of range (0 = auto, 1.." +
                                           std::to_string(kMaxThreads) + ")");
    }
    if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0) {
        throw StartupError(kExitUsage, "-s: " + std::to_string(width) + "x" +
                                           std::to_string(height) +
                                           " cannot be encoded as 4:2:0 (even sizes only)");
    }
    if (fpsNum <= 0 || fpsDen <= 0) {
        throw StartupError(kExitUsage, "-r: frame rate " + std::to_string(fpsNum) + "/" +
                                           std::to_string(fpsDen) + " is not positive");
    }
}

}  // namespace

X265Encoder::X265Encoder(const EncoderConfig& config, int width, int height, int fpsNum, int fpsDen,
                         bool fullRange)
    : impl_(std::make_unique<Impl>()) {
    validate(config, width, height, fpsNum, fpsDen);
    Impl& m = *impl_;

    m.api = x265_api_get(8);
    if (m.api == nullptr) {
        throw StartupError(kExitFailure, "x265: this libx265 cannot encode 8-bit video");
    }
    m.param = ParamPtr(m.api->param_alloc(), ParamFree{m.api});
    if (!m.param) {
        throw StartupError(kExitFailure, "x265: out of memory");
    }
    x265_param* p = m.param.get();
    if (m.api->param_default_preset(p, config.preset.c_str(),
                                    noTune(config.tune) ? nullptr : config.tune.c_str()) < 0) {
        throw StartupError(kExitUsage, "--preset/--tune: x265 rejects '" + config.preset + "'/'" +
                                           config.tune + "'");
    }

    // x265 only says "at least one CTU"; name the option and the size instead.
    if (width < static_cast<int>(p->maxCUSize) || height < static_cast<int>(p->maxCUSize)) {
        throw StartupError(kExitUsage, "-s: " + std::to_string(width) + "x" +
                                           std::to_string(height) + " is too small for x265 (" +
                                           std::to_string(p->maxCUSize) + "x" +
                                           std::to_string(p->maxCUSize) +
                                           " at least with --preset " + config.preset + ")");
    }

    // Errors still reach the user (an encoder that fails to open says why); x265's banner
    // and per-run summary only with -v.
    p->logLevel = config.verbose ? X265_LOG_INFO : X265_LOG_ERROR;

    p->sourceWidth = width;
    p->sourceHeight = height;
    p->fpsNum = static_cast<uint32_t>(fpsNum);
    p->fpsDenom = static_cast<uint32_t>(fpsDen);
    p->internalCsp = X265_CSP_I420;
    p->bAnnexB = 1;
    p->bEnableAccessUnitDelimiters = 0;
    // A receiver may join at any keyframe: it needs the parameter sets there, and an IDR
    // (closed GOP) so that no picture after it refers to one before it.
    p->bRepeatHeaders = 1;
    p->bOpenGOP = 0;
    // Say what the pictures are: the converter makes limited-range BT.601 (SMPTE 170M) from
    // RGB, and SD/USB cameras deliver that too. Without it, players guess (often BT.709 for
    // HD sizes) and colours shift. A JPEG's samples (an MJPEG camera through libv4l2) use
    // BT.601's matrix over the full range: said so, players would otherwise clip them.
    p->vui.bEnableVideoSignalTypePresentFlag = 1;
    p->vui.videoFormat = 5;  // unspecified
    p->vui.bEnableVideoFullRangeFlag = fullRange ? 1 : 0;
    p->vui.bEnableColorDescriptionPresentFlag = 1;
    p->vui.colorPrimaries = 6;           // SMPTE 170M
    p->vui.transferCharacteristics = 6;  // SMPTE 170M
    p->vui.matrixCoeffs = 6;             // SMPTE 170M

    double fps = static_cast<double>(fpsNum) / fpsDen;
    keyint_ =
        config.keyint > 0 ? config.keyint : std::max(1, static_cast<int>(std::lround(2.0 * fps)));
    m.set("keyint", std::to_string(keyint_), "--keyint");
    // x265 codes a scene cut closer than min-keyint to the last keyframe as a plain I
    // picture (not IDR, no parameter sets); 1 makes every scene cut a full IDR.
    m.set("min-keyint", "1", "--keyint");

    m.set("bitrate", std::to_string(config.bitrateKbps), "--bitrate");
    int maxrate = config.vbvMaxrateKbps;
    int bufsize = config.vbvBufsizeKbit;
    if (maxrate > 0 && bufsize == 0) {
        // Only a cap given: half a second of data at the cap. That bounds the queueing delay
        // on a link of that speed to 0.5 s while an IDR (several average frames) still fits.
        bufsize = std::max(1, maxrate / 2);
    } else if (bufsize > 0 && maxrate == 0) {
        // Only a buffer given: cap at the target rate, i.e. constant bit rate over the
        // buffer, which is what a buffer size alone usually means to a streaming user.
        maxrate = config.bitrateKbps;
    }
    if (maxrate > 0) {
        m.set("vbv-maxrate", std::to_string(maxrate), "--vbv-maxrate");
        m.set("vbv-bufsize", std::to_string(bufsize), "--vbv-bufsize");
    }

    if (config.threads > 0) {
        m.pools = std::to_string(config.threads);
        p->numaPools = m.pools.c_str();
        // zerolatency keeps one frame thread (one picture in, one access unit out); other
        // tunes may ask for several: never more than the threads allowed. 0 (auto) lets x265
        // derive it from the pool size set above.
        if (p->frameNumThreads > config.threads) {
            m.set("frame-threads", std::to_string(config.threads), "--threads");
        }
    }

    if (m.api->param_apply_profile(p, "main") < 0) {
        throw StartupError(kExitUsage, "x265: the settings do not fit HEVC Main");
    }

    m.encoder = EncoderPtr(m.api->encoder_open(p), EncoderClose{m.api});
    if (!m.encoder) {
        throw StartupError(
            kExitUsage, "x265: the encoder does not accept these settings (x265's reason above)");
    }
    // What x265 made of the settings (auto frame threads). A plain copy: freeing it with
    // param_free could free strings it shares with the encoder.
    x265_param actual{};
    m.api->encoder_parameters(m.encoder.get(), &actual);

    m.picIn = PicturePtr(m.api->picture_alloc(), PictureFree{m.api});
    m.picOut = PicturePtr(m.api->picture_alloc(), PictureFree{m.api});
    if (!m.picIn || !m.picOut) {
        throw StartupError(kExitFailure, "x265: out of memory");
    }
    m.api->picture_init(p, m.picIn.get());
    m.api->picture_init(p, m.picOut.get());

    m.width = width;
    m.height = height;

    std::string rc = "abr " + std::to_string(config.bitrateKbps) + " kbit/s";
    if (maxrate > 0) {
        rc += ", vbv " + std::to_string(maxrate) + " kbit/s / " + std::to_string(bufsize) + " kbit";
    }
    m.description = "x265 " + std::string(m.api->version_str) + ": preset " + config.preset +
                    ", tune " + (noTune(config.tune) ? std::string("none") : config.tune) + ", " +
                    rc + ", keyint " + std::to_string(keyint_) + ", threads " +
                    (config.threads > 0 ? std::to_string(config.threads) : std::string("auto")) +
                    " (frame threads " + std::to_string(actual.frameNumThreads) + ")";
}

X265Encoder::~X265Encoder() = default;

void X265Encoder::Impl::allocatePlanes() {
    const int strideY = alignUp(width, kPlaneAlign);
    const int strideC = alignUp(width / 2, kPlaneAlign);
    const size_t sizeY = static_cast<size_t>(strideY) * static_cast<size_t>(height);
    const size_t sizeC = static_cast<size_t>(strideC) * static_cast<size_t>(height / 2);
    const size_t total = sizeY + 2 * sizeC;
    planeMemory.reset(static_cast<uint8_t*>(std::aligned_alloc(kPlaneAlign, total)));
    if (!planeMemory) {
        throw std::bad_alloc();
    }
    uint8_t* base = planeMemory.get();
    // Black until the first frame is converted in.
    std::memset(base, 16, sizeY);
    std::memset(base + sizeY, 128, 2 * sizeC);
    planes = I420Planes{base, base + sizeY, base + sizeY + sizeC, strideY, strideC, strideC};
}

const I420Planes& X265Encoder::inputPlanes() {
    if (!impl_->planeMemory) {
        impl_->allocatePlanes();
    }
    return impl_->planes;
}

std::string X265Encoder::describe() const {
    return impl_->description;
}

Status X265Encoder::Impl::collect(x265_nal* nals, uint32_t count, EncodedFrame& out) {
    if (count == 0) {
        return Status::Again;
    }
    bool keyframe = false;
    uint32_t skip = count;
    for (uint32_t i = 0; i < count; ++i) {
        keyframe = keyframe || hevc::isIrap(static_cast<uint8_t>(nals[i].type));
        // With repeated headers x265 writes its ~2.3 KB version-and-options SEI before every
        // keyframe, not only the first: over 1% of a 1 Mbit/s stream at a 2 s keyint, for
        // text no decoder needs. Keep it in the first keyframe, where tools look for it.
        if (skip == count && nals[i].type == NAL_UNIT_PREFIX_SEI && isX265InfoSei(nals[i])) {
            if (infoSeiSent) {
                skip = i;
            }
            infoSeiSent = true;
        }
    }
    bool copied = false;
    out.bytes = joinNals(nals, count, skip, gathered, copied);
    if (copied && !warnedScattered) {
        LOG_WARN(kTag, "x265 returned scattered NAL units; copying each access unit");
        warnedScattered = true;
    }
    out.pts = picOut->pts;
    out.keyframe = keyframe;
    return Status::Ok;
}

Status X265Encoder::encode(int64_t pts, EncodedFrame& out, const I420Planes* external) {
    Impl& m = *impl_;
    if (m.flushing) {
        LOG_ERROR(kTag, "encode() after flush(): x265 takes no more pictures");
        return Status::Error;
    }
    const I420Planes& src = external != nullptr ? *external : inputPlanes();
    x265_picture* pic = m.picIn.get();
    // x265 copies the picture into its own frame inside encoder_encode, so an external
    // (pass-through) buffer only has to live until this call returns.
    pic->planes[0] = src.y;
    pic->planes[1] = src.u;
    pic->planes[2] = src.v;
    pic->stride[0] = src.strideY;
    pic->stride[1] = src.strideU;
    pic->stride[2] = src.strideV;
    pic->pts = pts;
    pic->sliceType = keyframeRequested_.exchange(false, std::memory_order_relaxed) ? X265_TYPE_IDR
                                                                                   : X265_TYPE_AUTO;

    x265_nal* nals = nullptr;
    uint32_t count = 0;
    int rc = m.api->encoder_encode(m.encoder.get(), &nals, &count, pic, m.picOut.get());
    if (rc < 0) {
        if (m.errorThrottle.allow()) {
            LOG_ERROR(kTag, "x265 failed to encode picture pts %lld (%d)",
                      static_cast<long long>(pts), rc);
        }
        return Status::Error;
    }
    if (rc == 0) {
        return Status::Again;
    }
    return m.collect(nals, count, out);
}

Status X265Encoder::flush(EncodedFrame& out) {
    Impl& m = *impl_;
    m.flushing = true;
    for (;;) {
        x265_nal* nals = nullptr;
        uint32_t count = 0;
        int rc = m.api->encoder_encode(m.encoder.get(), &nals, &count, nullptr, m.picOut.get());
        if (rc < 0) {
            LOG_ERROR(kTag, "x265 failed while flushing (%d)", rc);
            return Status::Error;
        }
        if (rc == 0) {
            return Status::EndOfStream;
        }
        // A picture without NAL units would be odd; keep draining rather than stop early.
        if (m.collect(nals, count, out) == Status::Ok) {
            return Status::Ok;
        }
    }
}

}  // namespace h265direct
