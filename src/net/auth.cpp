// SPDX-License-Identifier: GPL-2.0-or-later
// RTSP authentication (auth.hpp): the Authorization header parser, and the Authenticator with
// its stateless nonces (users and user files: users.cpp). Hashes, HMAC, Base64 and the
// constant-time comparison are nettle's.

#include "net/auth.hpp"

#include <nettle/base16.h>
#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/md5.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>

#include <algorithm>
#include <cstring>

#include "core/clock.hpp"
#include "core/secure_random.hpp"
#include "core/text.hpp"
#include "net/rtsp.hpp"

namespace h265direct::net {

namespace {

constexpr size_t kMacBytes = 16;  // of the nonce's HMAC-SHA256, kept
constexpr size_t kNonceHexLength = 2 * (8 + kMacBytes);

std::string hex(const uint8_t* bytes, size_t n) {
    std::string out(BASE16_ENCODE_LENGTH(n), '\0');
    base16_encode_update(out.data(), n, bytes);
    return out;
}

std::string hexHash(DigestAlgorithm algorithm, std::string_view text) {
    const auto* data = reinterpret_cast<const uint8_t*>(text.data());
    if (algorithm == DigestAlgorithm::Md5) {
        md5_ctx ctx;
        md5_init(&ctx);
        md5_update(&ctx, text.size(), data);
        uint8_t digest[MD5_DIGEST_SIZE];
        md5_digest(&ctx, sizeof digest, digest);
        return hex(digest, sizeof digest);
    }
    sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, text.size(), data);
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof digest, digest);
    return hex(digest, sizeof digest);
}

std::string joined(std::initializer_list<std::string_view> parts) {
    std::string out;
    bool first = true;
    for (const std::string_view p : parts) {
        if (!first) {
            out += ':';
        }
        first = false;
        out += p;
    }
    return out;
}

// The path of a Digest uri: an rtsp:// URL's, or an absolute path as it is (without a query).
std::string authUriPath(std::string_view uri) {
    if (uri.substr(0, 1) == "/") {
        return normalizeRtspPath(uri.substr(0, std::min(uri.find('?'), uri.find('#'))));
    }
    const std::string path = rtspUrlPath(uri);
    return path.empty() ? path : normalizeRtspPath(path);
}

// (Not strchr, which finds the terminating NUL too.)
bool isTchar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken68Char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("-._~+/").find(c) != std::string_view::npos;
}

bool isSpace(char c) {
    return c == ' ' || c == '\t';
}

}  // namespace

const std::string* AuthorizationHeader::param(std::string_view name) const {
    for (const auto& [k, v] : params) {
        if (k == name) {
            return &v;
        }
    }
    return nullptr;
}

bool parseAuthorization(std::string_view h, AuthorizationHeader& out) {
    out = AuthorizationHeader{};
    if (h.size() > kAuthMaxHeader) {
        return false;
    }
    size_t i = 0;
    const auto skipSpace = [&] {
        while (i < h.size() && isSpace(h[i])) {
            ++i;
        }
    };
    skipSpace();
    const size_t schemeStart = i;
    while (i < h.size() && isTchar(h[i])) {
        ++i;
    }
    if (i == schemeStart || (i < h.size() && !isSpace(h[i]))) {
        return false;
    }
    out.scheme = lowerAscii(h.substr(schemeStart, i - schemeStart));
    skipSpace();
    if (i == h.size()) {
        return true;
    }
    // token68: its characters, then only '=' padding, then the end.
    {
        size_t j = i;
        while (j < h.size() && isToken68Char(h[j])) {
            ++j;
        }
        const size_t body = j;
        while (j < h.size() && h[j] == '=') {
            ++j;
        }
        size_t k = j;
        while (k < h.size() && isSpace(h[k])) {
            ++k;
        }
        if (body > i && k == h.size()) {
            out.token68 = std::string(h.substr(i, j - i));
            return true;
        }
    }
    // #auth-param: name BWS "=" BWS (token / quoted-string), separated by commas; empty
    // elements are allowed.
    for (;;) {
        while (i < h.size() && (isSpace(h[i]) || h[i] == ',')) {
            ++i;
        }
        if (i == h.size()) {
            return true;
        }
        const size_t nameStart = i;
        while (i < h.size() && isTchar(h[i])) {
            ++i;
        }
        if (i == nameStart) {
            return false;
        }
        std::string name = lowerAscii(h.substr(nameStart, i - nameStart));
        skipSpace();
        if (i == h.size() || h[i] != '=') {
            return false;
        }
        ++i;
        skipSpace();
        std::string value;
        if (i < h.size() && h[i] == '"') {
            ++i;
            for (;;) {
                if (i == h.size()) {
                    return false;  // not closed
                }
                char c = h[i++];
                if (c == '"') {
                    break;
                }
                if (c == '\\') {
                    if (i == h.size()) {
                        return false;
                    }
                    c = h[i++];
                }
                const auto u = static_cast<unsigned char>(c);
                if ((u < 0x20 && c != '\t') || u == 0x7f) {
                    return false;
                }
                value += c;
            }
        } else {
            const size_t valueStart = i;
            while (i < h.size() && isTchar(h[i])) {
                ++i;
            }
            if (i == valueStart) {
                return false;
            }
            value = std::string(h.substr(valueStart, i - valueStart));
        }
        if (out.param(name) != nullptr || out.params.size() >= kAuthMaxParams) {
            return false;
        }
        out.params.emplace_back(std::move(name), std::move(value));
        skipSpace();
        if (i < h.size() && h[i] != ',') {
            return false;
        }
    }
}

