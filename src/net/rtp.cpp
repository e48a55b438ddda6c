// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/rtp.hpp"

#include <algorithm>
#include <cstring>

namespace h265direct::net {

namespace {

constexpr size_t kFuHeaderSize = 3;  // PayloadHdr (2) + FU header (1)
constexpr size_t kFuChunk = kRtpMaxPayload - kFuHeaderSize;

void put16(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

void put32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

// Calls f(header, headerSize, payload, payloadSize) for every packet of the unit, in order.
template <typename F>
void forEachPacket(const AccessUnit& au, uint16_t seq, uint32_t timestamp, uint32_t ssrc,
                   int channel, F&& f) {
    const size_t prefix = channel >= 0 ? kInterleavedHeaderSize : 0;
    std::array<uint8_t, 20> h{};
    const auto header = [&](bool marker, size_t payloadSize) {
        uint8_t* p = h.data();
        if (channel >= 0) {
            p[0] = '$';
            p[1] = static_cast<uint8_t>(channel);
            put16(p + 2, static_cast<uint32_t>(kRtpHeaderSize + payloadSize));
            p += kInterleavedHeaderSize;
        }
        p[0] = 0x80;  // version 2, no padding, no extension, no CSRC
        p[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | kRtpPayloadType);
        put16(p + 2, seq++);
        put32(p + 4, timestamp);
        put32(p + 8, ssrc);
    };
    for (size_t n = 0; n < au.nals.size(); ++n) {
        const NalUnitInfo& nal = au.nals[n];
        const uint8_t* data = au.data.data() + nal.offset;
        const bool lastNal = n + 1 == au.nals.size();
        if (nal.size <= kRtpMaxPayload) {
            header(lastNal, nal.size);
            f(h, prefix + kRtpHeaderSize, data, size_t{nal.size});
            continue;
        }
        // Fragmentation unit: the NAL header is replaced by PayloadHdr (type 49, the layer
        // and temporal id kept) and the FU header (start, end, the NAL's type).
        const uint8_t type = static_cast<uint8_t>((data[0] >> 1) & 0x3f);
        size_t pos = 2;
        while (pos < nal.size) {
            const size_t chunk = std::min(kFuChunk, size_t{nal.size} - pos);
            const bool first = pos == 2;
            const bool last = pos + chunk == nal.size;
            header(lastNal && last, kFuHeaderSize + chunk);
            uint8_t* fu = h.data() + prefix + kRtpHeaderSize;
            fu[0] = static_cast<uint8_t>((data[0] & 0x81) | (kFuType << 1));
            fu[1] = data[1];
            fu[2] = static_cast<uint8_t>((first ? 0x80 : 0) | (last ? 0x40 : 0) | type);
            f(h, prefix + kRtpHeaderSize + kFuHeaderSize, data + pos, chunk);
            pos += chunk;
        }
    }
}

}  // namespace

size_t rtpPacketsForNal(size_t size) {
    return size <= kRtpMaxPayload ? 1 : (size - 2 + kFuChunk - 1) / kFuChunk;
}

RtpWriter::RtpWriter(uint32_t ssrc, uint16_t firstSeq, uint32_t timestampOffset,
                     int interleavedChannel)
    : ssrc_(ssrc),
      nextSeq_(firstSeq),
      timestampOffset_(timestampOffset),
      channel_(interleavedChannel) {}

size_t RtpWriter::wireSize(const AccessUnit& au) const {
    const size_t perPacket = (channel_ >= 0 ? kInterleavedHeaderSize : 0) + kRtpHeaderSize;
    size_t total = 0;
    for (const NalUnitInfo& nal : au.nals) {
        const size_t packets = rtpPacketsForNal(nal.size);
        total += packets * perPacket;
        total += packets == 1 ? nal.size : nal.size - 2 + packets * kFuHeaderSize;
    }
    return total;
}

uint64_t RtpWriter::begin(const AccessUnit& au) {
    const uint16_t first = nextSeq_;
    size_t packets = 0;
    for (const NalUnitInfo& nal : au.nals) {
        packets += rtpPacketsForNal(nal.size);
    }
    const size_t perPacket = (channel_ >= 0 ? kInterleavedHeaderSize : 0) + kRtpHeaderSize;
    nextSeq_ = static_cast<uint16_t>(nextSeq_ + packets);
    packetCount_ += static_cast<uint32_t>(packets);
    octetCount_ += static_cast<uint32_t>(wireSize(au) - packets * perPacket);
    lastCaptureNs_ = au.captureTimeNs;
    return first;
}

size_t RtpWriter::append(SendBatch& batch, const AccessUnit& au, uint64_t tag, size_t offset,
                         size_t maxIov) const {
    size_t skip = offset;
    size_t appended = 0;
    size_t iovLeft = maxIov;
    const auto add = [&](const uint8_t* p, size_t n) {
        if (skip >= n) {
            skip -= n;
            return;
        }
        if (iovLeft == 0) {
            return;
        }
        batch.iov.push_back(iovec{const_cast<uint8_t*>(p) + skip, n - skip});
        appended += n - skip;
        skip = 0;
        --iovLeft;
    };
    forEachPacket(au, static_cast<uint16_t>(tag), rtpTimestamp(au.captureTimeNs, timestampOffset_),
                  ssrc_, channel_,
                  [&](const std::array<uint8_t, 20>& h, size_t hn, const uint8_t* p, size_t n) {
                      if (iovLeft == 0 || (skip == 0 && iovLeft < 2)) {
                          iovLeft = 0;  // a packet's header and payload go in the same send
                          return;
                      }
                      if (skip < hn) {
                          batch.packetHeaders.push_back(h);
                          add(batch.packetHeaders.back().data(), hn);
                      } else {
                          skip -= hn;
                      }
                      add(p, n);
                  });
    return appended;
}

std::vector<std::vector<uint8_t>> RtpWriter::packets(const AccessUnit& au, uint64_t tag) const {
    std::vector<std::vector<uint8_t>> out;
    forEachPacket(au, static_cast<uint16_t>(tag), rtpTimestamp(au.captureTimeNs, timestampOffset_),
                  ssrc_, channel_,
                  [&](const std::array<uint8_t, 20>& h, size_t hn, const uint8_t* p, size_t n) {
                      std::vector<uint8_t> packet(h.begin(), h.begin() + static_cast<long>(hn));
                      packet.insert(packet.end(), p, p + n);
                      out.push_back(std::move(packet));
                  });
    return out;
}

std::vector<uint8_t> rtcpSenderReport(uint32_t ssrc, int64_t wallNs, uint32_t rtpTime,
                                      uint32_t packets, uint32_t octets, const std::string& cname) {
    constexpr uint64_t kNtpEpochOffset = 2208988800ull;  // 1900-01-01 to 1970-01-01, seconds
    std::vector<uint8_t> out(28);
    uint8_t* p = out.data();
    p[0] = 0x80;  // version 2, no reception reports
    p[1] = 200;   // SR
    put16(p + 2, 6);
    put32(p + 4, ssrc);
    const auto secs = static_cast<uint64_t>(wallNs / 1'000'000'000);
    const auto frac = static_cast<uint64_t>(wallNs % 1'000'000'000);
    put32(p + 8, static_cast<uint32_t>(secs + kNtpEpochOffset));
    put32(p + 12, static_cast<uint32_t>((frac << 32) / 1'000'000'000));
    put32(p + 16, rtpTime);
    put32(p + 20, packets);
    put32(p + 24, octets);
    // SDES: one chunk (SSRC, CNAME item, end), padded to 32 bits.
    const size_t nameLen = std::min<size_t>(cname.size(), 255);
    size_t chunk = 4 + 2 + nameLen + 1;
    chunk = (chunk + 3) / 4 * 4;
    std::vector<uint8_t> sdes(4 + chunk, 0);
    sdes[0] = 0x81;  // one chunk
    sdes[1] = 202;   // SDES
    put16(sdes.data() + 2, static_cast<uint32_t>(sdes.size() / 4 - 1));
    put32(sdes.data() + 4, ssrc);
    sdes[8] = 1;  // CNAME
    sdes[9] = static_cast<uint8_t>(nameLen);
    std::memcpy(sdes.data() + 10, cname.data(), nameLen);
    out.insert(out.end(), sdes.begin(), sdes.end());
    return out;
}

bool isRtcpCompound(std::span<const uint8_t> d) {
    if (d.size() < 8 || d.size() % 4 != 0) {
        return false;
    }
    // The first packet: version 2, no padding, SR (200) or RR (201).
    if ((d[0] & 0xe0) != 0x80 || (d[1] != 200 && d[1] != 201)) {
        return false;
    }
    size_t pos = 0;
    while (pos < d.size()) {
        if (d.size() - pos < 4 || (d[pos] & 0xc0) != 0x80) {
            return false;
        }
        const size_t length = (size_t{d[pos + 2]} << 8 | d[pos + 3]) * 4 + 4;
        if (length > d.size() - pos) {
            return false;
        }
        const bool padded = (d[pos] & 0x20) != 0;
        pos += length;
        if (padded && pos != d.size()) {
            return false;  // only the last packet may be padded
        }
    }
    return true;
}

std::vector<uint8_t> interleaved(uint8_t channel, const std::vector<uint8_t>& packet) {
    std::vector<uint8_t> out(kInterleavedHeaderSize + packet.size());
    out[0] = '$';
    out[1] = channel;
    put16(out.data() + 2, static_cast<uint32_t>(packet.size()));
    if (!packet.empty()) {
        std::memcpy(out.data() + kInterleavedHeaderSize, packet.data(), packet.size());
    }
    return out;
}

}  // namespace h265direct::net
