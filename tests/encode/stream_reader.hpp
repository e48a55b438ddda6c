// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// A deliberately small HEVC reader for the encoder tests: enough Annex-B scanning and SPS
// parsing to check what x265 wrote, independent of the project's own hevc module.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace h265direct::test {

struct Nal {
    int type = -1;                  // nal_unit_type
    std::span<const uint8_t> data;  // from the NAL header on, without the start code
};

// Every NAL unit after a 3- or 4-byte start code.
inline std::vector<Nal> splitAnnexB(std::span<const uint8_t> bytes) {
    std::vector<size_t> starts;  // offset of the first byte after each start code
    for (size_t i = 0; i + 2 < bytes.size(); ++i) {
        if (bytes[i] == 0 && bytes[i + 1] == 0 && bytes[i + 2] == 1) {
            starts.push_back(i + 3);
            i += 2;
        }
    }
    std::vector<Nal> nals;
    for (size_t k = 0; k < starts.size(); ++k) {
        size_t begin = starts[k];
        size_t end = k + 1 < starts.size() ? starts[k + 1] - 3 : bytes.size();
        // The zero before a 4-byte start code belongs to the start code, not this NAL.
        while (end > begin && bytes[end - 1] == 0) {
            --end;
        }
        Nal nal;
        nal.data = bytes.subspan(begin, end - begin);
        if (!nal.data.empty()) {
            nal.type = (nal.data[0] >> 1) & 0x3f;
        }
        nals.push_back(nal);
    }
    return nals;
}

// The payload without emulation-prevention bytes (00 00 03 -> 00 00).
inline std::vector<uint8_t> unescape(std::span<const uint8_t> data) {
    std::vector<uint8_t> out;
    out.reserve(data.size());
    int zeros = 0;
    for (uint8_t b : data) {
        if (zeros >= 2 && b == 3) {
            zeros = 0;
            continue;
        }
        zeros = b == 0 ? zeros + 1 : 0;
        out.push_back(b);
    }
    return out;
}

class BitReader {
public:
    explicit BitReader(std::span<const uint8_t> data) : data_(data) {}
    uint32_t bits(int n) {
        uint32_t v = 0;
        for (int i = 0; i < n; ++i) {
            size_t byte = pos_ / 8;
            uint32_t bit = 0;
            if (byte < data_.size()) {
                bit = (data_[byte] >> (7 - pos_ % 8)) & 1u;
            } else {
                overrun_ = true;
            }
            v = (v << 1) | bit;
            ++pos_;
        }
        return v;
    }
    void skip(int n) { pos_ += static_cast<size_t>(n); }
    uint32_t ue() {
        int leading = 0;
        while (bits(1) == 0) {
            if (++leading > 31 || overrun_) {
                overrun_ = true;
                return 0;
            }
        }
        return ((1u << leading) - 1) + bits(leading);
    }
    bool overrun() const { return overrun_ || pos_ > data_.size() * 8; }

private:
    std::span<const uint8_t> data_;
    size_t pos_ = 0;
    bool overrun_ = false;
};

struct SpsInfo {
    int profileIdc = -1;
    int levelIdc = -1;
    int chromaFormatIdc = -1;
    int width = 0;  // after the conformance window
    int height = 0;
    int bitDepthLuma = 0;
    int bitDepthChroma = 0;
};

// H.265 7.3.2.2 up to the bit depths.
inline std::optional<SpsInfo> parseSps(const Nal& nal) {
    if (nal.type != 33 || nal.data.size() < 3) {
        return std::nullopt;
    }
    std::vector<uint8_t> rbsp = unescape(nal.data.subspan(2));
    BitReader r(rbsp);
    SpsInfo s;
    r.skip(4);  // sps_video_parameter_set_id
    int maxSubLayersMinus1 = static_cast<int>(r.bits(3));
    r.skip(1);  // sps_temporal_id_nesting_flag
    // profile_tier_level(1, maxSubLayersMinus1)
    r.skip(2 + 1);  // general_profile_space, general_tier_flag
    s.profileIdc = static_cast<int>(r.bits(5));
    r.skip(32);      // general_profile_compatibility_flag[32]
    r.skip(4 + 44);  // source/constraint flags, reserved bits
    s.levelIdc = static_cast<int>(r.bits(8));
    std::vector<bool> profilePresent(8), levelPresent(8);
    for (int i = 0; i < maxSubLayersMinus1; ++i) {
        profilePresent[i] = r.bits(1) != 0;
        levelPresent[i] = r.bits(1) != 0;
    }
    if (maxSubLayersMinus1 > 0) {
        r.skip(2 * (8 - maxSubLayersMinus1));
    }
    for (int i = 0; i < maxSubLayersMinus1; ++i) {
        if (profilePresent[i]) {
            r.skip(88);
        }
        if (levelPresent[i]) {
            r.skip(8);
        }
    }
    r.ue();  // sps_seq_parameter_set_id
    s.chromaFormatIdc = static_cast<int>(r.ue());
    if (s.chromaFormatIdc == 3) {
        r.skip(1);  // separate_colour_plane_flag
    }
    int codedWidth = static_cast<int>(r.ue());
    int codedHeight = static_cast<int>(r.ue());
    int subW = s.chromaFormatIdc == 1 || s.chromaFormatIdc == 2 ? 2 : 1;
    int subH = s.chromaFormatIdc == 1 ? 2 : 1;
    s.width = codedWidth;
    s.height = codedHeight;
    if (r.bits(1) != 0) {  // conformance_window_flag
        int left = static_cast<int>(r.ue());
        int right = static_cast<int>(r.ue());
        int top = static_cast<int>(r.ue());
        int bottom = static_cast<int>(r.ue());
        s.width -= subW * (left + right);
        s.height -= subH * (top + bottom);
    }
    s.bitDepthLuma = static_cast<int>(r.ue()) + 8;
    s.bitDepthChroma = static_cast<int>(r.ue()) + 8;
    if (r.overrun()) {
        return std::nullopt;
    }
    return s;
}

