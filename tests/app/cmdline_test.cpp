// SPDX-License-Identifier: GPL-2.0-or-later
// The programs' command-line parser on its own: every accepted form, every refusal.

#include "app/cmdline.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "common/test_util.hpp"

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

    // A counter with a count, as in a file: N times (added to the other occurrences).
    Fixture twice;
    ASSERT_EQ(twice.run({"--verbose=2", "-v"}), "");
    EXPECT_EQ(twice.verbose, 3);
    Fixture none;
    ASSERT_EQ(none.run({"--verbose=0"}), "");
    EXPECT_EQ(none.verbose, 0);
    EXPECT_EQ(Fixture().run({"--verbose=many"}), "--verbose: 'many' is not a whole number");
    EXPECT_EQ(Fixture().run({"--verbose=11"}), "--verbose: 11 is out of range 0..10");

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

// The fixture's options, plus --config and --print-config, and a file to write the
// configuration to.
struct ConfigFixture : Fixture {
    test::TempDir dir;
    std::string path = dir.file("test.conf");
    ConfigFixture() { parser.configFile(); }
    // Writes `text` as the configuration file and parses it with the arguments.
    std::string runWith(const std::string& text, std::vector<std::string> args = {}) {
        test::writeFile(path, text.data(), text.size());
        args.insert(args.begin(), {"--config", path});
        return run(args);
    }
};

TEST(ConfigFile, SetsEveryKindOfOption) {
    ConfigFixture f;
    ASSERT_EQ(f.runWith("# comment\n"
                        "; comment\n"
                        "\n"
                        "bitrate = 500\n"
                        "pattern = true\n"
                        "loop = false\n"
                        "verbose = 2\n"
                        "output = \"my file.h265\"  # trailing comment\n"
                        "queue = 64k\n"
                        "duration=2.5\n"
                        "mode = 'b'\n"),
              "");
    EXPECT_EQ(f.bitrate, 500);
    EXPECT_TRUE(f.pattern);
    EXPECT_FALSE(f.loop);
    EXPECT_EQ(f.verbose, 2);
    EXPECT_EQ(f.output, "my file.h265");
    EXPECT_EQ(f.bytes, 64u << 10);
    EXPECT_DOUBLE_EQ(f.seconds, 2.5);
    EXPECT_EQ(f.mode, "b");
    EXPECT_TRUE(f.parser.given("--bitrate"));
    EXPECT_TRUE(f.parser.given("--pattern"));
    EXPECT_FALSE(f.parser.given("--loop"));  // false = not set
    EXPECT_FALSE(f.parser.given("--input"));
}

TEST(ConfigFile, TheCommandLineWins) {
    ConfigFixture f;
    ASSERT_EQ(f.runWith("bitrate = 500\nmode = a\n", {"-b", "700"}), "");
    EXPECT_EQ(f.bitrate, 700);
    EXPECT_EQ(f.mode, "a");
    // An option the command line gives also beats the file's setting of one it excludes.
    ConfigFixture g;
    ASSERT_EQ(g.runWith("input = in.raw\n", {"--pattern"}), "");
    EXPECT_TRUE(g.pattern);
    EXPECT_EQ(g.input, "");
    EXPECT_FALSE(g.parser.given("--input"));
    // Within the file, the exclusion holds.
    ConfigFixture h;
    EXPECT_EQ(h.runWith("input = in.raw\npattern = true\n"),
              "--input cannot be combined with --pattern");
}

TEST(ConfigFile, BadLinesNameTheFileAndTheLine) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"bitrate = 500\nnope = 1\n", ":2: 'nope' is not an option"},
        {"\n\nbitrate = 5\n", ":3: bitrate: 5 is out of range 10..100000"},
        {"bitrate = fast\n", ":1: bitrate: 'fast' is not a whole number"},
        {"bitrate 500\n", ":1: 'bitrate 500' is not name = value"},
        {"= 500\n", ":1: '= 500' is not name = value"},
        {"[section]\nbitrate = 500\n", ":1: sections are not used"},
        {"bitrate = 500\n# x\nbitrate = 600\n",
         ":3: bitrate: given more than once (also on line 1)"},
        {"pattern = yes\n", ":1: pattern: 'yes' is not true or false"},
        {"verbose = many\n", ":1: verbose: 'many' is not a whole number"},
        {"output = my file\n", ":1: output: one value expected"},
        {"output =\n", ":1: output: empty value"},
        {"config = other.conf\n", ":1: 'config' is for the command line only"},
        {"mode = c\n", ":1: mode: 'c' is not one of a, b"},
        {"output = \"a#b.h265\"\n", ":1: output: a value cannot hold '#'"},
        {"output = 'a.h265\n", ":1: output: the quote is not closed"},
    };
    for (const auto& [text, want] : cases) {
        ConfigFixture f;
        const std::string err = f.runWith(text);
        EXPECT_EQ(err.rfind(f.path + want, 0), 0u) << text << " -> '" << err << "'";
    }
    ConfigFixture f;
    EXPECT_EQ(f.run({"--config", f.dir.file("missing.conf")}),
              "--config " + f.dir.file("missing.conf") + ": No such file or directory");
    ConfigFixture g;
    EXPECT_EQ(g.run({"--config"}), "--config needs a value (FILE)");
}

