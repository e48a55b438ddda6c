// SPDX-License-Identifier: GPL-2.0-or-later
// The Authorization header parser (net::parseAuthorization) and the Authenticator's check,
// fed any bytes: the parser never reads outside the header and never throws; what it accepts
// has a lower-case token as scheme, at most kAuthMaxParams parameters with distinct
// lower-case token names, and either a token68 or parameters, never both; written out again
// (every value quoted, '"' and '\' escaped) it parses to the same. The check of the same bytes
// as a request's header says Missing only for a blank one and never grants access (there is
// no Basic, and no response of this server's nonces can be in the input).
//
// Input: the header's value.

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.hpp"
#include "fuzz_check.hpp"
#include "net/auth.hpp"

using namespace h265direct;

namespace {

bool isLowerToken(const std::string& s) {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        if (std::isupper(static_cast<unsigned char>(c)) != 0 ||
            static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f ||
            c == '"' || c == ',' || c == '=') {
            return false;
        }
    }
    return true;
}

std::string writeOut(const net::AuthorizationHeader& h) {
    std::string s = h.scheme;
    if (!h.token68.empty()) {
        return s + " " + h.token68;
    }
    for (size_t i = 0; i < h.params.size(); ++i) {
        s += i == 0 ? " " : ", ";
        s += h.params[i].first + "=\"";
        for (const char c : h.params[i].second) {
            if (c == '"' || c == '\\') {
                s += '\\';
            }
            s += c;
        }
        s += '"';
    }
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // A copy of exactly the input's size, so that AddressSanitizer sees any read past it.
    const std::vector<char> bytes(data, data + size);
    const std::string_view header(bytes.data(), bytes.size());
    net::AuthorizationHeader h;
    if (net::parseAuthorization(header, h)) {
        FUZZ_CHECK(header.size() <= net::kAuthMaxHeader);
        FUZZ_CHECK(isLowerToken(h.scheme));
        FUZZ_CHECK(h.params.size() <= net::kAuthMaxParams);
        FUZZ_CHECK(h.token68.empty() || h.params.empty());
        for (size_t i = 0; i < h.params.size(); ++i) {
            FUZZ_CHECK(isLowerToken(h.params[i].first));
            for (size_t j = 0; j < i; ++j) {
                FUZZ_CHECK(h.params[i].first != h.params[j].first);
            }
        }
        const std::string again = writeOut(h);
        if (again.size() <= net::kAuthMaxHeader) {
            net::AuthorizationHeader h2;
            FUZZ_CHECK(net::parseAuthorization(again, h2));
            FUZZ_CHECK(h2.scheme == h.scheme && h2.token68 == h.token68 && h2.params == h.params);
        }
    }
    static const net::Authenticator auth(
        net::Authenticator::Settings{{{"alice", "wonderland"}}, false, 300});
    const net::Authenticator::Check c = auth.check("DESCRIBE", "rtsp://127.0.0.1:8554/", header);
    FUZZ_CHECK((c.verdict == net::Authenticator::Verdict::Missing) == trimSpace(header).empty());
    FUZZ_CHECK(c.verdict != net::Authenticator::Verdict::Granted);
    return 0;
}
