// SPDX-License-Identifier: GPL-2.0-or-later
// The systemd unit of tools/systemd (as configured for this build's install prefix):
// systemd-analyze verify finds nothing to say about it (nor with its commented address pair
// opened), it bounds memory and tasks, and
// its ExecStart line, run with the example configuration set to stream the pattern to a local
// receiver, streams.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/child_process.hpp"
#include "common/media.hpp"
#include "common/test_util.hpp"
#include "net/net_fixture.hpp"

namespace h265direct::test {
namespace {

const std::string kUnit = H265D_SYSTEMD_UNIT;
const std::string kInstalledBinary = std::string(H265D_INSTALL_BINDIR) + "/h265direct";
const std::string kConfigDir = std::string(H265D_INSTALL_SYSCONFDIR) + "/h265direct";

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
        s.replace(at, from.size(), to);
    }
    return s;
}

// The unit as installed, but starting the built program: systemd-analyze verify checks that
// the ExecStart program exists, which is installed only later.
std::string unitWithBuiltBinary() {
    const std::string unit = readText(kUnit);
    EXPECT_NE(unit.find("ExecStart=" + kInstalledBinary + " "), std::string::npos) << unit;
    return replaceAll(unit, "ExecStart=" + kInstalledBinary + " ",
                      "ExecStart=" + binaryPath() + " ");
}

TEST(SystemdUnit, VerifyFindsNothing) {
    TempDir dir;
    const std::string unit = dir.file("h265direct@.service");
    writeText(unit, unitWithBuiltBinary());
    // --man=no: the Documentation= man page is installed by the package, not on this machine.
    const ProcessResult r = runProcess({"systemd-analyze", "verify", "--man=no", unit});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    // It reports unknown keys, bad values and missing programs as warnings with exit code 0.
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, "");
}

// The unit bounds memory and tasks, and its commented IPAddressAllow=/IPAddressDeny= pair is
// valid as it stands once uncommented.
TEST(SystemdUnit, LimitsAreSetAndTheCommentedAddressPairVerifies) {
    const std::string unit = unitWithBuiltBinary();
    EXPECT_NE(unit.find("\nMemoryMax=512M\n"), std::string::npos) << unit;
    EXPECT_NE(unit.find("\nTasksMax=512\n"), std::string::npos) << unit;
    ASSERT_NE(unit.find("\n#IPAddressAllow="), std::string::npos) << unit;
    ASSERT_NE(unit.find("\n#IPAddressDeny="), std::string::npos) << unit;
    const std::string opened =
        replaceAll(replaceAll(unit, "\n#IPAddressAllow=", "\nIPAddressAllow="),
                   "\n#IPAddressDeny=", "\nIPAddressDeny=");
    TempDir dir;
    const std::string path = dir.file("h265direct@.service");
    writeText(path, opened);
    const ProcessResult r = runProcess({"systemd-analyze", "verify", "--man=no", path});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, "");
}

// The words of the unit's ExecStart= line (it uses no quotes), with the instance's specifier
// %i given a value.
std::vector<std::string> execStart(const std::string& instance) {
    std::istringstream lines(readText(kUnit));
    std::vector<std::string> words;
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("ExecStart=", 0) != 0) {
            continue;
        }
        EXPECT_TRUE(words.empty()) << "two ExecStart= lines";
        std::istringstream in(replaceAll(line.substr(10), "%i", instance));
        for (std::string w; in >> w;) {
            EXPECT_EQ(w.find_first_of("%\"'\\$"), std::string::npos) << "not a plain word: " << w;
            words.push_back(w);
        }
    }
    return words;
}

TEST(SystemdUnit, ExecStartWithTheExampleConfigStreams) {
    std::vector<std::string> argv = execStart("cam0");
    ASSERT_EQ(argv,
              (std::vector<std::string>{kInstalledBinary, "--config", kConfigDir + "/cam0.conf"}));
    TempDir dir;
    argv[0] = binaryPath();
    argv[2] = dir.file("cam0.conf");

    // examples/h265direct.conf (every option commented out, with its default), then what makes
    // it a short run: the pattern, streamed to a receiver on loopback, 30 small frames (the test
    // also runs under user-mode qemu).
    const uint16_t port = freePort();
    std::string config = readText(std::string(H265D_SOURCE_DIR) + "/examples/h265direct.conf");
    ASSERT_NE(config.find("# target ="), std::string::npos);
    config += "\npattern = true\nsize = \"160x120\"\ntarget = \"127.0.0.1:" + std::to_string(port) +
              "\"\nframes = 30\nquiet = true\n";
    writeText(argv[2], config);

    const std::string out = dir.file("out.h265");
    ChildProcess receiver(
        {H265D_RECEIVER, "-l", "127.0.0.1:" + std::to_string(port), "-o", out, "--once", "-q"});
    // The program retries the connection until the receiver listens, and encodes only once
    // it is connected: every frame reaches the receiver.
    const ProcessResult sender = runProcess(argv);
    EXPECT_EQ(sender.exitCode, 0) << sender.err;
    EXPECT_EQ(receiver.wait(), 0) << receiver.err();

    const ProbeInfo probe = probeHevc(out);
    ASSERT_TRUE(probe.ok) << probe.error;
    EXPECT_EQ(probe.frames, 30);
    EXPECT_EQ(probe.width, 160);
    EXPECT_EQ(probe.height, 120);
}

}  // namespace
}  // namespace h265direct::test