TEST(ConfigFile, TheEffectiveConfigurationReadsBackTheSame) {
    ConfigFixture f;
    ASSERT_EQ(f.run({"-b", "700", "--pattern", "-vv", "-o", "a \"b\" [c]", "--queue", "64k",
                     "--mode=b", "--print-config"}),
              "");  // --print-config: the parse ends without error...
    EXPECT_FALSE(f.parser.parseOrThrow({"--print-config"}));  // ...and says stop
    ConfigFixture g;
    ASSERT_EQ(
        g.run({"-b", "700", "--pattern", "-vv", "-o", "a \"b\" [c]", "--queue", "64k", "--mode=b"}),
        "");
    const std::string text = g.parser.effectiveConfig();
    for (const char* line :
         {"\nbitrate = 700\n", "\npattern = true\n", "\n# loop = false\n", "\nverbose = 2\n",
          "\noutput = 'a \"b\" [c]'\n", "\nqueue = \"64k\"\n", "\nmode = \"b\"\n",
          "\n# duration = 0\n", "\n# input =\n", "\n## Things\n", "\n# Bitrate\n"}) {
        EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
    }
    EXPECT_EQ(text.find("print-config"), std::string::npos) << text;
    EXPECT_EQ(text.find("help"), std::string::npos) << text;

    // A value the file cannot hold is refused, not written to be misread.
    ConfigFixture hash;
    ASSERT_EQ(hash.run({"-o", "take#2.h265"}), "");
    try {
        hash.parser.effectiveConfig();
        ADD_FAILURE() << "a value with '#' was printed";
    } catch (const UsageError& e) {
        EXPECT_EQ(e.message,
                  "--print-config: the value of --output holds '#', which a configuration file "
                  "cannot hold");
    }

    ConfigFixture h;
    ASSERT_EQ(h.runWith(text), "");
    EXPECT_EQ(h.parser.effectiveConfig(), text);
    EXPECT_EQ(h.bitrate, 700);
    EXPECT_EQ(h.output, "a \"b\" [c]");
    EXPECT_EQ(h.verbose, 2);
}

// secret(): any option can say how --print-config shows its value; a value its mask changes
// is counted as hidden, one it leaves as it is is not.
TEST(ConfigFile, SecretOptionsArePrintedThroughTheirMask) {
    ConfigFixture f;
    std::vector<std::string> tokens;
    f.parser.list("--token", "T", "Tokens",
                  [&tokens](const std::string& v) { tokens.push_back(v); });
    const auto hideAfterColon = [](const std::string& v) {
        const size_t colon = v.find(':');
        return colon == std::string::npos ? v : v.substr(0, colon) + ":***";
    };
    f.parser.secret("--output", hideAfterColon);
    f.parser.secret("--token", hideAfterColon);
    ASSERT_EQ(f.run({"-o", "user:hunter22", "--token", "a:sesame", "--token", "plain", "--token",
                     "b:open"}),
              "");
    EXPECT_EQ(f.output, "user:hunter22");  // the option itself gets the value
    const std::string printed = f.parser.effectiveConfig();
    EXPECT_NE(printed.find("\noutput = \"user:***\"\n"), std::string::npos) << printed;
    EXPECT_NE(printed.find("\ntoken = [\"a:***\", \"plain\", \"b:***\"]\n"), std::string::npos)
        << printed;
    for (const char* secret : {"hunter22", "sesame", "open"}) {
        EXPECT_EQ(printed.find(secret), std::string::npos) << secret;
    }
    EXPECT_EQ(f.parser.hiddenSecrets(), 3u);
    // Two in one value count as two.
    ConfigFixture h;
    h.parser.secret("--output", [](const std::string&) { return std::string("***:***"); });
    ASSERT_EQ(h.run({"-o", "a:b"}), "");
    h.parser.effectiveConfig();
    EXPECT_EQ(h.parser.hiddenSecrets(), 2u);
    // Nothing to hide: nothing counted.
    ConfigFixture g;
    g.parser.secret("--output", hideAfterColon);
    ASSERT_EQ(g.run({"-o", "out.h265"}), "");
    EXPECT_NE(g.parser.effectiveConfig().find("\noutput = \"out.h265\"\n"), std::string::npos);
    EXPECT_EQ(g.parser.hiddenSecrets(), 0u);
    // Only options with a value can be secret.
    EXPECT_THROW(g.parser.secret("--pattern", hideAfterColon), std::invalid_argument);
    EXPECT_THROW(g.parser.secret("--no-such-option", hideAfterColon), std::invalid_argument);
}

}  // namespace
}  // namespace h265direct::cli
