// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "h265direct/annexb.hpp"
#include "hevc_test_util.hpp"

namespace h265direct::hevc {
namespace {

using test::Bytes;

struct Result {
    std::vector<AccessUnit> aus;
    AccessUnitAssembler::Counters counters;
    ParseError firstError = ParseError::None;
    ParseError finishError = ParseError::None;
};

// Feeds the stream in chunks whose sizes come from nextChunk, then finishes.
Result assemble(const Bytes& s, const std::function<size_t()>& nextChunk,
                size_t limit = AccessUnitAssembler::kDefaultMaxAccessUnitBytes) {
    Result r;
    AccessUnitAssembler a(limit);
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t n = std::min(s.size() - pos, std::max<size_t>(1, nextChunk()));
        const ParseError e = a.push(std::span<const uint8_t>(s).subspan(pos, n), r.aus);
        if (r.firstError == ParseError::None) {
            r.firstError = e;
        }
        pos += n;
    }
    r.finishError = a.finish(r.aus);
    if (r.firstError == ParseError::None) {
        r.firstError = r.finishError;
    }
    r.counters = a.counters();
    return r;
}

Result assembleWhole(const Bytes& s,
                     size_t limit = AccessUnitAssembler::kDefaultMaxAccessUnitBytes) {
    return assemble(
        s, [&] { return s.size(); }, limit);
}

std::vector<uint8_t> typesOf(const AccessUnit& au) {
    std::vector<uint8_t> t;
    for (const NalUnitInfo& n : au.nals) {
        t.push_back(n.type);
    }
    return t;
}

void expectSameOutput(const Result& a, const Result& b) {
    ASSERT_EQ(a.aus.size(), b.aus.size());
    for (size_t i = 0; i < a.aus.size(); ++i) {
        ASSERT_EQ(a.aus[i].data, b.aus[i].data) << "AU " << i;
        ASSERT_EQ(a.aus[i].nals.size(), b.aus[i].nals.size()) << "AU " << i;
        for (size_t k = 0; k < a.aus[i].nals.size(); ++k) {
            ASSERT_TRUE(test::sameNal(a.aus[i].nals[k], b.aus[i].nals[k]));
        }
        ASSERT_EQ(a.aus[i].keyframe, b.aus[i].keyframe);
        ASSERT_EQ(a.aus[i].idr, b.aus[i].idr);
        ASSERT_EQ(a.aus[i].hasParameterSets, b.aus[i].hasParameterSets);
        ASSERT_EQ(a.aus[i].frameNumber, b.aus[i].frameNumber);
    }
    EXPECT_EQ(a.counters.errors, b.counters.errors);
    EXPECT_EQ(a.counters.droppedAccessUnits, b.counters.droppedAccessUnits);
    EXPECT_EQ(a.counters.bytesSkipped, b.counters.bytesSkipped);
    EXPECT_EQ(a.counters.nalUnits, b.counters.nalUnits);
    EXPECT_EQ(a.firstError, b.firstError);
}

// Invariants every emitted access unit keeps, whatever the input.
void checkAccessUnit(const AccessUnit& au, size_t limit) {
    ASSERT_FALSE(au.nals.empty());
    ASSERT_LE(au.data.size(), limit);
    bool vcl = false;
    size_t expectOffset = 0;
    for (const NalUnitInfo& n : au.nals) {
        ASSERT_TRUE(n.startCodeSize == 3 || n.startCodeSize == 4);
        ASSERT_EQ(n.offset, expectOffset + n.startCodeSize);  // NAL units are contiguous
        ASSERT_LE(size_t{n.offset} + n.size, au.data.size());
        ASSERT_EQ(au.data[n.offset - 1], 1);
        for (int z = 2; z <= n.startCodeSize; ++z) {
            ASSERT_EQ(au.data[n.offset - z], 0);
        }
        ASSERT_GE(n.size, 2u);
        ASSERT_NE(au.data[n.offset + n.size - 1], 0);
        NalHeader h;
        ASSERT_EQ(parseNalHeader(std::span<const uint8_t>(au.data).subspan(n.offset, n.size), h),
                  ParseError::None);
        ASSERT_EQ(h.type, n.type);
        vcl = vcl || isVcl(n.type);
        expectOffset = n.offset + n.size;
    }
    ASSERT_EQ(expectOffset, au.data.size());
    ASSERT_TRUE(vcl);
    // The whole AU is itself a valid Annex-B buffer with the same NAL units.
    std::vector<NalUnitInfo> split;
    ASSERT_EQ(splitNalUnits(au.data, split), ParseError::None);
    ASSERT_EQ(split.size(), au.nals.size());
    for (size_t i = 0; i < split.size(); ++i) {
        ASSERT_TRUE(test::sameNal(split[i], au.nals[i]));
    }
}

// Stream: [VPS SPS PPS SEI IDR] [TRAIL] [TRAIL TRAIL(2nd slice) SUFFIX_SEI] [VPS SPS PPS IDR EOS]
Bytes fourAccessUnits(std::vector<Bytes>* auBytes = nullptr) {
    std::vector<std::vector<std::pair<Bytes, int>>> aus = {
        {{test::makeNal(kVps, {0x0c, 0x01}), 4},
         {test::makeNal(kSps, {0x01, 0x01}), 4},
         {test::makeNal(kPps, {0xc1}), 4},
         {test::makeNal(kPrefixSei, {0x05, 0x01, 0x80}), 4},
         {test::makeSlice(kIdrWRadl, true, 20), 4}},
        {{test::makeSlice(kTrailR, true, 7), 4}},
        {{test::makeSlice(kTrailR, true, 5), 4},
         {test::makeSlice(kTrailR, false, 6), 3},
         {test::makeNal(kSuffixSei, {0x81, 0x80}), 3}},
        {{test::makeNal(kVps, {0x0c, 0x02}), 4},
         {test::makeNal(kSps, {0x01, 0x02}), 3},
         {test::makeNal(kPps, {0xc2}), 3},
         {test::makeSlice(kIdrNLp, true, 9), 3},
         {test::makeNal(kEos, {}), 3}},
    };
    Bytes s;
    for (const auto& au : aus) {
        Bytes one;
        for (const auto& [nal, sc] : au) {
            test::appendNal(one, nal, sc);
        }
        if (auBytes != nullptr) {
            auBytes->push_back(one);
        }
        s.insert(s.end(), one.begin(), one.end());
    }
    return s;
}

TEST(AccessUnitAssembler, GroupsByH265Rules) {
    std::vector<Bytes> expected;
    const Bytes s = fourAccessUnits(&expected);
    AccessUnitAssembler a;
    std::vector<AccessUnit> aus;
    ASSERT_EQ(a.push(s, aus), ParseError::None);
    // The last AU is only known complete at the end of the stream.
    ASSERT_EQ(aus.size(), 3u);
    ASSERT_EQ(a.finish(aus), ParseError::None);
    ASSERT_EQ(aus.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(aus[i].data, expected[i]) << "AU " << i;
        EXPECT_EQ(aus[i].frameNumber, i);
        checkAccessUnit(aus[i], a.maxAccessUnitBytes());
    }
    EXPECT_EQ(typesOf(aus[0]), (std::vector<uint8_t>{kVps, kSps, kPps, kPrefixSei, kIdrWRadl}));
    EXPECT_EQ(typesOf(aus[2]), (std::vector<uint8_t>{kTrailR, kTrailR, kSuffixSei}));
    EXPECT_EQ(typesOf(aus[3]), (std::vector<uint8_t>{kVps, kSps, kPps, kIdrNLp, kEos}));
    EXPECT_TRUE(aus[0].keyframe && aus[0].idr && aus[0].hasParameterSets);
    EXPECT_FALSE(aus[1].keyframe || aus[1].idr || aus[1].hasParameterSets);
    EXPECT_FALSE(aus[2].keyframe);
    EXPECT_TRUE(aus[3].keyframe && aus[3].idr && aus[3].hasParameterSets);
    EXPECT_EQ(a.counters().accessUnits, 4u);
    EXPECT_EQ(a.counters().nalUnits, 14u);
    EXPECT_EQ(a.counters().errors, 0u);
    EXPECT_EQ(a.counters().bytesIn, s.size());
}

TEST(DescribeAccessUnit, AgreesWithTheAssembler) {
    std::vector<Bytes> expected;
    const Bytes s = fourAccessUnits(&expected);
    const Result r = assembleWhole(s);
    ASSERT_EQ(r.aus.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        AccessUnit au;
        au.data = expected[i];
        ASSERT_EQ(describeAccessUnit(au), ParseError::None) << "AU " << i;
        EXPECT_EQ(typesOf(au), typesOf(r.aus[i]));
        EXPECT_EQ(au.keyframe, r.aus[i].keyframe);
        EXPECT_EQ(au.idr, r.aus[i].idr);
        EXPECT_EQ(au.hasParameterSets, r.aus[i].hasParameterSets);
    }
    AccessUnit two;
    two.data = expected[1];
    two.data.insert(two.data.end(), expected[2].begin(), expected[2].end());
    EXPECT_EQ(describeAccessUnit(two), ParseError::NotOneAccessUnit);
    AccessUnit aud;
    test::appendNal(aud.data, test::makeSlice(kTrailR, true));
    test::appendNal(aud.data, test::makeNal(kAud, {0x50}));
    EXPECT_EQ(describeAccessUnit(aud), ParseError::NotOneAccessUnit);
    AccessUnit noPicture;
    test::appendNal(noPicture.data, test::makeNal(kSps, {1}));
    EXPECT_EQ(describeAccessUnit(noPicture), ParseError::NoPicture);
    AccessUnit garbage;
    garbage.data = {1, 2, 3};
    EXPECT_EQ(describeAccessUnit(garbage), ParseError::NoStartCode);
}

TEST(AccessUnitAssembler, AudAndOtherOpeners) {
    Bytes s;
    test::appendNal(s, test::makeNal(kAud, {0x50}));
    test::appendNal(s, test::makeSlice(kCraNut, true));
    // An AUD opens an AU even before a slice that is not the first of its picture.
    test::appendNal(s, test::makeNal(kAud, {0x50}));
    test::appendNal(s, test::makeSlice(kTrailR, false));
    // A prefix SEI after a picture opens the next AU; so does type 41 and 48.
    test::appendNal(s, test::makeNal(kPrefixSei, {0x05, 0x80}));
    test::appendNal(s, test::makeSlice(kTrailN, true));
    test::appendNal(s, test::makeNal(41, {0x80}));
    test::appendNal(s, test::makeSlice(kTrailN, false));
    test::appendNal(s, test::makeNal(48, {0x80}));
    test::appendNal(s, test::makeSlice(kTrailN, true));
    // A first slice of a picture with nuh_layer_id 1 stays in the AU of layer 0.
    test::appendNal(s, test::makeNal(kTrailR, {0xc0, 0x11}, /*layerId=*/1));
    // An SPS before any picture stays with the picture it precedes (no empty AU).
    test::appendNal(s, test::makeNal(kAud, {0x50}));
    test::appendNal(s, test::makeNal(kSps, {0x11}));
    test::appendNal(s, test::makeSlice(kRaslR, true));
    const Result r = assembleWhole(s);
    ASSERT_EQ(r.firstError, ParseError::None);
    ASSERT_EQ(r.aus.size(), 6u);
    EXPECT_EQ(typesOf(r.aus[0]), (std::vector<uint8_t>{kAud, kCraNut}));
    EXPECT_TRUE(r.aus[0].keyframe);
    EXPECT_FALSE(r.aus[0].idr);
    EXPECT_EQ(typesOf(r.aus[1]), (std::vector<uint8_t>{kAud, kTrailR}));
    EXPECT_EQ(typesOf(r.aus[2]), (std::vector<uint8_t>{kPrefixSei, kTrailN}));
    EXPECT_EQ(typesOf(r.aus[3]), (std::vector<uint8_t>{41, kTrailN}));
    EXPECT_EQ(typesOf(r.aus[4]), (std::vector<uint8_t>{48, kTrailN, kTrailR}));
    EXPECT_EQ(r.aus[4].nals[2].layerId, 1);
    EXPECT_EQ(typesOf(r.aus[5]), (std::vector<uint8_t>{kAud, kSps, kRaslR}));
    EXPECT_FALSE(r.aus[5].hasParameterSets);  // VPS and PPS missing
    for (const AccessUnit& au : r.aus) {
        checkAccessUnit(au, AccessUnitAssembler::kDefaultMaxAccessUnitBytes);
    }
}

TEST(AccessUnitAssembler, StartCodeCutAtEveryPosition) {
    const Bytes s = fourAccessUnits();
    const Result whole = assembleWhole(s);
    ASSERT_EQ(whole.aus.size(), 4u);
    // Two chunks, cut at every position (inside start codes, headers, payloads).
    for (size_t cut = 1; cut < s.size(); ++cut) {
        bool first = true;
        const Result r = assemble(s, [&] {
            const size_t n = first ? cut : s.size();
            first = false;
            return n;
        });
        ASSERT_NO_FATAL_FAILURE(expectSameOutput(r, whole)) << "cut at " << cut;
    }
    const Result bytewise = assemble(s, [] { return size_t{1}; });
    expectSameOutput(bytewise, whole);
}

// A random stream of access units built from the rules, with its expected grouping.
Bytes randomStream(std::mt19937& rng, std::vector<Bytes>& expected) {
    Bytes s;
    const int aus = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < aus; ++i) {
        Bytes au;
        // The first NAL unit of an AU has a 4-byte start code (zero_byte, B.2): stray
        // zeros before a 3-byte one would make it 4 bytes.
        auto add = [&](const Bytes& nal) {
            const int sc = au.empty() || rng() % 2 ? 4 : 3;
            test::appendNal(au, nal, sc);
        };
        auto payload = [&](uint8_t first) {
            Bytes p = test::randomBytes(rng, rng() % 300);
            p.insert(p.begin(), first);
            p.push_back(0x80);
            return test::escapeRbsp(p);
        };
        auto nalWith = [&](uint8_t type, uint8_t first) {
            Bytes n = test::makeNal(type, {});
            const Bytes p = payload(first);
            n.insert(n.end(), p.begin(), p.end());
            return n;
        };
        if (rng() % 4 == 0) {
            add(nalWith(kAud, 0x50));
        }
        const bool key = rng() % 3 == 0;
        if (key) {
            add(nalWith(kVps, 0x0c));
            add(nalWith(kSps, 0x01));
            add(nalWith(kPps, 0xc1));
        }
        if (rng() % 3 == 0) {
            add(nalWith(kPrefixSei, 0x05));
        }
        const uint8_t vclType = key ? uint8_t{kIdrWRadl} : static_cast<uint8_t>(rng() % 2);
        const int slices = 1 + static_cast<int>(rng() % 3);
        for (int k = 0; k < slices; ++k) {
            add(nalWith(vclType, k == 0 ? 0xc4 : 0x44));
            if (rng() % 5 == 0) {
                add(nalWith(kSuffixSei, 0x81));
            }
        }
        expected.push_back(au);
        s.insert(s.end(), au.begin(), au.end());
        // Stray zeros between access units are trailing_zero_8bits.
        if (rng() % 4 == 0) {
            s.insert(s.end(), rng() % 5, 0);
        }
    }
    return s;
}

