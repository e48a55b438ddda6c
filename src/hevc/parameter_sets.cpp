// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>

#include "h265direct/annexb.hpp"
#include "hevc/bit_reader.hpp"

namespace h265direct::hevc {

namespace {

bool store(std::vector<uint8_t>& slot, std::span<const uint8_t> nal) {
    if (std::equal(slot.begin(), slot.end(), nal.begin(), nal.end())) {
        return false;
    }
    slot.assign(nal.begin(), nal.end());
    return true;
}

}  // namespace

bool ParameterSetCache::update(std::span<const uint8_t> nal) {
    NalHeader header;
    if (parseNalHeader(nal, header) != ParseError::None || header.layerId != 0) {
        return false;
    }
    switch (header.type) {
        case kVps:
            return store(vps_, nal);
        case kSps:
            return store(sps_, nal);
        case kPps:
            return store(pps_, nal);
        default:
            return false;
    }
}

bool ParameterSetCache::update(const AccessUnit& au) {
    bool changed = false;
    for (const NalUnitInfo& n : au.nals) {
        if (n.type >= kVps && n.type <= kPps && size_t{n.offset} + n.size <= au.data.size()) {
            changed |= update(std::span<const uint8_t>(au.data).subspan(n.offset, n.size));
        }
    }
    return changed;
}

std::vector<uint8_t> ParameterSetCache::annexB() const {
    std::vector<uint8_t> out;
    if (!complete()) {
        return out;
    }
    out.reserve(12 + vps_.size() + sps_.size() + pps_.size());
    for (const std::vector<uint8_t>* ps : {&vps_, &sps_, &pps_}) {
        const uint8_t startCode[4] = {0, 0, 0, 1};
        out.insert(out.end(), startCode, startCode + 4);
        out.insert(out.end(), ps->begin(), ps->end());
    }
    return out;
}

void ParameterSetCache::clear() {
    vps_.clear();
    sps_.clear();
    pps_.clear();
}

ParseError parseSps(std::span<const uint8_t> nal, SpsInfo& out) {
    NalHeader header;
    const ParseError he = parseNalHeader(nal, header);
    if (he != ParseError::None) {
        return he;
    }
    if (header.type != kSps) {
        return ParseError::BadSyntax;
    }
    std::vector<uint8_t> rbsp;
    unescapeRbsp(nal.subspan(2), rbsp);
    BitReader r(rbsp);
    SpsInfo s;

    s.vpsId = static_cast<uint8_t>(r.bits(4));
    const unsigned maxSubLayersMinus1 = r.bits(3);
    if (maxSubLayersMinus1 > 6) {
        return ParseError::BadSyntax;
    }
    s.maxSubLayers = static_cast<uint8_t>(maxSubLayersMinus1 + 1);
    r.skip(1);  // sps_temporal_id_nesting_flag

    // profile_tier_level(1, sps_max_sub_layers_minus1)
    s.profileSpace = static_cast<uint8_t>(r.bits(2));
    s.tierFlag = r.flag();
    s.profileIdc = static_cast<uint8_t>(r.bits(5));
    s.profileCompatibility = r.bits(32);
    r.skip(4 + 43 + 1);  // source/constraint flags, general_inbld/reserved flag
    s.levelIdc = static_cast<uint8_t>(r.bits(8));
    bool subProfilePresent[8] = {};
    bool subLevelPresent[8] = {};
    for (unsigned i = 0; i < maxSubLayersMinus1; ++i) {
        subProfilePresent[i] = r.flag();
        subLevelPresent[i] = r.flag();
    }
    if (maxSubLayersMinus1 > 0) {
        r.skip(2 * (8 - maxSubLayersMinus1));  // reserved_zero_2bits
    }
    for (unsigned i = 0; i < maxSubLayersMinus1; ++i) {
        if (subProfilePresent[i]) {
            r.skip(88);
        }
        if (subLevelPresent[i]) {
            r.skip(8);
        }
    }

    s.spsId = r.ue();
    s.chromaFormatIdc = r.ue();
    if (s.spsId > 15 || s.chromaFormatIdc > 3) {
        return r.failed() ? ParseError::Truncated : ParseError::BadSyntax;
    }
    if (s.chromaFormatIdc == 3) {
        s.separateColourPlane = r.flag();
    }
    s.width = r.ue();
    s.height = r.ue();
    if (r.flag()) {  // conformance_window_flag
        s.confLeft = r.ue();
        s.confRight = r.ue();
        s.confTop = r.ue();
        s.confBottom = r.ue();
    }
    const uint32_t bitDepthLumaMinus8 = r.ue();
    const uint32_t bitDepthChromaMinus8 = r.ue();
    if (r.failed()) {
        return ParseError::Truncated;
    }
    if (s.width == 0 || s.height == 0 || bitDepthLumaMinus8 > 8 || bitDepthChromaMinus8 > 8) {
        return ParseError::BadSyntax;
    }
    s.bitDepthLuma = static_cast<uint8_t>(bitDepthLumaMinus8 + 8);
    s.bitDepthChroma = static_cast<uint8_t>(bitDepthChromaMinus8 + 8);

    // Conformance window offsets count chroma samples (SubWidthC/SubHeightC, table 6-1).
    const bool planar = s.chromaFormatIdc == 0 || s.separateColourPlane;
    const uint64_t subWidth = (!planar && s.chromaFormatIdc <= 2) ? 2 : 1;
    const uint64_t subHeight = (!planar && s.chromaFormatIdc == 1) ? 2 : 1;
    const uint64_t cropX = subWidth * (uint64_t{s.confLeft} + s.confRight);
    const uint64_t cropY = subHeight * (uint64_t{s.confTop} + s.confBottom);
    if (cropX >= s.width || cropY >= s.height) {
        return ParseError::BadSyntax;
    }
    s.displayWidth = static_cast<uint32_t>(s.width - cropX);
    s.displayHeight = static_cast<uint32_t>(s.height - cropY);
    out = s;
    return ParseError::None;
}

}  // namespace h265direct::hevc
