// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "h265direct/config.hpp"

namespace h265direct::net {

// The length framing: every access unit is preceded by its size as a 4-byte big-endian
// unsigned integer (the original script's wire format). The annexb framing adds nothing.
constexpr size_t kLengthHeaderSize = 4;

inline std::array<uint8_t, kLengthHeaderSize> lengthHeader(size_t size) {
    const auto n = static_cast<uint32_t>(size);
    return {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
            static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
}

inline size_t framingOverhead(Framing framing) {
    return framing == Framing::Length ? kLengthHeaderSize : 0;
}

const char* toString(Framing framing);
// "length" / "annexb"; false for anything else.
bool parseFraming(const std::string& text, Framing& out);

// Reassembles length-framed access units from a byte stream cut anywhere.
class LengthDeframer {
public:
    // Larger frames are taken as a corrupt stream rather than allocated.
    explicit LengthDeframer(size_t maxFrameSize = 64u << 20) : maxFrameSize_(maxFrameSize) {}

    // Appends bytes; false once a frame length is zero or above the limit (the stream is
    // then unusable: resynchronising on a length framing is guesswork).
    bool feed(std::span<const uint8_t> bytes);
    // Moves the next complete frame into out; false when none is complete yet.
    bool next(std::vector<uint8_t>& out);
    bool failed() const { return failed_; }
    std::string error() const { return error_; }
    // Bytes received that belong to no complete frame yet.
    size_t pending() const { return buffer_.size() - start_; }

private:
    size_t maxFrameSize_;
    std::vector<uint8_t> buffer_;
    size_t start_ = 0;
    bool failed_ = false;
    std::string error_;
};

}  // namespace h265direct::net
