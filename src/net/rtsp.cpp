// The RTSP server's protocol side without I/O (rtsp.hpp): the request reader, the Transport
// header, the SDP, and each request's answer. One file (about 510 lines): all of it is the one
// RFC's text rules, each part small and used only by the session's answers; the I/O is
// rtsp_server.cpp.

#include "net/rtsp.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

#include "core/text.hpp"

namespace h265direct::net {

namespace {

constexpr size_t kMaxHeaders = 64;
constexpr const char* kPublic = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER";

bool isTokenChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
}

bool printable(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u != 0x7f;
    });
}

// A decimal number in [lo, hi]; the whole text.
bool parseNumber(std::string_view s, long lo, long hi, long& out) {
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

// "a-b" or "a": both numbers in [lo, hi]; b defaults to a + 1.
bool parsePair(std::string_view s, long lo, long hi, long& a, long& b) {
    const size_t dash = s.find('-');
    if (dash == std::string_view::npos) {
        if (!parseNumber(s, lo, hi - 1, a)) {
            return false;
        }
        b = a + 1;
        return true;
    }
    return parseNumber(s.substr(0, dash), lo, hi, a) && parseNumber(s.substr(dash + 1), lo, hi, b);
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
    buffer_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

RtspReader::Next RtspReader::fail(std::string why) {
    failed_ = true;
    error_ = std::move(why);
    buffer_.clear();
    buffer_.shrink_to_fit();
    return Next::Failed;
}

RtspReader::Next RtspReader::next(RtspRequest& out) {
    for (;;) {
        if (failed_) {
            return Next::Failed;
        }
        if (buffer_.empty()) {
            return Next::NeedMore;
        }
        if (buffer_[0] == '$') {
            // Interleaved data from the client (RTCP receiver reports): skipped.
            if (buffer_.size() < 4) {
                return Next::NeedMore;
            }
            const size_t total = 4 + ((size_t{static_cast<uint8_t>(buffer_[2])} << 8) |
                                      static_cast<uint8_t>(buffer_[3]));
            ++interleaved_;
            if (buffer_.size() >= total) {
                buffer_.erase(0, total);
                continue;
            }
            skip_ = total - buffer_.size();
            buffer_.clear();
            return Next::NeedMore;
        }
        if (buffer_[0] == '\r' || buffer_[0] == '\n') {
            buffer_.erase(0, 1);  // blank lines between requests
            continue;
        }
        const size_t crlf = buffer_.find("\r\n\r\n");
        const size_t lf = buffer_.find("\n\n");
        const size_t end = std::min(crlf, lf);
        if (end == std::string::npos) {
            if (buffer_.size() > kRtspMaxRequest) {
                return fail("request head longer than " + std::to_string(kRtspMaxRequest) +
                            " bytes");
            }
            return Next::NeedMore;
        }
        const size_t headLength = end + (end == crlf ? 4 : 2);
        if (headLength > kRtspMaxRequest) {
            return fail("request head longer than " + std::to_string(kRtspMaxRequest) + " bytes");
        }
        RtspRequest r;
        const std::string_view head(buffer_.data(), end);
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
                return fail("Content-Length " + cl + " is not 0.." + std::to_string(kRtspMaxBody));
            }
            body = static_cast<size_t>(n);
        }
        if (buffer_.size() < headLength + body) {
            return Next::NeedMore;
        }
        buffer_.erase(0, headLength + body);  // a body is read and ignored
        out = std::move(r);
        return Next::Request;
    }
}

std::string rtspUrlPath(std::string_view uri) {
    if (uri == "*") {
        return "*";
    }
    constexpr std::string_view kScheme = "rtsp://";
    if (uri.size() < kScheme.size() || !equalsNoCase(uri.substr(0, kScheme.size()), kScheme)) {
        return {};
    }
    uri.remove_prefix(kScheme.size());
    const size_t slash = uri.find('/');
    if (slash == std::string_view::npos) {
        return "/";
    }
    std::string_view path = uri.substr(slash);
    path = path.substr(0, std::min(path.find('?'), path.find('#')));
    return std::string(path);
}

std::string normalizeRtspPath(std::string_view path) {
    while (path.size() > 1 && path.back() == '/') {
        path.remove_suffix(1);
    }
    return std::string(path);
}

std::string base64(std::span<const uint8_t> bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (size_t i = 0; i < bytes.size(); i += 3) {
        const size_t n = std::min<size_t>(3, bytes.size() - i);
        uint32_t v = uint32_t{bytes[i]} << 16;
        if (n > 1) {
            v |= uint32_t{bytes[i + 1]} << 8;
        }
        if (n > 2) {
            v |= bytes[i + 2];
        }
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += n > 1 ? kAlphabet[(v >> 6) & 63] : '=';
        out += n > 2 ? kAlphabet[v & 63] : '=';
    }
    return out;
}

