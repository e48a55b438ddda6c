// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace h265direct {

// Appends item to a list of words, with separator between items: the way to build a list
// for a message. (Not `list += (list.empty() ? "" : sep) + item`, which builds a temporary
// string per item, and in which GCC 12 at -O3 reports a false -Wrestrict.)
inline void appendItem(std::string& list, std::string_view separator, std::string_view item) {
    if (!list.empty()) {
        list += separator;
    }
    list += item;
}

// ASCII lower case (URL schemes, protocol words); other bytes are left as they are.
inline std::string lowerAscii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

// Equal but for ASCII case: how header names, transport words and menu entries compare.
inline bool equalsNoCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// Without the spaces, tabs and carriage returns at either end.
inline std::string_view trimSpace(std::string_view s) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!s.empty() && blank(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && blank(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// Text from a peer or another program for a log line: printable ASCII kept, every other byte
// as \xNN (C0 controls, DEL, and all of 0x80-0xff: so UTF-8 C1 controls such as \xc2\x9b, a
// CSI, and invalid UTF-8 never reach a terminal raw), '"' and '\' escaped, at most `max` bytes
// of it (then "...").
inline std::string logSafe(std::string_view text, size_t max = 64) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(text[i]);
        if (text[i] == '"' || text[i] == '\\') {
            out += '\\';
            out += text[i];
        } else if (u < 0x20 || u >= 0x7f) {
            static constexpr char kDigits[] = "0123456789abcdef";
            out += "\\x";
            out += kDigits[u >> 4];
            out += kDigits[u & 15];
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace h265direct
