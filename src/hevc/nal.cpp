// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstring>
#include <limits>

#include "h265direct/annexb.hpp"
#include "hevc/au_rules.hpp"
#include "hevc/start_code.hpp"

namespace h265direct::hevc {

const char* nalTypeName(uint8_t type) {
    static const char* const kNames[] = {
        "TRAIL_N",        "TRAIL_R",     "TSA_N",       "TSA_R",       "STSA_N",
        "STSA_R",         "RADL_N",      "RADL_R",      "RASL_N",      "RASL_R",
        "RSV_VCL_N10",    "RSV_VCL_R11", "RSV_VCL_N12", "RSV_VCL_R13", "RSV_VCL_N14",
        "RSV_VCL_R15",    "BLA_W_LP",    "BLA_W_RADL",  "BLA_N_LP",    "IDR_W_RADL",
        "IDR_N_LP",       "CRA_NUT",     "RSV_IRAP_22", "RSV_IRAP_23", "RSV_VCL24",
        "RSV_VCL25",      "RSV_VCL26",   "RSV_VCL27",   "RSV_VCL28",   "RSV_VCL29",
        "RSV_VCL30",      "RSV_VCL31",   "VPS_NUT",     "SPS_NUT",     "PPS_NUT",
        "AUD_NUT",        "EOS_NUT",     "EOB_NUT",     "FD_NUT",      "PREFIX_SEI_NUT",
        "SUFFIX_SEI_NUT",
    };
    if (type < std::size(kNames)) {
        return kNames[type];
    }
    if (type < 48) {
        return "RSV_NVCL";
    }
    if (type < 64) {
        return "UNSPEC";
    }
    return "INVALID";
}

const char* toString(ParseError e) {
    switch (e) {
        case ParseError::None:
            return "no error";
        case ParseError::Empty:
            return "no data";
        case ParseError::NoStartCode:
            return "data before the first start code, or no start code";
        case ParseError::ForbiddenBit:
            return "forbidden_zero_bit set in a NAL unit header";
        case ParseError::BadHeader:
            return "nuh_temporal_id_plus1 is 0 in a NAL unit header";
        case ParseError::Truncated:
            return "NAL unit or parameter set cut short";
        case ParseError::EmptyNal:
            return "zero-length NAL unit";
        case ParseError::TooLarge:
            return "access unit over the size limit";
        case ParseError::NoPicture:
            return "access unit without a picture";
        case ParseError::BadSyntax:
            return "value out of range in a parameter set";
        case ParseError::NotOneAccessUnit:
            return "more than one access unit where one was expected";
    }
    return "unknown error";
}

ParseError parseNalHeader(std::span<const uint8_t> nal, NalHeader& out) {
    if (nal.empty()) {
        return ParseError::EmptyNal;
    }
    if (nal.size() < 2) {
        return ParseError::Truncated;
    }
    if ((nal[0] & 0x80) != 0) {
        return ParseError::ForbiddenBit;
    }
    const uint8_t tidPlus1 = nal[1] & 0x07;
    if (tidPlus1 == 0) {
        return ParseError::BadHeader;
    }
    out.type = static_cast<uint8_t>((nal[0] >> 1) & 0x3f);
    out.layerId = static_cast<uint8_t>(((nal[0] & 1) << 5) | (nal[1] >> 3));
    out.temporalId = static_cast<uint8_t>(tidPlus1 - 1);
    return ParseError::None;
}

ParseError splitNalUnits(std::span<const uint8_t> data, std::vector<NalUnitInfo>& out) {
    out.clear();
    if (data.empty()) {
        return ParseError::Empty;
    }
    if (data.size() > std::numeric_limits<uint32_t>::max()) {
        return ParseError::TooLarge;
    }
    const detail::FindStartCodeFn find = detail::bestFindStartCode();
    const uint8_t* const begin = data.data();
    const uint8_t* const end = begin + data.size();

    const uint8_t* sc = find(begin, end);
    if (sc == end) {
        return ParseError::NoStartCode;
    }
    // Only leading_zero_8bits may come before the first start code.
    for (const uint8_t* p = begin; p < sc; ++p) {
        if (*p != 0) {
            return ParseError::NoStartCode;
        }
    }
    uint8_t startCodeSize = sc > begin ? 4 : 3;
    for (;;) {
        const uint8_t* const nalBegin = sc + 3;
        const uint8_t* const next = find(nalBegin, end);
        const uint8_t* nalEnd = next;
        // Zeros before a start code (or the end) are trailing_zero_8bits / zero_byte: a NAL
        // unit never ends with 0x00.
        while (nalEnd > nalBegin && nalEnd[-1] == 0) {
            --nalEnd;
        }
        const std::span<const uint8_t> nal(nalBegin, static_cast<size_t>(nalEnd - nalBegin));
        NalHeader header;
        const ParseError e = parseNalHeader(nal, header);
        if (e != ParseError::None) {
            return e;
        }
        if (isVcl(header.type) && nal.size() < 3) {
            return ParseError::Truncated;
        }
        NalUnitInfo info;
        info.offset = static_cast<uint32_t>(nalBegin - begin);
        info.size = static_cast<uint32_t>(nal.size());
        info.startCodeSize = startCodeSize;
        info.type = header.type;
        info.layerId = header.layerId;
        info.temporalId = header.temporalId;
        out.push_back(info);
        if (next == end) {
            return ParseError::None;
        }
        startCodeSize = (next > nalBegin && next[-1] == 0) ? 4 : 3;
        sc = next;
    }
}

ParseError describeAccessUnit(AccessUnit& au) {
    au.keyframe = false;
    au.idr = false;
    au.hasParameterSets = false;
    const ParseError e = splitNalUnits(au.data, au.nals);
    if (e != ParseError::None) {
        return e;
    }
    bool hasVcl = false;
    bool vps = false;
    bool sps = false;
    bool pps = false;
    for (size_t i = 0; i < au.nals.size(); ++i) {
        const NalUnitInfo& n = au.nals[i];
        const bool firstSlice =
            firstSliceSegmentInPic(std::span<const uint8_t>(au.data).subspan(n.offset, n.size));
        if (detail::opensNewAccessUnit(n.type, n.layerId, firstSlice, i > 0, hasVcl)) {
            return ParseError::NotOneAccessUnit;
        }
        if (isVcl(n.type)) {
            hasVcl = true;
            au.keyframe = au.keyframe || isIrap(n.type);
            au.idr = au.idr || isIdr(n.type);
        } else if (!hasVcl) {
            vps = vps || n.type == kVps;
            sps = sps || n.type == kSps;
            pps = pps || n.type == kPps;
        }
    }
    if (!hasVcl) {
        return ParseError::NoPicture;
    }
    au.hasParameterSets = vps && sps && pps;
    return ParseError::None;
}

void unescapeRbsp(std::span<const uint8_t> nal, std::vector<uint8_t>& out) {
    out.clear();
    out.reserve(nal.size());
    size_t zeros = 0;
    size_t copied = 0;  // nal[0, copied) is in out
    for (size_t i = 0; i < nal.size(); ++i) {
        const uint8_t b = nal[i];
        if (zeros >= 2 && b == 3) {
            out.insert(out.end(), nal.begin() + static_cast<ptrdiff_t>(copied),
                       nal.begin() + static_cast<ptrdiff_t>(i));
            copied = i + 1;
            zeros = 0;
            continue;
        }
        zeros = b == 0 ? zeros + 1 : 0;
    }
    out.insert(out.end(), nal.begin() + static_cast<ptrdiff_t>(copied), nal.end());
}

}  // namespace h265direct::hevc
