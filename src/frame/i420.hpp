// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>

namespace h265direct {

// Writable I420 (YUV 4:2:0 planar, 8-bit) picture.
struct I420Planes {
    uint8_t* y = nullptr;
    uint8_t* u = nullptr;
    uint8_t* v = nullptr;
    int strideY = 0;
    int strideU = 0;
    int strideV = 0;
};

}  // namespace h265direct
