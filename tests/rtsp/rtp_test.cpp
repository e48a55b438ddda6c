// SPDX-License-Identifier: GPL-2.0-or-later
// RTP/H.265 packetization (RFC 7798) and RTCP sender reports, byte for byte, against the
// test's own reading of the RFC: packets parsed and NAL units put together again here.

#include <gtest/gtest.h>

#include <random>

#include "net/peer_queue.hpp"
#include "net/rtp.hpp"

namespace h265direct::net {
namespace {

// An access unit of NAL units of the given sizes (2-byte headers of the given types, then a
// counting payload).
AccessUnitPtr unitOf(const std::vector<std::pair<uint8_t, size_t>>& nals, int64_t captureNs,
                     bool key = true) {
    auto au = std::make_shared<AccessUnit>();
    uint8_t fill = 0;
    for (const auto& [type, size] : nals) {
        const uint8_t start[4] = {0, 0, 0, 1};
        au->data.insert(au->data.end(), start, start + 4);
        NalUnitInfo info;
        info.offset = static_cast<uint32_t>(au->data.size());
        info.size = static_cast<uint32_t>(size);
        info.startCodeSize = 4;
        info.type = type;
        au->data.push_back(static_cast<uint8_t>(type << 1));
        au->data.push_back(1);  // layer 0, TemporalId 0
        for (size_t i = 2; i < size; ++i) {
            au->data.push_back(fill++);
        }
        au->nals.push_back(info);
    }
    au->keyframe = key;
    au->idr = key;
    au->hasParameterSets = key;
    au->captureTimeNs = captureNs;
    return au;
}

struct Parsed {
    bool marker = false;
    uint8_t payloadType = 0;
    uint16_t seq = 0;
    uint32_t timestamp = 0;
    uint32_t ssrc = 0;
    std::vector<uint8_t> payload;
};

uint32_t be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

Parsed parseRtp(const std::vector<uint8_t>& pkt) {
    EXPECT_GE(pkt.size(), 12u);
    Parsed r;
    EXPECT_EQ(pkt[0], 0x80);  // V=2, no padding, extension or CSRC
    r.marker = (pkt[1] & 0x80) != 0;
    r.payloadType = pkt[1] & 0x7f;
    r.seq = static_cast<uint16_t>((pkt[2] << 8) | pkt[3]);
    r.timestamp = be32(&pkt[4]);
    r.ssrc = be32(&pkt[8]);
    r.payload.assign(pkt.begin() + 12, pkt.end());
    return r;
}

// RFC 7798 depacketization: single NAL unit packets and FUs back to NAL units.
std::vector<std::vector<uint8_t>> depacketize(const std::vector<Parsed>& packets) {
    std::vector<std::vector<uint8_t>> nals;
    std::vector<uint8_t> fu;
    bool inFu = false;
    for (const Parsed& p : packets) {
        const uint8_t type = (p.payload[0] >> 1) & 0x3f;
        if (type != 49) {
            EXPECT_FALSE(inFu);
            nals.push_back(p.payload);
            continue;
        }
        const uint8_t fuHeader = p.payload[2];
        const bool s = (fuHeader & 0x80) != 0;
        const bool e = (fuHeader & 0x40) != 0;
        EXPECT_EQ(s, !inFu);
        if (s) {
            fu.clear();
            fu.push_back(static_cast<uint8_t>((p.payload[0] & 0x81) | ((fuHeader & 0x3f) << 1)));
            fu.push_back(p.payload[1]);
            inFu = true;
        }
        fu.insert(fu.end(), p.payload.begin() + 3, p.payload.end());
        if (e) {
            nals.push_back(fu);
            inFu = false;
        }
    }
    EXPECT_FALSE(inFu);
    return nals;
}

std::vector<std::vector<uint8_t>> nalsOf(const AccessUnit& au) {
    std::vector<std::vector<uint8_t>> out;
    for (const NalUnitInfo& n : au.nals) {
        out.emplace_back(au.data.begin() + n.offset, au.data.begin() + n.offset + n.size);
    }
    return out;
}

// Everything append() gives from `offset` on, in order.
std::vector<uint8_t> appended(const RtpWriter& w, const AccessUnit& au, uint64_t tag, size_t offset,
                              size_t maxIov = 100000) {
    SendBatch b;
    const size_t n = w.append(b, au, tag, offset, maxIov);
    std::vector<uint8_t> out;
    for (const iovec& v : b.iov) {
        const auto* p = static_cast<const uint8_t*>(v.iov_base);
        out.insert(out.end(), p, p + v.iov_len);
    }
    EXPECT_EQ(out.size(), n);
    EXPECT_LE(b.iov.size(), maxIov);
    return out;
}

TEST(Rtp, SmallNalUnitsAreSingleNalUnitPacketsWithTheMarkerOnTheLast) {
    const int64_t capture = 123'456'789'000;
    const AccessUnitPtr au = unitOf({{32, 24}, {33, 40}, {34, 7}, {19, 1400}}, capture);
    RtpWriter w(0xdeadbeef, 65534, 1000, -1);
    const uint64_t tag = w.begin(*au);
    EXPECT_EQ(tag, 65534u);
    const auto packets = w.packets(*au, tag);
    ASSERT_EQ(packets.size(), 4u);
    std::vector<Parsed> parsed;
    size_t wire = 0;
    for (size_t i = 0; i < packets.size(); ++i) {
        const Parsed p = parseRtp(packets[i]);
        EXPECT_EQ(p.marker, i == 3);
        EXPECT_EQ(p.payloadType, 96);
        EXPECT_EQ(p.seq, static_cast<uint16_t>(65534 + i));  // wraps
        EXPECT_EQ(p.timestamp, 1000u + static_cast<uint32_t>(capture / 1000 * 9 / 100));
        EXPECT_EQ(p.ssrc, 0xdeadbeefu);
        parsed.push_back(p);
        wire += packets[i].size();
    }
    // Byte for byte: the payload is the NAL unit itself.
    EXPECT_EQ(depacketize(parsed), nalsOf(*au));
    EXPECT_EQ(parsed[2].payload, std::vector<uint8_t>({34 << 1, 1, 0x3c, 0x3d, 0x3e, 0x3f, 0x40}));
    EXPECT_EQ(w.wireSize(*au), wire);
    EXPECT_EQ(w.nextSeq(), 2);
    EXPECT_EQ(w.packetCount(), 4u);
    EXPECT_EQ(w.octetCount(), 24u + 40 + 7 + 1400);
}

TEST(Rtp, LargeNalUnitsAreFragmentationUnitsAtTheBoundaries) {
    // 1401 bytes: one over the limit. 2 + 1397 * 2 = 2796: exactly two full fragments.
    // 5000: three full and a short one.
    for (const size_t size : {size_t{1401}, size_t{2796}, size_t{2797}, size_t{5000}}) {
        SCOPED_TRACE(size);
        const AccessUnitPtr au = unitOf({{1, size}}, 90'000'000, false);
        RtpWriter w(7, 100, 0, -1);
        const auto packets = w.packets(*au, w.begin(*au));
        const size_t expected = (size - 2 + 1396) / 1397;
        ASSERT_EQ(packets.size(), expected);
        EXPECT_EQ(rtpPacketsForNal(size), expected);
        std::vector<Parsed> parsed;
        for (size_t i = 0; i < packets.size(); ++i) {
            const Parsed p = parseRtp(packets[i]);
            EXPECT_LE(p.payload.size(), kRtpMaxPayload);
            EXPECT_EQ(p.marker, i + 1 == packets.size());
            EXPECT_EQ(p.seq, 100 + i);
            // PayloadHdr: type 49, layer and TemporalId of the NAL unit.
            EXPECT_EQ(p.payload[0], 49 << 1);
            EXPECT_EQ(p.payload[1], 1);
            // FU header: S on the first, E on the last, the NAL unit's type.
            EXPECT_EQ(p.payload[2], (i == 0 ? 0x80 : 0) | (i + 1 == packets.size() ? 0x40 : 0) | 1);
            if (i + 1 < packets.size()) {
                EXPECT_EQ(p.payload.size(), kRtpMaxPayload);
            }
            parsed.push_back(p);
        }
        EXPECT_EQ(depacketize(parsed), nalsOf(*au));
        size_t wire = 0;
        for (const auto& p : packets) {
            wire += p.size();
        }
        EXPECT_EQ(w.wireSize(*au), wire);
    }
}

TEST(Rtp, InterleavedPacketsCarryTheChannelAndLength) {
    const AccessUnitPtr au = unitOf({{32, 20}, {19, 3000}}, 1'000'000'000);
    RtpWriter w(1, 0, 0, 4);
    const auto packets = w.packets(*au, w.begin(*au));
    ASSERT_EQ(packets.size(), 1u + 3);
    for (const auto& p : packets) {
        EXPECT_EQ(p[0], '$');
        EXPECT_EQ(p[1], 4);
        EXPECT_EQ(size_t((p[2] << 8) | p[3]), p.size() - 4);
    }
}

TEST(Rtp, AppendFromAnyOffsetGivesTheRestOfTheSameBytes) {
    const AccessUnitPtr au = unitOf({{32, 20}, {33, 30}, {34, 5}, {19, 4000}, {1, 900}}, 5'000'000);
    RtpWriter w(9, 40000, 77, 0);
    const uint64_t tag = w.begin(*au);
    std::vector<uint8_t> whole;
    for (const auto& p : w.packets(*au, tag)) {
        whole.insert(whole.end(), p.begin(), p.end());
    }
    ASSERT_EQ(whole.size(), w.wireSize(*au));
    EXPECT_EQ(appended(w, *au, tag, 0), whole);
    for (size_t offset = 1; offset < whole.size(); offset += 7) {
        const std::vector<uint8_t> rest(whole.begin() + static_cast<std::ptrdiff_t>(offset),
                                        whole.end());
        ASSERT_EQ(appended(w, *au, tag, offset), rest) << offset;
    }
    // A small iovec budget gives a prefix, whole packets where it starts on a boundary.
    const std::vector<uint8_t> part = appended(w, *au, tag, 0, 3);
    ASSERT_LT(part.size(), whole.size());
    EXPECT_TRUE(std::equal(part.begin(), part.end(), whole.begin()));
}

TEST(Rtp, QueueWithTheWriterSendsWholeNumberedUnitsThroughPartialSends) {
    // The peer queue drives the writer as the server does: units numbered once, sends cut
    // short anywhere, and the wire still parses into consecutive packets.
    RtpWriter w(3, 10, 0, 0);
    PeerQueue q(1 << 20, 100, Framing::Length);
    q.setWriter(&w);
    std::vector<AccessUnitPtr> units;
    for (int i = 0; i < 6; ++i) {
        units.push_back(
            unitOf({{19, 100u + 1000u * i}, {1, 50}}, 1'000'000'000 + i * 33'333'333, i == 0));
        ASSERT_EQ(q.offer(units.back()), PeerQueue::Offer::Queued);
    }
    std::mt19937 rng(1);
    std::vector<uint8_t> wire;
    SendBatch b;
    while (!q.empty()) {
        q.prepare(b, 2);
        std::vector<uint8_t> bytes;
        for (const iovec& v : b.iov) {
            const auto* p = static_cast<const uint8_t*>(v.iov_base);
            bytes.insert(bytes.end(), p, p + v.iov_len);
        }
        ASSERT_EQ(bytes.size(), b.bytes);
        const size_t sent = 1 + rng() % bytes.size();
        wire.insert(wire.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(sent));
        q.complete(sent, [](const AccessUnitPtr&) {});
    }
    size_t pos = 0;
    uint16_t seq = 10;
    size_t markers = 0;
    while (pos < wire.size()) {
        ASSERT_EQ(wire[pos], '$');
        const size_t n = (size_t{wire[pos + 2]} << 8) | wire[pos + 3];
        const Parsed p = parseRtp({wire.begin() + static_cast<std::ptrdiff_t>(pos + 4),
                                   wire.begin() + static_cast<std::ptrdiff_t>(pos + 4 + n)});
        EXPECT_EQ(p.seq, seq++);
        markers += p.marker ? 1 : 0;
        pos += 4 + n;
    }
    EXPECT_EQ(pos, wire.size());
    EXPECT_EQ(markers, units.size());
}

TEST(Rtp, SenderReportMapsWallClockToRtpTime) {
    // 2024-01-01T00:00:00.5Z
    const int64_t wall = 1'704'067'200'500'000'000;
    const auto r = rtcpSenderReport(0x01020304, wall, 0xa0b0c0d0, 77, 12345, "h265direct@x");
    ASSERT_GE(r.size(), 28u);
    EXPECT_EQ(r[0], 0x80);
    EXPECT_EQ(r[1], 200);
    EXPECT_EQ((r[2] << 8) | r[3], 6);
    EXPECT_EQ(be32(&r[4]), 0x01020304u);
    EXPECT_EQ(be32(&r[8]), 1'704'067'200u + 2'208'988'800u);  // NTP seconds
    EXPECT_EQ(be32(&r[12]), 0x80000000u);                     // half a second
    EXPECT_EQ(be32(&r[16]), 0xa0b0c0d0u);
    EXPECT_EQ(be32(&r[20]), 77u);
    EXPECT_EQ(be32(&r[24]), 12345u);
    // SDES with the CNAME, padded to 32 bits, its length in words minus one.
    const uint8_t* s = &r[28];
    EXPECT_EQ(s[0], 0x81);
    EXPECT_EQ(s[1], 202);
    EXPECT_EQ(size_t((s[2] << 8) | s[3]) + 1, (r.size() - 28) / 4);
    EXPECT_EQ(r.size() % 4, 0u);
    EXPECT_EQ(be32(&s[4]), 0x01020304u);
    EXPECT_EQ(s[8], 1);
    EXPECT_EQ(s[9], 12);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(&s[10]), 12), "h265direct@x");
    EXPECT_EQ(s[22], 0);
}

// A receiver report (one report block) followed by an SDES with a 5-byte CNAME, as receivers
// send them.
std::vector<uint8_t> receiverReport() {
    // RR with one report block (its SSRC, 24 bytes of block); SDES, one chunk, CNAME "hostx".
    return {0x81, 201, 0, 7, 1, 2, 3, 4, 0, 0, 0,   0,   0,   0,   0,   0,
            0,    0,   0, 0, 0, 0, 0, 0, 0, 0, 0,   0,   0,   0,   0,   0,
            0x81, 202, 0, 3, 1, 2, 3, 4, 1, 5, 'h', 'o', 's', 't', 'x', 0};
}

TEST(Rtp, RtcpCompoundChecks) {
    EXPECT_TRUE(isRtcpCompound(receiverReport()));
    EXPECT_TRUE(isRtcpCompound(rtcpSenderReport(1, 0, 0, 0, 0, "h265direct@x")));
    // An empty receiver report (header only), as FFmpeg sends first.
    EXPECT_TRUE(isRtcpCompound(std::vector<uint8_t>{0x80, 201, 0, 1, 9, 9, 9, 9}));
    // Padding on the last packet only.
    std::vector<uint8_t> padded = receiverReport();
    padded[32] |= 0x20;
    EXPECT_TRUE(isRtcpCompound(padded));
    const auto broken = [](void (*change)(std::vector<uint8_t>&)) {
        std::vector<uint8_t> r = receiverReport();
        change(r);
        return isRtcpCompound(r);
    };
    EXPECT_FALSE(broken([](std::vector<uint8_t>& r) { r.clear(); }));
    EXPECT_FALSE(broken([](std::vector<uint8_t>& r) { r.resize(4); }));
    EXPECT_FALSE(broken([](std::vector<uint8_t>& r) { r[0] = 0x41; }));   // version 1
    EXPECT_FALSE(broken([](std::vector<uint8_t>& r) { r[32] = 0x41; }));  // second: version 1
    EXPECT_FALSE(broken([](std::vector<uint8_t>& r) { r[1] = 202; }));    // SDES first
    EXPECT_FALSE(broken([](std::vector<uint8_t>& r) { r[1] = 96; }));     // an RTP packet
    EXPECT_FALSE(broken([](std::vector<uint8_t>& r) { r[0] |= 0x20; }));  // first padded
    EXPECT_FALSE(broken([](std::vector<uint8_t>& r) { r[3] = 8; }));      // lengths too long
    EXPECT_FALSE(broken([](std::vector<uint8_t>& r) { r[35] = 2; }));     // ... too short
    EXPECT_FALSE(broken([](std::vector<uint8_t>& r) { r.erase(r.end() - 4, r.end()); }));
    EXPECT_FALSE(broken([](std::vector<uint8_t>& r) { r.push_back(0); }));           // not 32-bit
    EXPECT_FALSE(broken([](std::vector<uint8_t>& r) { r.insert(r.end(), 4, 0); }));  // trailing
}

}  // namespace
}  // namespace h265direct::net