std::string digestResponse(DigestAlgorithm algorithm, std::string_view user, std::string_view realm,
                           std::string_view password, std::string_view method, std::string_view uri,
                           std::string_view nonce, std::string_view qop, std::string_view nc,
                           std::string_view cnonce) {
    const std::string ha1 = hexHash(algorithm, joined({user, realm, password}));
    const std::string ha2 = hexHash(algorithm, joined({method, uri}));
    if (qop.empty()) {
        return hexHash(algorithm, joined({ha1, nonce, ha2}));
    }
    return hexHash(algorithm, joined({ha1, nonce, nc, cnonce, qop, ha2}));
}

bool equalConstantTime(std::string_view a, std::string_view b) {
    return a.size() == b.size() && (a.empty() || memeql_sec(a.data(), b.data(), a.size()) != 0);
}

Authenticator::Authenticator(const Settings& settings, Clock clock)
    : basic_(settings.basic),
      lifetimeNs_(int64_t{settings.nonceLifetimeSec} * 1'000'000'000),
      clock_(clock ? std::move(clock) : Clock(monotonicNs)) {
    secureRandom(key_);
    const auto entry = [](const Credential& c) {
        User u;
        u.name = c.user;
        u.ha1Md5 = hexHash(DigestAlgorithm::Md5, joined({c.user, kAuthRealm, c.password}));
        u.ha1Sha256 = hexHash(DigestAlgorithm::Sha256, joined({c.user, kAuthRealm, c.password}));
        u.passwordSha256 = hexHash(DigestAlgorithm::Sha256, c.password);
        return u;
    };
    for (const Credential& c : settings.users) {
        users_.push_back(entry(c));
    }
    nobody_ = entry(Credential{"", hex(key_.data(), key_.size())});
}

std::string Authenticator::nonce() const {
    const auto now = static_cast<uint64_t>(clock_());
    uint8_t bytes[8 + kMacBytes];
    for (int i = 0; i < 8; ++i) {
        bytes[i] = static_cast<uint8_t>(now >> (56 - 8 * i));
    }
    hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, key_.size(), key_.data());
    hmac_sha256_update(&ctx, 8, bytes);
    hmac_sha256_digest(&ctx, kMacBytes, bytes + 8);
    return hex(bytes, sizeof bytes);
}

bool Authenticator::nonceFresh(std::string_view nonce) const {
    if (nonce.size() != kNonceHexLength) {
        return false;
    }
    uint8_t bytes[8 + kMacBytes];
    base16_decode_ctx ctx;
    base16_decode_init(&ctx);
    size_t n = sizeof bytes;
    if (base16_decode_update(&ctx, &n, bytes, nonce.size(), nonce.data()) == 0 ||
        base16_decode_final(&ctx) == 0 || n != sizeof bytes) {
        return false;
    }
    uint64_t time = 0;
    for (int i = 0; i < 8; ++i) {
        time = (time << 8) | bytes[i];
    }
    uint8_t mac[kMacBytes];
    hmac_sha256_ctx h;
    hmac_sha256_set_key(&h, key_.size(), key_.data());
    hmac_sha256_update(&h, 8, bytes);
    hmac_sha256_digest(&h, kMacBytes, mac);
    if (memeql_sec(mac, bytes + 8, kMacBytes) == 0) {
        return false;
    }
    const int64_t age = clock_() - static_cast<int64_t>(time);
    return age >= 0 && age <= lifetimeNs_;
}

const Authenticator::User* Authenticator::find(std::string_view name) const {
    for (const User& u : users_) {
        if (u.name == name) {
            return &u;
        }
    }
    return nullptr;
}

std::string Authenticator::challenge(bool stale) const {
    const std::string n = nonce();
    const std::string common = std::string("realm=\"") + kAuthRealm + "\", nonce=\"" + n + "\"";
    const std::string tail = std::string(", qop=\"auth\"") + (stale ? ", stale=true" : "") + "\r\n";
    std::string out;
    out += "WWW-Authenticate: Digest " + common + ", algorithm=SHA-256" + tail;
    out += "WWW-Authenticate: Digest " + common + ", algorithm=MD5" + tail;
    if (basic_) {
        out += std::string("WWW-Authenticate: Basic realm=\"") + kAuthRealm + "\"\r\n";
    }
    return out;
}

