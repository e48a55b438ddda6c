// The programs' command-line parser on its own: every accepted form, every refusal.

#include "app/cmdline.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace h265direct::cli {
namespace {

struct Fixture {
    int bitrate = 1000;
    bool pattern = false;
    bool loop = false;
    int verbose = 0;
    std::string output;
    std::string input;
    size_t bytes = 0;
    double seconds = 0;
    std::string mode;
    Parser parser{"prog", "A test program.", "prog 1.0"};

    Fixture() {
        parser.group("Things");
        parser.option("-b,--bitrate", "KBPS", "Bitrate", "1000", integer(bitrate, 10, 100000));
        parser.flag("--pattern", pattern, "Pattern");
        parser.flag("-l,--loop", loop, "Loop");
        parser.counter("-v,--verbose", verbose, "More output");
        parser.option("-o,--output", "FILE", "Output", "", text(output));
        parser.option("--input", "FILE", "Input", "", text(input));
        parser.option("--queue", "BYTES", "Queue", "8MiB", byteSize(bytes, 1024, size_t{1} << 30));
        parser.option("--duration", "S", "Seconds", "0", number(seconds, 0, 1e6));
        parser.option("--mode", "a|b", "Mode", "a",
                      oneOf({"a", "b"}, [this](const std::string& v) { mode = v; }));
        parser.excludes("--pattern", "--input");
    }
    // The error text, or "" when the line was accepted.
    std::string run(std::vector<std::string> args) {
        try {
            parser.parseOrThrow(args);
        } catch (const UsageError& e) {
            return e.message;
        }
        return {};
    }
};

TEST(Cmdline, EveryAcceptedForm) {
    Fixture f;
    ASSERT_EQ(f.run({"-b", "500", "--pattern", "-vv", "--verbose", "-o", "-", "--queue=64k",
                     "--duration", "2.5", "--mode=b", "-l"}),
              "");
    EXPECT_EQ(f.bitrate, 500);
    EXPECT_TRUE(f.pattern);
    EXPECT_TRUE(f.loop);
    EXPECT_EQ(f.verbose, 3);
    EXPECT_EQ(f.output, "-");  // a lone dash is a value, not an option
    EXPECT_EQ(f.bytes, 64u << 10);
    EXPECT_DOUBLE_EQ(f.seconds, 2.5);
    EXPECT_EQ(f.mode, "b");

    Fixture g;
    ASSERT_EQ(g.run({"-b700", "-lvo", "out.h265", "--bitrate=800"}),
              "--bitrate: given more than once");
    Fixture h;
    ASSERT_EQ(h.run({"-b700", "-lvo", "out.h265", "--"}), "");
    EXPECT_EQ(h.bitrate, 700);
    EXPECT_TRUE(h.loop);
    EXPECT_EQ(h.verbose, 1);
    EXPECT_EQ(h.output, "out.h265");

    // An option that takes a value takes the next argument, whatever it looks like.
    Fixture k;
    ASSERT_EQ(k.run({"-o", "-h", "--input", "--pattern"}), "");
    EXPECT_EQ(k.output, "-h");
    EXPECT_EQ(k.input, "--pattern");
    EXPECT_FALSE(k.pattern);
}

TEST(Cmdline, RefusalsNameTheOption) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--nope"}, "unknown option --nope"},
        {{"-x"}, "unknown option -x"},
        {{"-lx"}, "unknown option -x (in -lx)"},
        {{"--loo"}, "unknown option --loo"},  // no abbreviations
        {{"-b"}, "--bitrate needs a value (KBPS)"},
        {{"--bitrate"}, "--bitrate needs a value (KBPS)"},
        {{"--pattern=yes"}, "--pattern takes no value"},
        {{"stray"}, "unexpected argument 'stray'"},
        {{"-"}, "unexpected argument '-'"},
        {{"--", "stray"}, "unexpected argument 'stray'"},
        {{"-b", "5"}, "--bitrate: 5 is out of range 10..100000"},
        {{"-b", "-5"}, "--bitrate: -5 is out of range 10..100000"},
        {{"-b", "fast"}, "--bitrate: 'fast' is not a whole number"},
        {{"-b", "500k"}, "--bitrate: '500k' is not a whole number"},
        {{"-b", "99999999999999999999"}, "--bitrate: 99999999999999999999 is out of range"},
        {{"-b", "1", "-b", "2"}, "--bitrate: 1 is out of range"},
        {{"-b", "100", "-b", "200"}, "--bitrate: given more than once"},
        {{"--queue", "1"}, "--queue: 1 is out of range 1KiB..1GiB"},
        {{"--queue", "2T"}, "--queue: '2T' is not a byte count"},
        {{"--queue", "k"}, "--queue: 'k' is not a byte count"},
        {{"--queue", "99999999999G"}, "--queue: 99999999999G is out of range"},
        {{"--duration", "nan"}, "--duration: 'nan' is not a number"},
        {{"--duration", "-1"}, "--duration: -1 is out of range"},
        {{"--mode", "c"}, "--mode: 'c' is not one of a, b"},
        {{"-o", ""}, "--output: empty value"},
        {{"--pattern", "--input", "x"}, "--input cannot be combined with --pattern"},
    };
    for (const auto& [args, text] : cases) {
        Fixture f;
        const std::string err = f.run(args);
        EXPECT_EQ(err.rfind(text, 0), 0u)
            << args[0] << " -> '" << err << "', want '" << text << "'";
    }
}

