// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The access-unit boundary rule (H.265 7.4.2.4.4), shared by the streaming assembler and
// describeAccessUnit so that both always agree.

#include <cstdint>

#include "h265direct/annexb.hpp"

namespace h265direct::hevc::detail {

// Whether a NAL unit with a valid header opens a new access unit, given what the current
// one holds so far. firstSlice is first_slice_segment_in_pic_flag (VCL NAL units only).
inline bool opensNewAccessUnit(uint8_t type, uint8_t layerId, bool firstSlice, bool auStarted,
                               bool auHasVcl) {
    if (type == kAud) {
        return auStarted;
    }
    if (isVcl(type)) {
        // Pictures of other layers (nuh_layer_id > 0) belong to the base layer's AU.
        return auHasVcl && layerId == 0 && firstSlice;
    }
    return auHasVcl && opensAccessUnit(type);
}

}  // namespace h265direct::hevc::detail