TEST(AccessUnitAssembler, RandomStreamsAnyChunking) {
    std::mt19937 rng(2024);
    for (int iter = 0; iter < 300; ++iter) {
        std::vector<Bytes> expected;
        const Bytes s = randomStream(rng, expected);
        const Result whole = assembleWhole(s);
        ASSERT_EQ(whole.firstError, ParseError::None) << toString(whole.firstError);
        ASSERT_EQ(whole.aus.size(), expected.size());
        for (size_t i = 0; i < expected.size(); ++i) {
            ASSERT_EQ(whole.aus[i].data, expected[i]) << "iter " << iter << " AU " << i;
            ASSERT_NO_FATAL_FAILURE(
                checkAccessUnit(whole.aus[i], AccessUnitAssembler::kDefaultMaxAccessUnitBytes));
        }
        const Result random = assemble(s, [&] { return size_t{rng() % 64}; });
        ASSERT_NO_FATAL_FAILURE(expectSameOutput(random, whole)) << "iter " << iter;
        if (iter % 10 == 0) {
            const Result bytewise = assemble(s, [] { return size_t{1}; });
            ASSERT_NO_FATAL_FAILURE(expectSameOutput(bytewise, whole)) << "iter " << iter;
        }
    }
}

// Access units given back for reuse never leak old bytes or NAL entries into new ones.
TEST(AccessUnitAssembler, RecycledBuffersGiveTheSameResult) {
    std::mt19937 rng(31);
    for (int iter = 0; iter < 100; ++iter) {
        std::vector<Bytes> expected;
        const Bytes s = randomStream(rng, expected);
        const Result whole = assembleWhole(s);
        AccessUnitAssembler a;
        std::vector<AccessUnit> batch;
        std::vector<AccessUnit> kept;  // copies, compared at the end
        auto drain = [&] {
            for (AccessUnit& au : batch) {
                kept.push_back(au);
                a.recycle(std::move(au));
            }
            batch.clear();
        };
        for (size_t pos = 0; pos < s.size();) {
            const size_t n = std::min<size_t>(s.size() - pos, 1 + rng() % 100);
            ASSERT_EQ(a.push(std::span<const uint8_t>(s).subspan(pos, n), batch), ParseError::None);
            drain();
            pos += n;
        }
        ASSERT_EQ(a.finish(batch), ParseError::None);
        drain();
        ASSERT_EQ(kept.size(), whole.aus.size());
        for (size_t i = 0; i < kept.size(); ++i) {
            ASSERT_EQ(kept[i].data, whole.aus[i].data) << "iter " << iter << " AU " << i;
            ASSERT_EQ(kept[i].nals.size(), whole.aus[i].nals.size());
            ASSERT_EQ(kept[i].keyframe, whole.aus[i].keyframe);
            ASSERT_EQ(kept[i].hasParameterSets, whole.aus[i].hasParameterSets);
        }
    }
}

