// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Builders for hand-made H.265 streams, and an obviously-correct (slow) reference splitter
// the fast one is checked against.

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <span>
#include <vector>

#include "h265direct/annexb.hpp"

namespace h265direct::hevc::test {

using Bytes = std::vector<uint8_t>;

// nal_unit_header + payload.
inline Bytes makeNal(uint8_t type, std::initializer_list<uint8_t> payload = {0x80},
                     uint8_t layerId = 0, uint8_t temporalId = 0) {
    // Sized up front: GCC 12 warns falsely (-Warray-bounds) on inserting after push_back.
    Bytes b(2 + payload.size());
    b[0] = static_cast<uint8_t>((type << 1) | (layerId >> 5));
    b[1] = static_cast<uint8_t>(((layerId & 0x1f) << 3) | (temporalId + 1));
    std::copy(payload.begin(), payload.end(), b.begin() + 2);
    return b;
}

// A slice segment NAL unit: first_slice_segment_in_pic_flag, then some payload bytes.
inline Bytes makeSlice(uint8_t type, bool firstSlice, size_t payloadBytes = 4,
                       uint8_t fill = 0xa5) {
    // Sized up front too: inserting into the 3-byte NAL trips the same false warning at -O3.
    const Bytes head = makeNal(type, {static_cast<uint8_t>(firstSlice ? 0xc0 : 0x40)});
    Bytes b(head.size() + payloadBytes, fill);
    std::copy(head.begin(), head.end(), b.begin());
    return b;
}

inline void appendNal(Bytes& stream, const Bytes& nal, int startCodeSize = 4) {
    for (int i = 0; i < startCodeSize - 1; ++i) {
        stream.push_back(0);
    }
    stream.push_back(1);
    stream.insert(stream.end(), nal.begin(), nal.end());
}

// MSB-first bit writer with ue(v), and RBSP -> NAL payload escaping (emulation prevention).
class BitWriter {
public:
    void bits(uint64_t value, unsigned n) {
        for (unsigned i = n; i-- > 0;) {
            bit((value >> i) & 1);
        }
    }
    void bit(uint64_t b) {
        cur_ = static_cast<uint8_t>((cur_ << 1) | (b & 1));
        if (++used_ == 8) {
            out_.push_back(cur_);
            cur_ = 0;
            used_ = 0;
        }
    }
    void ue(uint32_t v) {
        const uint64_t x = uint64_t{v} + 1;
        unsigned len = 0;
        while ((x >> len) > 1) {
            ++len;
        }
        bits(0, len);
        bits(x, len + 1);
    }
    // rbsp_trailing_bits
    Bytes finish() {
        bit(1);
        while (used_ != 0) {
            bit(0);
        }
        return out_;
    }

private:
    Bytes out_;
    uint8_t cur_ = 0;
    unsigned used_ = 0;
};

inline Bytes escapeRbsp(std::span<const uint8_t> rbsp) {
    Bytes out;
    size_t zeros = 0;
    for (uint8_t b : rbsp) {
        if (zeros >= 2 && b <= 3) {
            out.push_back(3);
            zeros = 0;
        }
        out.push_back(b);
        zeros = b == 0 ? zeros + 1 : 0;
    }
    return out;
}

// Reference splitter: byte by byte, straight from the Annex-B definitions.
inline ParseError referenceSplit(std::span<const uint8_t> d, std::vector<NalUnitInfo>& out) {
    out.clear();
    if (d.empty()) {
        return ParseError::Empty;
    }
    std::vector<size_t> ones;  // index of the 01 of every 00 00 01
    for (size_t i = 2; i < d.size(); ++i) {
        if (d[i] == 1 && d[i - 1] == 0 && d[i - 2] == 0) {
            ones.push_back(i);
        }
    }
    if (ones.empty()) {
        return ParseError::NoStartCode;
    }
    for (size_t i = 0; i + 2 < ones[0]; ++i) {
        if (d[i] != 0) {
            return ParseError::NoStartCode;
        }
    }
    for (size_t k = 0; k < ones.size(); ++k) {
        const size_t begin = ones[k] + 1;
        size_t end = k + 1 < ones.size() ? ones[k + 1] : d.size();
        while (end > begin && d[end - 1] == 0) {
            --end;
        }
        const size_t size = end - begin;
        if (size == 0) {
            return ParseError::EmptyNal;
        }
        if (size < 2) {
            return ParseError::Truncated;
        }
        if (d[begin] & 0x80) {
            return ParseError::ForbiddenBit;
        }
        if ((d[begin + 1] & 7) == 0) {
            return ParseError::BadHeader;
        }
        const uint8_t type = (d[begin] >> 1) & 0x3f;
        if (type < 32 && size < 3) {
            return ParseError::Truncated;
        }
        NalUnitInfo n;
        n.offset = static_cast<uint32_t>(begin);
        n.size = static_cast<uint32_t>(size);
        n.startCodeSize = (ones[k] >= 3 && d[ones[k] - 3] == 0) ? 4 : 3;
        n.type = type;
        n.layerId = static_cast<uint8_t>(((d[begin] & 1) << 5) | (d[begin + 1] >> 3));
        n.temporalId = static_cast<uint8_t>((d[begin + 1] & 7) - 1);
        out.push_back(n);
    }
    return ParseError::None;
}

inline bool sameNal(const NalUnitInfo& a, const NalUnitInfo& b) {
    return a.offset == b.offset && a.size == b.size && a.startCodeSize == b.startCodeSize &&
           a.type == b.type && a.layerId == b.layerId && a.temporalId == b.temporalId;
}

// Random bytes biased towards 00, 01 and 03 so that start codes, emulation prevention and
// zero runs are common.
inline Bytes randomBytes(std::mt19937& rng, size_t n) {
    Bytes b(n);
    std::uniform_int_distribution<int> pick(0, 15);
    std::uniform_int_distribution<int> any(0, 255);
    for (uint8_t& x : b) {
        const int k = pick(rng);
        x = static_cast<uint8_t>(k < 6 ? 0 : k < 8 ? 1 : k < 9 ? 3 : any(rng));
    }
    return b;
}

}  // namespace h265direct::hevc::test
