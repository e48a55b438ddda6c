// SPDX-License-Identifier: GPL-2.0-or-later
#include "encode/nal_join.hpp"
#include "h265direct/annexb.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace h265direct {
namespace {

std::vector<uint8_t> nalBytes(int type, const std::vector<uint8_t>& body, bool longStart = true) {
    std::vector<uint8_t> b;
    b.reserve(body.size() + 6);
    if (longStart) {
        b.push_back(0);
    }
    for (uint8_t byte :
         {uint8_t{0}, uint8_t{0}, uint8_t{1}, static_cast<uint8_t>(type << 1), uint8_t{1}}) {
        b.push_back(byte);
    }
    for (uint8_t byte : body) {
        b.push_back(byte);
    }
    return b;
}

// A user_data_unregistered SEI message as x265 writes it: type 5, size, UUID, text.
std::vector<uint8_t> infoSeiBody(const std::string& text) {
    std::vector<uint8_t> b{5};
    size_t size = 16 + text.size() + 1;
    while (size >= 255) {
        b.push_back(0xff);
        size -= 255;
    }
    b.push_back(static_cast<uint8_t>(size));
    for (int i = 0; i < 16; ++i) {
        b.push_back(static_cast<uint8_t>(0x40 + i));
    }
    b.insert(b.end(), text.begin(), text.end());
    b.push_back(0);
    b.push_back(0x80);
    return b;
}

const std::string kLongInfo =
    "x265 (build 199) - 3.5 - H.265/HEVC codec - options: " + std::string(400, 'a');

// Lays NAL units out back to back in `buffer` and describes them as x265 does.
std::vector<x265_nal> layOut(std::vector<uint8_t>& buffer,
                             const std::vector<std::pair<int, std::vector<uint8_t>>>& units) {
    buffer.clear();
    for (const auto& u : units) {
        buffer.insert(buffer.end(), u.second.begin(), u.second.end());
    }
    std::vector<x265_nal> nals;
    size_t offset = 0;
    for (const auto& u : units) {
        nals.push_back(x265_nal{static_cast<uint32_t>(u.first),
                                static_cast<uint32_t>(u.second.size()), buffer.data() + offset});
        offset += u.second.size();
    }
    return nals;
}

TEST(NalJoin, RecognisesX265InfoSeiOnly) {
    std::vector<uint8_t> sei = nalBytes(39, infoSeiBody(kLongInfo));
    x265_nal nal{39, static_cast<uint32_t>(sei.size()), sei.data()};
    EXPECT_TRUE(isX265InfoSei(nal));

    std::vector<uint8_t> shortStart = nalBytes(39, infoSeiBody("x265 (build 199) x"), false);
    x265_nal shortNal{39, static_cast<uint32_t>(shortStart.size()), shortStart.data()};
    EXPECT_TRUE(isX265InfoSei(shortNal));

    std::vector<uint8_t> other = nalBytes(39, infoSeiBody("some other encoder"));
    x265_nal otherNal{39, static_cast<uint32_t>(other.size()), other.data()};
    EXPECT_FALSE(isX265InfoSei(otherNal));

    std::vector<uint8_t> wrongType = infoSeiBody(kLongInfo);
    wrongType[0] = 1;  // pic_timing, not user data
    std::vector<uint8_t> timing = nalBytes(39, wrongType);
    x265_nal timingNal{39, static_cast<uint32_t>(timing.size()), timing.data()};
    EXPECT_FALSE(isX265InfoSei(timingNal));

    x265_nal slice{1, static_cast<uint32_t>(sei.size()), sei.data()};
    EXPECT_FALSE(isX265InfoSei(slice)) << "not a prefix SEI NAL";

    std::vector<uint8_t> tiny{0, 0, 1, 39 << 1};
    x265_nal tinyNal{39, static_cast<uint32_t>(tiny.size()), tiny.data()};
    EXPECT_FALSE(isX265InfoSei(tinyNal));
}

// The encoder flags keyframes with the parser's one IRAP predicate: x265's IRAP slice types
// (BLA, IDR, CRA: 16..21) and the reserved IRAP types 22, 23, nothing else.
TEST(NalJoin, IrapTypes) {
    for (uint32_t t = 0; t < 64; ++t) {
        EXPECT_EQ(hevc::isIrap(static_cast<uint8_t>(t)), t >= 16 && t <= 23) << t;
    }
    for (uint32_t t = NAL_UNIT_CODED_SLICE_BLA_W_LP; t <= NAL_UNIT_CODED_SLICE_CRA; ++t) {
        EXPECT_TRUE(hevc::isIrap(static_cast<uint8_t>(t))) << t;
    }
}

class NalJoinLayout : public testing::Test {
protected:
    std::vector<uint8_t> vps = nalBytes(32, {1, 2, 3});
    std::vector<uint8_t> sps = nalBytes(33, {4, 5, 6, 7});
    std::vector<uint8_t> pps = nalBytes(34, {8});
    std::vector<uint8_t> sei = nalBytes(39, infoSeiBody(kLongInfo));
    std::vector<uint8_t> idr = nalBytes(20, std::vector<uint8_t>(300, 0x55));

