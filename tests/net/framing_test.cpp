// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <random>

#include "net/framing.hpp"

namespace h265direct::net {
namespace {

TEST(Framing, LengthHeaderIsBigEndian) {
    const auto h = lengthHeader(0x01020304);
    EXPECT_EQ(h[0], 1);
    EXPECT_EQ(h[1], 2);
    EXPECT_EQ(h[2], 3);
    EXPECT_EQ(h[3], 4);
    const auto s = lengthHeader(300);
    EXPECT_EQ(s[2], 1);
    EXPECT_EQ(s[3], 44);
    EXPECT_EQ(framingOverhead(Framing::Length), 4u);
    EXPECT_EQ(framingOverhead(Framing::AnnexB), 0u);
}

TEST(Framing, ParsesNames) {
    Framing f = Framing::AnnexB;
    EXPECT_TRUE(parseFraming("length", f));
    EXPECT_EQ(f, Framing::Length);
    EXPECT_TRUE(parseFraming("annexb", f));
    EXPECT_EQ(f, Framing::AnnexB);
    EXPECT_FALSE(parseFraming("raw", f));
    EXPECT_STREQ(toString(Framing::Length), "length");
}

TEST(Framing, DeframerReassemblesFramesCutAnywhere) {
    std::mt19937 rng(7);
    std::vector<std::vector<uint8_t>> frames;
    std::vector<uint8_t> wire;
    for (int i = 0; i < 50; ++i) {
        std::vector<uint8_t> f(1 + rng() % 3000);
        for (auto& b : f) {
            b = static_cast<uint8_t>(rng());
        }
        const auto h = lengthHeader(f.size());
        wire.insert(wire.end(), h.begin(), h.end());
        wire.insert(wire.end(), f.begin(), f.end());
        frames.push_back(std::move(f));
    }
    LengthDeframer d;
    std::vector<std::vector<uint8_t>> got;
    std::vector<uint8_t> frame;
    size_t i = 0;
    while (i < wire.size()) {
        const size_t n = std::min<size_t>(1 + rng() % 700, wire.size() - i);
        ASSERT_TRUE(d.feed(std::span(wire).subspan(i, n)));
        i += n;
        while (d.next(frame)) {
            got.push_back(frame);
        }
    }
    EXPECT_EQ(got, frames);
    EXPECT_EQ(d.pending(), 0u);
}

TEST(Framing, DeframerRejectsZeroAndHugeLengths) {
    LengthDeframer d(1000);
    const uint8_t zero[] = {0, 0, 0, 0, 1};
    d.feed(zero);
    std::vector<uint8_t> f;
    EXPECT_FALSE(d.next(f));
    EXPECT_TRUE(d.failed());
    EXPECT_NE(d.error().find("zero"), std::string::npos);

    LengthDeframer big(1000);
    const uint8_t huge[] = {0, 0, 0x03, 0xe9};  // 1001
    big.feed(huge);
    EXPECT_FALSE(big.next(f));
    EXPECT_TRUE(big.failed());
    EXPECT_FALSE(big.feed(huge));
}

TEST(Framing, DeframerWaitsForTheRestOfAFrame) {
    LengthDeframer d;
    const uint8_t part[] = {0, 0, 0, 3, 'a', 'b'};
    d.feed(part);
    std::vector<uint8_t> f;
    EXPECT_FALSE(d.next(f));
    EXPECT_FALSE(d.failed());
    const uint8_t rest[] = {'c'};
    d.feed(rest);
    ASSERT_TRUE(d.next(f));
    EXPECT_EQ(f, (std::vector<uint8_t>{'a', 'b', 'c'}));
}

}  // namespace
}  // namespace h265direct::net
