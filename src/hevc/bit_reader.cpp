// SPDX-License-Identifier: GPL-2.0-or-later
#include "hevc/bit_reader.hpp"

namespace h265direct::hevc {

uint32_t BitReader::bits(unsigned n) {
    if (n == 0) {
        return 0;
    }
    if (n > 32 || n > bitsLeft()) {
        failed_ = true;
        pos_ = data_.size() * 8;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned got = 0; got < n;) {
        const size_t byte = pos_ >> 3;
        const unsigned offset = static_cast<unsigned>(pos_ & 7);
        const unsigned take = (8 - offset) < (n - got) ? (8 - offset) : (n - got);
        const unsigned chunk =
            (static_cast<unsigned>(data_[byte]) >> (8 - offset - take)) & ((1u << take) - 1);
        v = (v << take) | chunk;
        got += take;
        pos_ += take;
    }
    return static_cast<uint32_t>(v);
}

void BitReader::skip(size_t n) {
    if (n > bitsLeft()) {
        failed_ = true;
        pos_ = data_.size() * 8;
        return;
    }
    pos_ += n;
}

uint32_t BitReader::ue() {
    unsigned leadingZeros = 0;
    while (!failed_ && bits(1) == 0) {
        if (++leadingZeros > 31) {
            failed_ = true;
        }
    }
    if (failed_) {
        return 0;
    }
    const uint64_t value = (uint64_t{1} << leadingZeros) - 1 + bits(leadingZeros);
    return failed_ ? 0 : static_cast<uint32_t>(value);
}

int32_t BitReader::se() {
    const uint32_t k = ue();
    // k = 1, 2, 3, 4, ... maps to 1, -1, 2, -2, ...
    const auto magnitude = static_cast<int64_t>((k + uint64_t{1}) / 2);
    return static_cast<int32_t>((k & 1) != 0 ? magnitude : -magnitude);
}

}  // namespace h265direct::hevc
