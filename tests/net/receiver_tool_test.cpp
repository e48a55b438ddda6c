// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdlib>

#include "net/framing.hpp"
#include "net/tcp_output.hpp"
#include "net_fixture.hpp"

namespace h265direct::test {
namespace {

class ReceiverTool : public NetIoTest {};
H265D_NET_IO_SUITE(ReceiverTool);

using net::TcpOutput;

std::string receiverPath() {
    if (const char* env = std::getenv("H265D_RECEIVER")) {
        return env;
    }
#ifdef H265D_RECEIVER
    return H265D_RECEIVER;
#else
    return {};
#endif
}

// Starts the receiver listening on a free port; returns its pid.
pid_t startReceiver(const std::vector<std::string>& args, const std::string& errFile) {
    const pid_t pid = fork();
    if (pid == 0) {
        const int fd = ::open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        std::vector<char*> argv;
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}

int waitExit(pid_t pid, double timeoutSec = 20) {
    int status = 0;
    const int64_t end = monotonicNs() + static_cast<int64_t>(timeoutSec * 1e9);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (monotonicNs() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void listenAndCheck(Framing framing) {
    const std::string bin = receiverPath();
    if (bin.empty()) {
        GTEST_SKIP() << "h265direct-receiver is not built";
    }
    const auto& aus = testStream();
    TempDir dir;
    const uint16_t port = freePort();
    const pid_t pid =
        startReceiver({bin, "-l", "127.0.0.1:" + std::to_string(port), "-o", dir.file("out.h265"),
                       "--once", "--framing", framing == Framing::Length ? "length" : "annexb"},
                      dir.file("err.txt"));
    NetConfig c = ioConfig();
    c.framing = framing;
    c.connect = "127.0.0.1:" + std::to_string(port);
    c.reconnectMinMs = 20;
    c.reconnectMaxMs = 50;
    {
        TcpOutput out(TcpOutput::Mode::Client, c, [] {});
        ASSERT_TRUE(waitFor([&] { return out.stats().connects == 1; }));
        for (size_t i = 0; i < aus.size(); ++i) {
            out.consume(stamped(aus[i], i));
        }
        out.finish();
    }
    EXPECT_EQ(waitExit(pid), 0) << readText(dir.file("err.txt"));
    EXPECT_TRUE(readFile(dir.file("out.h265")) == concat(aus));
    const std::string err = readText(dir.file("err.txt"));
    EXPECT_NE(err.find("total: frames 60 | keyframes 4 | bad 0"), std::string::npos) << err;
}

TEST_P(ReceiverTool, ListensChecksEveryUnitAndWritesTheAnnexbStream) {
    listenAndCheck(Framing::Length);
}

TEST_P(ReceiverTool, FindsTheUnitsOfARawAnnexbStream) {
    listenAndCheck(Framing::AnnexB);
}

TEST_P(ReceiverTool, ConnectsToTheServerAndFlagsAStreamThatDoesNotStartAtAKeyframe) {
    const std::string bin = receiverPath();
    if (bin.empty()) {
        GTEST_SKIP() << "h265direct-receiver is not built";
    }
    const auto& aus = testStream();
    TempDir dir;
    // A hand-made server that starts mid-GOP, as the script's receivers may have seen.
    TestListener server;
    const pid_t pid = startReceiver(
        {bin, "-c", "127.0.0.1:" + std::to_string(server.port), "-o", dir.file("out.h265")},
        dir.file("err.txt"));
    const int fd = server.accept();
    ASSERT_GE(fd, 0);
    std::vector<uint8_t> wire;
    for (size_t i = 3; i < aus.size(); ++i) {
        const auto h = net::lengthHeader(aus[i]->data.size());
        wire.insert(wire.end(), h.begin(), h.end());
        wire.insert(wire.end(), aus[i]->data.begin(), aus[i]->data.end());
    }
    ASSERT_EQ(::write(fd, wire.data(), wire.size()), static_cast<ssize_t>(wire.size()));
    ::close(fd);
    EXPECT_EQ(waitExit(pid), 1);
    const std::string err = readText(dir.file("err.txt"));
    EXPECT_NE(err.find("does not start with VPS/SPS/PPS and a keyframe"), std::string::npos) << err;
    EXPECT_NE(err.find("bad 1"), std::string::npos) << err;
    // Only what decodes is written: from the next keyframe on (the stream's keyint is 15).
    EXPECT_NE(err.find("dropped 12"), std::string::npos) << err;
    EXPECT_TRUE(readFile(dir.file("out.h265")) == concat(aus, 15));
}

TEST_P(ReceiverTool, RejectsGarbageAndBadOptions) {
    const std::string bin = receiverPath();
    if (bin.empty()) {
        GTEST_SKIP() << "h265direct-receiver is not built";
    }
    TempDir dir;
    TestListener server;
    const pid_t pid =
        startReceiver({bin, "-c", "127.0.0.1:" + std::to_string(server.port)}, dir.file("err.txt"));
    const int fd = server.accept();
    ASSERT_GE(fd, 0);
    const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
    ASSERT_EQ(::write(fd, garbage, sizeof garbage), 7);
    EXPECT_EQ(waitExit(pid), 1);
    ::close(fd);
    EXPECT_NE(readText(dir.file("err.txt")).find("not the length framing"), std::string::npos);

    ProcessResult r = runProcess({bin, "-c", "localhost"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("-c: 'localhost': no port given"), std::string::npos) << r.err;
    r = runProcess({bin});
    EXPECT_EQ(r.exitCode, 2);
    r = runProcess({bin, "-c", "127.0.0.1:" + std::to_string(freePort())});
    EXPECT_EQ(r.exitCode, 8);
    EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace h265direct::test
