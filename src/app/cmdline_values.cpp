// SPDX-License-Identifier: GPL-2.0-or-later
// The value setters of the command line (app/cmdline.hpp): whole and decimal numbers in a
// range, byte counts with suffixes, text, one of a list of words.

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "app/cmdline.hpp"

namespace h265direct::cli {

Parser::Setter wholeNumber(std::function<void(long long)> set, long long lo, long long hi) {
    return [set = std::move(set), lo, hi](const std::string& v) {
        long long n = 0;
        const char* end = v.data() + v.size();
        const auto r = std::from_chars(v.data(), end, n);
        const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
        if (r.ec == std::errc::result_out_of_range && r.ptr == end) {
            throw UsageError{v + " is out of range " + range};
        }
        if (r.ec != std::errc() || r.ptr != end) {
            throw UsageError{"'" + v + "' is not a whole number"};
        }
        if (n < lo || n > hi) {
            throw UsageError{v + " is out of range " + range};
        }
        set(n);
    };
}

Parser::Setter number(double& target, double lo, double hi) {
    return [&target, lo, hi](const std::string& v) {
        double n = 0;
        const char* end = v.data() + v.size();
        const auto r = std::from_chars(v.data(), end, n);
        if (r.ec != std::errc() || r.ptr != end || !std::isfinite(n)) {
            throw UsageError{"'" + v + "' is not a number"};
        }
        if (n < lo || n > hi) {
            char range[64];
            std::snprintf(range, sizeof range, "%g..%g", lo, hi);
            throw UsageError{v + " is out of range " + range};
        }
        target = n;
    };
}

std::string bytesText(size_t bytes) {
    if (bytes != 0 && bytes % (size_t{1} << 30) == 0) {
        return std::to_string(bytes >> 30) + "GiB";
    }
    if (bytes != 0 && bytes % (size_t{1} << 20) == 0) {
        return std::to_string(bytes >> 20) + "MiB";
    }
    if (bytes != 0 && bytes % (size_t{1} << 10) == 0) {
        return std::to_string(bytes >> 10) + "KiB";
    }
    return std::to_string(bytes);
}

Parser::Setter byteSize(size_t& target, size_t lo, size_t hi) {
    return [&target, lo, hi](const std::string& v) {
        unsigned long long n = 0;
        const char* begin = v.data();
        const char* end = begin + v.size();
        const auto r = std::from_chars(begin, end, n);
        if (r.ec != std::errc() || r.ptr == begin) {
            throw UsageError{"'" + v + "' is not a byte count (e.g. 65536, 64k, 8M)"};
        }
        std::string suffix(r.ptr, end);
        for (char& c : suffix) {
            c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        unsigned shift = 0;
        if (!suffix.empty() && suffix != "b") {
            const char unit = suffix[0];
            const std::string rest = suffix.substr(1);
            shift = unit == 'k' ? 10 : unit == 'm' ? 20 : unit == 'g' ? 30 : 99;
            if (shift == 99 || !(rest.empty() || rest == "b" || rest == "ib")) {
                throw UsageError{"'" + v + "' is not a byte count (e.g. 65536, 64k, 8M)"};
            }
        }
        if (n > (std::numeric_limits<unsigned long long>::max() >> shift) || (n << shift) > hi ||
            (n << shift) < lo) {
            throw UsageError{v + " is out of range " + bytesText(lo) + ".." + bytesText(hi)};
        }
        target = static_cast<size_t>(n << shift);
    };
}

Parser::Setter text(std::string& target) {
    return [&target](const std::string& v) {
        if (v.empty()) {
            throw UsageError{"empty value"};
        }
        target = v;
    };
}

Parser::Setter oneOf(std::vector<std::string> words, std::function<void(const std::string&)> set) {
    return [words = std::move(words), set = std::move(set)](const std::string& v) {
        std::string list;
        for (const std::string& w : words) {
            if (w == v) {
                set(v);
                return;
            }
            list += (list.empty() ? "" : ", ") + w;
        }
        throw UsageError{"'" + v + "' is not one of " + list};
    };
}

}  // namespace h265direct::cli
