// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The RTSP protocol's number rule, shared by the request reader (rtsp_reader.cpp) and the
// answers (rtsp.cpp).

#include <charconv>
#include <string_view>

namespace h265direct::net::rtsp_text {

// A decimal number in [lo, hi]; the whole text.
inline bool parseNumber(std::string_view s, long lo, long hi, long& out) {
    if (s.empty() || s.size() > 9) {
        return false;
    }
    long v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) {
        return false;
    }
    out = v;
    return true;
}

}  // namespace h265direct::net::rtsp_text
