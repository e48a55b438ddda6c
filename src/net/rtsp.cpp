// SPDX-License-Identifier: GPL-2.0-or-later
// The RTSP server's protocol side without I/O (rtsp.hpp): the Transport header, the SDP, and
// each request's answer (the request reader is rtsp_reader.cpp); the I/O is rtsp_server.cpp.

#include "net/rtsp.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

#include "core/text.hpp"
#include "net/rtsp_text.hpp"

namespace h265direct::net {

namespace {

using rtsp_text::parseNumber;
constexpr const char* kPublic = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER";

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
