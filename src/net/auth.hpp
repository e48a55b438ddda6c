// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "net/users.hpp"

namespace h265direct::net {

// The RTSP server's one authentication object: consulted once per request
// (server_access.cpp), it holds the users (as hashes), the realm and the server's
// random key, makes the challenges and checks the Authorization header of a request: HTTP
// Digest (RFC 7616 and RFC 2617: MD5 and SHA-256, qop=auth or none) and, when asked for,
// Basic. Nonces carry their time and a MAC of it under the key, so they cost no memory.

inline constexpr const char* kAuthRealm = "h265direct";

// An Authorization header, parsed (RFC 7235: the scheme, then a token68 or name=value
// parameters, values as tokens or quoted strings with '\' escapes). Names are lower case,
// quoted values unescaped.
struct AuthorizationHeader {
    std::string scheme;  // lower case
    std::string token68;
    std::vector<std::pair<std::string, std::string>> params;
    // The value of a parameter, or null.
    const std::string* param(std::string_view name) const;
};

// Limits of a header the parser takes.
inline constexpr size_t kAuthMaxHeader = 4096;
inline constexpr size_t kAuthMaxParams = 32;

// Parses a header value; false (and `out` unspecified) when it is malformed, longer than
// kAuthMaxHeader, has more than kAuthMaxParams parameters or one twice. Never throws.
bool parseAuthorization(std::string_view header, AuthorizationHeader& out);

enum class DigestAlgorithm { Md5, Sha256 };

// The Digest response in lower-case hex (RFC 7616 3.4.1): with qop "auth", from nc and
// cnonce; with qop empty, RFC 2069's form (H(HA1:nonce:HA2)).
std::string digestResponse(DigestAlgorithm algorithm, std::string_view user, std::string_view realm,
                           std::string_view password, std::string_view method, std::string_view uri,
                           std::string_view nonce, std::string_view qop, std::string_view nc,
                           std::string_view cnonce);

// Equal, in a time that depends on the length only.
bool equalConstantTime(std::string_view a, std::string_view b);

class Authenticator {
public:
    struct Settings {
        std::vector<Credential> users;
        bool basic = false;  // Basic accepted and offered besides Digest
        int nonceLifetimeSec = 300;
    };
    using Clock = std::function<int64_t()>;  // nanoseconds, never going back

    // The key comes from getrandom(); the clock is CLOCK_MONOTONIC unless one is given.
    explicit Authenticator(const Settings& settings, Clock clock = {});

    enum class Verdict {
        Granted,
        Missing,  // no Authorization header
        Denied,   // wrong user, password, realm, URI, or a malformed or unknown header
        Stale,    // right credentials for a nonce that expired (or is not this server's)
    };
    struct Check {
        Verdict verdict = Verdict::Missing;
        std::string user;    // the user name the client gave (for the log, logSafe it)
        const char* reason;  // why it was denied: no secret in it
    };
    // The Authorization header of a request with this method and URI.
    Check check(std::string_view method, std::string_view uri,
                std::string_view authorization) const;

    // The challenge header lines of a 401 answer ("WWW-Authenticate: ...\r\n" each): Digest
    // with SHA-256, Digest with MD5 last (clients that take one answer the last), Basic when
    // on; stale=true when the request's nonce had expired.
    std::string challenge(bool stale) const;
    // A new nonce: the time and its MAC.
    std::string nonce() const;

private:
    struct User {
        std::string name;
        std::string ha1Md5;          // H(user:realm:password), hex
        std::string ha1Sha256;       // the same with SHA-256
        std::string passwordSha256;  // for Basic: compared as hashes, in constant time
    };
    bool nonceFresh(std::string_view nonce) const;
    const User* find(std::string_view name) const;
    Check checkDigest(const AuthorizationHeader& h, std::string_view method,
                      std::string_view uri) const;
    Check checkBasic(const AuthorizationHeader& h) const;

    std::vector<User> users_;
    User nobody_;  // compared against for an unknown user, so that it takes the same time
    bool basic_;
    int64_t lifetimeNs_;
    Clock clock_;
    std::array<uint8_t, 32> key_{};
};

}  // namespace h265direct::net
