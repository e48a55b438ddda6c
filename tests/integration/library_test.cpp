// SPDX-License-Identifier: GPL-2.0-or-later
// The library as a user gets it: installed with cmake --install, found with pkg-config,
// linked into a separate program whose callback must see every access unit in order.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include "common/media.hpp"
#include "common/test_util.hpp"

using namespace h265direct::test;

TEST(Library, InstalledLibraryCallbackGetsEveryAccessUnitInOrder) {
#ifdef H265D_SANITIZED
    GTEST_SKIP() << "a sanitizer build's library needs the sanitizer runtime in the client";
#endif
    if (!haveProgram("ffprobe")) {
        GTEST_SKIP() << "ffprobe missing";
    }
    TempDir dir;
    const std::string prefix = dir.file("prefix");
    ProcessResult r = runProcess({"cmake", "--install", H265D_BINARY_DIR, "--prefix", prefix}, 120);
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;

    std::string pcDir;
    for (const auto& e : std::filesystem::recursive_directory_iterator(prefix)) {
        if (e.path().filename() == "h265direct.pc") {
            pcDir = e.path().parent_path().string();
        }
    }
    ASSERT_FALSE(pcDir.empty()) << "no h265direct.pc installed";
    ASSERT_TRUE(std::filesystem::exists(prefix + "/include/h265direct/engine.hpp"));

    const std::string exe = dir.file("callback_client");
    const std::string src =
        std::string(H265D_SOURCE_DIR) + "/tests/integration/data/callback_client.cpp";
    r = runShell("PKG_CONFIG_PATH='" + pcDir + "' && export PKG_CONFIG_PATH && g++ -std=c++20 '" +
                 src + "' -o '" + exe + "' $(pkg-config --cflags --libs h265direct)");
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    // The program must use the installed shared library, not the build tree's.
    const std::string libDir = std::filesystem::path(pcDir).parent_path().string();
    const std::string stream = dir.file("cb.h265");
    r = runShell("LD_LIBRARY_PATH='" + libDir + "' '" + exe + "' '" + stream + "'");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const ProcessResult ldd = runShell("LD_LIBRARY_PATH='" + libDir + "' ldd '" + exe + "'");
    EXPECT_NE(ldd.out.find(libDir + "/libh265direct.so"), std::string::npos) << ldd.out;

    std::istringstream lines(r.out);
    std::string line;
    unsigned long long expected = 0;
    while (std::getline(lines, line)) {
        unsigned long long n = 0;
        long long pts = 0;
        int key = 0, idr = 0, ps = 0;
        size_t nals = 0, bytes = 0;
        ASSERT_EQ(
            std::sscanf(line.c_str(), "au %llu pts %lld key %d idr %d ps %d nals %zu bytes %zu", &n,
                        &pts, &key, &idr, &ps, &nals, &bytes),
            7)
            << line;
        EXPECT_EQ(n, expected);
        EXPECT_EQ(pts, static_cast<long long>(expected));
        const bool shouldBeKey = expected % 10 == 0;
        EXPECT_EQ(key, shouldBeKey ? 1 : 0) << line;
        EXPECT_EQ(idr, shouldBeKey ? 1 : 0) << line;
        EXPECT_EQ(ps, shouldBeKey ? 1 : 0) << line;
        EXPECT_GE(nals, shouldBeKey ? 4u : 1u) << line;
        EXPECT_GT(bytes, 0u);
        ++expected;
    }
    EXPECT_EQ(expected, 50u);

    // What the callback received is a valid stream, and FFmpeg sees the same keyframes.
    const ProbeInfo info = probeHevc(stream);
    EXPECT_EQ(info.frames, 50) << info.error;
    const auto keys = probeKeyframes(stream);
    ASSERT_EQ(keys.size(), 50u);
    for (size_t i = 0; i < keys.size(); ++i) {
        EXPECT_EQ(keys[i], i % 10 == 0) << i;
    }
}
