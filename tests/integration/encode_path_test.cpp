// SPDX-License-Identifier: GPL-2.0-or-later
// End to end through the real binary, checked with real decoders (FFmpeg and GStreamer).

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <string>
#include <vector>

#include "common/child_process.hpp"
#include "common/media.hpp"
#include "common/test_util.hpp"
#include "h265direct/annexb.hpp"

using namespace h265direct;
using namespace h265direct::test;

namespace {

void requireTools() {
    if (!haveProgram("ffprobe") || !haveProgram("gst-launch-1.0")) {
        GTEST_SKIP() << "ffprobe or gst-launch-1.0 missing (tools/setup.sh installs them)";
    }
}

ProcessResult runH265(std::vector<std::string> args, double timeout = 120) {
    args.insert(args.begin(), binaryPath());
    return runProcess(args, timeout);
}

// A still picture of eight vertical colour bars (BT.601 limited-range 75% bars) in YUYV:
// every column's chroma is the same on every row, so its 4:2:0 form is exact.
struct Bars {
    int width;
    int height;
    std::vector<uint8_t> yuyv;
    std::vector<uint8_t> i420;
};

Bars makeBars(int width, int height) {
    static constexpr std::array<std::array<uint8_t, 3>, 8> kBars = {{
        {180, 128, 128},
        {162, 44, 142},
        {131, 156, 44},
        {112, 72, 58},
        {84, 184, 198},
        {65, 100, 212},
        {35, 212, 114},
        {16, 128, 128},
    }};
    Bars b{width, height, {}, {}};
    b.yuyv.resize(static_cast<size_t>(width) * height * 2);
    b.i420.resize(static_cast<size_t>(width) * height * 3 / 2);
    uint8_t* y = b.i420.data();
    uint8_t* u = y + static_cast<size_t>(width) * height;
    uint8_t* v = u + static_cast<size_t>(width / 2) * (height / 2);
    for (int row = 0; row < height; ++row) {
        for (int col = 0; col < width; col += 2) {
            const auto& c = kBars[static_cast<size_t>(col * 8 / width)];
            uint8_t* p = &b.yuyv[(static_cast<size_t>(row) * width + col) * 2];
            p[0] = c[0];
            p[1] = c[1];
            p[2] = c[0];
            p[3] = c[2];
            y[static_cast<size_t>(row) * width + col] = c[0];
            y[static_cast<size_t>(row) * width + col + 1] = c[0];
            if (row % 2 == 0) {
                const size_t ci = static_cast<size_t>(row / 2) * (width / 2) + col / 2;
                u[ci] = c[1];
                v[ci] = c[2];
            }
        }
    }
    return b;
}

}  // namespace

// The checker itself: a file with no stream in it is a failed probe with a reason, not an
// exception out of the test (ffprobe says N/A where a count would be).
TEST(EncodePath, ProbingAnEmptyFileFailsWithAReason) {
    requireTools();
    TempDir dir;
    const std::string empty = dir.file("empty.hevc");
    writeText(empty, "");
    const ProbeInfo info = probeHevc(empty);
    EXPECT_FALSE(info.ok);
    EXPECT_EQ(info.frames, -1);
    EXPECT_NE(info.error.find("no frames"), std::string::npos) << info.error;
}

TEST(EncodePath, PatternDecodesWithGStreamerAndFfprobe) {
    requireTools();
    TempDir dir;
    const std::string out = dir.file("f.h265");
    const ProcessResult r = runH265({"--pattern", "--frames", "120", "--no-pace", "-q", "-o", out});
    ASSERT_EQ(r.exitCode, 0) << r.err;

    const ProbeInfo info = probeHevc(out);
    ASSERT_TRUE(info.ok) << info.error;
    EXPECT_EQ(info.frames, 120);
    EXPECT_EQ(info.profile, "Main");
    EXPECT_EQ(info.pixFmt, "yuv420p");
    EXPECT_EQ(info.width, 640);
    EXPECT_EQ(info.height, 480);
    // The stream says what its samples mean: limited-range BT.601, as converted.
    EXPECT_EQ(info.colorRange, "tv");
    EXPECT_EQ(info.colorSpace, "smpte170m");

    std::string err;
    EXPECT_EQ(gstDecodeFrames(out, 640, 480, &err), 120) << err;
}