Authenticator::Check Authenticator::check(std::string_view method, std::string_view uri,
                                          std::string_view authorization) const {
    if (trimSpace(authorization).empty()) {
        return {Verdict::Missing, {}, "no credentials"};
    }
    AuthorizationHeader h;
    if (!parseAuthorization(authorization, h)) {
        return {Verdict::Denied, {}, "malformed Authorization header"};
    }
    if (h.scheme == "digest") {
        return checkDigest(h, method, uri);
    }
    if (h.scheme == "basic") {
        if (!basic_) {
            return {Verdict::Denied, {}, "Basic authentication is off (--rtsp-auth)"};
        }
        return checkBasic(h);
    }
    return {Verdict::Denied, {}, "unknown authentication scheme"};
}

Authenticator::Check Authenticator::checkDigest(const AuthorizationHeader& h,
                                                std::string_view method,
                                                std::string_view uri) const {
    const std::string* user = h.param("username");
    const std::string* realm = h.param("realm");
    const std::string* nonceGiven = h.param("nonce");
    const std::string* uriGiven = h.param("uri");
    const std::string* response = h.param("response");
    if (user == nullptr || realm == nullptr || nonceGiven == nullptr || uriGiven == nullptr ||
        response == nullptr) {
        return {Verdict::Denied, user != nullptr ? *user : std::string(),
                "Digest credentials without username, realm, nonce, uri or response"};
    }
    Check denied{Verdict::Denied, *user, ""};
    DigestAlgorithm algorithm = DigestAlgorithm::Md5;
    if (const std::string* a = h.param("algorithm"); a != nullptr) {
        if (equalsNoCase(*a, "SHA-256")) {
            algorithm = DigestAlgorithm::Sha256;
        } else if (!equalsNoCase(*a, "MD5")) {
            denied.reason = "unsupported Digest algorithm";
            return denied;
        }
    }
    const std::string* qop = h.param("qop");
    const std::string* nc = h.param("nc");
    const std::string* cnonce = h.param("cnonce");
    if (qop != nullptr &&
        (!equalsNoCase(*qop, "auth") || nc == nullptr || nc->size() != 8 || cnonce == nullptr ||
         cnonce->empty() || !std::all_of(nc->begin(), nc->end(), [](char c) {
             return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         }))) {
        denied.reason = "qop other than auth, or without nc and cnonce";
        return denied;
    }
    if (*realm != kAuthRealm) {
        denied.reason = "wrong realm";
        return denied;
    }
    // The URI the response covers is the request's (the same text, or the same path).
    if (*uriGiven != uri) {
        const std::string a = authUriPath(*uriGiven);
        if (a.empty() || a != authUriPath(uri)) {
            denied.reason = "credentials for another URI";
            return denied;
        }
    }
    const User* u = find(*user);
    const User& against = u != nullptr ? *u : nobody_;
    const std::string& ha1 = algorithm == DigestAlgorithm::Md5 ? against.ha1Md5 : against.ha1Sha256;
    const std::string ha2 = hexHash(algorithm, joined({method, *uriGiven}));
    const std::string expected =
        qop == nullptr ? hexHash(algorithm, joined({ha1, *nonceGiven, ha2}))
                       : hexHash(algorithm, joined({ha1, *nonceGiven, *nc, *cnonce, *qop, ha2}));
    const bool right = equalConstantTime(expected, lowerAscii(*response));
    if (!right || u == nullptr) {
        denied.reason = "wrong user or password";
        return denied;
    }
    if (!nonceFresh(*nonceGiven)) {
        return {Verdict::Stale, *user, "nonce expired"};
    }
    return {Verdict::Granted, *user, ""};
}

Authenticator::Check Authenticator::checkBasic(const AuthorizationHeader& h) const {
    if (h.token68.empty() || h.token68.size() > 1024) {
        return {Verdict::Denied, {}, "malformed Basic credentials"};
    }
    std::string decoded(BASE64_DECODE_LENGTH(h.token68.size()), '\0');
    base64_decode_ctx ctx;
    base64_decode_init(&ctx);
    size_t n = decoded.size();
    if (base64_decode_update(&ctx, &n, reinterpret_cast<uint8_t*>(decoded.data()), h.token68.size(),
                             h.token68.data()) == 0 ||
        base64_decode_final(&ctx) == 0) {
        return {Verdict::Denied, {}, "malformed Basic credentials"};
    }
    decoded.resize(n);
    const size_t colon = decoded.find(':');
    if (colon == std::string::npos) {
        return {Verdict::Denied, {}, "malformed Basic credentials"};
    }
    const std::string name = decoded.substr(0, colon);
    const User* u = find(name);
    const User& against = u != nullptr ? *u : nobody_;
    const bool right = equalConstantTime(
        against.passwordSha256,
        hexHash(DigestAlgorithm::Sha256, std::string_view(decoded).substr(colon + 1)));
    if (!right || u == nullptr) {
        return {Verdict::Denied, name, "wrong user or password"};
    }
    return {Verdict::Granted, name, ""};
}

}  // namespace h265direct::net
