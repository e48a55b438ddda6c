// SPDX-License-Identifier: GPL-2.0-or-later
// Bad command lines: one line naming the option, exit code 2, no crash, no output file.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/test_util.hpp"

using namespace h265direct::test;

namespace {

struct BadCase {
    std::vector<std::string> args;
    std::string mustMention;  // the option (or value) the message names
};

ProcessResult runH265(std::vector<std::string> args) {
    args.insert(args.begin(), binaryPath());
    return runProcess(args, 30);
}

size_t countLines(const std::string& s) {
    size_t n = 0;
    for (char c : s) {
        n += c == '\n' ? 1 : 0;
    }
    return n;
}

}  // namespace

TEST(Cli, BadValuesGetOneLineNamingTheOptionAndExitCode2) {
    TempDir dir;
    const std::string raw = dir.file("small.raw");
    writeFile(raw, "abcd", 4);
    const std::string out = dir.file("never.h265");
    const std::vector<BadCase> cases = {
        {{"--pattern", "--pixel-format", "ABCD"}, "--pixel-format"},
        {{"--pattern", "--pixel-format", "MJPG"}, "--pixel-format"},
        {{"--pattern", "-s", "0x0"}, "-s"},
        {{"--pattern", "-s", "641x480"}, "-s"},
        {{"--pattern", "-s", "640x481"}, "-s"},
        {{"--pattern", "-s", "640"}, "-s"},
        {{"--pattern", "-s", "-640x480"}, "-s"},
        {{"--pattern", "-s", "100000x100000"}, "-s"},
        {{"--pattern", "-r", "0"}, "--fps"},
        {{"--pattern", "-r", "abc"}, "--fps"},
        {{"--pattern", "-r", "1000"}, "--fps"},
        {{"--pattern", "-b", "-5"}, "--bitrate"},
        {{"--pattern", "-b", "0"}, "--bitrate"},
        {{"--pattern", "-b", "99999999"}, "--bitrate"},
        {{"--pattern", "-b", "fast"}, "--bitrate"},
        {{"--pattern", "--keyint", "-1"}, "--keyint"},
        {{"--pattern", "--threads", "1000"}, "--threads"},
        {{"--pattern", "--frames", "-3"}, "--frames"},
        {{"--pattern", "--duration", "-1"}, "--duration"},
        {{"--pattern", "--vbv-maxrate", "800"}, "--vbv-bufsize"},
        {{"--pattern", "--preset", "warp"}, "--preset"},
        {{"--pattern", "--tune", "loud"}, "--tune"},
        {{"--input", raw}, "--pixel-format"},
        {{"--pattern", "--input", raw}, "--input"},
        {{"--pattern", "--no-such-option"}, "--no-such-option"},
        {{"--pattern", "stray"}, "stray"},
    };
    for (const BadCase& c : cases) {
        std::vector<std::string> args = c.args;
        args.insert(args.end(), {"-o", out});
        const ProcessResult r = runH265(args);
        std::string joined;
        for (const auto& a : c.args) {
            joined += a + " ";
        }
        SCOPED_TRACE(joined);
        EXPECT_EQ(r.exitCode, 2) << r.err;
        EXPECT_EQ(countLines(r.err), 1u) << r.err;
        EXPECT_EQ(r.err.rfind("h265direct: error: ", 0), 0u) << r.err;
        EXPECT_NE(r.err.find(c.mustMention), std::string::npos) << r.err;
        EXPECT_FALSE(r.timedOut);
        EXPECT_FALSE(std::filesystem::exists(out)) << "an output was created";
    }
}

// An input that is not there or cannot be read as a file: exit code 3 ("input missing or
// unreadable"), one line naming --input, whatever the reason.
TEST(Cli, AnInputThatCannotBeReadIsExitCode3) {
    TempDir dir;
    const std::string out = dir.file("out.h265");
    for (const std::string& input : {dir.file("missing.raw"), dir.path().string()}) {
        SCOPED_TRACE(input);
        const ProcessResult r =
            runH265({"--input", input, "--pixel-format", "YUYV", "-s", "64x64", "-o", out});
        EXPECT_EQ(r.exitCode, 3) << r.err;
        EXPECT_EQ(countLines(r.err), 1u) << r.err;
        EXPECT_EQ(r.err.rfind("h265direct: error: --input " + input + ": ", 0), 0u) << r.err;
        EXPECT_FALSE(std::filesystem::exists(out)) << "an output was created";
    }
}

TEST(Cli, HelpNamesEveryOptionWithItsDefault) {
    const ProcessResult r = runH265({"--help"});
    ASSERT_EQ(r.exitCode, 0);
    for (const char* opt :
         {"--device",     "--pattern", "--input",   "--pixel-format", "--size",        "--fps",
          "--loop",       "--no-pace", "--bitrate", "--vbv-maxrate",  "--vbv-bufsize", "--keyint",
          "--preset",     "--tune",    "--threads", "--output",       "--frames",      "--duration",
          "--stats-json", "--verbose", "--quiet",   "--version"}) {
        EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
    }
    EXPECT_NE(r.out.find("1000"), std::string::npos);       // default bitrate
    EXPECT_NE(r.out.find("ultrafast"), std::string::npos);  // default preset
    EXPECT_NE(r.out.find("640x480"), std::string::npos);    // default size
}

TEST(Cli, AValueMayStartWithADash) {
    // As with getopt: -o takes the next argument, so this writes a file named "-h".
    TempDir dir;
    const ProcessResult r = runShell("cd '" + dir.path().string() + "' && '" + binaryPath() +
                                     "' --pattern --no-pace --frames 2 -q -o -h");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.out, "");  // no help
    EXPECT_GT(std::filesystem::file_size(dir.path() / "-h"), 100u);
}

TEST(Cli, VersionPrintsTheVersion) {
    const ProcessResult r = runH265({"--version"});
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_EQ(r.out.rfind("h265direct ", 0), 0u) << r.out;
}

TEST(Cli, UnwritableOutputIsAClearError) {
    const ProcessResult r =
        runH265({"--pattern", "--frames", "1", "-o", "/nonexistent-dir/x.h265"});
    EXPECT_EQ(r.exitCode, 9) << r.err;
    EXPECT_NE(r.err.find("/nonexistent-dir/x.h265"), std::string::npos) << r.err;
}