    std::vector<uint8_t> concat(std::initializer_list<const std::vector<uint8_t>*> parts) {
        std::vector<uint8_t> all;
        for (const auto* p : parts) {
            all.insert(all.end(), p->begin(), p->end());
        }
        return all;
    }
};

TEST_F(NalJoinLayout, BackToBackUnitsArePassedWithoutCopy) {
    std::vector<uint8_t> buffer, scratch;
    auto nals = layOut(buffer, {{32, vps}, {33, sps}, {34, pps}, {39, sei}, {20, idr}});
    bool copied = true;
    auto span = joinNals(nals.data(), static_cast<uint32_t>(nals.size()),
                         static_cast<uint32_t>(nals.size()), scratch, copied);
    EXPECT_FALSE(copied);
    EXPECT_EQ(span.data(), buffer.data());
    EXPECT_EQ(std::vector<uint8_t>(span.begin(), span.end()),
              concat({&vps, &sps, &pps, &sei, &idr}));
}

TEST_F(NalJoinLayout, SkippedUnitIsCutOutInPlace) {
    std::vector<uint8_t> buffer, scratch;
    auto nals = layOut(buffer, {{32, vps}, {33, sps}, {34, pps}, {39, sei}, {20, idr}});
    bool copied = true;
    auto span = joinNals(nals.data(), static_cast<uint32_t>(nals.size()), 3, scratch, copied);
    EXPECT_FALSE(copied);
    EXPECT_EQ(span.data(), buffer.data() + sei.size()) << "same buffer, starts later";
    EXPECT_EQ(std::vector<uint8_t>(span.begin(), span.end()), concat({&vps, &sps, &pps, &idr}));
    EXPECT_TRUE(scratch.empty());
}

TEST_F(NalJoinLayout, SkippingTheFirstUnit) {
    std::vector<uint8_t> buffer, scratch;
    auto nals = layOut(buffer, {{39, sei}, {20, idr}});
    bool copied = true;
    auto span = joinNals(nals.data(), 2, 0, scratch, copied);
    EXPECT_EQ(std::vector<uint8_t>(span.begin(), span.end()), idr);
}

TEST_F(NalJoinLayout, ScatteredUnitsAreGathered) {
    // Each NAL in its own allocation: not back to back.
    std::vector<std::vector<uint8_t>> owned{vps, sps, pps, sei, idr};
    std::vector<int> types{32, 33, 34, 39, 20};
    std::vector<x265_nal> nals;
    for (size_t i = 0; i < owned.size(); ++i) {
        nals.push_back(x265_nal{static_cast<uint32_t>(types[i]),
                                static_cast<uint32_t>(owned[i].size()), owned[i].data()});
    }
    std::vector<uint8_t> scratch;
    bool copied = false;
    auto span = joinNals(nals.data(), 5, 5, scratch, copied);
    EXPECT_TRUE(copied);
    EXPECT_EQ(span.data(), scratch.data());
    EXPECT_EQ(std::vector<uint8_t>(span.begin(), span.end()),
              concat({&vps, &sps, &pps, &sei, &idr}));

    span = joinNals(nals.data(), 5, 3, scratch, copied);
    EXPECT_TRUE(copied);
    EXPECT_EQ(std::vector<uint8_t>(span.begin(), span.end()), concat({&vps, &sps, &pps, &idr}));
    // The originals are untouched when gathering.
    EXPECT_EQ(owned[3], sei);
}

TEST_F(NalJoinLayout, NoUnitsGiveAnEmptySpan) {
    std::vector<uint8_t> scratch;
    bool copied = true;
    EXPECT_TRUE(joinNals(nullptr, 0, 0, scratch, copied).empty());
    EXPECT_FALSE(copied);
}

}  // namespace
}  // namespace h265direct
