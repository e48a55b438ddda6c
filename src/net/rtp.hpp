// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "h265direct/access_unit.hpp"
#include "net/peer_queue.hpp"

namespace h265direct::net {

// RTP/H.265 (RFC 7798) as the RTSP server sends it, and RTCP sender reports (RFC 3550).
//
// Every NAL unit of an access unit (parameter sets and SEI included) becomes one RTP packet
// when it fits kRtpMaxPayload bytes (single NAL unit packet), else fragmentation units (FU,
// type 49) of at most that payload. The marker bit is set on the access unit's last packet.
// The timestamp is the capture time at 90 kHz plus a random offset per receiver. Over RTSP's
// TCP connection each packet follows a 4-byte interleaved header ('$', channel, length).

inline constexpr size_t kRtpMaxPayload = 1400;  // fits a 1500-byte MTU with IP/UDP headers
inline constexpr size_t kRtpHeaderSize = 12;
inline constexpr size_t kInterleavedHeaderSize = 4;
inline constexpr uint8_t kRtpPayloadType = 96;
inline constexpr uint8_t kFuType = 49;

// The RTP timestamp (90 kHz) of a CLOCK_MONOTONIC time.
inline uint32_t rtpTimestamp(int64_t monotonicNs, uint32_t offset) {
    return offset + static_cast<uint32_t>(static_cast<uint64_t>(monotonicNs / 1000) * 9 / 100);
}

// One receiver's RTP stream: its SSRC, sequence numbers and timestamp offset. The packets of
// a unit are numbered when the unit is begun; append() writes them again the same way after
// a partial send.
class RtpWriter final : public UnitWriter {
public:
    // interleavedChannel < 0: plain RTP packets (UDP), else with the interleaved header.
    RtpWriter(uint32_t ssrc, uint16_t firstSeq, uint32_t timestampOffset, int interleavedChannel);

    size_t wireSize(const AccessUnit& au) const override;
    uint64_t begin(const AccessUnit& au) override;
    size_t append(SendBatch& batch, const AccessUnit& au, uint64_t tag, size_t offset,
                  size_t maxIov) const override;

    // Packets of one unit, each as one contiguous buffer (tests and UDP, one datagram each).
    std::vector<std::vector<uint8_t>> packets(const AccessUnit& au, uint64_t tag) const;

    uint32_t ssrc() const { return ssrc_; }
    uint16_t nextSeq() const { return nextSeq_; }
    uint32_t timestampOffset() const { return timestampOffset_; }
    // Sent so far (begun units): for the sender report.
    uint32_t packetCount() const { return packetCount_; }
    uint32_t octetCount() const { return octetCount_; }
    int64_t lastCaptureNs() const { return lastCaptureNs_; }

private:
    uint32_t ssrc_;
    uint16_t nextSeq_;
    uint32_t timestampOffset_;
    int channel_;
    uint32_t packetCount_ = 0;
    uint32_t octetCount_ = 0;  // payload octets (RTP headers excluded), as RFC 3550 counts
    int64_t lastCaptureNs_ = 0;
};

// Packets and payload bytes one NAL unit of `size` bytes takes.
size_t rtpPacketsForNal(size_t size);

// An RTCP compound packet: a sender report (NTP time `wallNs` since the Unix epoch <-> RTP
// timestamp `rtpTime`, the counts) and an SDES with the CNAME.
std::vector<uint8_t> rtcpSenderReport(uint32_t ssrc, int64_t wallNs, uint32_t rtpTime,
                                      uint32_t packets, uint32_t octets, const std::string& cname);

// Whether a datagram is an RTCP compound packet by RFC 3550's checks (appendix A.2): every
// packet version 2, the first a sender or receiver report without padding, only the last
// padded, and the packets' lengths adding up to the datagram's.
bool isRtcpCompound(std::span<const uint8_t> datagram);

// Prefixes a packet with the interleaved header for `channel`.
std::vector<uint8_t> interleaved(uint8_t channel, const std::vector<uint8_t>& packet);

}  // namespace h265direct::net
