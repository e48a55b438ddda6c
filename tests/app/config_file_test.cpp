// SPDX-License-Identifier: GPL-2.0-or-later
// h265direct --config FILE and --print-config, through the program: a file holding every
// option gives the same configuration and the same stream as the command line; bad lines
// are one-line errors naming the file and the line; the documented example and
// examples/h265direct.conf are read as they are.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/media.hpp"
#include "common/test_util.hpp"

using namespace h265direct::test;

namespace {

using Settings = std::vector<std::pair<std::string, std::string>>;  // long name, value

ProcessResult runH265(std::vector<std::string> args) {
    args.insert(args.begin(), binaryPath());
    return runProcess(args, 60);
}

// The settings as command-line arguments; a flag's value is "true".
std::vector<std::string> arguments(const Settings& settings) {
    std::vector<std::string> args;
    for (const auto& [name, value] : settings) {
        args.push_back("--" + name);
        if (value != "true") {
            args.push_back(value);
        }
    }
    return args;
}

// The settings as a configuration file.
std::string configText(const Settings& settings) {
    std::string text = "# written by the test\n";
    for (const auto& [name, value] : settings) {
        text += name + " = \"" + value + "\"\n";
    }
    return text;
}

// Every option of a pattern run that writes a file (the camera's own options are read but
// unused; -t/-l would need a peer, so they are in EveryOptionGivesTheSameConfiguration only).
Settings patternRun(const std::string& output) {
    return {
        {"pattern", "true"},
        {"pixel-format", "YUYV"},
        {"size", "320x240"},
        {"fps", "25"},
        {"loop", "true"},
        {"no-pace", "true"},
        {"buffers", "3"},
        {"exit-on-device-loss", "true"},
        {"frame-timeout", "500"},
        {"bitrate", "300"},
        {"vbv-maxrate", "300"},
        {"vbv-bufsize", "300"},
        {"keyint", "10"},
        {"preset", "superfast"},
        {"tune", "zerolatency"},
        {"threads", "1"},
        {"output", output},
        {"framing", "annexb"},
        {"exit-on-disconnect", "true"},
        {"keep-encoding", "true"},
        {"queue-frames", "30"},
        {"queue-bytes", "1M"},
        {"send-buffer", "64k"},
        {"io", "epoll"},
        {"zerocopy", "auto"},
        {"zerocopy-min", "32k"},
        {"connect-timeout", "500"},
        {"reconnect-min", "100"},
        {"reconnect-max", "1000"},
        {"keyframe-request-interval", "200"},
        {"max-peers", "4"},
        {"finish-timeout", "100"},
        {"frames", "24"},
        {"duration", "100"},
        {"no-convert-thread", "true"},
        {"stats-json", "true"},
        {"verbose", "true"},
        {"quiet", "true"},
    };
}

// The option names --help lists (long names, without the dashes).
std::vector<std::string> helpOptions() {
    const ProcessResult r = runH265({"--help"});
    std::vector<std::string> names;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
        const size_t at = line.find("--");
        if (line.rfind("  -", 0) != 0 || at == std::string::npos) {
            continue;
        }
        const size_t end = line.find_first_of(" ,", at);
        names.push_back(line.substr(at + 2, end == std::string::npos ? end : end - at - 2));
    }
    return names;
}

}  // namespace

