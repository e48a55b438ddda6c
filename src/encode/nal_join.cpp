// SPDX-License-Identifier: GPL-2.0-or-later
#include "encode/nal_join.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace h265direct {

bool isX265InfoSei(const x265_nal& nal) {
    constexpr std::string_view kBanner = "x265 (build";
    if (nal.type != NAL_UNIT_PREFIX_SEI || nal.payload == nullptr) {
        return false;
    }
    const uint8_t* p = nal.payload;
    const size_t size = nal.sizeBytes;
    size_t header = size >= 3 && p[2] == 1 ? 3 : 4;  // 3- or 4-byte start code
    header += 2;                                     // NAL header
    if (size <= header || p[header] != 5) {          // payload type: user data unregistered
        return false;
    }
    // Size bytes and the 16-byte UUID come first: the text starts within 48 bytes.
    std::string_view head(reinterpret_cast<const char*>(p + header),
                          std::min<size_t>(size - header, 64));
    size_t at = head.find(kBanner);
    return at != std::string_view::npos && at < 48;
}

std::span<const uint8_t> joinNals(x265_nal* nals, uint32_t count, uint32_t skip,
                                  std::vector<uint8_t>& scratch, bool& copied) {
    copied = false;
    if (count == 0) {
        return {};
    }
    // One comparison per NAL: cheap enough to check on every call.
    bool contiguous = true;
    for (uint32_t i = 1; i < count && contiguous; ++i) {
        contiguous = nals[i].payload == nals[i - 1].payload + nals[i - 1].sizeBytes;
    }
    if (contiguous) {
        uint8_t* begin = nals[0].payload;
        uint8_t* end = nals[count - 1].payload + nals[count - 1].sizeBytes;
        if (skip < count) {
            size_t before = static_cast<size_t>(nals[skip].payload - begin);
            uint8_t* newBegin = begin + nals[skip].sizeBytes;
            std::memmove(newBegin, begin, before);
            begin = newBegin;
        }
        return {begin, end};
    }
    copied = true;
    scratch.clear();
    for (uint32_t i = 0; i < count; ++i) {
        if (i != skip) {
            scratch.insert(scratch.end(), nals[i].payload, nals[i].payload + nals[i].sizeBytes);
        }
    }
    return {scratch.data(), scratch.size()};
}

}  // namespace h265direct
