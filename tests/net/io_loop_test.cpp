// SPDX-License-Identifier: GPL-2.0-or-later
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "core/unique_fd.hpp"
#include "net/io_loop.hpp"

namespace h265direct::test {
namespace {

using net::IoLoop;
using net::IoOp;
using net::IoResult;

// A listener on 127.0.0.1 whose accept queue is full: the kernel drops the SYN of every
// further connection, so a connect to it stays pending until its timeout.
struct SynDroppingListener {
    UniqueFd listener;
    UniqueFd queued;  // the one connection the queue holds
    sockaddr_in address{};

    SynDroppingListener() {
        listener.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof address;
        if (!listener || ::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), len) != 0 ||
            ::listen(listener.get(), 0) != 0 ||
            ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &len) != 0) {
            ADD_FAILURE() << "listener: " << std::strerror(errno);
            return;
        }
        queued.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (::connect(queued.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            ADD_FAILURE() << "first connection: " << std::strerror(errno);
        }
    }
};

class IoLoopBackend : public ::testing::TestWithParam<IoBackend> {};

// A connect started when the submission queue has one free entry still gets its timeout (the
// connect and its linked timeout are submitted together). The queue is filled with timers,
// which only go to the kernel when the loop submits.
TEST_P(IoLoopBackend, ConnectTimesOutWhenTheSubmissionQueueIsFull) {
    std::unique_ptr<IoLoop> loop = net::makeIoLoop(GetParam());
    ASSERT_EQ(std::string(loop->backend()), GetParam() == IoBackend::Epoll ? "epoll" : "io_uring");
    SynDroppingListener target;
    ASSERT_FALSE(HasFailure());

    // The ring has 256 submission entries (uring_loop.cpp); 255 timers leave one free.
    std::vector<IoOp> timers(255);
    for (IoOp& t : timers) {
        loop->timer(t, int64_t{3600} * 1'000'000'000);
    }
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    ASSERT_TRUE(fd);
    loop->adopt(fd.get());
    IoOp connect;
    loop->connect(connect, fd.get(), reinterpret_cast<const sockaddr*>(&target.address),
                  sizeof target.address, 200'000'000);

    // Waits for the connect's completion; 30 s is only a bound for a broken build.
    int connectResult = 1;
    size_t timersDone = 0;
    const auto handle = [&](IoOp& op, const IoResult& r) {
        if (&op == &connect) {
            connectResult = r.res;
        } else if (&op >= timers.data() && &op < timers.data() + timers.size()) {
            ++timersDone;
        }
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (connectResult == 1 && std::chrono::steady_clock::now() < deadline) {
        ASSERT_EQ(loop->wait(1'000'000'000), 0);
        loop->drain(handle);
    }
    EXPECT_EQ(connectResult, -ECANCELED) << "the connect got no timeout";
    EXPECT_EQ(timersDone, 0u);

    // Every timer still completes exactly once when cancelled.
    for (IoOp& t : timers) {
        loop->cancel(t);
    }
    while (timersDone < timers.size() && std::chrono::steady_clock::now() < deadline) {
        ASSERT_EQ(loop->wait(1'000'000'000), 0);
        loop->drain(handle);
    }
    EXPECT_EQ(timersDone, timers.size());
}

INSTANTIATE_TEST_SUITE_P(Backends, IoLoopBackend,
                         ::testing::Values(IoBackend::Uring, IoBackend::Epoll),
                         [](const ::testing::TestParamInfo<IoBackend>& p) {
                             return p.param == IoBackend::Epoll ? "epoll" : "uring";
                         });

}  // namespace
}  // namespace h265direct::test