TEST(AccessUnitAssembler, GarbageBeforeFirstStartCode) {
    Bytes s = {0x12, 0x00, 0x34, 0x00, 0x00, 0x02, 0x99};
    const size_t garbage = s.size();
    const Bytes good = fourAccessUnits();
    s.insert(s.end(), good.begin(), good.end());
    const Result r = assembleWhole(s);
    EXPECT_EQ(r.firstError, ParseError::NoStartCode);
    EXPECT_EQ(r.finishError, ParseError::None);
    EXPECT_EQ(r.aus.size(), 4u);  // resynchronised at the first start code
    EXPECT_EQ(r.counters.bytesSkipped, garbage);
    EXPECT_EQ(r.counters.errors, 1u);
    expectSameOutput(assemble(s, [] { return size_t{1}; }), r);

    const Bytes noise = {1, 2, 3, 4, 5, 0, 0, 2};
    const Result n = assembleWhole(noise);
    EXPECT_EQ(n.firstError, ParseError::NoStartCode);
    EXPECT_EQ(n.finishError, ParseError::NoStartCode);
    EXPECT_TRUE(n.aus.empty());

    AccessUnitAssembler a;
    std::vector<AccessUnit> out;
    EXPECT_EQ(a.finish(out), ParseError::Empty);
}

