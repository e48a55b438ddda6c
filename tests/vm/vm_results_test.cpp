// Judges what guest.sh left in the results folder: h265direct run against the real vivid
// driver in a qemu guest. Streams are decoded here, on the host, by GStreamer
// (h265parse ! avdec_h265) and FFmpeg (ffprobe / ffmpeg), the tools a user would use.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/test_util.hpp"

namespace h265direct {
namespace {

using test::readFile;
using test::runProcess;
using test::TempDir;

const std::string kResults = H265D_VM_RESULTS;
constexpr int kW = 320;
constexpr int kH = 180;
constexpr size_t kI420Bytes = kW * kH * 3 / 2;

std::string path(const std::string& name) {
    return kResults + "/" + name;
}

std::string text(const std::string& name) {
    std::ifstream in(path(name));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The exit status a scenario's program ended with (-1: the scenario did not run).
int status(const std::string& scenario) {
    std::ifstream in(path(scenario + ".rc"));
    int rc = -1;
    in >> rc;
    return rc;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

#define EXPECT_CONTAINS(haystack, needle) \
    EXPECT_TRUE(contains(haystack, needle)) << "expected \"" << (needle) << "\" in:\n" << (haystack)

// Decodes with GStreamer to raw I420; returns the bytes (empty on failure, with the reason).
std::vector<uint8_t> gstDecode(const std::string& stream, std::string& error) {
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
    std::string error;
};

Probe ffprobe(const std::string& stream) {
    Probe p;
    const auto r =
        runProcess({"ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                    "-show_entries", "stream=width,height,profile,r_frame_rate,nb_read_frames",
                    "-of", "default=noprint_wrappers=1", stream});
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
    const auto k = runProcess({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                               "frame=key_frame", "-of", "csv=p=0", stream});
    std::istringstream lines(k.out);
    std::string line;
    while (std::getline(lines, line)) {
        p.keyframes += line.rfind("1", 0) == 0 ? 1 : 0;
    }
    return p;
}

// YUV 4:2:2 packed (YUYV) -> I420 with FFmpeg, for a reference picture.
std::vector<uint8_t> yuyvToI420(const std::vector<uint8_t>& yuyv, int w, int h) {
    TempDir dir;
    test::writeFile(dir.file("in.yuyv"), yuyv.data(), static_cast<size_t>(w * h * 2));
    const auto r =
        runProcess({"ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuyv422", "-s",
                    std::to_string(w) + "x" + std::to_string(h), "-i", dir.file("in.yuyv"), "-f",
                    "rawvideo", "-pix_fmt", "yuv420p", dir.file("out.i420")});
    if (r.exitCode != 0) {
        return {};
    }
    return readFile(dir.file("out.i420"));
}

double psnr(const uint8_t* a, const uint8_t* b, size_t n) {
    double sse = 0;
    for (size_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
        sse += d * d;
    }
    if (sse == 0) {
        return 99.0;
    }
    return 10.0 * std::log10(255.0 * 255.0 * static_cast<double>(n) / sse);
}

// A stream made in the guest: decodes with both tools, at the size given, Main profile.
void expectDecodes(const std::string& stream, int frames, int w = kW, int h = kH) {
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
int64_t sumStat(const std::string& json, const std::string& key) {
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

TEST_F(Vm, GuestRanEveryScenario) {
    EXPECT_EQ(text("rc"), "0\n") << text("progress.txt");
    EXPECT_CONTAINS(text("progress.txt"), "done at");
    EXPECT_CONTAINS(text("kernel.txt"), "amd64");
}

TEST_F(Vm, ListFormatsOnVivid) {
    ASSERT_EQ(status("list_formats"), 0) << text("list_formats.err");
    const std::string out = text("list_formats.out");
    EXPECT_CONTAINS(out, "/dev/video0: vivid");
    EXPECT_TRUE(std::regex_search(
        out,
        std::regex(R"(YUYV\s+YUYV 4:2:2\s+native — used by h265direct \(converted to I420\))")))
        << out;
    EXPECT_TRUE(std::regex_search(
        out, std::regex(R"(YU12\s+Planar YUV 4:2:0\s+native — used by h265direct as is)")))
        << out;
    EXPECT_TRUE(std::regex_search(
        out, std::regex(R"(Y10\s+10-bit Greyscale\s+native — not supported by h265direct)")))
        << out;
    EXPECT_CONTAINS(out, "640x480: 1, 2, 4, 5, 10, 12.5, 15, 25 fps");
    EXPECT_CONTAINS(out, "320x180: 1, 2, 4, 5, 10, 12.5, 15, 25, 30, 40, 50, 60 fps");
    EXPECT_CONTAINS(out, "83 formats");
}

class VmFormat : public Vm, public ::testing::WithParamInterface<const char*> {};

TEST_P(VmFormat, CapturedEncodedAndDecoded) {
    const std::string f = GetParam();
    const std::string name = "fmt_" + f;
    ASSERT_EQ(status(name), 0) << text(name + ".err");
    EXPECT_CONTAINS(text(name + ".err"), f + " 320x180 at 15 fps");
    expectDecodes(name + ".h265", 12);
}

INSTANTIATE_TEST_SUITE_P(Formats, VmFormat,
                         ::testing::Values("YUYV", "UYVY", "NV12", "YU12", "RGB3"));

class VmRaw : public Vm, public ::testing::WithParamInterface<const char*> {};

// The camera source hands over exactly the bytes the driver produced: its frames equal
// v4l2-ctl's of the same still picture, in every format.
TEST_P(VmRaw, FramesEqualTheDriversOwn) {
    const std::string f = GetParam();
    ASSERT_EQ(status("raw_" + f), 0) << text("raw_" + f + ".err");
    const auto ours = readFile(path("raw_" + f + ".raw"));
    const auto ref = readFile(path("raw_ref_" + f + ".raw"));
    const size_t frame = f == "RGB3"                    ? kW * kH * 3
                         : (f == "YUYV" || f == "UYVY") ? kW * kH * 2
                                                        : kI420Bytes;
    ASSERT_EQ(ours.size(), 2 * frame);
    ASSERT_GE(ref.size(), frame);
    EXPECT_TRUE(std::equal(ours.begin(), ours.begin() + static_cast<long>(frame), ref.begin()))
        << f << ": the captured frame differs from v4l2-ctl's";
}

INSTANTIATE_TEST_SUITE_P(Formats, VmRaw, ::testing::Values("YUYV", "UYVY", "NV12", "YU12", "RGB3"));

TEST_F(Vm, StillPictureMatchesTheDriversFrame) {
    ASSERT_EQ(status("still"), 0) << text("still.err");
    expectDecodes("still.h265", 8);
    const auto refYuyv = readFile(path("still_ref.yuyv"));
    ASSERT_GE(refYuyv.size(), static_cast<size_t>(kW * kH * 2));
    const auto ref = yuyvToI420(refYuyv, kW, kH);
    ASSERT_EQ(ref.size(), kI420Bytes);
    std::string error;
    const auto decoded = gstDecode(path("still.h265"), error);
    ASSERT_EQ(decoded.size(), 8 * kI420Bytes) << error;
    // The last frame (after rate control settled) and the first (the IDR).
    const double last = psnr(decoded.data() + 7 * kI420Bytes, ref.data(), kI420Bytes);
    const double first = psnr(decoded.data(), ref.data(), kI420Bytes);
    RecordProperty("psnr_first_db", std::to_string(first));
    RecordProperty("psnr_last_db", std::to_string(last));
    std::printf("still picture PSNR: first %.2f dB, last %.2f dB\n", first, last);
    // Flat colour bars at 3 Mbit/s: anything but a faithful conversion (swapped chroma,
    // wrong matrix, shifted lines) falls far below this.
    EXPECT_GE(first, 45.0);
    EXPECT_GE(last, 45.0);
}

TEST_F(Vm, RateTheDeviceCannotGiveIsReported) {
    ASSERT_EQ(status("rate"), 0) << text("rate.err");
    EXPECT_CONTAINS(text("rate.err"), "the device gives 25 fps, not the 30 fps asked for");
    expectDecodes("rate.h265", 4, 640, 480);
    EXPECT_EQ(ffprobe(path("rate.h265")).rate, "25/1");
}

TEST_F(Vm, SizeTheDeviceLacksIsAnError) {
    EXPECT_EQ(status("bad_size"), 6);
    const std::string err = text("bad_size.err");
    EXPECT_CONTAINS(err, "cannot capture 800x600");
    EXPECT_CONTAINS(err, "320x180, 640x360, 640x480, 1280x720, 1920x1080, 3840x2160");
}

TEST_F(Vm, NoFrameWithinTheTimeoutIsReportedNotHungOn) {
    ASSERT_EQ(status("timeout"), 0) << text("timeout.err");
    EXPECT_CONTAINS(text("timeout.err"), "no frame for 300 ms");
    expectDecodes("timeout.h265", 4);
}

TEST_F(Vm, DeviceLossAndReturn) {
    EXPECT_CONTAINS(text("loss_trigger.txt"), "disconnect status 0");
    ASSERT_EQ(status("loss"), 0) << text("loss.err");
    const std::string err = text("loss.err");
    EXPECT_CONTAINS(err, "the device is gone");
    EXPECT_CONTAINS(err, "the device is back after");
    expectDecodes("loss.h265", 75);
    // --keyint 1000: the only keyframe besides the first is the one after the reconnect.
    EXPECT_EQ(ffprobe(path("loss.h265")).keyframes, 2);
}

TEST_F(Vm, DeviceLossWithExitOption) {
    EXPECT_EQ(status("loss_exit"), 7) << text("loss_exit.err");
    EXPECT_CONTAINS(text("loss_exit.err"), "stopping (--exit-on-device-loss)");
    // What was written before is a whole, decodable stream.
    const Probe p = ffprobe(path("loss_exit.h265"));
    ASSERT_TRUE(p.error.empty()) << p.error;
    EXPECT_GT(p.frames, 0);
    EXPECT_LT(p.frames, 300);
    std::string error;
    const auto decoded = gstDecode(path("loss_exit.h265"), error);
    EXPECT_TRUE(error.empty()) << error;
    EXPECT_EQ(decoded.size(), static_cast<size_t>(p.frames) * kI420Bytes);
}

TEST_F(Vm, StreamErrorsAreRecoveredFrom) {
    ASSERT_EQ(status("stream_error"), 0) << text("stream_error.err");
    const std::string err = text("stream_error.err");
    EXPECT_CONTAINS(err, "the driver marked a frame as damaged");
    // vivid fails the stream: DQBUF or QBUF, whichever comes first, says EIO.
    EXPECT_TRUE(std::regex_search(
        err, std::regex(
                 R"(the device failed \(VIDIOC_D?QBUF: Input/output error\); restarting capture)")))
        << err;
    EXPECT_CONTAINS(err, "capture restarted after");
    EXPECT_GE(sumStat(err, "driver_drops"), 1);
    EXPECT_EQ(sumStat(err, "reconnects"), 1);
    expectDecodes("stream_error.h265", 60);
    EXPECT_EQ(ffprobe(path("stream_error.h265")).keyframes, 2);
}

// The numbers of one key on every --stats-json line that has frames.
std::vector<double> statSeries(const std::string& json, const std::string& key) {
    std::vector<double> values;
    std::istringstream lines(json);
    std::string line;
    const std::regex re("\"" + key + "\":\\s*(-?[0-9.]+)");
    std::smatch m;
    while (std::getline(lines, line)) {
        if (line.find("\"frames\":0,") == std::string::npos && std::regex_search(line, m, re)) {
            values.push_back(std::stod(m[1]));
        }
    }
    return values;
}

TEST_F(Vm, SlowEncodingTakesTheNewestFrame) {
    ASSERT_EQ(status("slow"), 0) << text("slow.err");
    expectDecodes("slow.h265", 16);
    const std::string json = text("slow.err");
    EXPECT_GT(sumStat(json, "skipped"), 0) << json;
    // Latency stays about two encode times (the frame waited for one encode, then is
    // encoded); it does not pile up over the run.
    const auto latency = statSeries(json, "latency_p99_ms");
    const auto encode = statSeries(json, "encode_ms");
    ASSERT_EQ(latency.size(), encode.size());
    ASSERT_GE(latency.size(), 3u) << json;
    for (size_t i = 1; i < latency.size(); ++i) {
        EXPECT_LT(latency[i], 4 * encode[i]) << "interval " << i << ":\n" << json;
    }
}

TEST_F(Vm, SlowConsumerGetsTheNewestFrame) {
    ASSERT_EQ(status("slow_probe"), 0) << text("slow_probe.err");
    const std::string out = text("slow_probe.out");
    // 16 buffers, a 60 fps camera, each frame held 200 ms: about 12 frames are waiting at
    // every call. Taking them in order would hand out ever older frames (up to the whole
    // ring, ~15 holds); taking the newest hands out one captured within the last frame time.
    std::smatch m;
    int64_t maxAgeUs = 0;
    int frames = 0;
    const std::regex re(R"(frame (\d+) seq \d+ age_us (\d+))");
    for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator();
         ++it) {
        if (std::stoi((*it)[1]) >= 1) {
            maxAgeUs = std::max<int64_t>(maxAgeUs, std::stoll((*it)[2]));
        }
        ++frames;
    }
    EXPECT_EQ(frames, 10);
    EXPECT_LT(maxAgeUs, 200'000) << out;
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(summary frames 10 skipped (\d+))")));
    EXPECT_GE(std::stoi(m[1]), 5 * 9) << out;
}

TEST_F(Vm, BusyDevice) {
    EXPECT_EQ(status("busy"), 5);
    EXPECT_CONTAINS(text("busy.err"), "/dev/video0: the device is busy");
}

TEST_F(Vm, NotAVideoDevice) {
    EXPECT_EQ(status("not_video"), 4);
    EXPECT_CONTAINS(text("not_video.err"), "/dev/null: not a V4L2 video device");
    EXPECT_EQ(status("directory"), 4);
    EXPECT_CONTAINS(text("directory.err"), "/dev: not a video device (a directory)");
}

TEST_F(Vm, MissingDevice) {
    EXPECT_EQ(status("missing"), 3);
    EXPECT_CONTAINS(text("missing.err"), "/dev/video9: no such device");
}

}  // namespace
}  // namespace h265direct
