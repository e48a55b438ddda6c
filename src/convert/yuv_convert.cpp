// SPDX-License-Identifier: GPL-2.0-or-later
#include "convert/yuv_convert.hpp"

#include <cstddef>
#include <cstring>

// The loops are written so that the compiler vectorises them (this file is built with -O3,
// see CMakeLists.txt): fixed byte offsets, no aliasing between lines, one pass per line
// pair. bench/convert_bench.cpp measures them against libswscale.

namespace h265direct {

namespace {

inline uint8_t average(unsigned a, unsigned b) {
    return static_cast<uint8_t>((a + b + 1) >> 1);
}

inline const uint8_t* line(const uint8_t* base, int stride, int row) {
    return base + static_cast<ptrdiff_t>(stride) * row;
}

inline uint8_t* line(uint8_t* base, int stride, int row) {
    return base + static_cast<ptrdiff_t>(stride) * row;
}

void copyLines(const uint8_t* src, int srcStride, uint8_t* dst, int dstStride, int bytes,
               int rows) {
    if (srcStride == dstStride && srcStride == bytes) {
        std::memcpy(dst, src, static_cast<size_t>(bytes) * static_cast<size_t>(rows));
        return;
    }
    for (int r = 0; r < rows; ++r) {
        std::memcpy(line(dst, dstStride, r), line(src, srcStride, r), static_cast<size_t>(bytes));
    }
}

// Two lines of packed 4:2:2 (a above b) into two luma lines and one line of each chroma.
template <int Y0, int Cb, int Cr>
void packedLinePair(const uint8_t* __restrict a, const uint8_t* __restrict b,
                    uint8_t* __restrict ya, uint8_t* __restrict yb, uint8_t* __restrict u,
                    uint8_t* __restrict v, int groups) {
    for (int x = 0; x < groups; ++x) {
        const uint8_t* p = a + 4 * x;
        const uint8_t* q = b + 4 * x;
        ya[2 * x] = p[Y0];
        ya[2 * x + 1] = p[Y0 + 2];
        yb[2 * x] = q[Y0];
        yb[2 * x + 1] = q[Y0 + 2];
        u[x] = average(p[Cb], q[Cb]);
        v[x] = average(p[Cr], q[Cr]);
    }
}

template <Packed422Order Order>
void packed422(const uint8_t* src, int srcStride, int width, int height, const I420Planes& d) {
    constexpr Packed422Offsets k = packed422Offsets(Order);
    const int groups = width / 2;
    for (int r = 0; r < height; r += 2) {
        packedLinePair<k.y0, k.cb, k.cr>(line(src, srcStride, r), line(src, srcStride, r + 1),
                                         line(d.y, d.strideY, r), line(d.y, d.strideY, r + 1),
                                         line(d.u, d.strideU, r / 2), line(d.v, d.strideV, r / 2),
                                         groups);
    }
}

void deinterleave(const uint8_t* __restrict src, uint8_t* __restrict first,
                  uint8_t* __restrict second, int samples) {
    for (int x = 0; x < samples; ++x) {
        first[x] = src[2 * x];
        second[x] = src[2 * x + 1];
    }
}

// Two lines of interleaved chroma (a above b) into one line of each, averaged.
void deinterleaveAveraged(const uint8_t* __restrict a, const uint8_t* __restrict b,
                          uint8_t* __restrict first, uint8_t* __restrict second, int samples) {
    for (int x = 0; x < samples; ++x) {
        first[x] = average(a[2 * x], b[2 * x]);
        second[x] = average(a[2 * x + 1], b[2 * x + 1]);
    }
}

void averageLines(const uint8_t* __restrict a, const uint8_t* __restrict b, uint8_t* __restrict out,
                  int samples) {
    for (int x = 0; x < samples; ++x) {
        out[x] = average(a[x], b[x]);
    }
}

// Full range 0..255 -> limited 16..235, rounded to nearest: 16 + (g * 219 + 127) / 255, with
// the division done as (x + 1 + (x >> 8)) >> 8, exact for every x this can take (< 65535).
// Arithmetic rather than a 256-byte table: GCC vectorises it on x86-64 and aarch64 alike,
// while a table lookup is a gather that aarch64 has no instruction for.
inline uint8_t greyToLuma(uint8_t g) {
    const auto x = static_cast<uint16_t>(g * 219 + 127);
    return static_cast<uint8_t>(16 + ((x + 1 + (x >> 8)) >> 8));
}

}  // namespace

void packed422ToI420(const uint8_t* src, int srcStride, Packed422Order order, int width, int height,
                     const I420Planes& dst) {
    // Byte offsets of Y0, Cb and Cr fixed at compile time for each order.
    switch (order) {
        case Packed422Order::kYuyv:
            packed422<Packed422Order::kYuyv>(src, srcStride, width, height, dst);
            break;
        case Packed422Order::kUyvy:
            packed422<Packed422Order::kUyvy>(src, srcStride, width, height, dst);
            break;
        case Packed422Order::kYvyu:
            packed422<Packed422Order::kYvyu>(src, srcStride, width, height, dst);
            break;
        case Packed422Order::kVyuy:
            packed422<Packed422Order::kVyuy>(src, srcStride, width, height, dst);
            break;
    }
}

void semiPlanarToI420(const uint8_t* luma, int lumaStride, const uint8_t* chroma, int chromaStride,
                      bool crFirst, bool chroma422, int width, int height, const I420Planes& dst) {
    copyLines(luma, lumaStride, dst.y, dst.strideY, width, height);
    for (int r = 0; r < height / 2; ++r) {
        uint8_t* u = line(dst.u, dst.strideU, r);
        uint8_t* v = line(dst.v, dst.strideV, r);
        if (chroma422) {
            deinterleaveAveraged(line(chroma, chromaStride, 2 * r),
                                 line(chroma, chromaStride, 2 * r + 1), crFirst ? v : u,
                                 crFirst ? u : v, width / 2);
        } else {
            deinterleave(line(chroma, chromaStride, r), crFirst ? v : u, crFirst ? u : v,
                         width / 2);
        }
    }
}

void planarToI420(const uint8_t* luma, int lumaStride, const uint8_t* cb, int cbStride,
                  const uint8_t* cr, int crStride, bool chroma422, int width, int height,
                  const I420Planes& dst) {
    copyLines(luma, lumaStride, dst.y, dst.strideY, width, height);
    const int cw = width / 2;
    if (!chroma422) {
        copyLines(cb, cbStride, dst.u, dst.strideU, cw, height / 2);
        copyLines(cr, crStride, dst.v, dst.strideV, cw, height / 2);
        return;
    }
    for (int r = 0; r < height / 2; ++r) {
        averageLines(line(cb, cbStride, 2 * r), line(cb, cbStride, 2 * r + 1),
                     line(dst.u, dst.strideU, r), cw);
        averageLines(line(cr, crStride, 2 * r), line(cr, crStride, 2 * r + 1),
                     line(dst.v, dst.strideV, r), cw);
    }
}

void greyToI420(const uint8_t* src, int srcStride, int width, int height, const I420Planes& dst) {
    for (int r = 0; r < height; ++r) {
        const uint8_t* in = line(src, srcStride, r);
        uint8_t* out = line(dst.y, dst.strideY, r);
        for (int x = 0; x < width; ++x) {
            out[x] = greyToLuma(in[x]);
        }
    }
    for (int r = 0; r < height / 2; ++r) {
        std::memset(line(dst.u, dst.strideU, r), 128, static_cast<size_t>(width / 2));
        std::memset(line(dst.v, dst.strideV, r), 128, static_cast<size_t>(width / 2));
    }
}

}  // namespace h265direct