TEST(AccessUnitAssembler, BadNalDropsOnlyItsAccessUnit) {
    std::vector<Bytes> aus;
    fourAccessUnits(&aus);
    struct Case {
        Bytes bad;
        ParseError error;
    };
    const std::vector<Case> cases = {
        {{0xa6, 0x01, 0x80, 0x11}, ParseError::ForbiddenBit},  // forbidden bit
        {{0x02, 0x00, 0x80, 0x11}, ParseError::BadHeader},     // temporal_id_plus1 = 0
        {{}, ParseError::EmptyNal},
        {{0x4e}, ParseError::Truncated},        // a 1-byte NAL unit
        {{0x02, 0x01}, ParseError::Truncated},  // a slice with no slice header
    };
    for (const Case& c : cases) {
        Bytes s;
        s.insert(s.end(), aus[0].begin(), aus[0].end());
        Bytes second = aus[2];  // TRAIL TRAIL SUFFIX_SEI: spoil it with a bad NAL unit
        test::appendNal(second, c.bad, 3);
        s.insert(s.end(), second.begin(), second.end());
        s.insert(s.end(), aus[3].begin(), aus[3].end());
        const Result r = assembleWhole(s);
        EXPECT_EQ(r.firstError, c.error) << toString(c.error);
        ASSERT_EQ(r.aus.size(), 2u) << toString(c.error);
        EXPECT_EQ(r.aus[0].data, aus[0]);
        EXPECT_EQ(r.aus[1].data, aus[3]);
        EXPECT_EQ(r.counters.droppedAccessUnits, 1u);
        EXPECT_EQ(r.counters.errors, 1u);
        expectSameOutput(assemble(s, [] { return size_t{1}; }), r);
    }
}

