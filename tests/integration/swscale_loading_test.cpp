// SPDX-License-Identifier: GPL-2.0-or-later
// libswscale is loaded only for RGB and planar 4:4:4 formats: a 4:2:0, 4:2:2 or grey source
// never maps it (nor the libraries libavutil pulls in), and when it cannot be loaded an RGB
// run says so and exits while the others are unaffected. Checked on the real binary with the
// dynamic loader's own trace (LD_DEBUG).

#include <gtest/gtest.h>

#include <string>

#include "common/test_util.hpp"
#include "frame/swscale_lib.hpp"

using namespace h265direct::test;

namespace {

ProcessResult runPattern(const std::string& env, const std::string& fourcc) {
    return runShell(env + " '" + binaryPath() + "' --pattern --pixel-format " + fourcc +
                        " -s 64x48 --no-pace --frames 3 -q -o /dev/null",
                    60);
}

}  // namespace

TEST(SwscaleLoading, YuvSourcesNeverLoadItRgbSourcesDo) {
    const std::string lib = h265direct::swscaleLibraryName();
    for (const char* fourcc : {"YUYV", "UYVY", "NV12", "NV16", "YU12", "422P", "GREY"}) {
        const ProcessResult r = runPattern("LD_DEBUG=files", fourcc);
        EXPECT_EQ(r.exitCode, 0) << fourcc << ": " << r.err;
        // The trace names every object the loader opens; the program's own libraries are
        // in it, so an empty trace cannot pass.
        EXPECT_NE(r.err.find("libx265"), std::string::npos) << fourcc;
        EXPECT_EQ(r.err.find("libswscale"), std::string::npos) << fourcc;
        EXPECT_EQ(r.err.find("libavutil"), std::string::npos) << fourcc;
    }
    for (const char* fourcc : {"RGB3", "YM24"}) {
        const ProcessResult r = runPattern("LD_DEBUG=files", fourcc);
        EXPECT_EQ(r.exitCode, 0) << fourcc << ": " << r.err;
        EXPECT_NE(r.err.find(lib), std::string::npos) << fourcc;
    }
}

TEST(SwscaleLoading, UnloadableLibraryIsAClearErrorForRgbOnly) {
    TempDir dir;
    const std::string lib = h265direct::swscaleLibraryName();
    // A file by that name that is not a library: the loader finds it first and fails.
    writeFile(dir.file(lib), "not an ELF file", 15);
    const std::string env = "LD_LIBRARY_PATH='" + dir.path().string() + "'";

    const ProcessResult rgb = runPattern(env, "RGB3");
    EXPECT_EQ(rgb.exitCode, 1) << rgb.err;
    EXPECT_NE(rgb.err.find("RGB3 needs libswscale"), std::string::npos) << rgb.err;
    EXPECT_NE(rgb.err.find(lib), std::string::npos) << rgb.err;
    EXPECT_NE(rgb.err.find("apt-get install"), std::string::npos) << rgb.err;

    const ProcessResult yuv = runPattern(env, "YUYV");
    EXPECT_EQ(yuv.exitCode, 0) << yuv.err;
}
