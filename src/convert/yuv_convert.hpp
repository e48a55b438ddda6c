// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>

#include "frame/i420.hpp"
#include "frame/pixel_format.hpp"

namespace h265direct {

// Conversions of the Y'CbCr formats cameras deliver into I420, written here so that a YUV
// camera never loads libswscale (and the libraries libavutil brings with it). Sample values
// are not changed: luma is copied, chroma is de-interleaved and, from 4:2:2, the two lines
// of a pair are averaged (rounding half up, as libswscale's x86 code does). Width and
// height must be even; strides are in bytes and may include padding.

// Packed 4:2:2 in the byte order the pixel-format table gives (Packed422Order).
void packed422ToI420(const uint8_t* src, int srcStride, Packed422Order order, int width, int height,
                     const I420Planes& dst);

// NV12 (Cb first) or NV21 (Cr first); with chroma422, NV16 or NV61 (chroma lines averaged in
// pairs, as planarToI420 does, so both give the same bytes from the same picture).
void semiPlanarToI420(const uint8_t* luma, int lumaStride, const uint8_t* chroma, int chromaStride,
                      bool crFirst, bool chroma422, int width, int height, const I420Planes& dst);

// Planar 4:2:0 or 4:2:2 (chromaRows = height or height / 2) with Cb and Cr planes given.
void planarToI420(const uint8_t* luma, int lumaStride, const uint8_t* cb, int cbStride,
                  const uint8_t* cr, int crStride, bool chroma422, int width, int height,
                  const I420Planes& dst);

// 8-bit grey, full range (0..255), to limited-range luma (16..235) and neutral chroma.
void greyToI420(const uint8_t* src, int srcStride, int width, int height, const I420Planes& dst);

}  // namespace h265direct