TEST(AccessUnitAssembler, TruncatedEndLosesTheLastAccessUnit) {
    std::vector<Bytes> aus;
    const Bytes s = fourAccessUnits(&aus);
    // The stream ends right after a start code, or inside a slice header: the picture the
    // cut NAL unit belongs to cannot be known whole.
    for (const Bytes& tail :
         {Bytes{0, 0, 1}, Bytes{0, 0, 0, 1, 0x02}, Bytes{0, 0, 1, 0x02, 0x01}}) {
        Bytes t = s;
        t.insert(t.end(), tail.begin(), tail.end());
        const Result r = assembleWhole(t);
        EXPECT_NE(r.finishError, ParseError::None);
        ASSERT_EQ(r.aus.size(), 3u);
        EXPECT_EQ(r.counters.droppedAccessUnits, 1u);
        expectSameOutput(assemble(t, [] { return size_t{1}; }), r);
    }
    // Cut in the middle of a slice's payload: the assembler cannot tell, but it never
    // emits the AU before finish() says the stream ended.
    AccessUnitAssembler a;
    std::vector<AccessUnit> out;
    ASSERT_EQ(a.push(std::span<const uint8_t>(s).first(s.size() - 3), out), ParseError::None);
    EXPECT_EQ(out.size(), 3u);
}