TEST(ConfigFile, EveryOptionGivesTheSameConfiguration) {
    TempDir dir;
    Settings all = patternRun(dir.file("out.h265"));
    all.insert(all.end(), {{"target", "127.0.0.1:5005"},
                           {"listen", "127.0.0.1:6006"},
                           {"rtsp", "127.0.0.1:8555"},
                           {"rtsp-path", "/cam/front"},
                           {"rtsp-timeout", "30"},
                           {"user", "alice:wonderland"},
                           {"user-file", dir.file("users")},
                           {"rtsp-auth", "digest,basic"},
                           {"auth-nonce-lifetime", "30"},
                           {"publish", "rtsp://127.0.0.1:8554/cam"}});
    writeText(dir.file("users"), "bob:builder\n");
    // Every option --help lists is set, but the sources the pattern excludes, the camera's
    // own (below) and the command-line-only ones.
    for (const std::string& name : helpOptions()) {
        if (name == "help" || name == "version" || name == "config" || name == "print-config" ||
            name == "device" || name == "input" || name == "list-formats" ||
            name == "list-controls" || name == "ctrl") {
            continue;
        }
        bool set = false;
        for (const auto& [n, v] : all) {
            set = set || n == name;
        }
        EXPECT_TRUE(set) << "--" << name << " is not in the test's settings";
    }
    const std::string conf = dir.file("all.conf");
    writeText(conf, configText(all));

    std::vector<std::string> args = arguments(all);
    args.push_back("--print-config");
    const ProcessResult fromArgs = runH265(args);
    ASSERT_EQ(fromArgs.exitCode, 0) << fromArgs.err;
    const ProcessResult fromFile = runH265({"--config", conf, "--print-config"});
    ASSERT_EQ(fromFile.exitCode, 0) << fromFile.err;
    EXPECT_EQ(fromFile.out, fromArgs.out);
    EXPECT_EQ(fromArgs.out.find("wonderland"), std::string::npos) << fromArgs.out;
    EXPECT_EQ(fromArgs.err.find("wonderland"), std::string::npos) << fromArgs.err;
    for (const auto& [name, value] : all) {
        const std::string line = name + " = ";
        const size_t at = fromArgs.out.find("\n" + line);
        ASSERT_NE(at, std::string::npos) << name << " is not set in\n" << fromArgs.out;
        const std::string shown = fromArgs.out.substr(
            at + 1 + line.size(), fromArgs.out.find('\n', at + 1) - at - 1 - line.size());
        // verbose: a count; user: the password is never printed.
        const std::string want = name == "verbose" ? "1" : name == "user" ? "alice:***" : value;
        EXPECT_TRUE(
            shown == want || shown == "\"" + want + "\"" ||
            ((name == "publish" || name == "user") && shown == "[\"" + want + "\"]"))  // a list
            << name << ": " << shown;
    }

    // What --print-config prints reads back as the same configuration.
    const std::string printed = dir.file("printed.conf");
    writeText(printed, fromArgs.out);
    const ProcessResult again = runH265({"--config", printed, "--print-config"});
    ASSERT_EQ(again.exitCode, 0) << again.err;
    EXPECT_EQ(again.out, fromArgs.out);

    // The camera's source options.
    const Settings camera = {{"device", "/dev/video7"},
                             {"list-formats", "true"},
                             {"list-controls", "true"},
                             {"ctrl", "brightness=200,power_line_frequency=50 Hz"}};
    writeText(conf, configText(camera));
    args = arguments(camera);
    args.push_back("--print-config");
    const ProcessResult cameraArgs = runH265(args);
    ASSERT_EQ(cameraArgs.exitCode, 0) << cameraArgs.err;
    const ProcessResult cameraFile = runH265({"--config", conf, "--print-config"});
    EXPECT_EQ(cameraFile.out, cameraArgs.out);
    EXPECT_NE(cameraFile.out.find("\ndevice = \"/dev/video7\"\n"), std::string::npos);
    EXPECT_NE(cameraFile.out.find("\nlist-formats = true\n"), std::string::npos);
    EXPECT_NE(cameraFile.out.find("\nlist-controls = true\n"), std::string::npos);
    EXPECT_NE(cameraFile.out.find("\nctrl = \"brightness=200,power_line_frequency=50 Hz\"\n"),
              std::string::npos)
        << cameraFile.out;
}

TEST(ConfigFile, EveryOptionGivesTheSameStream) {
    TempDir dir;
    const std::string fromArgs = dir.file("args.h265");
    const std::string fromFile = dir.file("file.h265");
    const ProcessResult a = runH265(arguments(patternRun(fromArgs)));
    ASSERT_EQ(a.exitCode, 0) << a.err;
    const std::string conf = dir.file("run.conf");
    writeText(conf, configText(patternRun(fromFile)));
    const ProcessResult b = runH265({"--config", conf});
    ASSERT_EQ(b.exitCode, 0) << b.err;
    const std::vector<uint8_t> bytesA = readFile(fromArgs);
    const std::vector<uint8_t> bytesB = readFile(fromFile);
    ASSERT_GT(bytesA.size(), 1000u);
    EXPECT_TRUE(bytesA == bytesB) << bytesA.size() << " vs " << bytesB.size() << " bytes";
    // The settings took effect: 24 frames at 320x240.
    const ProbeInfo probe = probeHevc(fromFile);
    ASSERT_TRUE(probe.ok) << probe.error;
    EXPECT_EQ(probe.frames, 24);
    EXPECT_EQ(probe.width, 320);
    EXPECT_EQ(probe.height, 240);
}

