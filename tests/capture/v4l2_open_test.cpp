// SPDX-License-Identifier: GPL-2.0-or-later
// Opening paths that are not cameras: these need no V4L2 in the kernel, so they run on any
// machine (the real driver's cases run in the VM suite, tests/vm).

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>

#include "capture/v4l2_camera.hpp"
#include "capture/v4l2_device.hpp"
#include "common/test_util.hpp"
#include "core/error.hpp"
#include "h265direct/config.hpp"

namespace h265direct {
namespace {

// The exit code and message openCaptureDevice gives for a path.
std::pair<int, std::string> openError(const std::string& path) {
    try {
        openCaptureDevice(path);
    } catch (const StartupError& e) {
        return {e.exitCode(), e.what()};
    }
    return {kExitOk, ""};
}

TEST(V4l2Open, MissingPath) {
    const auto [code, message] = openError("/dev/video-h265direct-none");
    EXPECT_EQ(code, kExitInput);
    EXPECT_EQ(message.rfind("/dev/video-h265direct-none: no such device", 0), 0u) << message;
}

TEST(V4l2Open, CharacterDeviceThatIsNotV4l2) {
    const auto [code, message] = openError("/dev/null");
    EXPECT_EQ(code, kExitNotCapture);
    EXPECT_NE(message.find("/dev/null: not a V4L2 video device (VIDIOC_QUERYCAP"),
              std::string::npos)
        << message;
}

TEST(V4l2Open, Directory) {
    const auto [code, message] = openError("/dev");
    EXPECT_EQ(code, kExitNotCapture);
    EXPECT_NE(message.find("a directory"), std::string::npos) << message;
}

TEST(V4l2Open, RegularFile) {
    test::TempDir dir;
    const std::string file = dir.file("frames.yuv");
    const char data[4] = {};
    test::writeFile(file, data, sizeof data);
    const auto [code, message] = openError(file);
    EXPECT_EQ(code, kExitNotCapture);
    EXPECT_NE(message.find("not a character device"), std::string::npos) << message;
}

TEST(V4l2Open, CameraSourceGivesTheSameCodes) {
    SourceConfig cfg;
    cfg.kind = SourceKind::Camera;
    for (const auto& [path, code] : {std::pair<std::string, int>{"/dev/null", kExitNotCapture},
                                     {"/dev/video-h265direct-none", kExitInput},
                                     {"/dev", kExitNotCapture}}) {
        cfg.path = path;
        try {
            openV4l2Camera(cfg);
            ADD_FAILURE() << path << " opened";
        } catch (const StartupError& e) {
            EXPECT_EQ(e.exitCode(), code) << path << ": " << e.what();
            EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
        }
    }
}

TEST(V4l2Open, ListFormatsOfNonCameras) {
    test::TempDir dir;
    const std::string outPath = dir.file("list.txt");
    FILE* out = std::fopen(outPath.c_str(), "w");
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(listCameraFormats("/dev/null", out), kExitNotCapture);
    EXPECT_EQ(listCameraFormats("/dev/video-h265direct-none", out), kExitInput);
    std::fclose(out);
    EXPECT_TRUE(test::readFile(outPath).empty()) << "errors go to stderr, not the listing";
}

TEST(V4l2Open, CapabilityText) {
    EXPECT_EQ(capabilityText(V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING),
              "video-capture streaming");
    EXPECT_EQ(capabilityText(0), "none");
}

}  // namespace
}  // namespace h265direct
