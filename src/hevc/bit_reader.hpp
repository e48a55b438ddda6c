// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// MSB-first bit reader over an RBSP (emulation prevention already removed), with the
// H.265 descriptors u(n), ue(v), se(v). Reading past the end sets a sticky flag and
// yields zeros, so a parser checks once at the end instead of after every field.

#include <cstddef>
#include <cstdint>
#include <span>

namespace h265direct::hevc {

class BitReader {
public:
    explicit BitReader(std::span<const uint8_t> bytes) : data_(bytes) {}

    // u(n), n <= 32.
    uint32_t bits(unsigned n);
    bool flag() { return bits(1) != 0; }
    void skip(size_t n);
    // ue(v): values up to 2^32 - 2; a longer code sets failed().
    uint32_t ue();
    // se(v).
    int32_t se();

    bool failed() const { return failed_; }
    size_t bitPosition() const { return pos_; }
    size_t bitsLeft() const { return data_.size() * 8 - pos_; }

private:
    std::span<const uint8_t> data_;
    size_t pos_ = 0;
    bool failed_ = false;
};

}  // namespace h265direct::hevc