TEST(ConfigFile, TheCommandLineWinsOverTheFile) {
    TempDir dir;
    const std::string conf = dir.file("cam.conf");
    writeText(conf, "device = /dev/video9\nbitrate = 300\npreset = fast\n");
    const ProcessResult r = runH265({"--config", conf, "--pattern", "-b", "500", "--print-config"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("\npattern = true\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\n# device = \"/dev/video0\"\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nbitrate = 500\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\npreset = \"fast\"\n"), std::string::npos) << r.out;
}

TEST(ConfigFile, BadLinesAreOneLineErrorsNamingTheLine) {
    TempDir dir;
    const std::string conf = dir.file("bad.conf");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"pattern = true\nbitrat = 300\n", ":2: 'bitrat' is not an option"},
        {"pattern = true\n\n# comment\nbitrate = 5\n", ":4: bitrate: 5 is out of range"},
        {"pattern = true\nsize = 641x480\n", ":2: size: 641x480 is not a size"},
        {"pattern = true\nfps = fast\n", ":2: fps: 'fast' is not a frame rate"},
        {"pattern = true\npixel-format = ABCD\n", ":2: pixel-format: unknown pixel format 'ABCD'"},
        {"pattern\n", ":1: 'pattern' is not name = value"},
        {"[camera]\ndevice = /dev/video0\n", ":1: sections are not used"},
        {"pattern = 1\n", ":1: pattern: '1' is not true or false"},
        {"pattern = true\noutput = a b.h265\n", ":2: output: one value expected"},
        {"pattern = true\nframing = rtp\n", ":2: framing: 'rtp' is not one of length, annexb"},
        {"pattern = true\nlisten = localhost\n", ":2: listen: 'localhost': no port given"},
    };
    for (const auto& [text, want] : cases) {
        writeText(conf, text);
        const ProcessResult r = runH265({"--config", conf, "-o", dir.file("never.h265")});
        SCOPED_TRACE(text);
        EXPECT_EQ(r.exitCode, 2) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(r.err.rfind("h265direct: error: " + conf + want, 0), 0u) << r.err;
        EXPECT_FALSE(std::filesystem::exists(dir.file("never.h265")));
    }
    // An input that cannot be read is not a bad line but a missing input: exit 3, as on the
    // command line (tests/integration/cli_test.cpp).
    writeText(conf, "input = /nonexistent/x.raw\npixel-format = YUYV\n");
    const ProcessResult absent = runH265({"--config", conf, "-o", dir.file("never.h265")});
    EXPECT_EQ(absent.exitCode, 3) << absent.err;
    EXPECT_EQ(absent.err.rfind("h265direct: error: --input /nonexistent/x.raw: ", 0), 0u)
        << absent.err;
    const ProcessResult missing = runH265({"--config", dir.file("none.conf")});
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_EQ(missing.err.rfind("h265direct: error: --config " + dir.file("none.conf") +
                                    ": No such file or directory",
                                0),
              0u)
        << missing.err;
}

// docs/cli.md's example (the block after "<!-- config-example -->") is a valid file and sets
// what it says.
TEST(ConfigFile, TheDocumentedExampleIsRead) {
    const std::string doc = readText(std::string(H265D_SOURCE_DIR) + "/docs/cli.md");
    const size_t mark = doc.find("<!-- config-example -->");
    ASSERT_NE(mark, std::string::npos);
    const size_t begin = doc.find('\n', doc.find("```", mark)) + 1;
    const size_t end = doc.find("```", begin);
    ASSERT_NE(end, std::string::npos);
    const std::string example = doc.substr(begin, end - begin);
    TempDir dir;
    const std::string conf = dir.file("doc.conf");
    writeText(conf, example);
    const ProcessResult r = runH265({"--config", conf, "--print-config"});
    ASSERT_EQ(r.exitCode, 0) << r.err << example;
    size_t settings = 0;
    std::istringstream lines(example);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        ++settings;
        const std::string name = line.substr(0, line.find(' '));
        EXPECT_NE(r.out.find("\n" + name + " = "), std::string::npos) << name << "\n" << r.out;
    }
    EXPECT_GE(settings, 4u);
}

// examples/h265direct.conf is what --print-config prints with nothing set: every option with
// its default. Regenerate it with `h265direct --print-config > examples/h265direct.conf`.
TEST(ConfigFile, TheExampleFileListsEveryOptionWithItsDefault) {
    const std::string path = std::string(H265D_SOURCE_DIR) + "/examples/h265direct.conf";
    const std::string example = readText(path);
    const ProcessResult defaults = runH265({"--print-config"});
    ASSERT_EQ(defaults.exitCode, 0) << defaults.err;
    EXPECT_EQ(example, defaults.out)
        << "regenerate: h265direct --print-config > examples/h265direct.conf";
    const ProcessResult read = runH265({"--config", path, "--print-config"});
    ASSERT_EQ(read.exitCode, 0) << read.err;
    EXPECT_EQ(read.out, example);
    for (const std::string& name : helpOptions()) {
        if (name == "help" || name == "version" || name == "config" || name == "print-config") {
            continue;
        }
        EXPECT_NE(example.find("\n# " + name + " ="), std::string::npos) << name;
    }
}

