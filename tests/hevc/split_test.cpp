// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "h265direct/annexb.hpp"
#include "hevc/start_code.hpp"
#include "hevc_test_util.hpp"

namespace h265direct::hevc {
namespace {

using test::Bytes;

std::span<const uint8_t> nalBytes(const Bytes& d, const NalUnitInfo& n) {
    return std::span<const uint8_t>(d).subspan(n.offset, n.size);
}

TEST(SplitNalUnits, ThreeAndFourByteStartCodes) {
    Bytes s;
    const Bytes vps = test::makeNal(kVps, {0x0c, 0x01});
    const Bytes sps = test::makeNal(kSps, {0x01, 0x02, 0x03});
    const Bytes idr = test::makeSlice(kIdrWRadl, true, 10);
    test::appendNal(s, vps, 4);
    test::appendNal(s, sps, 3);
    test::appendNal(s, idr, 4);
    std::vector<NalUnitInfo> nals;
    ASSERT_EQ(splitNalUnits(s, nals), ParseError::None);
    ASSERT_EQ(nals.size(), 3u);
    EXPECT_EQ(nals[0].offset, 4u);
    EXPECT_EQ(nals[0].startCodeSize, 4);
    EXPECT_EQ(nals[0].type, kVps);
    EXPECT_EQ(nals[1].startCodeSize, 3);
    EXPECT_EQ(nals[1].type, kSps);
    EXPECT_EQ(nals[1].offset, 4u + vps.size() + 3);
    EXPECT_EQ(nals[2].startCodeSize, 4);
    EXPECT_EQ(nals[2].type, kIdrWRadl);
    EXPECT_EQ(nals[2].offset + nals[2].size, s.size());
    auto eq = [](std::span<const uint8_t> a, const Bytes& b) {
        return a.size() == b.size() && std::memcmp(a.data(), b.data(), b.size()) == 0;
    };
    EXPECT_TRUE(eq(nalBytes(s, nals[0]), vps));
    EXPECT_TRUE(eq(nalBytes(s, nals[1]), sps));
    EXPECT_TRUE(eq(nalBytes(s, nals[2]), idr));
}

TEST(SplitNalUnits, HeaderFields) {
    Bytes s;
    test::appendNal(s, test::makeNal(kTrailR, {0x80, 0x11}, /*layerId=*/37, /*temporalId=*/5));
    std::vector<NalUnitInfo> nals;
    ASSERT_EQ(splitNalUnits(s, nals), ParseError::None);
    ASSERT_EQ(nals.size(), 1u);
    EXPECT_EQ(nals[0].type, kTrailR);
    EXPECT_EQ(nals[0].layerId, 37);
    EXPECT_EQ(nals[0].temporalId, 5);
}

TEST(SplitNalUnits, ExtraZerosBelongToNoNal) {
    // leading_zero_8bits, then a NAL unit followed by trailing_zero_8bits before a
    // 4-byte start code, and zeros at the very end.
    Bytes s = {0, 0, 0, 0, 0, 0, 1};
    const Bytes a = test::makeNal(kSps, {0x42, 0x17});
    s.insert(s.end(), a.begin(), a.end());
    s.insert(s.end(), {0, 0, 0, 0, 0, 0, 0, 1});
    const Bytes b = test::makeSlice(kIdrNLp, true, 3);
    s.insert(s.end(), b.begin(), b.end());
    s.insert(s.end(), {0, 0, 0});
    std::vector<NalUnitInfo> nals;
    ASSERT_EQ(splitNalUnits(s, nals), ParseError::None);
    ASSERT_EQ(nals.size(), 2u);
    EXPECT_EQ(nals[0].offset, 7u);
    EXPECT_EQ(nals[0].size, a.size());
    EXPECT_EQ(nals[0].startCodeSize, 4);
    EXPECT_EQ(nals[1].offset, 7u + a.size() + 8);
    EXPECT_EQ(nals[1].size, b.size());
    EXPECT_EQ(nals[1].startCodeSize, 4);
}

TEST(SplitNalUnits, EmulationPreventionIsNotAStartCode) {
    // 00 00 03 01 inside a NAL unit: the escaped form of 00 00 01.
    const Bytes payload = {0x80, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00,
                           0x03, 0x00, 0x00, 0x03, 0x03, 0x7f};
    Bytes nal = test::makeNal(kTrailR);
    nal.insert(nal.end(), payload.begin(), payload.end());
    Bytes s;
    test::appendNal(s, nal, 3);
    test::appendNal(s, test::makeSlice(kTrailR, true), 3);
    std::vector<NalUnitInfo> nals;
    ASSERT_EQ(splitNalUnits(s, nals), ParseError::None);
    ASSERT_EQ(nals.size(), 2u);
    EXPECT_EQ(nals[0].size, nal.size());

    std::vector<uint8_t> rbsp;
    unescapeRbsp(payload, rbsp);
    const Bytes expected = {0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x03, 0x7f};
    EXPECT_EQ(rbsp, expected);
    EXPECT_EQ(test::escapeRbsp(expected), payload);
}

TEST(SplitNalUnits, Errors) {
    std::vector<NalUnitInfo> nals;
    EXPECT_EQ(splitNalUnits({}, nals), ParseError::Empty);

    const Bytes noStart = {0x12, 0x34, 0x00, 0x00, 0x02, 0x00, 0x00, 0x03};
    EXPECT_EQ(splitNalUnits(noStart, nals), ParseError::NoStartCode);
    const Bytes zeros(100, 0);
    EXPECT_EQ(splitNalUnits(zeros, nals), ParseError::NoStartCode);

    Bytes garbageFirst = {0x55};
    test::appendNal(garbageFirst, test::makeSlice(kIdrNLp, true));
    EXPECT_EQ(splitNalUnits(garbageFirst, nals), ParseError::NoStartCode);
    EXPECT_TRUE(nals.empty());

    // A zero-length NAL unit between two good ones: the first is kept.
    Bytes emptyNal;
    test::appendNal(emptyNal, test::makeNal(kVps, {1}));
    emptyNal.insert(emptyNal.end(), {0, 0, 1, 0, 0, 1});
    const Bytes tail = test::makeNal(kSps, {1});
    emptyNal.insert(emptyNal.end(), tail.begin(), tail.end());
    EXPECT_EQ(splitNalUnits(emptyNal, nals), ParseError::EmptyNal);
    ASSERT_EQ(nals.size(), 1u);
    EXPECT_EQ(nals[0].type, kVps);

    const Bytes startOnly = {0, 0, 0, 1};
    EXPECT_EQ(splitNalUnits(startOnly, nals), ParseError::EmptyNal);
    const Bytes startThenZeros = {0, 0, 1, 0, 0};
    EXPECT_EQ(splitNalUnits(startThenZeros, nals), ParseError::EmptyNal);

    const Bytes oneByteHeader = {0, 0, 1, 0x40};
    EXPECT_EQ(splitNalUnits(oneByteHeader, nals), ParseError::Truncated);
    const Bytes vclWithoutSliceByte = {0, 0, 1, 0x26, 0x01};
    EXPECT_EQ(splitNalUnits(vclWithoutSliceByte, nals), ParseError::Truncated);
    const Bytes eos = {0, 0, 1, 0x48, 0x01};  // EOS_NUT is just a header: fine
    EXPECT_EQ(splitNalUnits(eos, nals), ParseError::None);
    ASSERT_EQ(nals.size(), 1u);
    EXPECT_EQ(nals[0].type, kEos);

    const Bytes forbidden = {0, 0, 1, 0xc0, 0x01, 0x80};
    EXPECT_EQ(splitNalUnits(forbidden, nals), ParseError::ForbiddenBit);
    const Bytes tidZero = {0, 0, 1, 0x40, 0x00, 0x80};
    EXPECT_EQ(splitNalUnits(tidZero, nals), ParseError::BadHeader);
}

TEST(SplitNalUnits, ParseNalHeader) {
    NalHeader h;
    const Bytes ok = {0x43, 0x0a};  // type 33, layer 33, tid 1
    ASSERT_EQ(parseNalHeader(ok, h), ParseError::None);
    EXPECT_EQ(h.type, kSps);
    EXPECT_EQ(h.layerId, 33);
    EXPECT_EQ(h.temporalId, 1);
    const Bytes one = {0x42};
    EXPECT_EQ(parseNalHeader(one, h), ParseError::Truncated);
    EXPECT_EQ(parseNalHeader({}, h), ParseError::EmptyNal);
    EXPECT_STREQ(nalTypeName(kIdrWRadl), "IDR_W_RADL");
    EXPECT_STREQ(nalTypeName(kPrefixSei), "PREFIX_SEI_NUT");
    EXPECT_STREQ(nalTypeName(63), "UNSPEC");
    EXPECT_STRNE(toString(ParseError::TooLarge), toString(ParseError::Truncated));
}

// Every start-code search agrees with the byte-by-byte one, at every alignment and length
// around the vector widths.
TEST(FindStartCode, VariantsAgree) {
    std::mt19937 rng(7);
    const auto variants = detail::startCodeVariants();
    ASSERT_STREQ(variants[0].name, "scalar");
    // The variant the parser uses is one of those checked here (and fuzzed).
    bool bestListed = false;
    for (const detail::StartCodeVariant& v : variants) {
        bestListed = bestListed || (v.fn == detail::bestFindStartCode() &&
                                    std::string(v.name) == detail::bestFindStartCodeName());
    }
    ASSERT_TRUE(bestListed) << detail::bestFindStartCodeName() << " is not in startCodeVariants()";
#if defined(__x86_64__) || defined(__i386__)
    ASSERT_GE(variants.size(), 3u);  // scalar, memchr, sse2 (and avx2 where the CPU has it)
#endif
#if defined(__aarch64__)
    ASSERT_GE(variants.size(), 3u);  // scalar, memchr, neon
#endif
    for (int iter = 0; iter < 3000; ++iter) {
        const size_t n = rng() % 300;
        Bytes buf = test::randomBytes(rng, n);
        if (iter % 3 == 0) {
            // Sparse: a single start code (or none) in non-zero data.
            for (uint8_t& b : buf) {
                b = static_cast<uint8_t>(0x10 + rng() % 0xe0);
            }
            if (n >= 3 && rng() % 4 != 0) {
                const size_t at = rng() % (n - 2);
                buf[at] = 0;
                buf[at + 1] = 0;
                buf[at + 2] = 1;
            }
        }
        const uint8_t* b = buf.data();
        const uint8_t* e = b + n;
        for (size_t start = 0; start < std::min<size_t>(n, 70); start += 1 + rng() % 5) {
            const uint8_t* want = detail::findStartCodeScalar(b + start, e);
            for (const detail::StartCodeVariant& v : variants) {
                ASSERT_EQ(v.fn(b + start, e), want)
                    << v.name << " iter " << iter << " start " << start;
            }
            ASSERT_EQ(detail::bestFindStartCode()(b + start, e), want);
        }
    }
}

void checkAgainstReference(const Bytes& buf) {
    std::vector<NalUnitInfo> got;
    std::vector<NalUnitInfo> want;
    const ParseError e = splitNalUnits(buf, got);
    const ParseError r = test::referenceSplit(buf, want);
    ASSERT_EQ(e, r) << toString(e) << " vs " << toString(r);
    ASSERT_EQ(got.size(), want.size());
    size_t prevEnd = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_TRUE(test::sameNal(got[i], want[i])) << "NAL " << i;
        const NalUnitInfo& n = got[i];
        // Sanity independent of the reference: bounds, order, start code, last byte.
        ASSERT_GE(n.offset, prevEnd + n.startCodeSize);
        ASSERT_LE(size_t{n.offset} + n.size, buf.size());
        ASSERT_GE(n.size, 2u);
        ASSERT_EQ(buf[n.offset - 1], 1);
        ASSERT_EQ(buf[n.offset - 2], 0);
        ASSERT_EQ(buf[n.offset - 3], 0);
        ASSERT_NE(buf[n.offset + n.size - 1], 0);
        prevEnd = n.offset + n.size;
    }
}

TEST(SplitNalUnits, RandomBuffersMatchReference) {
    std::mt19937 rng(12345);
    int withNals = 0;
    for (int iter = 0; iter < 10000; ++iter) {
        const size_t n = rng() % 512;
        Bytes buf = test::randomBytes(rng, n);
        if (iter % 2 == 0 && n >= 4) {
            // Start with a start code so that some buffers parse further.
            buf[0] = 0;
            buf[1] = 0;
            buf[2] = 1;
            buf[3] = static_cast<uint8_t>(0x02 + (rng() % 0x3f) * 2);
        }
        ASSERT_NO_FATAL_FAILURE(checkAgainstReference(buf)) << "iter " << iter;
        std::vector<NalUnitInfo> nals;
        splitNalUnits(buf, nals);
        withNals += nals.empty() ? 0 : 1;
    }
    // The generator must exercise the NAL path, not only the early errors.
    EXPECT_GT(withNals, 2000);
}

TEST(SplitNalUnits, RandomValidStreams) {
    std::mt19937 rng(99);
    for (int iter = 0; iter < 500; ++iter) {
        Bytes s;
        std::vector<Bytes> nals;
        const int count = 1 + static_cast<int>(rng() % 20);
        for (int i = 0; i < count; ++i) {
            Bytes payload = test::randomBytes(rng, rng() % 200);
            payload.insert(payload.begin(), 0x80);
            payload.push_back(0x80);  // rbsp_stop_one_bit
            Bytes nal = test::makeNal(static_cast<uint8_t>(rng() % 41), {});
            const Bytes escaped = test::escapeRbsp(payload);
            nal.insert(nal.end(), escaped.begin(), escaped.end());
            test::appendNal(s, nal, rng() % 2 ? 4 : 3);
            nals.push_back(nal);
        }
        std::vector<NalUnitInfo> got;
        ASSERT_EQ(splitNalUnits(s, got), ParseError::None);
        ASSERT_EQ(got.size(), nals.size());
        for (size_t i = 0; i < got.size(); ++i) {
            ASSERT_EQ(Bytes(s.begin() + got[i].offset, s.begin() + got[i].offset + got[i].size),
                      nals[i]);
        }
    }
}

}  // namespace
}  // namespace h265direct::hevc
