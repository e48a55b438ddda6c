// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture/pattern_source.hpp"

#include <linux/videodev2.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <new>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "capture/paced_source.hpp"
#include "core/error.hpp"
#include "frame/pixel_format.hpp"
#include "frame/sws_format.hpp"
#include "frame/swscale_lib.hpp"

namespace h265direct {

namespace {

constexpr uint32_t kDefaultFourcc = V4L2_PIX_FMT_YUYV;

int evenDown(int v) {
    return v & ~1;
}

// Triangle wave over [0, range], even values only: positions that go back and forth.
int bounce(uint64_t t, int range) {
    if (range <= 0) {
        return 0;
    }
    const auto period = static_cast<uint64_t>(range) * 2;
    const auto v = static_cast<int>(t % period);
    return evenDown(v <= range ? v : 2 * range - v);
}

uint8_t clamp8(double v) {
    return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

// A picture in 8-bit limited-range Y'CbCr 4:4:4, the pattern's drawing surface.
struct Yuv444 {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> y, u, v;
    Yuv444(int w, int h)
        : width(w), height(h), y(size_t(w) * h), u(size_t(w) * h), v(size_t(w) * h) {}
    void set(int x, int yy, uint8_t ly, uint8_t cb, uint8_t cr) {
        const size_t i = size_t(yy) * size_t(width) + size_t(x);
        y[i] = ly;
        u[i] = cb;
        v[i] = cr;
    }
    // From R'G'B' in 0..1 (clamped), BT.601 limited range. Drawing in RGB keeps every
    // colour inside the RGB cube, as a camera's are, so the pattern looks the same in RGB
    // and Y'CbCr formats.
    void setRgb(int x, int yy, double r, double g, double b) {
        r = std::clamp(r, 0.0, 1.0);
        g = std::clamp(g, 0.0, 1.0);
        b = std::clamp(b, 0.0, 1.0);
        const double luma = 0.299 * r + 0.587 * g + 0.114 * b;
        set(x, yy, clamp8(16 + 219 * luma), clamp8(128 + 224 * (b - luma) / 1.772),
            clamp8(128 + 224 * (r - luma) / 1.402));
    }
};

// A picture in the source's own pixel format, made once from a Yuv444.
struct Texture {
    int width = 0;
    int height = 0;
    FrameLayout layout;
    std::vector<uint8_t> data;

    const uint8_t* plane(int p) const { return data.data() + layout.planeOffsets[size_t(p)]; }
    uint8_t* line(int p, int row) {
        return data.data() + layout.planeOffsets[size_t(p)] +
               size_t(row) * size_t(layout.strides[size_t(p)]);
    }
};

// Y'CbCr and grey layouts written directly. Chroma is point-sampled (the top-left sample
// of each 2x1 or 2x2 block), so uniform areas keep exactly their colour and colour cells
// cut from a texture are exact.
bool packYuv(const Yuv444& pic, const PixelFormatInfo& f, Texture& t) {
    const int w = pic.width;
    const int h = pic.height;
    auto at = [&](const std::vector<uint8_t>& plane, int x, int y) {
        return plane[size_t(y) * size_t(w) + size_t(x)];
    };
    switch (f.layout) {
        case Layout::kPacked422: {
            // Byte offsets of Y0, Cb, Cr in each group of two pixels; Y1 is at Y0 + 2.
            const Packed422Offsets k = packed422Offsets(f.packedOrder);
            for (int y = 0; y < h; ++y) {
                uint8_t* out = t.line(0, y);
                for (int x = 0; x < w; x += 2) {
                    uint8_t* g = out + 2 * x;
                    g[k.y0] = at(pic.y, x, y);
                    g[k.y0 + 2] = at(pic.y, x + 1, y);
                    g[k.cb] = at(pic.u, x, y);
                    g[k.cr] = at(pic.v, x, y);
                }
            }
            return true;
        }
        case Layout::kSemiPlanar:
        case Layout::kPlanar: {
            for (int y = 0; y < h; ++y) {
                std::memcpy(t.line(0, y), &pic.y[size_t(y) * size_t(w)], size_t(w));
            }
            const bool semi = f.layout == Layout::kSemiPlanar;
            const int xs = 1 << f.xChromaShift;
            const int ys = 1 << f.yChromaShift;
            const std::vector<uint8_t>& first = f.crFirst ? pic.v : pic.u;
            const std::vector<uint8_t>& second = f.crFirst ? pic.u : pic.v;
            for (int cy = 0; cy < h / ys; ++cy) {
                uint8_t* a = t.line(1, cy);
                uint8_t* b = semi ? nullptr : t.line(2, cy);
                for (int cx = 0; cx < w / xs; ++cx) {
                    if (semi) {
                        a[2 * cx] = at(first, xs * cx, cy * ys);
                        a[2 * cx + 1] = at(second, xs * cx, cy * ys);
                    } else {
                        a[cx] = at(first, xs * cx, cy * ys);
                        b[cx] = at(second, xs * cx, cy * ys);
                    }
                }
            }
            return true;
        }
        case Layout::kGrey:
            // Limited-range luma back to the full range grey cameras give.
            for (int y = 0; y < h; ++y) {
                uint8_t* out = t.line(0, y);
                for (int x = 0; x < w; ++x) {
                    out[x] = clamp8((at(pic.y, x, y) - 16) * 255.0 / 219.0);
                }
            }
            return true;
        case Layout::kRgb:
            break;
    }
    return false;
}

Texture makeTexture(const Yuv444& pic, uint32_t fourcc) {
    Texture t;
    t.width = pic.width;
    t.height = pic.height;
    t.layout = *packedLayout(fourcc, pic.width, pic.height);
    t.data.resize(t.layout.frameBytes);
    const PixelFormatInfo* f = findPixelFormat(fourcc);
    if (f == nullptr) {
        throw StartupError(kExitUsage,
                           "the test pattern cannot be made in " + fourccToString(fourcc));
    }
    if (packYuv(pic, *f, t)) {
        return t;
    }
    // RGB: libswscale, with point sampling like the loops above.
    const SwsFormat* dst = &f->sws;
    const SwscaleLib& lib = swscaleLib(("a test pattern in " + fourccToString(fourcc)).c_str());
    const SwsFormat src{AV_PIX_FMT_YUV444P, false, false};
    SwsContext* ctx = lib.getContext(pic.width, pic.height, src.format, pic.width, pic.height,
                                     dst->format, SWS_POINT, nullptr, nullptr, nullptr);
    if (ctx == nullptr) {
        throw StartupError(kExitUsage,
                           "the test pattern cannot be made in " + fourccToString(fourcc));
    }
    setColourDetails(lib, ctx, src, *dst);
    const uint8_t* in[4] = {pic.y.data(), pic.u.data(), pic.v.data(), nullptr};
    const int inStrides[4] = {pic.width, pic.width, pic.width, 0};
    uint8_t* out[4] = {t.line(0, 0), nullptr, nullptr, nullptr};
    const int outStrides[4] = {t.layout.strides[0], 0, 0, 0};
    lib.scale(ctx, in, inStrides, 0, pic.height, out, outStrides);
    lib.freeContext(ctx);
    return t;
}

// The 7 segments of a digit on a 4x7 grid: x, y, w, h in grid units.
constexpr std::array<std::array<int, 4>, 7> kSegments = {{
    {0, 0, 4, 1},  // a top
    {3, 0, 1, 4},  // b top right
    {3, 3, 1, 4},  // c bottom right
    {0, 6, 4, 1},  // d bottom
    {0, 3, 1, 4},  // e bottom left
    {0, 0, 1, 4},  // f top left
    {0, 3, 4, 1},  // g middle
}};
// Bit i set: segment i lit.
constexpr std::array<uint8_t, 10> kDigitSegments = {0x3f, 0x06, 0x5b, 0x4f, 0x66,
                                                    0x6d, 0x7d, 0x07, 0x7f, 0x6f};
constexpr int kDigits = 6;

class PatternSource final : public PacedSource {
public:
    PatternSource(const FrameFormat& format, const FrameLayout& layout, bool pace);
    std::string describe() const override { return "pattern " + describeFormat(); }

protected:
    Status produce(uint8_t* frame, uint64_t index) override;

private:
    enum Colour { kBlack = 0, kWhite = 1, kColours = 2 };
    static constexpr int kPaletteCell = 16;  // pixels per colour in the palette texture

    // Bytes of plane p that x pixels take (x even).
    size_t bytesOf(int p, int x) const {
        return size_t(x) * size_t(halfPixelBytes_[size_t(p)]) / 2;
    }
    int rowsOf(int p, int y) const { return p == 0 ? y : y >> yShift_; }
    void copy(const Texture& t, int sx, int sy, uint8_t* frame, int dx, int dy, int w, int h) const;
    void fill(Colour c, uint8_t* frame, int x, int y, int w, int h) const;
    void drawNumber(uint64_t n, uint8_t* frame, int x, int y) const;

    int width_;
    int height_;
    int yShift_ = 0;
    std::array<int, 3> halfPixelBytes_{};  // bytes of two pixels, per plane
    Texture background_;
    int periodX_ = 0;
    int periodY_ = 0;
    Texture detail_;
    int detailW_ = 0;
    int detailH_ = 0;
    int detailRange_ = 0;
    Texture palette_;
    int unit_ = 0;  // digit grid unit in pixels; 0 = no counter (frame too small)
    int boxW_ = 0;
    int boxH_ = 0;
};

PatternSource::PatternSource(const FrameFormat& format, const FrameLayout& layout, bool pace)
    : PacedSource(format, layout, pace), width_(format.width), height_(format.height) {
    const uint32_t fourcc = format.fourcc;
    const PixelFormatInfo* info = findPixelFormat(fourcc);
    yShift_ = info->yChromaShift;
    for (int p = 0; p < layout.planeCount; ++p) {
        halfPixelBytes_[size_t(p)] = layout.strides[size_t(p)] * 2 / width_;
    }

    // Background: 75% colour bars across, each lit by a luminance ramp that rises and
    // falls down the picture; periodic both ways so that a window scrolling through it
    // never runs out.
    periodX_ = std::clamp(evenDown(width_ / 2), 2, 512);
    periodY_ = std::clamp(evenDown(height_ / 2), 2, 512);
    {
        // White, yellow, cyan, green, magenta, red, blue, black.
        static constexpr double bars[8][3] = {{1, 1, 1}, {1, 1, 0}, {0, 1, 1}, {0, 1, 0},
                                              {1, 0, 1}, {1, 0, 0}, {0, 0, 1}, {0, 0, 0}};
        Yuv444 pic(width_ + periodX_, height_ + periodY_);
        for (int y = 0; y < pic.height; ++y) {
            const double phase = double(y % periodY_) / periodY_;
            const double light = 0.35 + 1.1 * (phase < 0.5 ? phase : 1.0 - phase);
            for (int x = 0; x < pic.width; ++x) {
                const auto* bar = bars[(x % periodX_) * 8 / periodX_];
                // A grey floor keeps the black bar from being flat.
                pic.setRgb(x, y, 0.05 + bar[0] * light * 0.85, 0.05 + bar[1] * light * 0.85,
                           0.05 + bar[2] * light * 0.85);
            }
        }
        background_ = makeTexture(pic, fourcc);
    }

    // Detail: a zone plate (rings ever finer towards the edge) with coloured ripples and
    // noise, larger than the block that shows it, so the block's content scrolls too.
    detailW_ = evenDown(width_ / 3);
    detailH_ = evenDown(height_ / 3);
    detailRange_ = evenDown(std::min(detailW_, detailH_) / 2);
    if (detailW_ >= 2 && detailH_ >= 2) {
        Yuv444 pic(detailW_ + detailRange_, detailH_ + detailRange_);
        const double cx = pic.width / 2.0;
        const double cy = pic.height / 2.0;
        const double k = std::numbers::pi / (2.0 * std::max(pic.width, pic.height));
        uint32_t seed = 0x9e3779b9u;
        for (int y = 0; y < pic.height; ++y) {
            for (int x = 0; x < pic.width; ++x) {
                seed = seed * 1664525u + 1013904223u;
                const double noise = double(seed >> 24) / 255.0 - 0.5;
                const double r2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                const double base = 0.5 + 0.3 * std::sin(k * r2) + 0.15 * noise;
                pic.setRgb(x, y, base + 0.12 * std::sin(x * 0.21), base,
                           base + 0.12 * std::cos(y * 0.17));
            }
        }
        detail_ = makeTexture(pic, fourcc);
    }

    // Colours for solid fills, one cell each, cut out of a texture in the target format.
    {
        static constexpr uint8_t colours[kColours][3] = {{16, 128, 128}, {235, 128, 128}};
        Yuv444 pic(kPaletteCell * kColours, 2);
        for (int c = 0; c < kColours; ++c) {
            for (int y = 0; y < 2; ++y) {
                for (int x = 0; x < kPaletteCell; ++x) {
                    pic.set(c * kPaletteCell + x, y, colours[c][0], colours[c][1], colours[c][2]);
                }
            }
        }
        palette_ = makeTexture(pic, fourcc);
    }

    // The frame counter: 6 digits of 4x7 units with a unit gap, in a box one unit wider.
    unit_ = std::max(2, evenDown(height_ / 60));
    boxW_ = unit_ * (kDigits * 5 + 1);
    boxH_ = unit_ * 9;
    if (boxW_ > width_ || boxH_ > height_) {
        unit_ = 0;
    }
}

void PatternSource::copy(const Texture& t, int sx, int sy, uint8_t* frame, int dx, int dy, int w,
                         int h) const {
    const FrameLayout& out = layout();
    for (int p = 0; p < out.planeCount; ++p) {
        const auto i = size_t(p);
        const size_t lineBytes = bytesOf(p, w);
        const uint8_t* src =
            t.plane(p) + size_t(rowsOf(p, sy)) * size_t(t.layout.strides[i]) + bytesOf(p, sx);
        uint8_t* dst = frame + out.planeOffsets[i] +
                       size_t(rowsOf(p, dy)) * size_t(out.strides[i]) + bytesOf(p, dx);
        for (int r = rowsOf(p, h); r > 0; --r) {
            std::memcpy(dst, src, lineBytes);
            src += t.layout.strides[i];
            dst += out.strides[i];
        }
    }
}

void PatternSource::fill(Colour c, uint8_t* frame, int x, int y, int w, int h) const {
    const FrameLayout& out = layout();
    for (int p = 0; p < out.planeCount; ++p) {
        const auto i = size_t(p);
        const size_t unitBytes = bytesOf(p, 2);
        const uint8_t* unit = palette_.plane(p) + bytesOf(p, c * kPaletteCell + 2);
        uint8_t* first = frame + out.planeOffsets[i] +
                         size_t(rowsOf(p, y)) * size_t(out.strides[i]) + bytesOf(p, x);
        const size_t lineBytes = bytesOf(p, w);
        for (size_t b = 0; b < lineBytes; b += unitBytes) {
            std::memcpy(first + b, unit, unitBytes);
        }
        uint8_t* line = first;
        for (int r = rowsOf(p, h) - 1; r > 0; --r) {
            line += out.strides[i];
            std::memcpy(line, first, lineBytes);
        }
    }
}

void PatternSource::drawNumber(uint64_t n, uint8_t* frame, int x, int y) const {
    fill(kBlack, frame, x, y, boxW_, boxH_);
    for (int d = kDigits - 1; d >= 0; --d) {
        const uint8_t lit = kDigitSegments[n % 10];
        n /= 10;
        const int dx = x + unit_ * (1 + d * 5);
        const int dy = y + unit_;
        for (size_t s = 0; s < kSegments.size(); ++s) {
            if ((lit >> s) & 1) {
                const auto& g = kSegments[s];
                fill(kWhite, frame, dx + g[0] * unit_, dy + g[1] * unit_, g[2] * unit_,
                     g[3] * unit_);
            }
        }
    }
}

Status PatternSource::produce(uint8_t* frame, uint64_t index) {
    copy(background_, int((2 * index) % uint64_t(periodX_)), int((2 * index) % uint64_t(periodY_)),
         frame, 0, 0, width_, height_);
    if (!detail_.data.empty()) {
        copy(detail_, bounce(2 * index, detailRange_), bounce(3 * index, detailRange_), frame,
             bounce(6 * index, width_ - detailW_), bounce(4 * index, height_ - detailH_), detailW_,
             detailH_);
    }
    if (unit_ > 0) {
        const int margin = std::min(unit_ * 2, evenDown(height_ - boxH_));
        drawNumber(index, frame, bounce(2 * index, width_ - boxW_), height_ - boxH_ - margin);
    }
    return Status::Ok;
}

}  // namespace

std::unique_ptr<FrameSource> openPatternSource(const SourceConfig& config) {
    const uint32_t fourcc = config.fourcc != 0 ? config.fourcc : kDefaultFourcc;
    const FrameLayout layout = checkRawSourceConfig(config, fourcc);
    FrameFormat format;
    format.fourcc = fourcc;
    format.width = config.width;
    format.height = config.height;
    format.fpsNum = config.fpsNum;
    format.fpsDen = config.fpsDen;
    format.strides = layout.strides;
    try {
        return std::make_unique<PatternSource>(format, layout, config.pace);
    } catch (const std::bad_alloc&) {
        throw StartupError(kExitFailure, "out of memory for a " + std::to_string(config.width) +
                                             "x" + std::to_string(config.height) + " test pattern");
    }
}

}  // namespace h265direct
