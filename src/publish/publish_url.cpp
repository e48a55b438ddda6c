// SPDX-License-Identifier: GPL-2.0-or-later
#include "publish/publish_url.hpp"

#include "core/redact.hpp"
#include "core/text.hpp"

namespace h265direct::publish {

namespace {

constexpr int kRtspDefaultPort = 554;
// libsrt's bounds (SRTO_PASSPHRASE).
constexpr size_t kPassphraseMin = 10;
constexpr size_t kPassphraseMax = 79;

// Finds `key` in a URL query ("a=1&b=2"): true, with its value, when it is there.
bool queryValue(std::string_view query, std::string_view key, std::string& value) {
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        const size_t eq = item.find('=');
        if (item.substr(0, eq) == key) {
            value = eq == std::string_view::npos ? std::string() : std::string(item.substr(eq + 1));
            return true;
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return false;
}

// The user-info as libavformat reads it: it ends at the first '/', '?' or '#' and the last
// '@' before them, and percent-decodes what it sends.
std::string encodeUserinfo(std::string_view info) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (size_t i = 0; i < info.size(); ++i) {
        const auto c = static_cast<unsigned char>(info[i]);
        const bool escape = c == '%' && i + 2 < info.size() &&
                            std::isxdigit(static_cast<unsigned char>(info[i + 1])) &&
                            std::isxdigit(static_cast<unsigned char>(info[i + 2]));
        if (c == '/' || c == '?' || c == '#' || c == '@' || (c == '%' && !escape)) {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

}  // namespace

Result<PublishUrl> parsePublishUrl(std::string_view text) {
    const std::string shown = "'" + redactUrl(text) + "'";
    const auto bad = [](std::string message) { return Error{kExitUsage, std::move(message)}; };
    for (const char c : text) {
        if (std::iscntrl(static_cast<unsigned char>(c)) || c == ' ') {
            return bad(shown + " has a space or control character");
        }
    }
    const UrlParts parts = splitUrl(text);
    if (!parts.valid) {
        return bad(shown +
                   " is not a URL (rtsp://HOST[:PORT]/PATH or srt://HOST:PORT[?streamid=...])");
    }
    const std::string scheme = lowerAscii(parts.scheme);
    PublishUrl u;
    if (scheme == "rtsp") {
        u.kind = PublishUrl::Kind::Rtsp;
    } else if (scheme == "srt") {
        u.kind = PublishUrl::Kind::Srt;
    } else {
        return bad("unknown scheme '" + scheme + "://' (rtsp:// or srt://)");
    }
    const bool srt = u.kind == PublishUrl::Kind::Srt;
    if (parts.hasUserinfo && srt) {
        return bad("srt:// takes no user name (authenticate with ?streamid= or ?passphrase=)");
    }
    const std::string_view authority = parts.authority;
    if (authority.empty()) {
        return bad(shown + " has no host");
    }
    const size_t bracket = authority.rfind(']');
    const size_t colon = authority.rfind(':');
    const bool hasPort =
        colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
    std::string hostPort(authority);
    if (!hasPort) {
        if (srt) {
            return bad(shown + " has no port (srt://HOST:PORT)");
        }
        hostPort += ":" + std::to_string(kRtspDefaultPort);
    }
    Result<net::Endpoint> endpoint = net::parseEndpoint(hostPort, false);
    if (!endpoint) {
        // With an '@' about, what looks like the host may be part of a password.
        return bad(shown + ": " +
                   (text.find('@') == std::string_view::npos
                        ? endpoint.error().message
                        : std::string("no valid HOST:PORT (percent-encode '/', '?', '#' and '@' "
                                      "in a user name or password)")));
    }
    u.endpoint = std::move(endpoint).value();
    u.display = redactUrl(text);
    u.secrets = urlSecrets(text);
    if (!srt) {
        u.url = std::string(parts.scheme) + "://";
        if (parts.hasUserinfo) {
            u.url += encodeUserinfo(parts.userinfo) + "@";
        }
        u.url += std::string(authority) + std::string(parts.path);
        if (parts.hasQuery) {
            u.url += "?" + std::string(parts.query);
        }
        return u;
    }
    if (!parts.path.empty() && parts.path != "/") {
        return bad(shown + ": srt:// takes no path (use ?streamid=)");
    }
    const std::string_view query = parts.query;
    std::string mode;
    if (queryValue(query, "mode", mode) && mode != "caller") {
        return bad(shown + ": mode=" + mode + ": a publisher connects to the server (mode=caller)");
    }
    std::string value;
    if (queryValue(query, "passphrase", value)) {
        const size_t n = percentDecode(value).size();
        if (n < kPassphraseMin || n > kPassphraseMax) {
            return bad(shown + ": the passphrase has " + std::to_string(n) +
                       " characters; SRT takes 10..79 (percent-encode '&' as %26, '%' as %25)");
        }
    }
    if (queryValue(query, "pbkeylen", value) && value != "0" && value != "16" && value != "24" &&
        value != "32") {
        return bad(shown + ": pbkeylen=" + value +
                   ": the key length is 0 (the default), 16, 24 or 32");
    }
    // The secrets travel as the protocol's options, not in the URL that messages show.
    std::string rest;
    size_t pos = 0;
    while (parts.hasQuery && pos <= query.size()) {
        const size_t amp = std::min(query.find('&', pos), query.size());
        const std::string_view item = query.substr(pos, amp - pos);
        const size_t eq = item.find('=');
        const std::string key(item.substr(0, eq));
        if (eq != std::string_view::npos && (key == "passphrase" || key == "streamid")) {
            u.options.emplace_back(key, percentDecode(item.substr(eq + 1)));
        } else if (!item.empty()) {
            appendItem(rest, "&", item);
        }
        pos = amp + 1;
    }
    u.url = std::string(parts.scheme) + "://" + std::string(authority) +
            (rest.empty() ? "" : "?" + rest);
    return u;
}

}  // namespace h265direct::publish
