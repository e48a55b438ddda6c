// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/redact.hpp"

#include <algorithm>
#include <mutex>

#include "core/text.hpp"

namespace h265direct {

namespace {

// Literal secrets shorter than this are masked only where they stand in a URL: masking
// every "cam" or "1" in every message would garble the messages and hide nothing.
constexpr size_t kShortestLiteral = 4;

bool schemeChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

bool allDigits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// One query item: key, value (what follows '='), and whether it had an '='.
struct QueryItem {
    std::string_view key;
    std::string_view value;
    bool hasValue = false;
};

std::vector<QueryItem> queryItems(std::string_view query) {
    std::vector<QueryItem> items;
    size_t pos = 0;
    while (pos <= query.size()) {
        size_t amp = query.find('&', pos);
        if (amp == std::string_view::npos) {
            amp = query.size();
        }
        const std::string_view item = query.substr(pos, amp - pos);
        const size_t eq = item.find('=');
        QueryItem q;
        q.key = item.substr(0, eq);
        q.hasValue = eq != std::string_view::npos;
        q.value = q.hasValue ? item.substr(eq + 1) : std::string_view();
        items.push_back(q);
        pos = amp + 1;
    }
    return items;
}

// The secret query values: each with the items after it that have no '=' (a value holding
// an unencoded '&' goes on in them), as written.
std::vector<std::string_view> secretValues(std::string_view query) {
    std::vector<std::string_view> out;
    const std::vector<QueryItem> items = queryItems(query);
    for (size_t i = 0; i < items.size(); ++i) {
        if (!items[i].hasValue || !isSecretQueryKey(percentDecode(items[i].key))) {
            continue;
        }
        const char* begin = items[i].value.data();
        const char* end = begin + items[i].value.size();
        while (i + 1 < items.size() && !items[i + 1].hasValue) {
            ++i;
            end = items[i].key.data() + items[i].key.size();
        }
        out.emplace_back(begin, static_cast<size_t>(end - begin));
    }
    return out;
}

std::string redactQuery(std::string_view query) {
    std::string out;
    bool masking = false;  // the last item was a secret: items without '=' belong to it
    bool first = true;
    for (const QueryItem& q : queryItems(query)) {
        if (!q.hasValue && masking) {
            continue;
        }
        masking = q.hasValue && isSecretQueryKey(percentDecode(q.key));
        if (!first) {
            out += '&';
        }
        first = false;
        out += q.key;
        if (q.hasValue) {
            out += '=';
            out += masking ? kMasked : q.value;
        }
    }
    return out;
}

std::mutex& registryMutex() {
    static std::mutex m;
    return m;
}

std::vector<std::string>& registry() {
    static std::vector<std::string> secrets;
    return secrets;
}

}  // namespace

UrlParts splitUrl(std::string_view url) {
    UrlParts p;
    const size_t sep = url.find("://");
    if (sep == std::string_view::npos || sep == 0 ||
        !std::isalpha(static_cast<unsigned char>(url[0])) ||
        !std::all_of(url.begin(), url.begin() + static_cast<ptrdiff_t>(sep), schemeChar)) {
        return p;
    }
    p.valid = true;
    p.scheme = url.substr(0, sep);
    const size_t base = sep + 3;
    const std::string_view rest = url.substr(base);
    // srt:// stream ids hold '#' ("#!::u=name,r=resource"): only '/' and '?' end its
    // authority.
    const bool srt = equalsNoCase(p.scheme, "srt");
    const char* ends = srt ? "/?" : "/?#";
    // The user-info ends at the last '@' after which something stands before the next '/',
    // '?' or '#' (a password may hold all four). A URL that also holds an '@' after its host
    // (in a path or query) is read wrongly then, but never shows more than it should.
    size_t candidate = std::string_view::npos;
    for (size_t a = rest.rfind('@');
         a != std::string_view::npos && candidate == std::string_view::npos;
         a = a == 0 ? std::string_view::npos : rest.rfind('@', a - 1)) {
        if (a + 1 < rest.size() &&
            std::string_view(ends).find(rest[a + 1]) == std::string_view::npos) {
            candidate = a;
        }
    }
    size_t at = std::string_view::npos;
    if (candidate != std::string_view::npos) {
        const std::string_view info = rest.substr(0, candidate);
        const size_t colon = info.find(':');
        if (info.find_first_of(ends) == std::string_view::npos) {
            at = candidate;  // the ordinary USER[:PASSWORD]@
        } else if (colon != std::string_view::npos && info[0] != '[' &&
                   info.substr(0, colon).find_first_of(ends) == std::string_view::npos) {
            const size_t cut = info.find_first_of(ends, colon + 1);
            if (allDigits(info.substr(colon + 1, cut - colon - 1)) && cut - colon - 1 <= 5) {
                // HOST:PORT/PATH-with-@ or USER:DIGITS/...@HOST: read as the first.
                p.ambiguous = true;
                p.ambiguousEnd = base + candidate + 1;
            } else {
                at = candidate;
            }
        }
    }
    size_t hostStart = 0;
    if (at != std::string_view::npos) {
        p.hasUserinfo = true;
        p.userinfo = rest.substr(0, at);
        hostStart = at + 1;
    }
    const std::string_view after = rest.substr(hostStart);
    const size_t authorityEnd = std::min(after.find_first_of(ends), after.size());
    p.authority = after.substr(0, authorityEnd);
    const size_t q = after.find('?', authorityEnd);
    p.path = after.substr(authorityEnd,
                          q == std::string_view::npos ? std::string_view::npos : q - authorityEnd);
    if (q != std::string_view::npos) {
        p.hasQuery = true;
        p.query = after.substr(q + 1);
    }
    return p;
}

bool isSecretQueryKey(std::string_view key) {
    const std::string k = lowerAscii(key);
    static constexpr std::string_view kWords[] = {"pass",   "pwd",  "token",
                                                  "secret", "auth", "credential"};
    if (k == "streamid" || k == "key" || k == "sig" || k == "signature" ||
        (k.size() > 3 && k.compare(k.size() - 3, 3, "key") == 0)) {
        return true;
    }
    return std::any_of(std::begin(kWords), std::end(kWords),
                       [&k](std::string_view w) { return k.find(w) != std::string::npos; });
}

std::string redactUrl(std::string_view url) {
    const UrlParts p = splitUrl(url);
    if (!p.valid) {
        return std::string(url);
    }
    // Whatever stands before an '@' in the path may be a password ("user:a@b/c@host/":
    // password "a@b/c", or host "b" and a path; "user:1234/x@host/", the ambiguous case):
    // masked up to it, and the rest read again (it has one '@' fewer). An '@' in the query is
    // the query's: its secret values are masked by their keys.
    if (const size_t at = p.path.rfind('@'); at != std::string_view::npos) {
        const size_t maskTo = static_cast<size_t>(p.path.data() - url.data()) + at + 1;
        return redactUrl(std::string(p.scheme) + "://" + std::string(kMasked) + "@" +
                         std::string(url.substr(maskTo)));
    }
    std::string out(p.scheme);
    out += "://";
    if (p.hasUserinfo) {
        if (const size_t colon = p.userinfo.find(':'); colon != std::string_view::npos) {
            out += p.userinfo.substr(0, colon);
            out += ':';
        }
        out += kMasked;
        out += '@';
    }
    out += p.authority;
    out += p.path;
    if (p.hasQuery) {
        out += '?';
        out += redactQuery(p.query);
    }
    return out;
}

std::string percentDecode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 &&
            hexValue(text[i + 2]) >= 0) {
            out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::vector<std::string> urlSecrets(std::string_view url) {
    std::vector<std::string> out;
    const auto add = [&out](std::string_view s) {
        for (std::string v : {std::string(s), percentDecode(s)}) {
            if (!v.empty() && std::find(out.begin(), out.end(), v) == out.end()) {
                out.push_back(std::move(v));
            }
        }
    };
    const UrlParts p = splitUrl(url);
    if (!p.valid) {
        return out;
    }
    std::string_view info = p.userinfo;
    if (p.ambiguous) {
        const size_t begin = p.scheme.size() + 3;
        info = url.substr(begin, p.ambiguousEnd - 1 - begin);
    }
    if (p.hasUserinfo || p.ambiguous) {
        const size_t colon = info.find(':');
        add(colon == std::string_view::npos ? info : info.substr(colon + 1));
    }
    if (p.hasQuery) {
        for (const std::string_view v : secretValues(p.query)) {
            add(v);
        }
    }
    return out;
}

SecretScope::SecretScope(std::vector<std::string> secrets) {
    for (std::string& s : secrets) {
        if (s.size() >= kShortestLiteral) {
            secrets_.push_back(std::move(s));
        }
    }
    std::lock_guard lock(registryMutex());
    std::vector<std::string>& r = registry();
    r.insert(r.end(), secrets_.begin(), secrets_.end());
    // Longest first: a secret holding another is masked whole.
    std::stable_sort(r.begin(), r.end(), [](const std::string& a, const std::string& b) {
        return a.size() > b.size();
    });
}

SecretScope::~SecretScope() {
    std::lock_guard lock(registryMutex());
    std::vector<std::string>& r = registry();
    for (const std::string& s : secrets_) {
        if (const auto it = std::find(r.begin(), r.end(), s); it != r.end()) {
            r.erase(it);
        }
    }
}

std::string redactText(std::string_view text) {
    std::string s(text);
    {
        std::lock_guard lock(registryMutex());
        for (const std::string& secret : registry()) {
            for (size_t at = s.find(secret); at != std::string::npos;
                 at = s.find(secret, at + kMasked.size())) {
                s.replace(at, secret.size(), kMasked);
            }
        }
    }
    std::string out;
    size_t done = 0;  // s up to here is in out
    size_t sep = s.find("://");
    while (sep != std::string::npos) {
        size_t start = sep;
        while (start > done && schemeChar(s[start - 1])) {
            --start;
        }
        if (start == sep) {
            sep = s.find("://", sep + 3);
            continue;
        }
        size_t end = std::min(s.find_first_of(" \t\r\n\"'<>", sep + 3), s.size());
        // "... to URL: reason", "(URL)": the punctuation after a URL is the sentence's.
        while (end > sep + 3 &&
               std::string_view(":,;.)]").find(s[end - 1]) != std::string_view::npos) {
            --end;
        }
        out.append(s, done, start - done);
        out += redactUrl(std::string_view(s).substr(start, end - start));
        done = end;
        sep = s.find("://", end);
    }
    out.append(s, done, std::string::npos);
    return out;
}

}  // namespace h265direct