TEST(AccessUnitAssembler, NoPicture) {
    Bytes s;
    test::appendNal(s, test::makeNal(kVps, {1}));
    test::appendNal(s, test::makeNal(kSps, {1}));
    test::appendNal(s, test::makeNal(kPps, {1}));
    const Result r = assembleWhole(s);
    EXPECT_EQ(r.finishError, ParseError::NoPicture);
    EXPECT_TRUE(r.aus.empty());
    EXPECT_EQ(r.counters.droppedAccessUnits, 1u);

    // Two AUDs in a row: the first AU has no picture.
    Bytes t;
    test::appendNal(t, test::makeNal(kAud, {0x50}));
    test::appendNal(t, test::makeNal(kAud, {0x50}));
    test::appendNal(t, test::makeSlice(kIdrNLp, true));
    const Result u = assembleWhole(t);
    EXPECT_EQ(u.firstError, ParseError::NoPicture);
    ASSERT_EQ(u.aus.size(), 1u);
    EXPECT_EQ(typesOf(u.aus[0]), (std::vector<uint8_t>{kAud, kIdrNLp}));
}

TEST(AccessUnitAssembler, SizeLimit) {
    std::vector<Bytes> aus;
    fourAccessUnits(&aus);
    Bytes big;
    test::appendNal(big, test::makeSlice(kTrailR, true, 5000, 0x77));
    Bytes s = aus[0];
    s.insert(s.end(), big.begin(), big.end());
    s.insert(s.end(), aus[1].begin(), aus[1].end());
    const size_t limit = 1000;
    ASSERT_LT(aus[0].size(), limit);
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}, s.size()}) {
        const Result r = assemble(
            s, [&] { return chunk; }, limit);
        EXPECT_EQ(r.firstError, ParseError::TooLarge);
        ASSERT_EQ(r.aus.size(), 2u);
        EXPECT_EQ(r.aus[0].data, aus[0]);
        EXPECT_EQ(r.aus[1].data, aus[1]);
        EXPECT_EQ(r.counters.droppedAccessUnits, 1u);
    }
    // A stream of nothing but zeros after a start code never grows without bound either.
    AccessUnitAssembler a(limit);
    std::vector<AccessUnit> out;
    Bytes zeros(4096, 0);
    test::appendNal(zeros, test::makeSlice(kTrailR, true), 3);
    zeros.insert(zeros.end(), 100000, 0x55);
    EXPECT_EQ(a.push(zeros, out), ParseError::TooLarge);
    EXPECT_EQ(a.finish(out), ParseError::None);  // each error is reported once
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(a.counters().droppedAccessUnits, 1u);
    EXPECT_EQ(a.counters().bytesSkipped, 0u);  // leading zeros are not garbage
}

