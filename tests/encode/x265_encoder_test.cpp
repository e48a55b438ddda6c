// SPDX-License-Identifier: GPL-2.0-or-later
#include "encode/x265_encoder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/test_util.hpp"
#include "core/error.hpp"
#include "encode/stream_reader.hpp"

namespace h265direct {
namespace {

using test::Nal;
using test::splitAnnexB;

constexpr int kW = 320;
constexpr int kH = 240;

struct Au {
    std::vector<uint8_t> bytes;
    int64_t pts = 0;
    bool keyframe = false;
    std::vector<int> nalTypes() const {
        std::vector<int> types;
        for (const Nal& n : splitAnnexB(bytes)) {
            types.push_back(n.type);
        }
        return types;
    }
};

Au copyOut(const EncodedFrame& f) {
    return Au{std::vector<uint8_t>(f.bytes.begin(), f.bytes.end()), f.pts, f.keyframe};
}

// A detailed picture that moves a little every frame: a hashed texture shifted by `frame`
// pixels, so that the encoder has real work and inter prediction finds the motion.
void paint(const I420Planes& p, int w, int h, int frame, int speed = 1) {
    auto texture = [](int x, int y) {
        uint32_t v = static_cast<uint32_t>(x) * 73856093u ^ static_cast<uint32_t>(y) * 19349663u;
        v ^= v >> 13;
        return static_cast<uint8_t>(((x / 8 + y / 8) % 2 ? 60 : 180) + (v & 31));
    };
    int shift = frame * speed;
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            p.y[y * p.strideY + x] = texture(x + shift, y);
        }
    }
    for (int y = 0; y < h / 2; ++y) {
        for (int x = 0; x < w / 2; ++x) {
            p.u[y * p.strideU + x] = static_cast<uint8_t>(96 + ((x + shift / 2) * 2 % 64));
            p.v[y * p.strideV + x] = static_cast<uint8_t>(160 - (y * 2 % 64));
        }
    }
}

// Encodes `frames` pictures; asks for a keyframe before the pictures listed in `forced`.
// Zerolatency: every picture must give its access unit at once.
std::vector<Au> encodeFrames(const EncoderConfig& config, int frames,
                             const std::set<int>& forced = {}, int w = kW, int h = kH,
                             int speed = 1) {
    X265Encoder enc(config, w, h, 30, 1);
    std::vector<Au> out;
    for (int i = 0; i < frames; ++i) {
        paint(enc.inputPlanes(), w, h, i, speed);
        if (forced.count(i) != 0) {
            enc.requestKeyframe();
        }
        EncodedFrame f;
        Status s = enc.encode(i, f);
        EXPECT_EQ(s, Status::Ok) << "picture " << i;
        if (s == Status::Ok) {
            out.push_back(copyOut(f));
        }
    }
    EncodedFrame f;
    EXPECT_EQ(enc.flush(f), Status::EndOfStream);
    return out;
}

// For settings that may hold pictures back: encodes, then drains. `cut`: from this picture
// on the content is a different scene.
std::vector<Au> encodeAndFlush(const EncoderConfig& config, int frames, int cut = -1) {
    X265Encoder enc(config, kW, kH, 30, 1);
    std::vector<Au> out;
    EncodedFrame f;
    for (int i = 0; i < frames; ++i) {
        paint(enc.inputPlanes(), kW, kH, i);
        if (cut >= 0 && i >= cut) {
            const I420Planes& p = enc.inputPlanes();
            for (int y = 0; y < kH; ++y) {
                for (int x = 0; x < kW; ++x) {
                    p.y[y * p.strideY + x] = static_cast<uint8_t>(255 - (x * y + i) % 200);
                }
            }
            std::memset(p.u, 40, static_cast<size_t>(p.strideU) * kH / 2);
        }
        Status s = enc.encode(i, f);
        EXPECT_TRUE(s == Status::Ok || s == Status::Again) << toString(s);
        if (s == Status::Ok) {
            out.push_back(copyOut(f));
        }
    }
    while (enc.flush(f) == Status::Ok) {
        out.push_back(copyOut(f));
    }
    EXPECT_EQ(out.size(), static_cast<size_t>(frames));
    return out;
}

