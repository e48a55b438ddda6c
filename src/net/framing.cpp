// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/framing.hpp"

#include <cstring>

namespace h265direct::net {

const char* toString(Framing framing) {
    return framing == Framing::Length ? "length" : "annexb";
}

bool parseFraming(const std::string& text, Framing& out) {
    if (text == "length") {
        out = Framing::Length;
        return true;
    }
    if (text == "annexb") {
        out = Framing::AnnexB;
        return true;
    }
    return false;
}

bool LengthDeframer::feed(std::span<const uint8_t> bytes) {
    if (failed_) {
        return false;
    }
    // Compact now and then so the buffer does not grow with the consumed prefix.
    if (start_ > 0 && start_ >= buffer_.size() / 2) {
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
        start_ = 0;
    }
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    return true;
}

bool LengthDeframer::next(std::vector<uint8_t>& out) {
    if (failed_ || pending() < kLengthHeaderSize) {
        return false;
    }
    const uint8_t* p = buffer_.data() + start_;
    const size_t size = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
    if (size == 0 || size > maxFrameSize_) {
        failed_ = true;
        error_ = "frame length " + std::to_string(size) + " is " +
                 (size == 0 ? std::string("zero")
                            : "above the limit of " + std::to_string(maxFrameSize_) + " bytes");
        return false;
    }
    if (pending() < kLengthHeaderSize + size) {
        return false;
    }
    out.assign(p + kLengthHeaderSize, p + kLengthHeaderSize + size);
    start_ += kLengthHeaderSize + size;
    return true;
}

}  // namespace h265direct::net