TEST(EncodePath, EveryKeyframeIsAnIdrWithParameterSets) {
    requireTools();
    TempDir dir;
    const std::string out = dir.file("k.h265");
    const ProcessResult r = runH265({"--pattern", "-s", "320x240", "--frames", "95", "--keyint",
                                     "30", "--no-pace", "-q", "-o", out});
    ASSERT_EQ(r.exitCode, 0) << r.err;

    const std::vector<uint8_t> bytes = readFile(out);
    std::vector<NalUnitInfo> nals;
    ASSERT_EQ(hevc::splitNalUnits(bytes, nals), hevc::ParseError::None);
    int pictures = 0;
    int keyframes = 0;
    bool vps = false, sps = false, pps = false;
    for (const NalUnitInfo& nal : nals) {
        if (!hevc::isVcl(nal.type)) {
            vps = vps || nal.type == hevc::kVps;
            sps = sps || nal.type == hevc::kSps;
            pps = pps || nal.type == hevc::kPps;
            continue;
        }
        // One slice per picture here: every VCL NAL starts a picture.
        const bool firstSlice = (bytes[nal.offset + 2] & 0x80) != 0;
        ASSERT_TRUE(firstSlice) << "picture " << pictures << " has several slices";
        if (hevc::isIrap(nal.type)) {
            EXPECT_TRUE(hevc::isIdr(nal.type))
                << "keyframe at picture " << pictures << " is type " << int(nal.type);
            EXPECT_TRUE(vps && sps && pps)
                << "keyframe at picture " << pictures << " lacks parameter sets before it";
            EXPECT_EQ(pictures % 30, 0) << "keyframe off the --keyint 30 grid";
            ++keyframes;
        }
        vps = sps = pps = false;
        ++pictures;
    }
    EXPECT_EQ(pictures, 95);
    EXPECT_EQ(keyframes, 4);  // 0, 30, 60, 90

    // FFmpeg agrees on which frames are keyframes.
    const std::vector<bool> keys = probeKeyframes(out);
    ASSERT_EQ(keys.size(), 95u);
    for (size_t i = 0; i < keys.size(); ++i) {
        EXPECT_EQ(keys[i], i % 30 == 0) << "frame " << i;
    }
}

TEST(EncodePath, StillPictureDecodesCloseToTheSource) {
    requireTools();
    TempDir dir;
    const Bars bars = makeBars(640, 480);
    const std::string in = dir.file("bars.yuyv");
    writeFile(in, bars.yuyv.data(), bars.yuyv.size());
    const std::string out = dir.file("bars.h265");
    const ProcessResult r = runH265({"--input", in, "--pixel-format", "YUYV", "-s", "640x480",
                                     "--loop", "--frames", "30", "--no-pace", "-q", "-o", out});
    ASSERT_EQ(r.exitCode, 0) << r.err;

    const std::vector<uint8_t> decoded = ffmpegDecodeI420(out);
    const size_t frameBytes = bars.i420.size();
    ASSERT_EQ(decoded.size(), 30 * frameBytes);
    const size_t lumaBytes = 640u * 480u;
    for (size_t frame : {size_t{0}, size_t{29}}) {
        const uint8_t* d = decoded.data() + frame * frameBytes;
        const double y = psnr(d, bars.i420.data(), lumaBytes);
        const double uv = psnr(d + lumaBytes, bars.i420.data() + lumaBytes, frameBytes - lumaBytes);
        RecordProperty("psnr_y_frame" + std::to_string(frame), std::to_string(y));
        EXPECT_GE(y, 38.0) << "frame " << frame;
        EXPECT_GE(uv, 38.0) << "frame " << frame;
    }
}

TEST(EncodePath, BitrateOfTenSecondsOfPatternIsWithinFifteenPercent) {
    requireTools();
    TempDir dir;
    for (int kbps : {500, 1000}) {
        const std::string out = dir.file("rate" + std::to_string(kbps) + ".h265");
        const ProcessResult r = runH265({"--pattern", "--frames", "300", "--no-pace", "-q", "-b",
                                         std::to_string(kbps), "-o", out});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        // 300 frames at 30 fps are 10 s of video.
        const double measured = static_cast<double>(readFile(out).size()) * 8 / 1000 / 10.0;
        RecordProperty("kbps_for_" + std::to_string(kbps), std::to_string(measured));
        EXPECT_NEAR(measured, kbps, kbps * 0.15) << "asked " << kbps << " kbit/s";
    }
}

