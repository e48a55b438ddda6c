// SPDX-License-Identifier: GPL-2.0-or-later
// The redaction of URLs (core/redact) and the --publish URL parser, fed any password and any
// SRT passphrase: an RTSP password, whatever '/', '?', '#', '@' or '%' it holds, is shown only
// as *** and the host after it is the one connected to; an SRT passphrase is shown only as
// *** and reaches libsrt as an option, out of the URL; any text comes through redactText
// without a crash. The one documented exception, a password of digits then '/', '?' or '#'
// (read as a port), is left out.
//
// Input: the secret (its printable, non-space ASCII bytes), then any text after a NUL byte.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/redact.hpp"
#include "fuzz_check.hpp"
#include "publish/publish_url.hpp"

using namespace h265direct;

namespace {

bool endsWith(std::string_view s, std::string_view tail) {
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// "1234/..." and the like: host user, port 1234 (docs/cli.md, Secrets).
bool readAsPort(const std::string& p) {
    size_t digits = 0;
    while (digits < p.size() && p[digits] >= '0' && p[digits] <= '9') {
        ++digits;
    }
    return digits >= 1 && digits <= 5 && digits < p.size() &&
           (p[digits] == '/' || p[digits] == '?' || p[digits] == '#');
}

void checkRtspPassword(const std::string& password) {
    const std::string rest = "host.example:8554/path";
    const std::string url = "rtsp://user:" + password + "@" + rest;
    const std::string shown = redactUrl(url);
    if (readAsPort(password)) {
        return;
    }
    FUZZ_CHECK(shown == "rtsp://user:***@" + rest);
    const Result<publish::PublishUrl> u = publish::parsePublishUrl(url);
    FUZZ_CHECK(u);
    FUZZ_CHECK(u.value().display == shown);
    FUZZ_CHECK(u.value().endpoint.host == "host.example" && u.value().endpoint.port == 8554);
    FUZZ_CHECK(endsWith(u.value().url, "@" + rest));
}

void checkSrtPassphrase(const std::string& passphrase) {
    if (passphrase.find('&') != std::string::npos) {
        return;  // '&' ends a query value: %26
    }
    const std::string url =
        "srt://host.example:9000?latency=20&passphrase=" + passphrase + "&mode=caller";
    const std::string masked = "srt://host.example:9000?latency=20&passphrase=***&mode=caller";
    FUZZ_CHECK(redactUrl(url) == masked);
    const Result<publish::PublishUrl> u = publish::parsePublishUrl(url);
    const size_t n = percentDecode(passphrase).size();
    if (n >= 10 && n <= 79) {
        FUZZ_CHECK(u);
        FUZZ_CHECK(u.value().display == masked);
        FUZZ_CHECK(u.value().url == "srt://host.example:9000?latency=20&mode=caller");
        FUZZ_CHECK(u.value().options.size() == 1 && u.value().options[0].first == "passphrase" &&
                   u.value().options[0].second == percentDecode(passphrase));
    } else {
        FUZZ_CHECK(!u);
        FUZZ_CHECK(u.error().message.find("'" + masked + "'") != std::string::npos);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t nul = input.find('\0');
    std::string secret;
    for (const char c : input.substr(0, nul)) {
        if (c > ' ' && c < 0x7f) {
            secret += c;
        }
    }
    checkRtspPassword(secret);
    checkSrtPassphrase(secret);
    if (nul != std::string_view::npos) {
        const std::string text = redactText(input.substr(nul + 1));
        FUZZ_CHECK(text.size() <= 4 * (size - nul) + 16);
    }
    return 0;
}