TEST(ConfigFile, PublishIsAListOneALineOrInBrackets) {
    TempDir dir;
    const std::string conf = dir.file("pub.conf");
    writeText(conf,
              "pattern = true\npublish = \"rtsp://127.0.0.1:8554/cam\"\n"
              "publish = [\"srt://127.0.0.1:8890?latency=200\", \"rtsp://[::1]/b\"]\n");
    const ProcessResult r = runH265({"--config", conf, "--print-config"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("\npublish = [\"rtsp://127.0.0.1:8554/cam\", "
                         "\"srt://127.0.0.1:8890?latency=200\", \"rtsp://[::1]/b\"]\n"),
              std::string::npos)
        << r.out;
    // The printed configuration reads back to itself.
    const std::string printed = dir.file("printed.conf");
    writeText(printed, r.out);
    const ProcessResult again = runH265({"--config", printed, "--print-config"});
    ASSERT_EQ(again.exitCode, 0) << again.err;
    EXPECT_EQ(again.out, r.out);
    // The command line's --publish values replace the file's.
    const ProcessResult cli = runH265({"--config", conf, "--publish", "srt://10.0.0.1:9000",
                                       "--publish", "rtsp://10.0.0.2/x", "--print-config"});
    ASSERT_EQ(cli.exitCode, 0) << cli.err;
    EXPECT_NE(cli.out.find("\npublish = [\"srt://10.0.0.1:9000\", \"rtsp://10.0.0.2/x\"]\n"),
              std::string::npos)
        << cli.out;
    writeText(conf, "pattern = true\npublish = \"ftp://127.0.0.1:21/x\"\n");
    const ProcessResult bad = runH265({"--config", conf});
    EXPECT_EQ(bad.exitCode, 2) << bad.err;
    EXPECT_NE(bad.err.find(":2: publish: unknown scheme 'ftp://'"), std::string::npos) << bad.err;
}

// A file holding a secret (a --publish URL's password or passphrase) that every user may
// read gets one warning naming the file and the fix; mode 0640 or 0600, or a file without
// secrets, gets none. The printed configuration hides the secrets and says so once.
TEST(ConfigFile, ReadableFileWithSecretsIsWarnedAbout) {
    TempDir dir;
    const std::string conf = dir.file("cam.conf");
    const std::string passphrase = "File-Passphrase-77";
    writeText(conf, "pattern = true\npublish = [\"srt://127.0.0.1:9000?passphrase=" + passphrase +
                        "\", \"rtsp://admin:Rtsp-Pass-5@127.0.0.1/cam\"]\n");
    const auto warnings = [](const std::string& err) {
        size_t n = 0;
        for (size_t at = err.find("warning: "); at != std::string::npos;
             at = err.find("warning: ", at + 1)) {
            ++n;
        }
        return n;
    };
    std::filesystem::permissions(conf, std::filesystem::perms(0644));
    const ProcessResult open = runH265({"--config", conf, "--print-config"});
    ASSERT_EQ(open.exitCode, 0) << open.err;
    EXPECT_EQ(warnings(open.err), 1u) << open.err;
    EXPECT_NE(
        open.err.find("h265direct: warning: --config " + conf +
                      " holds secrets and every user can read it (mode 0644): chmod 600 " + conf),
        std::string::npos)
        << open.err;
    EXPECT_NE(open.err.find("h265direct: note: --print-config hid 2 secrets as ***"),
              std::string::npos)
        << open.err;
    EXPECT_NE(open.out.find("\npublish = [\"srt://127.0.0.1:9000?passphrase=***\", "
                            "\"rtsp://admin:***@127.0.0.1/cam\"]\n"),
              std::string::npos)
        << open.out;
    for (const std::string& secret : {passphrase, std::string("Rtsp-Pass-5")}) {
        EXPECT_EQ((open.out + open.err).find(secret), std::string::npos) << secret;
    }
    for (const auto mode : {0640, 0600}) {
        std::filesystem::permissions(conf, std::filesystem::perms(mode));
        const ProcessResult closed = runH265({"--config", conf, "--print-config"});
        ASSERT_EQ(closed.exitCode, 0) << closed.err;
        EXPECT_EQ(warnings(closed.err), 0u) << mode << ": " << closed.err;
    }
    // Secrets in the file still count when the command line replaces them.
    std::filesystem::permissions(conf, std::filesystem::perms(0644));
    const ProcessResult replaced =
        runH265({"--config", conf, "--publish", "rtsp://127.0.0.1/x", "--print-config"});
    EXPECT_EQ(warnings(replaced.err), 1u) << replaced.err;
    // No secret in the file: no warning, whatever its mode.
    writeText(conf, "pattern = true\npublish = \"srt://127.0.0.1:9000?latency=200\"\n");
    std::filesystem::permissions(conf, std::filesystem::perms(0644));
    const ProcessResult plain = runH265({"--config", conf, "--print-config"});
    ASSERT_EQ(plain.exitCode, 0) << plain.err;
    EXPECT_EQ(plain.err, "");
}
