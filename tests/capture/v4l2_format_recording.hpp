// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Reads a recorded `v4l2-ctl --list-formats-ext` listing into the CameraFormatDesc list the
// negotiation takes, so that the tests run on what real drivers say.

#include <cmath>
#include <cstdint>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "capture/format_negotiation.hpp"

namespace h265direct::test {

inline FrameRate rateFromFps(double fps) {
    // Listings print rates with three decimals: 12.500, 30.000, 7.500.
    return FrameRate{static_cast<int>(std::lround(fps * 1000)), 1000};
}

inline std::vector<CameraFormatDesc> parseFormatListing(const std::string& text) {
    std::vector<CameraFormatDesc> formats;
    // The description runs to the line's last ')': vivid's "Y/UV 4:2:0 (N-C)" has its own.
    const std::regex fmtRe(R"(^\s*\[\d+\]: '(.{1,4}?)( ?-BE)?' \((.*)\)\s*$)");
    const std::regex discreteSizeRe(R"(^\s*Size: Discrete (\d+)x(\d+))");
    const std::regex stepSizeRe(
        R"(^\s*Size: (?:Stepwise|Continuous) (\d+)x(\d+) - (\d+)x(\d+) with step (\d+)/(\d+))");
    const std::regex discreteRateRe(R"(^\s*Interval: Discrete [0-9.]+s \(([0-9.]+) fps\))");
    const std::regex rangeRateRe(
        R"(^\s*Interval: (?:Stepwise|Continuous) .*\(([0-9.]+)-([0-9.]+) fps\))");
    std::istringstream in(text);
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_search(line, m, fmtRe)) {
            CameraFormatDesc f;
            std::string code = m[1].str();
            code.resize(4, ' ');
            f.fourcc = static_cast<uint32_t>(static_cast<uint8_t>(code[0])) |
                       static_cast<uint32_t>(static_cast<uint8_t>(code[1])) << 8 |
                       static_cast<uint32_t>(static_cast<uint8_t>(code[2])) << 16 |
                       static_cast<uint32_t>(static_cast<uint8_t>(code[3])) << 24;
            if (m[2].matched) {
                f.fourcc |= 1u << 31;  // V4L2's big-endian variant flag
            }
            const std::string desc = m[3].str();
            const size_t comma = desc.find(',');
            f.description = desc.substr(0, comma);
            f.compressed = desc.find("compressed") != std::string::npos;
            f.emulated = desc.find("emulated") != std::string::npos;
            formats.push_back(f);
        } else if (formats.empty()) {
            continue;
        } else if (std::regex_search(line, m, discreteSizeRe)) {
            SizeCaps s;
            s.width = std::stoi(m[1]);
            s.height = std::stoi(m[2]);
            formats.back().sizes.push_back(s);
        } else if (std::regex_search(line, m, stepSizeRe)) {
            SizeCaps s;
            s.range = true;
            s.width = std::stoi(m[1]);
            s.height = std::stoi(m[2]);
            s.maxWidth = std::stoi(m[3]);
            s.maxHeight = std::stoi(m[4]);
            s.stepWidth = std::stoi(m[5]);
            s.stepHeight = std::stoi(m[6]);
            formats.back().sizes.push_back(s);
        } else if (std::regex_search(line, m, discreteRateRe) && !formats.back().sizes.empty()) {
            formats.back().sizes.back().rates.discrete.push_back(rateFromFps(std::stod(m[1])));
        } else if (std::regex_search(line, m, rangeRateRe) && !formats.back().sizes.empty()) {
            RateCaps& r = formats.back().sizes.back().rates;
            r.slowest = rateFromFps(std::stod(m[1]));
            r.fastest = rateFromFps(std::stod(m[2]));
        }
    }
    return formats;
}

inline std::vector<CameraFormatDesc> loadFormatListing(const std::string& name) {
    const std::string path = std::string(H265D_SOURCE_DIR) + "/tests/capture/" + name;
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot read " + path);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return parseFormatListing(ss.str());
}

}  // namespace h265direct::test