TEST(Cmdline, ByteSuffixes) {
    for (const auto& [text, want] : std::vector<std::pair<std::string, size_t>>{{"4096", 4096},
                                                                                {"4k", 4096},
                                                                                {"4K", 4096},
                                                                                {"4KiB", 4096},
                                                                                {"4kb", 4096},
                                                                                {"3M", 3u << 20},
                                                                                {"1G", 1u << 30},
                                                                                {"2048B", 2048}}) {
        Fixture f;
        ASSERT_EQ(f.run({"--queue", text}), "") << text;
        EXPECT_EQ(f.bytes, want) << text;
    }
    EXPECT_EQ(bytesText(8u << 20), "8MiB");
    EXPECT_EQ(bytesText(64u << 10), "64KiB");
    EXPECT_EQ(bytesText(1000), "1000");
    EXPECT_EQ(bytesText(0), "0");
}

TEST(Cmdline, ChecksRunAfterEveryOptionIsSet) {
    Fixture f;
    f.parser.check([&f] {
        if (f.loop && f.input.empty()) {
            throw UsageError{"--loop needs --input"};
        }
    });
    EXPECT_EQ(f.run({"--loop"}), "--loop needs --input");
    Fixture g;
    g.parser.check([&g] {
        if (g.loop && g.input.empty()) {
            throw UsageError{"--loop needs --input"};
        }
    });
    EXPECT_EQ(g.run({"--loop", "--input", "a.raw"}), "");
    EXPECT_TRUE(g.parser.given("--input"));
    EXPECT_TRUE(g.parser.given("-l"));
    EXPECT_FALSE(g.parser.given("--pattern"));
}

TEST(Cmdline, HelpAndVersionStopTheRunAndSkipChecks) {
    Fixture f;
    bool checked = false;
    f.parser.check([&checked] { checked = true; });
    EXPECT_FALSE(f.parser.parseOrThrow({"-b", "5", "--help"}));
    EXPECT_FALSE(f.parser.parseOrThrow({"--version"}));
    EXPECT_FALSE(checked);
    EXPECT_TRUE(f.parser.parseOrThrow({}));
    EXPECT_TRUE(checked);
}

TEST(Cmdline, HelpListsEveryOptionWithDefaultsWithinTheWidth) {
    Fixture f;
    f.parser.option("--a-very-long-option-name-indeed", "VALUE",
                    "A description long enough to need more than one line when it is printed "
                    "next to the option names in the help of this program",
                    "x", text(f.input));
    const std::string help = f.parser.help();
    for (const char* s :
         {"A test program.", "Usage: prog [OPTIONS]", "-h,--help", "--version",
          "Things:", "-b,--bitrate KBPS", "(default: 1000)", "--pattern", "-v,--verbose",
          "(default: 8MiB)", "--mode a|b", "--a-very-long-option-name-indeed VALUE\n"}) {
        EXPECT_NE(help.find(s), std::string::npos) << s << "\n" << help;
    }
    size_t start = 0;
    while (start < help.size()) {
        const size_t end = help.find('\n', start);
        const std::string line = help.substr(start, end - start);
        EXPECT_LE(line.size(), 100u) << line;
        // Descriptions start in one column.
        if (line.rfind("  -", 0) == 0 && line.size() > 34 && line[33] == ' ') {
            EXPECT_NE(line[34], ' ') << line;
        }
        start = end + 1;
    }
}

}  // namespace
}  // namespace h265direct::cli
