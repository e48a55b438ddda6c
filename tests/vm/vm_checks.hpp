// SPDX-License-Identifier: GPL-2.0-or-later
// The host side of the VM suites (tests/vm): what a guest script left in the results folder
// (H265D_VM_RESULTS), read and judged here. Streams are decoded on the host by GStreamer
// (h265parse ! avdec_h265) and FFmpeg (ffprobe), the tools a user would use; the guest may be
// of another architecture than the host, so nothing here runs in it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/test_util.hpp"

namespace h265direct::vmtest {

using test::readFile;
using test::runProcess;
using test::TempDir;

inline const std::string kResults = H265D_VM_RESULTS;
constexpr int kW = 320;
constexpr int kH = 180;
constexpr size_t kI420Bytes = kW * kH * 3 / 2;

inline std::string path(const std::string& name) {
    return kResults + "/" + name;
}

inline std::string text(const std::string& name) {
    std::ifstream in(path(name));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The exit status a scenario's program ended with (-1: the scenario did not run).
inline int status(const std::string& scenario) {
    std::ifstream in(path(scenario + ".rc"));
    int rc = -1;
    in >> rc;
    return rc;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

#define EXPECT_CONTAINS(haystack, needle) \
    EXPECT_TRUE(contains(haystack, needle)) << "expected \"" << (needle) << "\" in:\n" << (haystack)

// Decodes with GStreamer to raw I420; returns the bytes (empty on failure, with the reason).
inline std::vector<uint8_t> gstDecode(const std::string& stream, std::string& error) {
    TempDir dir;
    const std::string raw = dir.file("decoded.i420");
    const auto r = runProcess({"gst-launch-1.0", "-q", "filesrc", "location=" + stream, "!",
                               "h265parse", "!", "avdec_h265", "!", "videoconvert", "!",
                               "video/x-raw,format=I420", "!", "filesink", "location=" + raw});
    if (r.exitCode != 0) {
        error = "gst-launch-1.0 failed: " + r.err + r.out;
        return {};
    }
    return readFile(raw);
}

struct Probe {
    int width = 0;
    int height = 0;
    int frames = -1;
    int keyframes = 0;
    std::string profile;
    std::string rate;
    std::string colorRange;  // tv = limited, pc = full
    std::string error;
};

inline Probe ffprobe(const std::string& stream) {
    Probe p;
    const auto r = runProcess(
        {"ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
         "stream=width,height,profile,r_frame_rate,nb_read_frames,color_range", "-of",
         "default=noprint_wrappers=1", stream});
    if (r.exitCode != 0) {
        p.error = r.err;
        return p;
    }
    std::smatch m;
    const std::string& o = r.out;
    if (std::regex_search(o, m, std::regex(R"(width=(\d+))")))
        p.width = std::stoi(m[1]);
    if (std::regex_search(o, m, std::regex(R"(height=(\d+))")))
        p.height = std::stoi(m[1]);
    if (std::regex_search(o, m, std::regex(R"(nb_read_frames=(\d+))")))
        p.frames = std::stoi(m[1]);
    if (std::regex_search(o, m, std::regex(R"(profile=(\S+))")))
        p.profile = m[1];
    if (std::regex_search(o, m, std::regex(R"(r_frame_rate=(\S+))")))
        p.rate = m[1];
    if (std::regex_search(o, m, std::regex(R"(color_range=(\S+))")))
        p.colorRange = m[1];
    const auto k = runProcess({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                               "frame=key_frame", "-of", "csv=p=0", stream});
    std::istringstream lines(k.out);
    std::string line;
    while (std::getline(lines, line)) {
        p.keyframes += line.rfind("1", 0) == 0 ? 1 : 0;
    }
    return p;
}

// A stream made in the guest: decodes with both tools, at the size given, Main profile.
inline void expectDecodes(const std::string& stream, int frames, int w = kW, int h = kH) {
    ASSERT_TRUE(std::filesystem::exists(path(stream))) << stream << " was not written";
    std::string error;
    const auto decoded = gstDecode(path(stream), error);
    ASSERT_TRUE(error.empty()) << error;
    const size_t frameBytes = static_cast<size_t>(w * h * 3 / 2);
    EXPECT_EQ(decoded.size() % frameBytes, 0u) << "GStreamer's frames are not " << w << "x" << h;
    if (frames >= 0) {
        EXPECT_EQ(decoded.size() / frameBytes, static_cast<size_t>(frames)) << "GStreamer";
    }
    const Probe p = ffprobe(path(stream));
    ASSERT_TRUE(p.error.empty()) << p.error;
    EXPECT_EQ(p.width, w);
    EXPECT_EQ(p.height, h);
    EXPECT_EQ(p.profile, "Main");
    if (frames >= 0) {
        EXPECT_EQ(p.frames, frames) << "ffprobe";
    }
}

// Sum of one key over the --stats-json lines of a run.
inline int64_t sumStat(const std::string& json, const std::string& key) {
    int64_t sum = 0;
    const std::regex re("\"" + key + "\":\\s*(-?\\d+)");
    for (auto it = std::sregex_iterator(json.begin(), json.end(), re); it != std::sregex_iterator();
         ++it) {
        sum += std::stoll((*it)[1]);
    }
    return sum;
}

class Vm : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(std::filesystem::exists(path("rc")))
            << "no VM results in " << kResults << " (the vm_run_guest test boots the VM)";
        ASSERT_FALSE(std::filesystem::exists(path("setup.err"))) << text("setup.err");
    }
};

// A camera run of one scenario: it ended well, said what it captured, and its stream decodes.
inline void expectCaptured(const std::string& scenario, const std::string& fourcc, int frames) {
    ASSERT_EQ(status(scenario), 0) << text(scenario + ".err");
    EXPECT_CONTAINS(text(scenario + ".err"), fourcc + " 320x180 at 15 fps");
    expectDecodes(scenario + ".h265", frames);
}

// The guest script ran to its end on a kernel of the architecture given.
inline void expectGuestRan(const std::string& arch) {
    EXPECT_EQ(text("rc"), "0\n") << text("progress.txt");
    EXPECT_CONTAINS(text("progress.txt"), "done at");
    EXPECT_CONTAINS(text("kernel.txt"), arch);
}

}  // namespace h265direct::vmtest
