// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace h265direct {

// One NAL unit inside an access unit's bytes.
struct NalUnitInfo {
    uint32_t offset = 0;        // first byte after the start code, within the AU's bytes
    uint32_t size = 0;          // NAL bytes (header + payload), start code excluded
    uint8_t startCodeSize = 0;  // 3 or 4
    uint8_t type = 0;           // nal_unit_type (0..63)
    uint8_t layerId = 0;        // nuh_layer_id
    uint8_t temporalId = 0;     // TemporalId (nuh_temporal_id_plus1 - 1)
};

// One encoded picture as Annex-B bytes (start codes included), with what was learnt of it.
// Shared by every output without copying: sinks hold an AccessUnitPtr as long as they need.
struct AccessUnit {
    std::vector<uint8_t> data;      // Annex-B bytes of the whole access unit
    std::vector<NalUnitInfo> nals;  // in stream order
    bool keyframe = false;          // holds an IRAP picture (every keyframe here is an IDR)
    bool idr = false;               // holds an IDR picture
    bool hasParameterSets = false;  // VPS, SPS and PPS precede the picture
    int64_t pts = 0;                // presentation number, in frames from the start
    uint64_t frameNumber = 0;       // 0, 1, 2, ... in output order
    int64_t captureTimeNs = 0;      // CLOCK_MONOTONIC time the source produced the frame
    int64_t encodedTimeNs = 0;      // CLOCK_MONOTONIC time the AU left the encoder

    std::span<const uint8_t> bytes() const { return data; }
};

using AccessUnitPtr = std::shared_ptr<const AccessUnit>;

}  // namespace h265direct
