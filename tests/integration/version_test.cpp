// SPDX-License-Identifier: GPL-2.0-or-later
// --version names the libraries in use: checked against the versions pkg-config reported
// when the project was configured (tests/CMakeLists.txt passes them in), and against a
// machine where the libraries loaded on demand cannot be loaded.

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "common/test_util.hpp"
#include "frame/swscale_lib.hpp"
#include "publish/avformat_lib.hpp"

using namespace h265direct::test;

namespace {

// The text after "name: " on the line that starts so, or "(no line)".
std::string line(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) {
        if (l.rfind(name + ": ", 0) == 0) {
            return l.substr(name.size() + 2);
        }
    }
    return "(no line)";
}

bool startsWith(const std::string& text, const std::string& prefix) {
    return text.rfind(prefix, 0) == 0;
}

// "59.27.100" -> "59.27.100 (libavformat.so.59)": what --version says of a library it found.
std::string found(const std::string& version, const char* file) {
    return version + " (" + file + ")";
}

}  // namespace

TEST(Version, NamesTheVersionsOfTheLibrariesInUse) {
    const ProcessResult r = runShell("'" + binaryPath() + "' --version", 60);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(startsWith(r.out, std::string("h265direct ") + H265D_VERSION + "\n")) << r.out;
    // x265's own string adds the build ("3.5+1-f0c1022b6") to pkg-config's "3.5".
    EXPECT_TRUE(startsWith(line(r.out, "libx265"), H265D_PC_X265_VERSION)) << r.out;
    EXPECT_EQ(line(r.out, "libswscale"),
              found(H265D_PC_SWSCALE_VERSION, h265direct::swscaleLibraryName()))
        << r.out;
    EXPECT_EQ(line(r.out, "libavformat"),
              found(H265D_PC_AVFORMAT_VERSION, h265direct::avformatLibraryName()))
        << r.out;
    EXPECT_TRUE(startsWith(line(r.out, "liburing"), H265D_PC_URING_VERSION " ")) << r.out;
    // nettle tells major.minor; pkg-config may add the patch level ("3.8.1").
    const std::string nettle = line(r.out, "nettle");
    EXPECT_FALSE(nettle.empty());
    EXPECT_TRUE(startsWith(H265D_PC_NETTLE_VERSION, nettle + ".") ||
                nettle == H265D_PC_NETTLE_VERSION)
        << r.out;
    const std::string io = line(r.out, "network I/O");
    // The path network outputs would take here, as they say at start (tests/net: the same
    // line where io_uring is refused).
    EXPECT_TRUE(startsWith(io, "io_uring") || startsWith(io, "epoll (")) << r.out;
    EXPECT_EQ(line(r.out, "RGB and planar 4:4:4 sources (libswscale)"), "available") << r.out;
    EXPECT_EQ(line(r.out, "--publish (libavformat)"), "available") << r.out;
    EXPECT_EQ(r.err, "");
}

TEST(Version, SaysWhichLibraryLoadedOnDemandIsNotFound) {
    TempDir dir;
    // Files by those names that are not libraries: the loader finds them first and fails.
    for (const char* lib : {h265direct::swscaleLibraryName(), h265direct::avformatLibraryName()}) {
        writeFile(dir.file(lib), "not an ELF file", 15);
    }
    const ProcessResult r = runShell(
        "LD_LIBRARY_PATH='" + dir.path().string() + "' '" + binaryPath() + "' --version", 60);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(startsWith(line(r.out, "libswscale"), "not found (")) << r.out;
    EXPECT_NE(line(r.out, "libswscale").find(h265direct::swscaleLibraryName()), std::string::npos)
        << r.out;
    EXPECT_TRUE(startsWith(line(r.out, "libavformat"), "not found (")) << r.out;
    EXPECT_EQ(line(r.out, "RGB and planar 4:4:4 sources (libswscale)"), "not available") << r.out;
    EXPECT_EQ(line(r.out, "--publish (libavformat)"), "not available") << r.out;
    // What is linked stays named.
    EXPECT_TRUE(startsWith(line(r.out, "libx265"), H265D_PC_X265_VERSION)) << r.out;
}
