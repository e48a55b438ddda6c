// SPDX-License-Identifier: GPL-2.0-or-later
// The parser on streams made by the tools people use: FFmpeg (libx265), GStreamer
// (x265enc + h265parse) and the x265 command line, generated here at run time and checked
// against ffprobe.

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <sstream>
#include <string>

#include "common/test_util.hpp"
#include "h265direct/annexb.hpp"

namespace h265direct::hevc {
namespace {

using h265direct::test::haveProgram;
using h265direct::test::runProcess;
using h265direct::test::TempDir;

struct ProbeInfo {
    int frames = -1;
    std::string profile;
    int level = -1;
    int width = -1;
    int height = -1;
    std::vector<int> packetSizes;
    std::vector<bool> packetKey;
};

ProbeInfo probe(const std::string& path) {
    ProbeInfo p;
    const auto s = runProcess({"ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                               "-show_entries", "stream=nb_read_frames,profile,level,width,height",
                               "-of", "default=nw=1", path});
    EXPECT_EQ(s.exitCode, 0) << s.err;
    std::istringstream in(s.out);
    for (std::string line; std::getline(in, line);) {
        const auto eq = line.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        const std::string key = line.substr(0, eq);
        const std::string value = line.substr(eq + 1);
        if (key == "nb_read_frames") {
            p.frames = std::atoi(value.c_str());
        } else if (key == "profile") {
            p.profile = value;
        } else if (key == "level") {
            p.level = std::atoi(value.c_str());
        } else if (key == "width") {
            p.width = std::atoi(value.c_str());
        } else if (key == "height") {
            p.height = std::atoi(value.c_str());
        }
    }
    const auto pk = runProcess({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                "packet=size,flags", "-of", "csv=p=0", path});
    EXPECT_EQ(pk.exitCode, 0) << pk.err;
    std::istringstream pin(pk.out);
    for (std::string line; std::getline(pin, line);) {
        const auto comma = line.find(',');
        if (comma == std::string::npos) {
            continue;
        }
        p.packetSizes.push_back(std::atoi(line.substr(0, comma).c_str()));
        p.packetKey.push_back(line.size() > comma + 1 && line[comma + 1] == 'K');
    }
    return p;
}

struct Expect {
    int frames = 0;
    uint32_t width = 0;  // displayed size
    uint32_t height = 0;
    uint8_t profileIdc = 1;
    const char* profileName = "Main";
    uint32_t chromaFormatIdc = 1;
    bool parameterSetsOnEveryKeyframe = false;
    bool audFirst = false;
};

std::vector<AccessUnit> assembleChunks(const std::vector<uint8_t>& s, std::mt19937* rng,
                                       AccessUnitAssembler::Counters* counters) {
    AccessUnitAssembler a;
    std::vector<AccessUnit> aus;
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t n =
            rng == nullptr ? s.size() : std::min<size_t>(s.size() - pos, 1 + (*rng)() % 700);
        EXPECT_EQ(a.push(std::span<const uint8_t>(s).subspan(pos, n), aus), ParseError::None);
        pos += n;
    }
    EXPECT_EQ(a.finish(aus), ParseError::None);
    if (counters != nullptr) {
        *counters = a.counters();
    }
    return aus;
}

void checkStream(const std::string& path, const Expect& want) {
    const std::vector<uint8_t> s = h265direct::test::readFile(path);
    ASSERT_FALSE(s.empty()) << path;

    // Whole-buffer split: every byte but start codes and zero padding is in a NAL unit.
    std::vector<NalUnitInfo> nals;
    ASSERT_EQ(splitNalUnits(s, nals), ParseError::None);
    ASSERT_GT(nals.size(), static_cast<size_t>(want.frames));
    size_t covered = 0;
    for (const NalUnitInfo& n : nals) {
        covered += n.startCodeSize + n.size;
    }
    EXPECT_LE(s.size() - covered, 8u);

    AccessUnitAssembler::Counters counters;
    const std::vector<AccessUnit> aus = assembleChunks(s, nullptr, &counters);
    const ProbeInfo ref = probe(path);
    ASSERT_EQ(ref.frames, want.frames) << "ffprobe disagrees with the frame count asked for";
    ASSERT_EQ(aus.size(), static_cast<size_t>(want.frames));
    EXPECT_EQ(counters.nalUnits, nals.size());
    EXPECT_EQ(counters.errors, 0u);

    // The AUs are the split NAL units, in order, grouped.
    std::vector<uint8_t> joined;
    size_t k = 0;
    for (const AccessUnit& au : aus) {
        joined.insert(joined.end(), au.data.begin(), au.data.end());
        for (const NalUnitInfo& n : au.nals) {
            ASSERT_LT(k, nals.size());
            ASSERT_EQ(n.type, nals[k].type);
            ASSERT_EQ(n.size, nals[k].size);
            ASSERT_EQ(n.startCodeSize, nals[k].startCodeSize);
            ++k;
        }
    }
    EXPECT_EQ(joined.size(), covered);

    // Boundaries and keyframes agree with FFmpeg's own HEVC parser. Its packets carry the
    // zero_byte of the next start code instead of their own, so sizes may differ by one.
    ASSERT_EQ(ref.packetSizes.size(), aus.size());
    int keyframes = 0;
    for (size_t i = 0; i < aus.size(); ++i) {
        EXPECT_NEAR(static_cast<double>(aus[i].data.size()), ref.packetSizes[i], 1.0) << "AU " << i;
        EXPECT_EQ(aus[i].keyframe, ref.packetKey[i]) << "AU " << i;
        keyframes += aus[i].keyframe ? 1 : 0;
        if (aus[i].keyframe && want.parameterSetsOnEveryKeyframe) {
            EXPECT_TRUE(aus[i].hasParameterSets) << "AU " << i;
        }
        if (want.audFirst) {
            EXPECT_EQ(aus[i].nals.front().type, kAud) << "AU " << i;
        }
        EXPECT_EQ(aus[i].frameNumber, i);
        // What the engine does with an encoder's output buffer gives the same answer.
        AccessUnit copy;
        copy.data = aus[i].data;
        ASSERT_EQ(describeAccessUnit(copy), ParseError::None) << "AU " << i;
        EXPECT_EQ(copy.nals.size(), aus[i].nals.size());
        EXPECT_EQ(copy.keyframe, aus[i].keyframe);
        EXPECT_EQ(copy.idr, aus[i].idr);
        EXPECT_EQ(copy.hasParameterSets, aus[i].hasParameterSets);
    }
    EXPECT_GE(keyframes, 2) << "the stream should have a keyframe after the first";

    const AccessUnit& first = aus.front();
    EXPECT_TRUE(first.keyframe);
    EXPECT_TRUE(first.idr);
    EXPECT_TRUE(first.hasParameterSets);

    ParameterSetCache cache;
    for (const AccessUnit& au : aus) {
        cache.update(au);
    }
    ASSERT_TRUE(cache.complete());
    SpsInfo sps;
    ASSERT_EQ(parseSps(cache.sps(), sps), ParseError::None);
    EXPECT_EQ(sps.displayWidth, want.width);
    EXPECT_EQ(sps.displayHeight, want.height);
    EXPECT_EQ(static_cast<int>(sps.displayWidth), ref.width);
    EXPECT_EQ(static_cast<int>(sps.displayHeight), ref.height);
    EXPECT_EQ(sps.width % 8, 0u);  // x265 codes whole 8x8 blocks and crops the rest
    EXPECT_EQ(sps.profileIdc, want.profileIdc);
    EXPECT_EQ(ref.profile, want.profileName);
    EXPECT_EQ(sps.levelIdc, ref.level);
    EXPECT_EQ(sps.chromaFormatIdc, want.chromaFormatIdc);
    EXPECT_EQ(sps.bitDepthLuma, 8);
    EXPECT_EQ(sps.bitDepthChroma, 8);

    // Any chunking gives the same access units.
    std::mt19937 rng(static_cast<unsigned>(s.size()));
    const std::vector<AccessUnit> chunked = assembleChunks(s, &rng, nullptr);
    ASSERT_EQ(chunked.size(), aus.size());
    for (size_t i = 0; i < aus.size(); ++i) {
        ASSERT_EQ(chunked[i].data, aus[i].data) << "AU " << i;
        ASSERT_EQ(chunked[i].keyframe, aus[i].keyframe);
    }
    AccessUnitAssembler bytewise;
    std::vector<AccessUnit> one;
    for (uint8_t b : s) {
        ASSERT_EQ(bytewise.push(std::span<const uint8_t>(&b, 1), one), ParseError::None);
    }
    ASSERT_EQ(bytewise.finish(one), ParseError::None);
    ASSERT_EQ(one.size(), aus.size());
    for (size_t i = 0; i < aus.size(); ++i) {
        ASSERT_EQ(one[i].data, aus[i].data) << "AU " << i;
    }
}

bool haveGstElement(const char* name) {
    return haveProgram("gst-launch-1.0") && haveProgram("gst-inspect-1.0") &&
           runProcess({"gst-inspect-1.0", "--exists", name}).exitCode == 0;
}

#define REQUIRE_PROGRAM(name)                     \
    if (!haveProgram(name)) {                     \
        GTEST_SKIP() << name " is not installed"; \
    }

TEST(RealStreams, FfmpegLibx265) {
    REQUIRE_PROGRAM("ffmpeg");
    REQUIRE_PROGRAM("ffprobe");
    TempDir dir;
    const std::string out = dir.file("ffmpeg.h265");
    const auto r = runProcess({"ffmpeg",      "-v",           "error",
                               "-nostdin",    "-y",           "-f",
                               "lavfi",       "-i",           "testsrc=size=160x120:rate=30",
                               "-frames:v",   "10",           "-pix_fmt",
                               "yuv420p",     "-c:v",         "libx265",
                               "-preset",     "ultrafast",    "-tune",
                               "zerolatency", "-x265-params", "keyint=4:log-level=error",
                               "-f",          "hevc",         out});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    Expect e;
    e.frames = 10;
    e.width = 160;
    e.height = 120;
    checkStream(out, e);
}

// A size that is no multiple of the coding block: the SPS codes a larger picture and a
// conformance window crops it back.
TEST(RealStreams, FfmpegCroppedSize) {
    REQUIRE_PROGRAM("ffmpeg");
    REQUIRE_PROGRAM("ffprobe");
    TempDir dir;
    const std::string out = dir.file("ffmpeg_crop.h265");
    const auto r = runProcess({"ffmpeg",
                               "-v",
                               "error",
                               "-nostdin",
                               "-y",
                               "-f",
                               "lavfi",
                               "-i",
                               "testsrc2=size=166x94:rate=25",
                               "-frames:v",
                               "6",
                               "-pix_fmt",
                               "yuv420p",
                               "-c:v",
                               "libx265",
                               "-preset",
                               "ultrafast",
                               "-x265-params",
                               "keyint=3:min-keyint=3:log-level=error",
                               "-f",
                               "hevc",
                               out});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    Expect e;
    e.frames = 6;
    e.width = 166;
    e.height = 94;
    checkStream(out, e);
}

TEST(RealStreams, GstreamerX265encH265parse) {
    if (!haveGstElement("x265enc") || !haveGstElement("h265parse")) {
        GTEST_SKIP() << "gst-launch-1.0 with x265enc and h265parse is not installed";
    }
    REQUIRE_PROGRAM("ffprobe");
    TempDir dir;
    const std::string out = dir.file("gst.h265");
    // h265parse keeps the byte-stream form only if asked for it downstream (filesink takes
    // anything); config-interval=-1 puts VPS/SPS/PPS before every keyframe.
    const auto r = runProcess({"gst-launch-1.0",
                               "-q",
                               "videotestsrc",
                               "num-buffers=10",
                               "pattern=ball",
                               "!",
                               "video/x-raw,width=160,height=120,format=I420,framerate=30/1",
                               "!",
                               "x265enc",
                               "speed-preset=ultrafast",
                               "tune=zerolatency",
                               "key-int-max=4",
                               "!",
                               "h265parse",
                               "config-interval=-1",
                               "!",
                               "video/x-h265,stream-format=byte-stream,alignment=au",
                               "!",
                               "filesink",
                               "location=" + out});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    Expect e;
    e.frames = 10;
    e.width = 160;
    e.height = 120;
    e.parameterSetsOnEveryKeyframe = true;
    checkStream(out, e);
}

// What the reference script produces from a camera: x265enc negotiates 4:4:4 (RExt).
TEST(RealStreams, GstreamerDefault444IsRext) {
    if (!haveGstElement("x265enc") || !haveGstElement("h265parse")) {
        GTEST_SKIP() << "gst-launch-1.0 with x265enc and h265parse is not installed";
    }
    REQUIRE_PROGRAM("ffprobe");
    TempDir dir;
    const std::string out = dir.file("gst444.h265");
    const auto r =
        runProcess({"gst-launch-1.0", "-q", "videotestsrc", "num-buffers=8", "!",
                    "video/x-raw,width=160,height=120,format=Y444", "!", "x265enc",
                    "speed-preset=ultrafast", "tune=zerolatency", "key-int-max=5", "!", "h265parse",
                    "!", "video/x-h265,stream-format=byte-stream,alignment=au", "!", "filesink",
                    "location=" + out});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    Expect e;
    e.frames = 8;
    e.width = 160;
    e.height = 120;
    e.profileIdc = 4;
    e.profileName = "Rext";
    e.chromaFormatIdc = 3;
    checkStream(out, e);
}

// The x265 CLI with access unit delimiters and headers repeated on every keyframe; its
// input is a raw I420 clip made here (a box moving over a gradient).
TEST(RealStreams, X265CliWithAud) {
    REQUIRE_PROGRAM("x265");
    REQUIRE_PROGRAM("ffprobe");
    TempDir dir;
    const int w = 160;
    const int h = 120;
    const int frames = 12;
    std::vector<uint8_t> yuv;
    for (int f = 0; f < frames; ++f) {
        for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) {
                const bool box = x >= 10 + f * 6 && x < 40 + f * 6 && y >= 30 && y < 70;
                yuv.push_back(static_cast<uint8_t>(box ? 235 : (x + y + f * 3) & 0xff));
            }
        }
        for (int c = 0; c < 2; ++c) {
            for (int i = 0; i < (w / 2) * (h / 2); ++i) {
                yuv.push_back(static_cast<uint8_t>(c == 0 ? 128 + (i % 40) : 100 + f));
            }
        }
    }
    const std::string in = dir.file("in.yuv");
    h265direct::test::writeFile(in, yuv.data(), yuv.size());
    const std::string out = dir.file("x265.hevc");
    const auto r =
        runProcess({"x265", "--input", in, "--input-res", "160x120", "--fps", "30", "--preset",
                    "ultrafast", "--tune", "zerolatency", "--keyint", "5", "--aud",
                    "--repeat-headers", "--log-level", "error", "--output", out});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    Expect e;
    e.frames = frames;
    e.width = w;
    e.height = h;
    e.parameterSetsOnEveryKeyframe = true;
    e.audFirst = true;
    checkStream(out, e);
}

}  // namespace
}  // namespace h265direct::hevc