// num_extra_slice_header_bits from a PPS (H.265 7.3.2.3), needed to reach slice_type.
inline std::optional<int> parsePpsExtraSliceHeaderBits(const Nal& nal) {
    if (nal.type != 34 || nal.data.size() < 3) {
        return std::nullopt;
    }
    std::vector<uint8_t> rbsp = unescape(nal.data.subspan(2));
    BitReader r(rbsp);
    r.ue();     // pps_pic_parameter_set_id
    r.ue();     // pps_seq_parameter_set_id
    r.skip(2);  // dependent_slice_segments_enabled_flag, output_flag_present_flag
    int bits = static_cast<int>(r.bits(3));
    if (r.overrun()) {
        return std::nullopt;
    }
    return bits;
}

// slice_type (0 B, 1 P, 2 I) of the first slice segment of a picture (H.265 7.3.6.1).
inline std::optional<int> parseSliceType(const Nal& nal, int extraSliceHeaderBits) {
    if (nal.type < 0 || nal.type > 31 || nal.data.size() < 3) {
        return std::nullopt;
    }
    std::vector<uint8_t> rbsp = unescape(nal.data.subspan(2));
    BitReader r(rbsp);
    if (r.bits(1) != 1) {  // first_slice_segment_in_pic_flag
        return std::nullopt;
    }
    if (nal.type >= 16 && nal.type <= 23) {
        r.skip(1);  // no_output_of_prior_pics_flag
    }
    r.ue();  // slice_pic_parameter_set_id
    r.skip(extraSliceHeaderBits);
    int type = static_cast<int>(r.ue());
    if (r.overrun()) {
        return std::nullopt;
    }
    return type;
}

// The text of x265's user-data-unregistered SEI ("x265 (build N) ... options: ..."), if
// the bytes hold one. The text has no zero bytes, so no emulation prevention inside it.
inline std::optional<std::string> x265InfoText(std::span<const uint8_t> bytes) {
    for (const Nal& nal : splitAnnexB(bytes)) {
        if (nal.type != 39) {
            continue;
        }
        std::string_view body(reinterpret_cast<const char*>(nal.data.data()), nal.data.size());
        size_t at = body.find("x265 (build");
        if (at == std::string_view::npos) {
            continue;
        }
        // The text runs to the end of the message: stop at the first byte that is not text
        // (the terminating zero, or the RBSP stop bit).
        size_t end = at;
        while (end < body.size() && body[end] >= 0x20 && body[end] < 0x7f) {
            ++end;
        }
        return std::string(body.substr(at, end - at));
    }
    return std::nullopt;
}

// The options of x265's info text as name -> value; a bare flag "name" is "1", "no-name"
// is name -> "0".
inline std::map<std::string, std::string> x265Options(const std::string& info) {
    std::map<std::string, std::string> options;
    size_t at = info.find(" options: ");
    if (at == std::string::npos) {
        return options;
    }
    std::istringstream in(info.substr(at + 10));
    std::string token;
    while (in >> token) {
        size_t eq = token.find('=');
        if (eq != std::string::npos) {
            options[token.substr(0, eq)] = token.substr(eq + 1);
        } else if (token.rfind("no-", 0) == 0) {
            options[token.substr(3)] = "0";
        } else {
            options[token] = "1";
        }
    }
    return options;
}

}  // namespace h265direct::test