TEST(EncodePath, StdoutCarriesTheSameStreamAsAFile) {
    requireTools();
    TempDir dir;
    const std::string file = dir.file("a.h265");
    const std::string piped = dir.file("b.h265");
    const std::vector<std::string> common = {
        "--pattern", "-s", "320x240", "--frames", "40", "-q", "--no-pace", "--threads", "1"};
    std::vector<std::string> a = common;
    a.insert(a.end(), {"-o", file});
    ASSERT_EQ(runH265(a).exitCode, 0);
    std::string cmd = "'" + binaryPath() + "'";
    for (const auto& s : common) {
        cmd += " " + s;
    }
    cmd += " -o - > '" + piped + "'";
    const ProcessResult r = runShell(cmd);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto fileBytes = readFile(file);
    EXPECT_FALSE(fileBytes.empty());
    EXPECT_EQ(fileBytes, readFile(piped));
}

TEST(EncodePath, SigintEndsWithACompleteAccessUnit) {
    requireTools();
    TempDir dir;
    const std::string out = dir.file("int.h265");
    // -v: a line per frame once it is written; SIGINT after the twelfth (pts 11 at 30 fps),
    // whatever the speed of the machine.
    ChildProcess p({binaryPath(), "--pattern", "-v", "-o", out});
    ASSERT_TRUE(p.waitForStderr("[Frame] Time: 0.367 ")) << p.err();
    p.signal(SIGINT);
    EXPECT_EQ(p.wait(), 0) << "killed by a signal or failed";

    const std::vector<uint8_t> bytes = readFile(out);
    std::vector<NalUnitInfo> nals;
    ASSERT_EQ(hevc::splitNalUnits(bytes, nals), hevc::ParseError::None);
    int pictures = 0;
    for (const NalUnitInfo& nal : nals) {
        pictures += hevc::isVcl(nal.type) ? 1 : 0;
    }
    EXPECT_GT(pictures, 10);  // the twelve written before SIGINT, maybe a few more
    const ProbeInfo info = probeHevc(out);
    EXPECT_EQ(info.frames, pictures) << info.error;
}

TEST(EncodePath, StatsLinesEverySecond) {
    TempDir dir;
    const ProcessResult text = runH265({"--pattern", "-s", "320x240", "--duration", "2.5"});
    ASSERT_EQ(text.exitCode, 0) << text.err;
    int lines = 0;
    for (size_t pos = 0; (pos = text.err.find("[Bandwidth] ~", pos)) != std::string::npos; ++pos) {
        ++lines;
    }
    EXPECT_GE(lines, 2);
    EXPECT_NE(text.err.find("latency_p99_ms"), std::string::npos) << text.err;

    const ProcessResult json =
        runH265({"--pattern", "-s", "320x240", "--duration", "1.5", "--stats-json"});
    ASSERT_EQ(json.exitCode, 0) << json.err;
    EXPECT_NE(json.err.find("{\"interval_s\":"), std::string::npos) << json.err;
    EXPECT_NE(json.err.find("\"kbps\":"), std::string::npos);
    EXPECT_EQ(json.err.find("[Bandwidth]"), std::string::npos);

    const ProcessResult verbose =
        runH265({"--pattern", "-s", "320x240", "--frames", "5", "--no-pace", "-v"});
    ASSERT_EQ(verbose.exitCode, 0) << verbose.err;
    EXPECT_NE(verbose.err.find("[Frame] Time: 0.133 | Resolution: 320x240 | Framerate: 30/1 | "
                               "Encoded Bytes: "),
              std::string::npos)
        << verbose.err;

    const ProcessResult quiet = runH265({"--pattern", "--frames", "5", "--no-pace", "-q"});
    ASSERT_EQ(quiet.exitCode, 0);
    EXPECT_EQ(quiet.err, "");
}

TEST(EncodePath, RawFramesFromStdin) {
    requireTools();
    TempDir dir;
    const Bars bars = makeBars(320, 240);
    const std::string in = dir.file("bars.yuyv");
    std::vector<uint8_t> five;
    for (int i = 0; i < 5; ++i) {
        five.insert(five.end(), bars.yuyv.begin(), bars.yuyv.end());
    }
    writeFile(in, five.data(), five.size());
    const std::string out = dir.file("stdin.h265");
    const ProcessResult r = runShell(
        "'" + binaryPath() + "' --input - --pixel-format YUYV -s 320x240 --no-pace -q -o '" + out +
        "' < '" + in + "'");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const ProbeInfo info = probeHevc(out);
    EXPECT_EQ(info.frames, 5) << info.error;
}
