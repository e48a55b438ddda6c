// SPDX-License-Identifier: GPL-2.0-or-later
// The RTSP request reader (rtsp.hpp): requests from a connection's bytes cut anywhere, with
// interleaved frames and blank lines skipped, in time linear in the bytes.

#include "net/rtsp.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "core/text.hpp"
#include "net/rtsp_text.hpp"

namespace h265direct::net {

namespace {

using rtsp_text::parseNumber;
constexpr size_t kMaxHeaders = 64;

bool isTokenChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
}

bool printable(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u != 0x7f;
    });
}

}  // namespace

std::string RtspRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (equalsNoCase(k, name)) {
            return v;
        }
    }
    return {};
}

void RtspReader::feed(std::span<const uint8_t> bytes) {
    if (failed_) {
        return;
    }
    const size_t skip = std::min(skip_, bytes.size());
    skip_ -= skip;
    bytes = bytes.subspan(skip);
    if (start_ == buffer_.size()) {
        buffer_.clear();  // all consumed: nothing to move
        start_ = 0;
    }
    buffer_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

RtspReader::Next RtspReader::fail(std::string why) {
    failed_ = true;
    error_ = std::move(why);
    buffer_.clear();
    buffer_.shrink_to_fit();
    start_ = 0;
    return Next::Failed;
}

void RtspReader::consume(size_t n) {
    start_ += n;
    scanned_ = 0;
    if (start_ == buffer_.size()) {
        buffer_.clear();
        start_ = 0;
    } else if (start_ >= buffer_.size() - start_) {
        // Consumed bytes are dropped once they are at least half the buffer, so each byte is
        // moved at most once: the cost stays linear in the bytes fed.
        touched_ += buffer_.size() - start_;
        buffer_.erase(0, start_);
        start_ = 0;
    }
}

size_t RtspReader::findHeadEnd(size_t& headLength) {
    // The first "\r\n\r\n" or "\n\n" after start_, looking at most one request limit ahead
    // and resuming where the last look stopped (a request that arrives byte by byte is
    // scanned once, not once per byte).
    const size_t limit = std::min(buffer_.size(), start_ + kRtspMaxRequest + 4);
    size_t i = start_ + (scanned_ > 3 ? scanned_ - 3 : 0);
    const char* data = buffer_.data();
    while (i < limit) {
        const void* nl = std::memchr(data + i, '\n', limit - i);
        if (nl == nullptr) {
            touched_ += limit - i;
            break;
        }
        const size_t at = static_cast<size_t>(static_cast<const char*>(nl) - data);
        touched_ += at + 1 - i;
        i = at;
        scanned_ = i - start_;  // a body still to come: the next look starts here
        if (i > start_ && i + 2 < limit && data[i - 1] == '\r' && data[i + 1] == '\r' &&
            data[i + 2] == '\n') {
            headLength = i + 3 - start_;
            return i - 1 - start_;
        }
        if (i + 1 < limit && data[i + 1] == '\n') {
            headLength = i + 2 - start_;
            return i - start_;
        }
        ++i;
    }
    scanned_ = limit - start_;
    return std::string::npos;
}

RtspReader::Next RtspReader::next(RtspRequest& out) {
    for (;;) {
        if (failed_) {
            return Next::Failed;
        }
        if (start_ == buffer_.size()) {
            return Next::NeedMore;
        }
        const size_t available = buffer_.size() - start_;
        if (buffer_[start_] == '$') {
            // Interleaved data from the client (RTCP receiver reports): skipped.
            if (available < 4) {
                return Next::NeedMore;
            }
            const size_t total = 4 + ((size_t{static_cast<uint8_t>(buffer_[start_ + 2])} << 8) |
                                      static_cast<uint8_t>(buffer_[start_ + 3]));
            ++interleaved_;
            if (available >= total) {
                consume(total);
                continue;
            }
            skip_ = total - available;
            consume(available);
            return Next::NeedMore;
        }
        if (buffer_[start_] == '\r' || buffer_[start_] == '\n') {
            // Blank lines between requests: the whole run at once.
            const size_t run = buffer_.find_first_not_of("\r\n", start_);
            const size_t n = (run == std::string::npos ? buffer_.size() : run) - start_;
            touched_ += n;
            consume(n);
            continue;
        }
        size_t headLength = 0;
        const size_t end = findHeadEnd(headLength);
        if (end == std::string::npos) {
            if (available > kRtspMaxRequest) {
                return fail("request head longer than " + std::to_string(kRtspMaxRequest) +
                            " bytes");
            }
            return Next::NeedMore;
        }
        if (headLength > kRtspMaxRequest) {
            return fail("request head longer than " + std::to_string(kRtspMaxRequest) + " bytes");
        }
        RtspRequest r;
        const std::string_view head(buffer_.data() + start_, end);
        size_t pos = 0;
        bool first = true;
        while (pos <= head.size()) {
            size_t eol = head.find('\n', pos);
            if (eol == std::string_view::npos) {
                eol = head.size();
            }
            std::string_view line = head.substr(pos, eol - pos);
            if (!line.empty() && line.back() == '\r') {
                line.remove_suffix(1);
            }
            pos = eol + 1;
            if (first) {
                first = false;
                const size_t s1 = line.find(' ');
                const size_t s2 = s1 == std::string_view::npos ? s1 : line.find(' ', s1 + 1);
                if (s2 == std::string_view::npos ||
                    line.find(' ', s2 + 1) != std::string_view::npos) {
                    return fail("not an RTSP request line");
                }
                const std::string_view method = line.substr(0, s1);
                const std::string_view uri = line.substr(s1 + 1, s2 - s1 - 1);
                const std::string_view version = line.substr(s2 + 1);
                if (method.empty() || method.size() > 32 ||
                    !std::all_of(method.begin(), method.end(), isTokenChar) || uri.empty() ||
                    !printable(uri) || version.substr(0, 5) != "RTSP/" || !printable(version)) {
                    return fail("not an RTSP request line");
                }
                r.method = method;
                r.uri = uri;
                r.version = version;
                continue;
            }
            const size_t colon = line.find(':');
            if (colon == 0 || colon == std::string_view::npos) {
                return fail("malformed header line");
            }
            const std::string_view name = line.substr(0, colon);
            if (!std::all_of(name.begin(), name.end(), isTokenChar)) {
                return fail("malformed header line");
            }
            const std::string_view value = trimSpace(line.substr(colon + 1));
            if (std::any_of(value.begin(), value.end(), [](char c) {
                    return static_cast<unsigned char>(c) < 0x20 && c != '\t';
                })) {
                return fail("control character in a header");
            }
            if (r.headers.size() >= kMaxHeaders) {
                return fail("more than " + std::to_string(kMaxHeaders) + " headers");
            }
            r.headers.emplace_back(std::string(name), std::string(value));
        }
        size_t body = 0;
        if (const std::string cl = r.header("Content-Length"); !cl.empty()) {
            long n = 0;
            if (!parseNumber(cl, 0, static_cast<long>(kRtspMaxBody), n)) {
                return fail("Content-Length \"" + logSafe(cl, 16) + "\" is not 0.." +
                            std::to_string(kRtspMaxBody));
            }
            body = static_cast<size_t>(n);
        }
        if (available < headLength + body) {
            return Next::NeedMore;
        }
        consume(headLength + body);  // a body is read and ignored
        out = std::move(r);
        return Next::Request;
    }
}

}  // namespace h265direct::net
