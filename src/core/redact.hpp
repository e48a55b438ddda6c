// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>
#include <string_view>
#include <vector>

// Secrets kept out of every message: the user-info of URLs, the values of secret-bearing
// query keys, and the literal secrets of the sessions that are running.
namespace h265direct {

// What a secret is replaced by.
inline constexpr std::string_view kMasked = "***";

// Where the parts of "SCHEME://[USERINFO@]AUTHORITY[PATH][?QUERY]" lie (views into the text).
// A password may hold '@', '/', '?' or '#' unencoded: the user-info ends at the last '@'
// after which a host follows (something before the next '/', '?' or '#'; srt://, whose
// stream ids hold '#', ends its authority at '/' or '?' only). `ambiguous`:
// "HOST:DIGITS/...@..." could also be a user, a password and a host; the parts are then
// read as host, port and a path (or query) holding '@'.
struct UrlParts {
    bool valid = false;       // has "SCHEME://" with a scheme of letters, digits, + - .
    std::string_view scheme;  // as written
    bool hasUserinfo = false;
    std::string_view userinfo;   // without the '@'
    std::string_view authority;  // HOST[:PORT]
    std::string_view path;       // from the authority's end up to the query (may be empty)
    bool hasQuery = false;
    std::string_view query;  // after the '?', to the end
    bool ambiguous = false;
    size_t ambiguousEnd = 0;  // ambiguous: the offset just after that '@'
};
UrlParts splitUrl(std::string_view url);

// Whether a query key names a secret (case-insensitive): passphrase, streamid, password,
// pass, pwd, token, key, secret, auth and the keys holding those words (access_token,
// api_key, ...). pbkeylen, a key length, is none.
bool isSecretQueryKey(std::string_view key);

// The URL with its user-info replaced by "user:***@" ("***@" when it has no ':') and the value
// of every secret query key by "***". When an '@' stands in the path, everything up to it
// is masked ("***@"): it may be part of a password.
// Text that is not a URL comes back as it is.
std::string redactUrl(std::string_view url);

// %XX decoded (an incomplete or invalid escape is kept as written).
std::string percentDecode(std::string_view text);

// The literal secrets of a URL, for a SecretScope: the user-info's password (or the whole
// user-info when it has no ':') and each secret query value, each as written and decoded.
std::vector<std::string> urlSecrets(std::string_view url);

// Registers literal secrets while it lives: redactText() replaces each occurrence with ***.
// A publish session holds one while it runs, so that no message of a library it calls can
// carry its secrets out.
class SecretScope {
public:
    explicit SecretScope(std::vector<std::string> secrets);
    ~SecretScope();
    SecretScope(const SecretScope&) = delete;
    SecretScope& operator=(const SecretScope&) = delete;

private:
    std::vector<std::string> secrets_;
};

// Any text made safe to print: each registered secret replaced by ***, and every URL-shaped
// part ("scheme://..." up to a space or quote) through redactUrl.
std::string redactText(std::string_view text);

}  // namespace h265direct