TEST(AccessUnitAssembler, FinishStartsANewStream) {
    const Bytes s = fourAccessUnits();
    AccessUnitAssembler a;
    std::vector<AccessUnit> out;
    for (int round = 0; round < 2; ++round) {
        out.clear();
        ASSERT_EQ(a.push(s, out), ParseError::None);
        ASSERT_EQ(a.finish(out), ParseError::None);
        ASSERT_EQ(out.size(), 4u);
        EXPECT_EQ(out[0].frameNumber, 0u);
        EXPECT_EQ(out[3].frameNumber, 3u);
    }
    EXPECT_EQ(a.counters().accessUnits, 8u);
}

// Random bytes (and random damage to good streams) in random chunks: no crash, no hang,
// every emitted AU whole and well-formed, and the same result for any chunking.
TEST(AccessUnitAssembler, RandomInputNeverEmitsBrokenAccessUnits) {
    std::mt19937 rng(777);
    uint64_t emitted = 0;
    for (int iter = 0; iter < 10000; ++iter) {
        Bytes s;
        if (iter % 2 == 0) {
            s = test::randomBytes(rng, rng() % 600);
        } else {
            std::vector<Bytes> expected;
            s = randomStream(rng, expected);
            for (int k = 0; k < 3 && !s.empty(); ++k) {
                s[rng() % s.size()] = static_cast<uint8_t>(rng());
            }
            if (rng() % 2 && !s.empty()) {
                s.resize(rng() % s.size());
            }
        }
        const size_t limit = 64 + rng() % 4000;
        const Result whole = assembleWhole(s, limit);
        for (const AccessUnit& au : whole.aus) {
            ASSERT_NO_FATAL_FAILURE(checkAccessUnit(au, limit)) << "iter " << iter;
        }
        emitted += whole.aus.size();
        const Result chunked = assemble(
            s, [&] { return size_t{rng() % 40}; }, limit);
        ASSERT_NO_FATAL_FAILURE(expectSameOutput(chunked, whole)) << "iter " << iter;
    }
    EXPECT_GT(emitted, 1000u);
}

}  // namespace
}  // namespace h265direct::hevc