RtspTransport parseRtspTransport(std::string_view header, bool udpAllowed) {
    while (!header.empty()) {
        const size_t comma = header.find(',');
        const std::string_view spec = trimSpace(header.substr(0, comma));
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        RtspTransport t;
        bool ok = true;
        bool haveClientPort = false;
        size_t pos = 0;
        bool firstPart = true;
        while (ok && pos <= spec.size()) {
            size_t semi = spec.find(';', pos);
            if (semi == std::string_view::npos) {
                semi = spec.size();
            }
            const std::string_view part = trimSpace(spec.substr(pos, semi - pos));
            pos = semi + 1;
            if (firstPart) {
                firstPart = false;
                if (equalsNoCase(part, "RTP/AVP/TCP")) {
                    t.kind = RtspTransport::Kind::Interleaved;
                } else if (equalsNoCase(part, "RTP/AVP") || equalsNoCase(part, "RTP/AVP/UDP")) {
                    t.kind = RtspTransport::Kind::Udp;
                } else {
                    ok = false;
                }
                continue;
            }
            const size_t eq = part.find('=');
            const std::string_view key = part.substr(0, eq);
            const std::string_view value =
                eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
            long a = 0;
            long b = 0;
            if (equalsNoCase(key, "multicast")) {
                ok = false;
            } else if (equalsNoCase(key, "interleaved")) {
                ok = t.kind == RtspTransport::Kind::Interleaved && parsePair(value, 0, 255, a, b);
                t.rtpChannel = static_cast<int>(a);
                t.rtcpChannel = static_cast<int>(b);
            } else if (equalsNoCase(key, "client_port")) {
                ok = parsePair(value, 1, 65535, a, b);
                t.clientRtpPort = static_cast<uint16_t>(a);
                t.clientRtcpPort = static_cast<uint16_t>(b);
                haveClientPort = ok;
            } else if (equalsNoCase(key, "mode")) {
                std::string_view m = value;
                if (m.size() >= 2 && m.front() == '"' && m.back() == '"') {
                    m = m.substr(1, m.size() - 2);
                }
                ok = equalsNoCase(m, "PLAY");
            }
        }
        if (!ok || t.kind == RtspTransport::Kind::None) {
            continue;
        }
        if (t.kind == RtspTransport::Kind::Udp && (!udpAllowed || !haveClientPort)) {
            continue;
        }
        return t;
    }
    return {};
}

std::string makeSdp(const SdpParameters& p) {
    std::string origin = p.origin;
    if (origin.rfind("::ffff:", 0) == 0 && origin.find('.') != std::string::npos) {
        origin = origin.substr(7);
    }
    const bool v6 = origin.find(':') != std::string::npos;
    const auto b64 = [](const std::string& s) {
        return base64({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
    };
    std::string sdp;
    sdp += "v=0\r\n";
    sdp += "o=- " + std::to_string(p.sessionId) + " 1 IN " + (v6 ? "IP6 " : "IP4 ") +
           (origin.empty() ? "0.0.0.0" : origin) + "\r\n";
    sdp += "s=h265direct\r\n";
    sdp += std::string("c=IN ") + (v6 ? "IP6 ::" : "IP4 0.0.0.0") + "\r\n";
    sdp += "t=0 0\r\n";
    sdp += "a=tool:h265direct\r\n";
    sdp += "a=control:*\r\n";
    sdp += "m=video 0 RTP/AVP 96\r\n";
    sdp += "a=rtpmap:96 H265/90000\r\n";
    sdp += "a=fmtp:96 sprop-vps=" + b64(p.vps) + "; sprop-sps=" + b64(p.sps) +
           "; sprop-pps=" + b64(p.pps) + "\r\n";
    sdp += "a=control:trackID=0\r\n";
    return sdp;
}

RtspSession::RtspSession(Config config, uint64_t sessionId) : config_(std::move(config)) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(sessionId));
    sessionText_ = text;
}