std::map<std::string, std::string> optionsOf(const std::vector<Au>& aus) {
    EXPECT_FALSE(aus.empty());
    if (aus.empty()) {
        return {};
    }
    std::optional<std::string> info = test::x265InfoText(aus[0].bytes);
    EXPECT_TRUE(info.has_value()) << "no x265 info SEI in the first access unit";
    return info ? test::x265Options(*info) : std::map<std::string, std::string>{};
}

std::string startupError(const EncoderConfig& config, int w = kW, int h = kH, int fpsNum = 30,
                         int fpsDen = 1) {
    try {
        X265Encoder enc(config, w, h, fpsNum, fpsDen);
    } catch (const StartupError& e) {
        EXPECT_EQ(e.exitCode(), kExitUsage) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no StartupError";
    return {};
}

// --- What the SPS says ---------------------------------------------------------------

void expectSps(int w, int h) {
    EncoderConfig config;
    std::vector<Au> aus = encodeFrames(config, 2, {}, w, h);
    ASSERT_EQ(aus.size(), 2u);
    std::optional<test::SpsInfo> sps;
    for (const Nal& n : splitAnnexB(aus[0].bytes)) {
        if (n.type == 33) {
            sps = test::parseSps(n);
        }
    }
    ASSERT_TRUE(sps.has_value()) << "no readable SPS in the first access unit";
    EXPECT_EQ(sps->profileIdc, 1) << "general_profile_idc: HEVC Main";
    EXPECT_EQ(sps->chromaFormatIdc, 1) << "4:2:0";
    EXPECT_EQ(sps->bitDepthLuma, 8);
    EXPECT_EQ(sps->bitDepthChroma, 8);
    EXPECT_EQ(sps->width, w);
    EXPECT_EQ(sps->height, h);
}

TEST(X265EncoderSps, MainProfile420EightBitAtTheInputSize) {
    expectSps(kW, kH);
}

TEST(X265EncoderSps, SizeOffTheCodingBlockGridUsesTheConformanceWindow) {
    // 16-pixel minimum coding blocks at ultrafast: 202x118 is coded as 208x128 and cropped.
    expectSps(202, 118);
}

// --- Options, read back from x265's info SEI --------------------------------------------

TEST(X265EncoderOptions, DefaultsAreUltrafastZerolatencyAbrWithRepeatedHeadersClosedGop) {
    EncoderConfig config;  // bitrate 1000, keyint auto, no VBV
    auto o = optionsOf(encodeFrames(config, 1));
    EXPECT_EQ(o["rc"], "abr");
    EXPECT_EQ(o["bitrate"], "1000");
    EXPECT_EQ(o["keyint"], "60") << "about 2 s at 30 fps";
    EXPECT_EQ(o["min-keyint"], "1");
    EXPECT_EQ(o["repeat-headers"], "1");
    EXPECT_EQ(o["open-gop"], "0");
    EXPECT_EQ(o["annexb"], "1");
    EXPECT_EQ(o["aud"], "0");
    EXPECT_EQ(o["input-csp"], "1");
    EXPECT_EQ(o["bitdepth"], "8");
    EXPECT_EQ(o["input-res"], "320x240");
    EXPECT_EQ(o["fps"], "30/1");
    // zerolatency: nothing held back.
    EXPECT_EQ(o["bframes"], "0");
    EXPECT_EQ(o["rc-lookahead"], "0");
    EXPECT_EQ(o["frame-threads"], "1");
    EXPECT_EQ(o.count("vbv-maxrate"), 0u) << "no VBV unless asked";
    // x265 logs only errors unless asked: log-level 0 is X265_LOG_ERROR.
    EXPECT_EQ(o["log-level"], "0");
}

TEST(X265EncoderOptions, BitrateKeyintAndVbvReachX265) {
    EncoderConfig config;
    config.bitrateKbps = 500;
    config.keyint = 45;
    config.vbvMaxrateKbps = 800;
    config.vbvBufsizeKbit = 400;
    auto o = optionsOf(encodeFrames(config, 1));
    EXPECT_EQ(o["bitrate"], "500");
    EXPECT_EQ(o["keyint"], "45");
    EXPECT_EQ(o["vbv-maxrate"], "800");
    EXPECT_EQ(o["vbv-bufsize"], "400");
}

TEST(X265EncoderOptions, VbvMaxrateAloneGetsHalfASecondOfBuffer) {
    EncoderConfig config;
    config.vbvMaxrateKbps = 1500;
    auto o = optionsOf(encodeFrames(config, 1));
    EXPECT_EQ(o["vbv-maxrate"], "1500");
    EXPECT_EQ(o["vbv-bufsize"], "750");
}

TEST(X265EncoderOptions, VbvBufsizeAloneCapsAtTheTargetBitrate) {
    EncoderConfig config;
    config.bitrateKbps = 700;
    config.vbvBufsizeKbit = 300;
    auto o = optionsOf(encodeFrames(config, 1));
    EXPECT_EQ(o["vbv-maxrate"], "700");
    EXPECT_EQ(o["vbv-bufsize"], "300");
}

TEST(X265EncoderOptions, AutoKeyintIsTwoSecondsOfFrames) {
    struct Case {
        int num, den, keyint;
    };
    for (Case c : {Case{30, 1, 60}, Case{25, 1, 50}, Case{30000, 1001, 60}, Case{15, 2, 15}}) {
        EncoderConfig config;
        X265Encoder enc(config, kW, kH, c.num, c.den);
        EXPECT_EQ(enc.keyint(), c.keyint) << c.num << "/" << c.den;
    }
    EncoderConfig config;
    config.keyint = 7;
    X265Encoder enc(config, kW, kH, 30, 1);
    EXPECT_EQ(enc.keyint(), 7);
}

TEST(X265EncoderOptions, TuneNoneTurnsZerolatencyOff) {
    EncoderConfig config;
    config.tune = "none";
    auto o = optionsOf(encodeAndFlush(config, 1));
    EXPECT_NE(o["bframes"], "0") << "ultrafast without zerolatency uses B-frames";
    EXPECT_NE(o["rc-lookahead"], "0");
    X265Encoder enc(config, kW, kH, 30, 1);
    EXPECT_NE(enc.describe().find("tune none"), std::string::npos) << enc.describe();
}

TEST(X265EncoderOptions, ThreadsSetThePoolAndCapFrameThreads) {
    EncoderConfig config;
    config.threads = 1;
    config.tune = "psnr";  // not zerolatency: x265 would pick several frame threads itself
    X265Encoder enc(config, kW, kH, 30, 1);
    EXPECT_NE(enc.describe().find("threads 1 (frame threads 1)"), std::string::npos)
        << enc.describe();
}

// The preset and tune give the same coding tools as the x265 command line with the same
// --preset/--tune: the reference a user would compare with.
void expectPresetLikeCli(const std::string& preset, const std::string& tune) {
    if (!test::haveProgram("x265")) {
        GTEST_SKIP() << "x265 command line not installed";
    }
    test::TempDir dir;
    std::vector<uint8_t> yuv(kW * kH * 3 / 2, 128);
    test::writeFile(dir.file("in.yuv"), yuv.data(), yuv.size());
    test::ProcessResult r = test::runProcess(
        {"x265", "--preset", preset, "--tune", tune, "--input", dir.file("in.yuv"), "--input-res",
         "320x240", "--fps", "30", "--frames", "1", "--output", dir.file("cli.hevc")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::vector<uint8_t> cliStream = test::readFile(dir.file("cli.hevc"));
    std::optional<std::string> cliInfo = test::x265InfoText(cliStream);
    ASSERT_TRUE(cliInfo.has_value());
    auto cli = test::x265Options(*cliInfo);

    EncoderConfig config;
    config.preset = preset;
    config.tune = tune;
    auto ours = optionsOf(encodeAndFlush(config, 1));
    for (const char* key :
         {"ctu",     "min-cu-size", "me",         "subme",        "merange",    "rd",
          "ref",     "bframes",     "b-adapt",    "rc-lookahead", "sao",        "weightp",
          "aq-mode", "aq-strength", "psy-rd",     "cutree",       "rdoq-level", "amp",
          "rect",    "early-skip",  "fast-intra", "deblock",      "scenecut"}) {
        ASSERT_EQ(cli.count(key), 1u) << key;
        EXPECT_EQ(ours[key], cli[key]) << key << " with --preset " << preset << " --tune " << tune;
    }
}

TEST(X265EncoderOptions, UltrafastZerolatencyMatchesTheX265CommandLine) {
    expectPresetLikeCli("ultrafast", "zerolatency");
}

TEST(X265EncoderOptions, OtherPresetAndTuneMatchTheX265CommandLine) {
    expectPresetLikeCli("faster", "psnr");
}

// --- Keyframes ---------------------------------------------------------------------------

// Checks the invariants of a whole stream: keyframes are IDR with VPS/SPS/PPS in front,
// other pictures P (never B), no parameter sets elsewhere, pts in input order.
void expectIdrStructure(const std::vector<Au>& aus) {
    ASSERT_FALSE(aus.empty());
    std::optional<int> extraBits;
    for (const Nal& n : splitAnnexB(aus[0].bytes)) {
        if (n.type == 34) {
            extraBits = test::parsePpsExtraSliceHeaderBits(n);
        }
    }
    ASSERT_TRUE(extraBits.has_value()) << "no PPS in the first access unit";
    for (size_t i = 0; i < aus.size(); ++i) {
        const Au& au = aus[i];
        EXPECT_EQ(au.pts, static_cast<int64_t>(i));
        std::vector<Nal> nals = splitAnnexB(au.bytes);
        ASSERT_FALSE(nals.empty());
        std::vector<int> types = au.nalTypes();
        const Nal* slice = nullptr;
        for (const Nal& n : nals) {
            if (n.type < 32) {
                slice = &n;
                break;
            }
        }
        ASSERT_NE(slice, nullptr) << "access unit " << i << " has no slice";
        std::optional<int> sliceType = test::parseSliceType(*slice, *extraBits);
        ASSERT_TRUE(sliceType.has_value()) << "access unit " << i;
        if (au.keyframe) {
            ASSERT_GE(types.size(), 4u);
            EXPECT_EQ(types[0], 32) << "access unit " << i;
            EXPECT_EQ(types[1], 33) << "access unit " << i;
            EXPECT_EQ(types[2], 34) << "access unit " << i;
            EXPECT_TRUE(slice->type == 19 || slice->type == 20)
                << "keyframe " << i << " is NAL type " << slice->type << ", not IDR";
            EXPECT_EQ(*sliceType, 2) << "keyframe " << i;
        } else {
            for (int t : types) {
                EXPECT_LT(t, 32) << "access unit " << i << ": only slices outside keyframes";
                EXPECT_FALSE(t >= 16 && t <= 23) << "access unit " << i << " is IRAP, not flagged";
            }
            EXPECT_EQ(*sliceType, 1) << "access unit " << i << ": P expected (no B-frames)";
        }
    }
}

std::vector<size_t> keyframeIndices(const std::vector<Au>& aus) {
    std::vector<size_t> keys;
    for (size_t i = 0; i < aus.size(); ++i) {
        if (aus[i].keyframe) {
            keys.push_back(i);
        }
    }
    return keys;
}

TEST(X265EncoderKeyframes, KeyintGivesAnIdrWithParameterSetsEveryNFrames) {
    EncoderConfig config;
    config.keyint = 8;
    std::vector<Au> aus = encodeFrames(config, 30);
    ASSERT_EQ(aus.size(), 30u);
    expectIdrStructure(aus);
    EXPECT_EQ(keyframeIndices(aus), (std::vector<size_t>{0, 8, 16, 24}));
}

TEST(X265EncoderKeyframes, RequestedKeyframeIsTheVeryNextPictureAndRestartsTheInterval) {
    EncoderConfig config;
    config.keyint = 10;
    std::vector<Au> aus = encodeFrames(config, 30, {4, 13});
    ASSERT_EQ(aus.size(), 30u);
    expectIdrStructure(aus);
    // IDRs at the requests; the keyint counts from the last IDR.
    EXPECT_EQ(keyframeIndices(aus), (std::vector<size_t>{0, 4, 13, 23}));
}

TEST(X265EncoderKeyframes, RequestFromAnotherThreadAndRepeatedRequestsGiveOneIdr) {
    EncoderConfig config;
    config.keyint = 100;
    X265Encoder enc(config, kW, kH, 30, 1);
    std::vector<Au> aus;
    for (int i = 0; i < 6; ++i) {
        paint(enc.inputPlanes(), kW, kH, i);
        if (i == 3) {
            std::thread other([&enc] {
                enc.requestKeyframe();
                enc.requestKeyframe();
            });
            other.join();
        }
        EncodedFrame f;
        ASSERT_EQ(enc.encode(i, f), Status::Ok);
        aus.push_back(copyOut(f));
    }
    expectIdrStructure(aus);
    EXPECT_EQ(keyframeIndices(aus), (std::vector<size_t>{0, 3}));
}

TEST(X265EncoderKeyframes, InfoSeiOnlyInTheFirstKeyframe) {
    EncoderConfig config;
    config.keyint = 5;
    std::vector<Au> aus = encodeFrames(config, 12, {7});
    ASSERT_EQ(aus.size(), 12u);
    EXPECT_TRUE(test::x265InfoText(aus[0].bytes).has_value());
    for (size_t i = 1; i < aus.size(); ++i) {
        EXPECT_FALSE(test::x265InfoText(aus[i].bytes).has_value()) << "access unit " << i;
        for (int t : aus[i].nalTypes()) {
            EXPECT_NE(t, 39) << "access unit " << i;
        }
    }
    EXPECT_EQ(keyframeIndices(aus), (std::vector<size_t>{0, 5, 7}));
}

TEST(X265EncoderKeyframes, SceneCutsAreIdrToo) {
    // zerolatency turns scene-cut detection off; a tune that keeps it shows that a cut
    // becomes a full IDR with parameter sets, never a plain I picture.
    EncoderConfig config;
    config.preset = "faster";
    config.tune = "psnr";
    config.keyint = 100;
    std::vector<Au> aus = encodeAndFlush(config, 16, 9);
    std::optional<int> extraBits;
    for (const Nal& n : splitAnnexB(aus.at(0).bytes)) {
        if (n.type == 34) {
            extraBits = test::parsePpsExtraSliceHeaderBits(n);
        }
    }
    ASSERT_TRUE(extraBits.has_value());
    std::vector<int64_t> keyPts;
    for (const Au& au : aus) {
        for (const Nal& n : splitAnnexB(au.bytes)) {
            if (n.type >= 32) {
                continue;
            }
            std::optional<int> type = test::parseSliceType(n, *extraBits);
            ASSERT_TRUE(type.has_value());
            if (*type == 2) {
                EXPECT_TRUE(n.type == 19 || n.type == 20)
                    << "I picture pts " << au.pts << " coded as NAL type " << n.type;
            }
        }
        if (au.keyframe) {
            keyPts.push_back(au.pts);
            std::vector<int> types = au.nalTypes();
            ASSERT_GE(types.size(), 4u);
            EXPECT_EQ((std::vector<int>{types[0], types[1], types[2]}),
                      (std::vector<int>{32, 33, 34}));
        }
    }
    EXPECT_EQ(keyPts, (std::vector<int64_t>{0, 9}));
}

// --- Input paths -------------------------------------------------------------------------

TEST(X265EncoderInput, ExternalPlanesEncodeLikeTheOwnPicture) {
    // One worker thread and one frame thread: x265 is deterministic, so the same pictures
    // must give the same bytes whichever way they come in.
    EncoderConfig config;
    config.threads = 1;
    config.keyint = 5;
    X265Encoder own(config, kW, kH, 30, 1);
    X265Encoder ext(config, kW, kH, 30, 1);

    // A buffer laid out unlike the encoder's own: wider strides, separate allocations.
    const int strideY = kW + 24;
    const int strideC = kW / 2 + 40;
    std::vector<uint8_t> y(strideY * kH), u(strideC * kH / 2), v(strideC * kH / 2);
    I420Planes external{y.data(), u.data(), v.data(), strideY, strideC, strideC};
    ASSERT_NE(external.y, own.inputPlanes().y);

    for (int i = 0; i < 8; ++i) {
        paint(own.inputPlanes(), kW, kH, i, 3);
        paint(external, kW, kH, i, 3);
        if (i == 6) {
            own.requestKeyframe();
            ext.requestKeyframe();
        }
        EncodedFrame a, b;
        ASSERT_EQ(own.encode(i, a), Status::Ok);
        Au first = copyOut(a);
        ASSERT_EQ(ext.encode(i, b, &external), Status::Ok);
        Au second = copyOut(b);
        EXPECT_EQ(first.keyframe, second.keyframe) << "picture " << i;
        EXPECT_TRUE(first.bytes == second.bytes)
            << "picture " << i << ": " << first.bytes.size() << " vs " << second.bytes.size();
    }
    // The encoder's own picture is left alone by an external encode.
    EXPECT_NE(ext.inputPlanes().y, external.y);
}

TEST(X265EncoderInput, AccessUnitsAreContiguousAnnexB) {
    EncoderConfig config;
    config.keyint = 4;
    for (const Au& au : encodeFrames(config, 6)) {
        ASSERT_GE(au.bytes.size(), 4u);
        EXPECT_EQ(au.bytes[0], 0);
        EXPECT_EQ(au.bytes[1], 0);
        EXPECT_TRUE(au.bytes[2] == 1 || (au.bytes[2] == 0 && au.bytes[3] == 1));
        // The NAL units found cover the access unit: nothing lost between them.
        size_t covered = 0;
        for (const Nal& n : splitAnnexB(au.bytes)) {
            covered += n.data.size();
        }
        EXPECT_GE(covered + 4 * au.nalTypes().size(), au.bytes.size());
        EXPECT_LE(covered + 3 * au.nalTypes().size(), au.bytes.size());
    }
}

// The stream decodes with FFmpeg to the pictures put in: every frame there, Main 4:2:0,
// and close to the source (which also shows that plane strides are honoured).
TEST(X265EncoderInput, FfmpegDecodesTheStreamCloseToTheSource) {
    if (!test::haveProgram("ffmpeg") || !test::haveProgram("ffprobe")) {
        GTEST_SKIP() << "ffmpeg not installed";
    }
    const int frames = 12;
    EncoderConfig config;
    config.keyint = 5;
    config.bitrateKbps = 3000;
    X265Encoder enc(config, kW, kH, 30, 1);
    std::vector<uint8_t> stream;
    const size_t frameBytes = kW * kH * 3 / 2;
    std::vector<uint8_t> source(frameBytes * frames);
    for (int i = 0; i < frames; ++i) {
        // Slow motion over a smooth picture: easy to code well at this rate.
        paint(enc.inputPlanes(), kW, kH, i);
        uint8_t* y = source.data() + i * frameBytes;
        I420Planes tight{y, y + kW * kH, y + kW * kH * 5 / 4, kW, kW / 2, kW / 2};
        paint(tight, kW, kH, i);
        for (int r = 0; r < kH; ++r) {
            for (int c = 0; c < kW; ++c) {
                enc.inputPlanes().y[r * enc.inputPlanes().strideY + c] = tight.y[r * kW + c] =
                    static_cast<uint8_t>(40 + (c + 2 * i) / 2 + r / 3);
            }
        }
        if (i == 8) {
            enc.requestKeyframe();
        }
        EncodedFrame f;
        ASSERT_EQ(enc.encode(i, f), Status::Ok);
        stream.insert(stream.end(), f.bytes.begin(), f.bytes.end());
    }
    test::TempDir dir;
    test::writeFile(dir.file("s.h265"), stream.data(), stream.size());

    test::ProcessResult probe =
        test::runProcess({"ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                          "-show_entries", "stream=profile,pix_fmt,width,height,nb_read_frames",
                          "-of", "default=nw=1", dir.file("s.h265")});
    ASSERT_EQ(probe.exitCode, 0) << probe.err;
    EXPECT_NE(probe.out.find("profile=Main\n"), std::string::npos) << probe.out;
    EXPECT_NE(probe.out.find("pix_fmt=yuv420p\n"), std::string::npos) << probe.out;
    EXPECT_NE(probe.out.find("width=320\n"), std::string::npos) << probe.out;
    EXPECT_NE(probe.out.find("height=240\n"), std::string::npos) << probe.out;
    EXPECT_NE(probe.out.find("nb_read_frames=" + std::to_string(frames)), std::string::npos)
        << probe.out;

    test::ProcessResult dec =
        test::runProcess({"ffmpeg", "-v", "error", "-i", dir.file("s.h265"), "-f", "rawvideo",
                          "-pix_fmt", "yuv420p", dir.file("out.yuv")});
    ASSERT_EQ(dec.exitCode, 0) << dec.err;
    EXPECT_EQ(dec.err, "") << "decoder complained";
    std::vector<uint8_t> decoded = test::readFile(dir.file("out.yuv"));
    ASSERT_EQ(decoded.size(), source.size());
    struct Plane {
        const char* name;
        size_t offset, size;
    };
    const size_t luma = kW * kH;
    for (int i = 0; i < frames; ++i) {
        for (Plane plane : {Plane{"Y", 0, luma}, Plane{"U", luma, luma / 4},
                            Plane{"V", luma * 5 / 4, luma / 4}}) {
            double sse = 0;
            for (size_t k = 0; k < plane.size; ++k) {
                size_t at = i * frameBytes + plane.offset + k;
                double d = double(decoded[at]) - double(source[at]);
                sse += d * d;
            }
            double mse = sse / double(plane.size);
            double psnr = mse == 0 ? 99 : 10 * std::log10(255.0 * 255.0 / mse);
            EXPECT_GT(psnr, 35.0) << "frame " << i << " plane " << plane.name;
        }
    }
}

// --- Start and end ---------------------------------------------------------------------

TEST(X265EncoderLifecycle, FlushDrainsWhatANonZerolatencyTuneHeldBack) {
    EncoderConfig config;
    config.tune = "psnr";  // B-frames and lookahead: x265 holds pictures back
    config.threads = 2;
    X265Encoder enc(config, kW, kH, 30, 1);
    std::vector<int64_t> pts;
    int again = 0;
    const int frames = 10;
    for (int i = 0; i < frames; ++i) {
        paint(enc.inputPlanes(), kW, kH, i);
        EncodedFrame f;
        Status s = enc.encode(i, f);
        ASSERT_TRUE(s == Status::Ok || s == Status::Again) << toString(s);
        if (s == Status::Ok) {
            pts.push_back(f.pts);
        } else {
            ++again;
        }
    }
    EXPECT_GT(again, 0) << "expected x265 to hold pictures back without zerolatency";
    EncodedFrame f;
    Status s;
    while ((s = enc.flush(f)) == Status::Ok) {
        pts.push_back(f.pts);
    }
    EXPECT_EQ(s, Status::EndOfStream);
    std::sort(pts.begin(), pts.end());
    std::vector<int64_t> expected(frames);
    for (int i = 0; i < frames; ++i) {
        expected[i] = i;
    }
    EXPECT_EQ(pts, expected) << "every picture comes out exactly once";
    EXPECT_EQ(enc.flush(f), Status::EndOfStream);
    EXPECT_EQ(enc.encode(99, f), Status::Error) << "no pictures after flush";
}

TEST(X265EncoderLifecycle, DescribeNamesTheSettings) {
    EncoderConfig config;
    config.bitrateKbps = 640;
    config.vbvMaxrateKbps = 900;
    config.keyint = 33;
    config.threads = 2;
    X265Encoder enc(config, kW, kH, 30, 1);
    std::string d = enc.describe();
    for (const char* part : {"ultrafast", "zerolatency", "640 kbit/s", "vbv 900 kbit/s / 450 kbit",
                             "keyint 33", "threads 2"}) {
        EXPECT_NE(d.find(part), std::string::npos) << part << " missing from: " << d;
    }
    EXPECT_EQ(d.find('\n'), std::string::npos);
}

TEST(X265EncoderLifecycle, X265IsSilentUnlessVerbose) {
    EncoderConfig config;
    testing::internal::CaptureStderr();
    { encodeFrames(config, 2); }
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");

    config.verbose = true;
    testing::internal::CaptureStderr();
    { encodeFrames(config, 2); }
    EXPECT_NE(testing::internal::GetCapturedStderr().find("x265 [info]"), std::string::npos);
}

TEST(X265EncoderLifecycle, ManyEncodersOpenAndCloseCleanly) {
    // x265_cleanup() is process-wide and must not run per encoder: a second encoder after
    // the first is gone still works.
    EncoderConfig config;
    for (int round = 0; round < 3; ++round) {
        EXPECT_EQ(encodeFrames(config, 2).size(), 2u) << "round " << round;
    }
}

// --- Bad settings ------------------------------------------------------------------------

TEST(X265EncoderBadSettings, UnknownPresetNamesTheChoices) {
    EncoderConfig config;
    config.preset = "x";
    std::string msg = startupError(config);
    EXPECT_EQ(msg.rfind("--preset: unknown preset 'x' (ultrafast, superfast, ", 0), 0u) << msg;
    EXPECT_NE(msg.find("placebo)"), std::string::npos) << msg;
}

TEST(X265EncoderBadSettings, UnknownTuneNamesTheChoices) {
    EncoderConfig config;
    config.tune = "fastest";
    std::string msg = startupError(config);
    EXPECT_EQ(msg.rfind("--tune: unknown tune 'fastest' (psnr, ssim, ", 0), 0u) << msg;
    EXPECT_NE(msg.find("zerolatency"), std::string::npos) << msg;
    EXPECT_NE(msg.find(", none)"), std::string::npos) << msg;
}

TEST(X265EncoderBadSettings, BitrateOutOfRange) {
    for (int bad : {0, -5, 2'000'000}) {
        EncoderConfig config;
        config.bitrateKbps = bad;
        std::string msg = startupError(config);
        EXPECT_EQ(msg.rfind("--bitrate: " + std::to_string(bad) + " is out of range", 0), 0u)
            << msg;
    }
}

TEST(X265EncoderBadSettings, VbvValuesChecked) {
    EncoderConfig config;
    config.vbvMaxrateKbps = 500;  // below the 1000 kbit/s target
    EXPECT_EQ(startupError(config).rfind("--vbv-maxrate: 500 kbit/s is below --bitrate", 0), 0u);
    config.vbvMaxrateKbps = -1;
    EXPECT_EQ(startupError(config).rfind("--vbv-maxrate: -1 is out of range", 0), 0u);
    config.vbvMaxrateKbps = 0;
    config.vbvBufsizeKbit = -3;
    EXPECT_EQ(startupError(config).rfind("--vbv-bufsize: -3 is out of range", 0), 0u);
}

TEST(X265EncoderBadSettings, KeyintThreadsSizeAndRate) {
    EncoderConfig config;
    config.keyint = -2;
    EXPECT_EQ(startupError(config).rfind("--keyint:", 0), 0u);
    config = EncoderConfig{};
    config.threads = -1;
    EXPECT_EQ(startupError(config).rfind("--threads:", 0), 0u);
    config = EncoderConfig{};
    EXPECT_EQ(startupError(config, 321, 240).rfind("-s: 321x240", 0), 0u);
    EXPECT_EQ(startupError(config, 0, 0).rfind("-s: 0x0", 0), 0u);
    EXPECT_EQ(startupError(config, 64, 16),
              "-s: 64x16 is too small for x265 (32x32 at least with --preset ultrafast)");
    EXPECT_NO_THROW(X265Encoder(config, 32, 32, 30, 1));
    EXPECT_EQ(startupError(config, kW, kH, 0, 1).rfind("-r:", 0), 0u);
}

// The stream says which range its samples use: limited (BT.601's) by default, full for a
// JPEG's samples; FFmpeg reads it back from the VUI.
TEST(X265Encoder, TheStreamSaysItsSampleRange) {
    for (const bool full : {false, true}) {
        EncoderConfig config;
        X265Encoder enc(config, kW, kH, 30, 1, full);
        std::vector<uint8_t> stream;
        for (int i = 0; i < 3; ++i) {
            paint(enc.inputPlanes(), kW, kH, i, 1);
            EncodedFrame f;
            ASSERT_EQ(enc.encode(i, f), Status::Ok);
            stream.insert(stream.end(), f.bytes.begin(), f.bytes.end());
        }
        test::TempDir dir;
        test::writeFile(dir.file("s.h265"), stream.data(), stream.size());
        test::ProcessResult probe = test::runProcess(
            {"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
             "stream=color_range,color_space", "-of", "default=nw=1", dir.file("s.h265")});
        ASSERT_EQ(probe.exitCode, 0) << probe.err;
        EXPECT_NE(probe.out.find(full ? "color_range=pc\n" : "color_range=tv\n"), std::string::npos)
            << probe.out;
        EXPECT_NE(probe.out.find("color_space=smpte170m\n"), std::string::npos) << probe.out;
    }
}

}  // namespace
}  // namespace h265direct
