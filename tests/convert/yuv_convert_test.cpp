// SPDX-License-Identifier: GPL-2.0-or-later
// The own Y'CbCr loops against the definition of each conversion, on random pictures with
// padded lines on both sides (the FFmpeg comparison in converter_test.cpp uses smooth
// pictures where rounding cannot show).

#include "convert/yuv_convert.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <ostream>
#include <random>
#include <vector>

namespace h265direct {
namespace {

constexpr uint8_t kPadByte = 0xee;

std::vector<uint8_t> randomBytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> out(n);
    for (uint8_t& b : out) {
        b = static_cast<uint8_t>(rng());
    }
    return out;
}

// An I420 picture with padding after every line, to see that it is left alone.
struct Picture {
    int w, h, pad;
    std::vector<uint8_t> y, u, v;
    Picture(int width, int height, int padding)
        : w(width),
          h(height),
          pad(padding),
          y(size_t(w + pad) * h, kPadByte),
          u(size_t(w / 2 + pad) * (h / 2), kPadByte),
          v(size_t(w / 2 + pad) * (h / 2), kPadByte) {}
    I420Planes planes() {
        return {y.data(), u.data(), v.data(), w + pad, w / 2 + pad, w / 2 + pad};
    }
    uint8_t Y(int x, int r) const { return y[size_t(r) * (w + pad) + x]; }
    uint8_t U(int x, int r) const { return u[size_t(r) * (w / 2 + pad) + x]; }
    uint8_t V(int x, int r) const { return v[size_t(r) * (w / 2 + pad) + x]; }
    bool paddingUntouched() const {
        auto check = [&](const std::vector<uint8_t>& p, int width, int rows) {
            for (int r = 0; r < rows; ++r) {
                for (int x = width; x < width + pad; ++x) {
                    if (p[size_t(r) * (width + pad) + x] != kPadByte) {
                        return false;
                    }
                }
            }
            return true;
        };
        return check(y, w, h) && check(u, w / 2, h / 2) && check(v, w / 2, h / 2);
    }
};

int avg(int a, int b) {
    return (a + b + 1) / 2;
}

struct PackedCase {
    Packed422Order order;
    int y0, cb, cr;  // byte offsets in each 4-byte group
    const char* name;
};

void PrintTo(const PackedCase& c, std::ostream* os) {
    *os << c.name;
}

class Packed422 : public ::testing::TestWithParam<PackedCase> {};

TEST_P(Packed422, LumaCopiedChromaOfEachLinePairAveraged) {
    const PackedCase c = GetParam();
    // Widths that are and are not a multiple of the vector width; source lines padded.
    for (auto [w, h] : {std::pair{64, 8}, {2, 2}, {38, 6}, {1282, 4}}) {
        const int srcStride = w * 2 + 10;
        const auto src = randomBytes(size_t(srcStride) * h, uint32_t(w * 7 + h));
        Picture pic(w, h, 5);
        packed422ToI420(src.data(), srcStride, c.order, w, h, pic.planes());
        int wrong = 0;
        for (int r = 0; r < h; ++r) {
            const uint8_t* line = src.data() + size_t(r) * srcStride;
            for (int x = 0; x < w; ++x) {
                wrong += pic.Y(x, r) != line[(x / 2) * 4 + c.y0 + (x % 2) * 2];
            }
        }
        for (int r = 0; r < h / 2; ++r) {
            const uint8_t* a = src.data() + size_t(2 * r) * srcStride;
            const uint8_t* b = a + srcStride;
            for (int x = 0; x < w / 2; ++x) {
                wrong += pic.U(x, r) != avg(a[4 * x + c.cb], b[4 * x + c.cb]);
                wrong += pic.V(x, r) != avg(a[4 * x + c.cr], b[4 * x + c.cr]);
            }
        }
        EXPECT_EQ(wrong, 0) << c.name << " " << w << "x" << h;
        EXPECT_TRUE(pic.paddingUntouched()) << c.name << " " << w << "x" << h;
    }
}

INSTANTIATE_TEST_SUITE_P(All, Packed422,
                         ::testing::Values(PackedCase{Packed422Order::kYuyv, 0, 1, 3, "YUYV"},
                                           PackedCase{Packed422Order::kUyvy, 1, 0, 2, "UYVY"},
                                           PackedCase{Packed422Order::kYvyu, 0, 3, 1, "YVYU"},
                                           PackedCase{Packed422Order::kVyuy, 1, 2, 0, "VYUY"}),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(YuvConvert, AverageRoundsHalfUp) {
    // Two lines whose chroma differ by one: the average is the larger value.
    const uint8_t src[16] = {10, 100, 11, 200, 12, 7, 13, 0,     // line 0: YUYV
                             20, 101, 21, 201, 22, 8, 23, 255};  // line 1
    Picture pic(4, 2, 0);
    packed422ToI420(src, 8, Packed422Order::kYuyv, 4, 2, pic.planes());
    EXPECT_EQ(pic.U(0, 0), 101);
    EXPECT_EQ(pic.V(0, 0), 201);
    EXPECT_EQ(pic.U(1, 0), 8);
    EXPECT_EQ(pic.V(1, 0), 128);  // (0 + 255 + 1) / 2
    EXPECT_EQ(pic.Y(3, 1), 23);
}

TEST(YuvConvert, SemiPlanarChromaDeinterleavedInEitherOrder) {
    const int w = 70, h = 10, lumaStride = 80, chromaStride = 76;
    const auto luma = randomBytes(size_t(lumaStride) * h, 1);
    const auto chroma = randomBytes(size_t(chromaStride) * h / 2, 2);
    for (bool crFirst : {false, true}) {
        Picture pic(w, h, 3);
        semiPlanarToI420(luma.data(), lumaStride, chroma.data(), chromaStride, crFirst, false, w, h,
                         pic.planes());
        int wrong = 0;
        for (int r = 0; r < h; ++r) {
            for (int x = 0; x < w; ++x) {
                wrong += pic.Y(x, r) != luma[size_t(r) * lumaStride + x];
            }
        }
        for (int r = 0; r < h / 2; ++r) {
            for (int x = 0; x < w / 2; ++x) {
                const uint8_t first = chroma[size_t(r) * chromaStride + 2 * x];
                const uint8_t second = chroma[size_t(r) * chromaStride + 2 * x + 1];
                wrong += pic.U(x, r) != (crFirst ? second : first);
                wrong += pic.V(x, r) != (crFirst ? first : second);
            }
        }
        EXPECT_EQ(wrong, 0) << (crFirst ? "NV21" : "NV12");
        EXPECT_TRUE(pic.paddingUntouched());
    }
}

// NV16/NV61: each chroma sample the average of the two lines' samples, as planar 4:2:2 gives.
TEST(YuvConvert, SemiPlanar422ChromaLinePairsAveragedInEitherOrder) {
    const int w = 70, h = 10, lumaStride = 80, chromaStride = 76;
    const auto luma = randomBytes(size_t(lumaStride) * h, 6);
    const auto chroma = randomBytes(size_t(chromaStride) * h, 7);
    for (bool crFirst : {false, true}) {
        Picture pic(w, h, 3);
        semiPlanarToI420(luma.data(), lumaStride, chroma.data(), chromaStride, crFirst, true, w, h,
                         pic.planes());
        int wrong = 0;
        for (int r = 0; r < h; ++r) {
            for (int x = 0; x < w; ++x) {
                wrong += pic.Y(x, r) != luma[size_t(r) * lumaStride + x];
            }
        }
        auto avg = [&](int row, int index) {
            const size_t a = size_t(2 * row) * chromaStride + size_t(index);
            return uint8_t((chroma[a] + chroma[a + size_t(chromaStride)] + 1) / 2);
        };
        for (int r = 0; r < h / 2; ++r) {
            for (int x = 0; x < w / 2; ++x) {
                const uint8_t first = avg(r, 2 * x);
                const uint8_t second = avg(r, 2 * x + 1);
                wrong += pic.U(x, r) != (crFirst ? second : first);
                wrong += pic.V(x, r) != (crFirst ? first : second);
            }
        }
        EXPECT_EQ(wrong, 0) << (crFirst ? "NV61" : "NV16");
        EXPECT_TRUE(pic.paddingUntouched());
    }
}

TEST(YuvConvert, Planar420CopiedAnd422LinePairsAveraged) {
    const int w = 66, h = 12, ls = 70, cs = 40;
    const auto luma = randomBytes(size_t(ls) * h, 3);
    const auto cb = randomBytes(size_t(cs) * h, 4);
    const auto cr = randomBytes(size_t(cs) * h, 5);
    for (bool is422 : {false, true}) {
        Picture pic(w, h, 4);
        planarToI420(luma.data(), ls, cb.data(), cs, cr.data(), cs, is422, w, h, pic.planes());
        int wrong = 0;
        for (int r = 0; r < h; ++r) {
            for (int x = 0; x < w; ++x) {
                wrong += pic.Y(x, r) != luma[size_t(r) * ls + x];
            }
        }
        for (int r = 0; r < h / 2; ++r) {
            for (int x = 0; x < w / 2; ++x) {
                auto want = [&](const std::vector<uint8_t>& p) {
                    return is422 ? avg(p[size_t(2 * r) * cs + x], p[size_t(2 * r + 1) * cs + x])
                                 : p[size_t(r) * cs + x];
                };
                wrong += pic.U(x, r) != want(cb);
                wrong += pic.V(x, r) != want(cr);
            }
        }
        EXPECT_EQ(wrong, 0) << (is422 ? "422P" : "420");
        EXPECT_TRUE(pic.paddingUntouched());
    }
}

TEST(YuvConvert, GreyFullRangeToLimitedLumaAndNeutralChroma) {
    const int w = 256, h = 2;
    std::vector<uint8_t> src(size_t(w) * h);
    for (int i = 0; i < w * h; ++i) {
        src[size_t(i)] = static_cast<uint8_t>(i % 256);
    }
    Picture pic(w, h, 2);
    greyToI420(src.data(), w, w, h, pic.planes());
    EXPECT_EQ(pic.Y(0, 0), 16);
    EXPECT_EQ(pic.Y(255, 1), 235);
    EXPECT_EQ(pic.Y(128, 0), 126);  // 16 + 128 * 219 / 255 = 125.9
    for (int g = 0; g < 256; ++g) {
        const double exact = 16 + g * 219.0 / 255.0;
        EXPECT_LE(std::abs(pic.Y(g, 0) - exact), 0.5) << g;
        if (g > 0) {
            EXPECT_GE(pic.Y(g, 0), pic.Y(g - 1, 0));
        }
    }
    for (int x = 0; x < w / 2; ++x) {
        EXPECT_EQ(pic.U(x, 0), 128);
        EXPECT_EQ(pic.V(x, 0), 128);
    }
    EXPECT_TRUE(pic.paddingUntouched());
}

}  // namespace
}  // namespace h265direct
