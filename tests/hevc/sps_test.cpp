// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <random>

#include "h265direct/annexb.hpp"
#include "hevc/bit_reader.hpp"
#include "hevc_test_util.hpp"

namespace h265direct::hevc {
namespace {

using test::Bytes;

TEST(BitReader, FixedAndExpGolomb) {
    test::BitWriter w;
    w.bits(0x5, 3);
    w.ue(0);
    w.ue(1);
    w.ue(2);
    w.ue(254);
    w.ue(0xfffffffe);  // the largest ue(v) value: 31 leading zeros
    w.bits(0xdeadbeef, 32);
    w.ue(3);  // se +2
    w.ue(4);  // se -2
    const Bytes b = w.finish();
    BitReader r(b);
    EXPECT_EQ(r.bits(3), 5u);
    EXPECT_EQ(r.ue(), 0u);
    EXPECT_EQ(r.ue(), 1u);
    EXPECT_EQ(r.ue(), 2u);
    EXPECT_EQ(r.ue(), 254u);
    EXPECT_EQ(r.ue(), 0xfffffffeu);
    EXPECT_EQ(r.bits(32), 0xdeadbeefu);
    EXPECT_EQ(r.se(), 2);
    EXPECT_EQ(r.se(), -2);
    EXPECT_FALSE(r.failed());
    EXPECT_EQ(r.bits(1), 1u);  // rbsp_stop_one_bit
    r.skip(r.bitsLeft());
    EXPECT_FALSE(r.failed());
    EXPECT_EQ(r.bits(1), 0u);
    EXPECT_TRUE(r.failed());
}

TEST(BitReader, OverlongAndCutCodes) {
    const Bytes zeros(8, 0);  // 64 zero bits: no ue(v) ends
    BitReader r(zeros);
    EXPECT_EQ(r.ue(), 0u);
    EXPECT_TRUE(r.failed());
    const Bytes cut = {0x00, 0x01};  // 15 zeros, a 1, and then no suffix bits
    BitReader c(cut);
    c.ue();
    EXPECT_TRUE(c.failed());
}

struct SpsFields {
    unsigned maxSubLayersMinus1 = 0;
    unsigned profileIdc = 1;
    bool tier = false;
    unsigned levelIdc = 93;
    unsigned spsId = 0;
    unsigned chroma = 1;
    bool separatePlanes = false;
    unsigned width = 1920;
    unsigned height = 1088;
    unsigned conf[4] = {0, 0, 0, 4};
    unsigned bitDepthLumaMinus8 = 0;
    unsigned bitDepthChromaMinus8 = 0;
};

// An SPS NAL unit written field by field (H.265 7.3.2.2), escaped.
Bytes buildSps(const SpsFields& f, size_t* rbspBytes = nullptr) {
    test::BitWriter w;
    w.bits(0, 4);  // sps_video_parameter_set_id
    w.bits(f.maxSubLayersMinus1, 3);
    w.bits(1, 1);  // temporal_id_nesting
    w.bits(0, 2);  // profile space
    w.bits(f.tier, 1);
    w.bits(f.profileIdc, 5);
    w.bits(uint64_t{1} << (31 - f.profileIdc), 32);  // compatibility flag [profile]
    w.bits(0b1001, 4);  // progressive, not interlaced, not non-packed, frame-only
    w.bits(0, 43);
    w.bits(0, 1);
    w.bits(f.levelIdc, 8);
    for (unsigned i = 0; i < f.maxSubLayersMinus1; ++i) {
        w.bits(i == 0 ? 1 : 0, 1);  // sub_layer_profile_present_flag
        w.bits(1, 1);               // sub_layer_level_present_flag
    }
    if (f.maxSubLayersMinus1 > 0) {
        w.bits(0, 2 * (8 - f.maxSubLayersMinus1));
    }
    for (unsigned i = 0; i < f.maxSubLayersMinus1; ++i) {
        if (i == 0) {
            w.bits(0x7ff, 44);  // 88 bits of sub-layer profile: must be skipped exactly
            w.bits(0x0, 44);
        }
        w.bits(0xff, 8);  // sub_layer_level_idc
    }
    w.ue(f.spsId);
    w.ue(f.chroma);
    if (f.chroma == 3) {
        w.bits(f.separatePlanes, 1);
    }
    w.ue(f.width);
    w.ue(f.height);
    const bool conf = f.conf[0] || f.conf[1] || f.conf[2] || f.conf[3];
    w.bits(conf, 1);
    if (conf) {
        for (unsigned c : f.conf) {
            w.ue(c);
        }
    }
    w.ue(f.bitDepthLumaMinus8);
    w.ue(f.bitDepthChromaMinus8);
    w.ue(4);  // log2_max_pic_order_cnt_lsb_minus4: more syntax follows in a real SPS
    const Bytes rbsp = w.finish();
    if (rbspBytes != nullptr) {
        *rbspBytes = rbsp.size();
    }
    Bytes nal = test::makeNal(kSps, {});
    const Bytes escaped = test::escapeRbsp(rbsp);
    nal.insert(nal.end(), escaped.begin(), escaped.end());
    return nal;
}

TEST(ParseSps, MainProfile1080pWithCroppingAndEmulationPrevention) {
    SpsFields f;
    size_t rbspBytes = 0;
    const Bytes nal = buildSps(f, &rbspBytes);
    // The 43 zero constraint bits force emulation-prevention bytes into the NAL unit.
    ASSERT_GT(nal.size() - 2, rbspBytes);
    SpsInfo s;
    ASSERT_EQ(parseSps(nal, s), ParseError::None);
    EXPECT_EQ(s.profileIdc, 1);
    EXPECT_FALSE(s.tierFlag);
    EXPECT_EQ(s.levelIdc, 93);
    EXPECT_EQ(s.profileCompatibility, 1u << 30);
    EXPECT_EQ(s.chromaFormatIdc, 1u);
    EXPECT_EQ(s.width, 1920u);
    EXPECT_EQ(s.height, 1088u);
    EXPECT_EQ(s.confBottom, 4u);
    EXPECT_EQ(s.displayWidth, 1920u);
    EXPECT_EQ(s.displayHeight, 1080u);
    EXPECT_EQ(s.bitDepthLuma, 8);
    EXPECT_EQ(s.bitDepthChroma, 8);
    EXPECT_EQ(s.maxSubLayers, 1);
}

TEST(ParseSps, SubLayersHighTier444TenBit) {
    SpsFields f;
    f.maxSubLayersMinus1 = 2;
    f.profileIdc = 4;
    f.tier = true;
    f.levelIdc = 150;
    f.spsId = 3;
    f.chroma = 3;
    f.separatePlanes = false;
    f.width = 642;
    f.height = 362;
    f.conf[0] = 1;  // 4:4:4: offsets count luma samples
    f.conf[1] = 1;
    f.conf[2] = 0;
    f.conf[3] = 2;
    f.bitDepthLumaMinus8 = 2;
    f.bitDepthChromaMinus8 = 2;
    SpsInfo s;
    ASSERT_EQ(parseSps(buildSps(f), s), ParseError::None);
    EXPECT_EQ(s.maxSubLayers, 3);
    EXPECT_EQ(s.profileIdc, 4);
    EXPECT_TRUE(s.tierFlag);
    EXPECT_EQ(s.levelIdc, 150);
    EXPECT_EQ(s.spsId, 3u);
    EXPECT_EQ(s.chromaFormatIdc, 3u);
    EXPECT_EQ(s.width, 642u);
    EXPECT_EQ(s.height, 362u);
    EXPECT_EQ(s.displayWidth, 640u);
    EXPECT_EQ(s.displayHeight, 360u);
    EXPECT_EQ(s.bitDepthLuma, 10);
    EXPECT_EQ(s.bitDepthChroma, 10);
}

TEST(ParseSps, RejectsBadInput) {
    SpsInfo s;
    EXPECT_EQ(parseSps(test::makeNal(kPps, {1, 2, 3}), s), ParseError::BadSyntax);
    EXPECT_EQ(parseSps(Bytes{0x42}, s), ParseError::Truncated);

    SpsFields f;
    f.chroma = 5;
    EXPECT_EQ(parseSps(buildSps(f), s), ParseError::BadSyntax);
    f = SpsFields{};
    f.width = 0;
    EXPECT_EQ(parseSps(buildSps(f), s), ParseError::BadSyntax);
    f = SpsFields{};
    f.conf[3] = 544;  // crops the whole height
    EXPECT_EQ(parseSps(buildSps(f), s), ParseError::BadSyntax);

    // Cut short anywhere before the bit depths: always an error, never a crash.
    const Bytes full = buildSps(SpsFields{});
    for (size_t n = 0; n + 2 < full.size(); ++n) {
        const ParseError e = parseSps(std::span<const uint8_t>(full).first(n), s);
        EXPECT_NE(e, ParseError::None) << n;
    }
    std::mt19937 rng(3);
    for (int i = 0; i < 2000; ++i) {
        Bytes junk = test::randomBytes(rng, rng() % 64);
        junk.insert(junk.begin(), {0x42, 0x01});
        parseSps(junk, s);  // any result, no crash (ASan/UBSan builds check the reads)
    }
}

TEST(ParameterSetCache, KeepsTheLatest) {
    ParameterSetCache c;
    EXPECT_FALSE(c.complete());
    EXPECT_TRUE(c.annexB().empty());
    const Bytes vps = test::makeNal(kVps, {0x0c});
    const Bytes sps1 = test::makeNal(kSps, {0x01});
    const Bytes sps2 = test::makeNal(kSps, {0x02});
    const Bytes pps = test::makeNal(kPps, {0xc1});
    EXPECT_TRUE(c.update(vps));
    EXPECT_FALSE(c.update(vps));  // unchanged
    EXPECT_TRUE(c.update(sps1));
    EXPECT_FALSE(c.update(test::makeSlice(kIdrNLp, true)));
    EXPECT_FALSE(c.complete());
    EXPECT_TRUE(c.update(pps));
    EXPECT_TRUE(c.complete());
    EXPECT_TRUE(c.update(sps2));
    EXPECT_EQ(Bytes(c.sps().begin(), c.sps().end()), sps2);
    Bytes expected;
    test::appendNal(expected, vps);
    test::appendNal(expected, sps2);
    test::appendNal(expected, pps);
    EXPECT_EQ(c.annexB(), expected);

    // From an access unit.
    Bytes s;
    test::appendNal(s, test::makeNal(kVps, {0x0d}));
    test::appendNal(s, sps1);
    test::appendNal(s, pps);
    test::appendNal(s, test::makeSlice(kIdrNLp, true));
    AccessUnitAssembler a;
    std::vector<AccessUnit> aus;
    a.push(s, aus);
    ASSERT_EQ(a.finish(aus), ParseError::None);
    ASSERT_EQ(aus.size(), 1u);
    EXPECT_TRUE(c.update(aus[0]));
    EXPECT_EQ(Bytes(c.sps().begin(), c.sps().end()), sps1);
    EXPECT_EQ(c.vps()[2], 0x0d);
    c.clear();
    EXPECT_FALSE(c.complete());
}

}  // namespace
}  // namespace h265direct::hevc