std::string RtspSession::status(int code, const char* reason, const RtspRequest& request,
                                const std::string& headers, const std::string& body) const {
    std::string r = "RTSP/1.0 " + std::to_string(code) + " " + reason + "\r\n";
    long cseq = 0;
    if (parseNumber(request.header("CSeq"), 0, 999999999, cseq)) {
        r += "CSeq: " + std::to_string(cseq) + "\r\n";
    }
    r += "Server: h265direct\r\n";
    if (setUp_) {
        r += "Session: " + sessionText_ + ";timeout=" + std::to_string(config_.timeoutSec) + "\r\n";
    }
    r += headers;
    if (!body.empty()) {
        r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    r += "\r\n";
    r += body;
    return r;
}

std::string RtspSession::badRequest(const std::string& why) {
    (void)why;
    return "RTSP/1.0 400 Bad Request\r\nServer: h265direct\r\nConnection: close\r\n\r\n";
}

std::string RtspSession::unavailable(const RtspRequest& request) {
    RtspSession s(Config{}, 0);
    return s.status(503, "Service Unavailable", request);
}

std::string RtspSession::unauthorized(const RtspRequest& request,
                                      const std::string& challenge) const {
    return status(401, "Unauthorized", request, challenge);
}

bool RtspSession::pathIsOurs(const std::string& uri, bool track) const {
    const std::string path = normalizeRtspPath(rtspUrlPath(uri));
    if (path == config_.path) {
        return true;
    }
    const std::string trackPath = (config_.path == "/" ? "" : config_.path) + "/trackID=0";
    return track && path == trackPath;
}

RtspSession::Outcome RtspSession::handle(const RtspRequest& request, const Context& context,
                                         std::string& reply) {
    long cseq = 0;
    if (!parseNumber(request.header("CSeq"), 0, 999999999, cseq)) {
        reply = status(400, "Bad Request", request, "Connection: close\r\n");
        return Outcome::ReplyAndClose;
    }
    if (request.version != "RTSP/1.0") {
        reply = status(505, "RTSP Version Not Supported", request);
        return Outcome::Reply;
    }
    const std::string& m = request.method;
    std::string session = request.header("Session");
    session = session.substr(0, session.find(';'));
    const bool sessionGiven = !session.empty();
    if (sessionGiven && (!setUp_ || session != sessionText_) && m != "OPTIONS" && m != "DESCRIBE") {
        reply = status(454, "Session Not Found", request);
        return Outcome::Reply;
    }
    if (m == "OPTIONS") {
        reply = status(200, "OK", request, std::string("Public: ") + kPublic + "\r\n");
        return Outcome::Reply;
    }
    if (m == "DESCRIBE") {
        if (!pathIsOurs(request.uri, false)) {
            reply = status(404, "Not Found", request);
            return Outcome::Reply;
        }
        if (context.sdp == nullptr) {
            return Outcome::Wait;
        }
        std::string base = request.uri;
        if (base.back() != '/') {
            base += '/';
        }
        reply = status(200, "OK", request,
                       "Content-Type: application/sdp\r\nContent-Base: " + base + "\r\n",
                       makeSdp(*context.sdp));
        return Outcome::Reply;
    }
    if (m == "SETUP") {
        if (!pathIsOurs(request.uri, true)) {
            reply = status(404, "Not Found", request);
            return Outcome::Reply;
        }
        if (playing_) {
            reply = status(455, "Method Not Valid in This State", request);
            return Outcome::Reply;
        }
        const RtspTransport t = parseRtspTransport(request.header("Transport"), config_.udp);
        if (t.kind == RtspTransport::Kind::Udp && context.serverRtpPort == 0) {
            reply = status(500, "Internal Server Error", request);
            return Outcome::Reply;
        }
        if (t.kind == RtspTransport::Kind::None) {
            reply = status(461, "Unsupported Transport", request);
            return Outcome::Reply;
        }
        transport_ = t;
        setUp_ = true;
        setupUri_ = request.uri;
        char ssrc[9];
        std::snprintf(ssrc, sizeof ssrc, "%08X", context.ssrc);
        std::string th = "Transport: ";
        if (t.kind == RtspTransport::Kind::Interleaved) {
            th += "RTP/AVP/TCP;unicast;interleaved=" + std::to_string(t.rtpChannel) + "-" +
                  std::to_string(t.rtcpChannel);
        } else {
            th += "RTP/AVP;unicast;client_port=" + std::to_string(t.clientRtpPort) + "-" +
                  std::to_string(t.clientRtcpPort) +
                  ";server_port=" + std::to_string(context.serverRtpPort) + "-" +
                  std::to_string(context.serverRtcpPort);
        }
        th += std::string(";ssrc=") + ssrc + "\r\n";
        reply = status(200, "OK", request, th);
        return Outcome::Setup;
    }
    if (m == "PLAY") {
        if (!setUp_) {
            reply = status(sessionGiven ? 454 : 455,
                           sessionGiven ? "Session Not Found" : "Method Not Valid in This State",
                           request);
            return Outcome::Reply;
        }
        if (playing_) {
            reply = status(200, "OK", request, "Range: npt=0.000-\r\n");
            return Outcome::Reply;
        }
        playing_ = true;
        reply = status(200, "OK", request,
                       "Range: npt=0.000-\r\nRTP-Info: url=" + setupUri_ +
                           ";seq=" + std::to_string(context.nextSeq) +
                           ";rtptime=" + std::to_string(context.rtpTimeNow) + "\r\n");
        return Outcome::Play;
    }
    if (m == "TEARDOWN") {
        if (!setUp_) {
            reply = status(454, "Session Not Found", request);
            return Outcome::Reply;
        }
        reply = status(200, "OK", request, "Connection: close\r\n");
        setUp_ = false;
        playing_ = false;
        return Outcome::Teardown;
    }
    if (m == "GET_PARAMETER") {
        reply = status(200, "OK", request);
        return Outcome::Reply;
    }
    if (m == "PAUSE" || m == "ANNOUNCE" || m == "RECORD" || m == "SET_PARAMETER" ||
        m == "REDIRECT") {
        reply =
            status(405, "Method Not Allowed", request, std::string("Allow: ") + kPublic + "\r\n");
        return Outcome::Reply;
    }
    reply = status(501, "Not Implemented", request);
    return Outcome::Reply;
}

}  // namespace h265direct::net
