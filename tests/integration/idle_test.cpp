// An engine with nobody to encode for: it must end when an output fails. Real program, real
// sockets on loopback.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/child_process.hpp"
#include "common/test_util.hpp"
#include "core/unique_fd.hpp"
#include "h265direct/config.hpp"

namespace h265direct::test {
namespace {

// A loopback TCP socket bound to a free port; listening only if asked. A bound socket that
// does not listen refuses connections, and holding it keeps the port from anyone else.
struct BoundPort {
    UniqueFd fd;
    uint16_t port = 0;
    explicit BoundPort(bool listen) {
        fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 ||
            (listen && ::listen(fd.get(), 4) != 0) ||
            getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            throw std::runtime_error("cannot bind a loopback socket");
        }
        port = ntohs(a.sin_port);
    }
};

// -t to a port that refuses, with --exit-on-disconnect: the run ends with the network code,
// whether or not the engine encodes while it has no receiver.
void expectClientFailureEnds(const std::vector<std::string>& extra) {
    BoundPort refusing(false);
    std::vector<std::string> args = {binaryPath(),
                                     "--pattern",
                                     "-s",
                                     "160x120",
                                     "--frames",
                                     "30",
                                     "-t",
                                     "127.0.0.1:" + std::to_string(refusing.port),
                                     "--exit-on-disconnect"};
    args.insert(args.end(), extra.begin(), extra.end());
    // The bound is for a hang only: the failure is seen within one connect attempt.
    const ProcessResult r = runProcess(args, 60);
    EXPECT_FALSE(r.timedOut) << "still running after 60 s\n" << r.err;
    EXPECT_EQ(r.exitCode, kExitNetwork) << r.err;
    EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

TEST(Idle, ClientThatCannotConnectEndsThePacedRun) {
    expectClientFailureEnds({});
}

TEST(Idle, ClientThatCannotConnectEndsTheUnpacedRun) {
    expectClientFailureEnds({"--no-pace"});
}

TEST(Idle, ClientThatCannotConnectEndsTheRunThatKeepsEncoding) {
    expectClientFailureEnds({"--keep-encoding"});
}

}  // namespace
}  // namespace h265direct::test
