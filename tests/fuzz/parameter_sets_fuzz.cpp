// SPDX-License-Identifier: GPL-2.0-or-later
// The parameter-set reader: parseSps on any NAL unit (as given, and with its header made an
// SPS's so the fuzzer reaches the body) keeps its output within the ranges it promises,
// leaves it untouched on an error, and reads a prefix only (bytes appended after a parsed SPS
// change nothing); emulation prevention round-trips (unescapeRbsp undoes escaping); the
// parameter-set cache keeps exactly the VPS/SPS/PPS given and hands them back as Annex-B
// that the splitter reads back unchanged.

#include <cstdint>
#include <span>
#include <tuple>
#include <vector>

#include "fuzz_check.hpp"
#include "h265direct/annexb.hpp"

using namespace h265direct;
using namespace h265direct::hevc;

namespace {

auto fields(const SpsInfo& s) {
    return std::tie(s.vpsId, s.maxSubLayers, s.profileSpace, s.tierFlag, s.profileIdc,
                    s.profileCompatibility, s.levelIdc, s.spsId, s.chromaFormatIdc,
                    s.separateColourPlane, s.width, s.height, s.confLeft, s.confRight, s.confTop,
                    s.confBottom, s.displayWidth, s.displayHeight, s.bitDepthLuma,
                    s.bitDepthChroma);
}
bool sameSps(const SpsInfo& a, const SpsInfo& b) {
    return fields(a) == fields(b);
}

void checkSps(std::span<const uint8_t> nal) {
    SpsInfo sentinel;
    sentinel.width = 0xa5a5a5a5;
    sentinel.levelIdc = 0xa5;
    sentinel.bitDepthLuma = 0xa5;
    SpsInfo s = sentinel;
    const ParseError e = parseSps(nal, s);
    if (e != ParseError::None) {
        FUZZ_CHECK(sameSps(s, sentinel));
        return;
    }
    FUZZ_CHECK(nal.size() >= 2 && (nal[0] >> 1) == kSps);
    FUZZ_CHECK(s.maxSubLayers >= 1 && s.maxSubLayers <= 7);
    FUZZ_CHECK(s.spsId <= 15 && s.chromaFormatIdc <= 3);
    FUZZ_CHECK(!s.separateColourPlane || s.chromaFormatIdc == 3);
    FUZZ_CHECK(s.width > 0 && s.height > 0);
    FUZZ_CHECK(s.displayWidth > 0 && s.displayWidth <= s.width);
    FUZZ_CHECK(s.displayHeight > 0 && s.displayHeight <= s.height);
    FUZZ_CHECK(s.bitDepthLuma >= 8 && s.bitDepthLuma <= 16);
    FUZZ_CHECK(s.bitDepthChroma >= 8 && s.bitDepthChroma <= 16);
    // The same answer twice, and with more bytes after it.
    SpsInfo again = sentinel;
    FUZZ_CHECK(parseSps(nal, again) == ParseError::None && sameSps(again, s));
    std::vector<uint8_t> longer(nal.begin(), nal.end());
    longer.push_back(0x80);
    longer.push_back(0xff);
    again = sentinel;
    FUZZ_CHECK(parseSps(longer, again) == ParseError::None && sameSps(again, s));
}

// RBSP -> NAL payload: 03 after two zeros when the next byte is 00..03, and after trailing
// zeros (H.265 7.4.2).
std::vector<uint8_t> escape(std::span<const uint8_t> rbsp) {
    std::vector<uint8_t> out;
    int zeros = 0;
    for (const uint8_t b : rbsp) {
        if (zeros >= 2 && b <= 3) {
            out.push_back(3);
            zeros = 0;
        }
        out.push_back(b);
        zeros = b == 0 ? zeros + 1 : 0;
    }
    if (zeros >= 2) {
        out.push_back(3);
    }
    return out;
}

// A NAL unit the splitter can read back whole: no 00 00 0x (x <= 2) in it, not ending in 00.
bool cleanNal(std::span<const uint8_t> nal) {
    if (nal.size() < 2 || nal.back() == 0) {
        return false;
    }
    for (size_t i = 0; i + 2 < nal.size(); ++i) {
        if (nal[i] == 0 && nal[i + 1] == 0 && nal[i + 2] <= 2) {
            return false;
        }
    }
    return true;
}

std::vector<uint8_t> withType(std::span<const uint8_t> nal, uint8_t type) {
    std::vector<uint8_t> v(nal.begin(), nal.end());
    if (v.size() < 2) {
        v.resize(2, 0x01);
    }
    // nuh_layer_id 0; nuh_temporal_id_plus1 kept unless it is the invalid 0.
    v[0] = static_cast<uint8_t>(type << 1);
    v[1] = static_cast<uint8_t>((v[1] & 0x07) == 0 ? 0x01 : (v[1] & 0x07));
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> nal(data, size);
    checkSps(nal);
    const std::vector<uint8_t> sps = withType(nal, kSps);
    checkSps(sps);

    std::vector<uint8_t> rbsp;
    unescapeRbsp(escape(nal), rbsp);
    FUZZ_CHECK(std::equal(rbsp.begin(), rbsp.end(), nal.begin(), nal.end()));

    ParameterSetCache cache;
    NalHeader h;
    const bool isPs = parseNalHeader(nal, h) == ParseError::None && h.layerId == 0 &&
                      h.type >= kVps && h.type <= kPps;
    FUZZ_CHECK(cache.update(nal) == isPs);
    FUZZ_CHECK(!cache.update(nal));  // the same again changes nothing
    const std::vector<uint8_t> vps = withType(nal, kVps);
    const std::vector<uint8_t> pps = withType(nal, kPps);
    cache.update(vps);
    cache.update(sps);
    FUZZ_CHECK(cache.complete() == (isPs && h.type == kPps));
    cache.update(pps);
    FUZZ_CHECK(cache.complete());
    FUZZ_CHECK(std::equal(cache.vps().begin(), cache.vps().end(), vps.begin(), vps.end()));
    FUZZ_CHECK(std::equal(cache.sps().begin(), cache.sps().end(), sps.begin(), sps.end()));
    FUZZ_CHECK(std::equal(cache.pps().begin(), cache.pps().end(), pps.begin(), pps.end()));
    const std::vector<uint8_t> annexB = cache.annexB();
    FUZZ_CHECK(annexB.size() == 12 + vps.size() + sps.size() + pps.size());
    if (cleanNal(vps) && cleanNal(sps) && cleanNal(pps)) {
        std::vector<NalUnitInfo> split;
        FUZZ_CHECK(splitNalUnits(annexB, split) == ParseError::None);
        FUZZ_CHECK(split.size() == 3);
        const std::vector<uint8_t>* want[] = {&vps, &sps, &pps};
        for (size_t i = 0; i < 3; ++i) {
            FUZZ_CHECK(split[i].type == kVps + i && split[i].startCodeSize == 4);
            FUZZ_CHECK(std::equal(annexB.begin() + split[i].offset,
                                  annexB.begin() + split[i].offset + split[i].size,
                                  want[i]->begin(), want[i]->end()));
        }
    }
    cache.clear();
    FUZZ_CHECK(!cache.complete() && cache.annexB().empty());
    return 0;
}
