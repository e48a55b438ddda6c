// SPDX-License-Identifier: GPL-2.0-or-later
#include <cmath>
#include <cstdio>

#include "h265direct/stats.hpp"

namespace h265direct {

void StatsReport::add(std::string key, int64_t value, std::string unit) {
    fields_.push_back({std::move(key), value, std::move(unit), 0});
}

void StatsReport::add(std::string key, double value, std::string unit, int precision) {
    fields_.push_back({std::move(key), value, std::move(unit), precision});
}

void StatsReport::add(std::string key, std::string value) {
    fields_.push_back({std::move(key), std::move(value), {}, 0});
}

const StatsReport::Field* StatsReport::find(const std::string& key) const {
    for (const Field& f : fields_) {
        if (f.key == key) {
            return &f;
        }
    }
    return nullptr;
}

namespace {
std::string formatValue(const StatsReport::Field& f, bool json) {
    char buf[64];
    if (const auto* i = std::get_if<int64_t>(&f.value)) {
        snprintf(buf, sizeof buf, "%lld", static_cast<long long>(*i));
        return buf;
    }
    if (const auto* d = std::get_if<double>(&f.value)) {
        if (!std::isfinite(*d)) {
            return json ? "null" : "-";
        }
        snprintf(buf, sizeof buf, "%.*f", f.precision, *d);
        return buf;
    }
    const std::string& s = std::get<std::string>(f.value);
    if (!json) {
        return s;
    }
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}
}  // namespace

std::string StatsReport::toText() const {
    std::string out;
    for (const Field& f : fields_) {
        if (!out.empty()) {
            out += " | ";
        }
        out += f.key;
        out += ' ';
        out += formatValue(f, false);
        if (!f.unit.empty()) {
            out += ' ';
            out += f.unit;
        }
    }
    return out;
}

std::string StatsReport::toJson() const {
    std::string out = "{";
    for (const Field& f : fields_) {
        if (out.size() > 1) {
            out += ',';
        }
        out += '"';
        out += f.key;
        out += "\":";
        out += formatValue(f, true);
    }
    return out + "}";
}

}  // namespace h265direct
