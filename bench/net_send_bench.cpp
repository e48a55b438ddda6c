// SPDX-License-Identifier: GPL-2.0-or-later
// Cost of sending one access unit over loopback TCP with io_uring: plain IORING_OP_SENDMSG
// against IORING_OP_SENDMSG_ZC, for a few frame sizes (4-byte length header + payload, as the
// length framing sends it). A second thread drains the receiving socket.
//
//   BM_RingSend/<size>/<zc>: one sendmsg per frame from the benchmark thread; "CPU" is the
//     sending thread's cost per frame (submission, the kernel's copy or page pinning, the
//     completion; for zero-copy also the notification, reaped as it comes).
//   BM_BackendSendCpu/io:<1 io_uring, 2 epoll>: CPU per frame of the whole sink on each I/O
//     backend at 640x480's rate and sizes (see below); the ratio of the two is the figure.
//   BM_TcpOutput/<size>/<zc>: the whole network sink: consume() on the calling thread, the
//     io_uring loop thread sending to one receiver; real time per frame.

#include <benchmark/benchmark.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "h265direct/access_unit.hpp"
#include "net/framing.hpp"
#include "net/tcp_output.hpp"

namespace {

using namespace h265direct;

struct LoopbackPair {
    int sender = -1;
    int receiver = -1;
    std::atomic<bool> stop{false};
    std::thread drain;

    LoopbackPair() {
        const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(l, 1);
        getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
        sender = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ::connect(sender, reinterpret_cast<sockaddr*>(&a), sizeof a);
        receiver = ::accept(l, nullptr, nullptr);
        ::close(l);
        const int one = 1;
        setsockopt(sender, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        startDrain(receiver);
    }
    void startDrain(int fd) {
        drain = std::thread([this, fd] {
            std::vector<char> buf(1 << 20);
            while (!stop.load(std::memory_order_relaxed)) {
                if (::read(fd, buf.data(), buf.size()) <= 0) {
                    break;
                }
            }
        });
    }
    ~LoopbackPair() {
        stop.store(true);
        ::shutdown(sender, SHUT_RDWR);
        ::close(sender);
        if (drain.joinable()) {
            drain.join();
        }
        if (receiver >= 0) {
            ::close(receiver);
        }
    }
};

void BM_RingSend(benchmark::State& state) {
    const size_t size = static_cast<size_t>(state.range(0));
    const bool zc = state.range(1) != 0;
    LoopbackPair pair;
    io_uring ring{};
    if (io_uring_queue_init(64, &ring, 0) != 0) {
        state.SkipWithError("io_uring unavailable");
        return;
    }
    std::vector<uint8_t> payload(size, 0x5a);
    auto header = net::lengthHeader(size);
    iovec iov[2] = {{header.data(), header.size()}, {payload.data(), payload.size()}};
    int notifs = 0;
    bool failed = false;
    auto reap = [&](bool waitOne) {
        io_uring_cqe* cqe = nullptr;
        int rc = waitOne ? io_uring_wait_cqe(&ring, &cqe) : io_uring_peek_cqe(&ring, &cqe);
        while (rc == 0 && cqe != nullptr) {
            if (cqe->flags & IORING_CQE_F_NOTIF) {
                --notifs;
            } else {
                if (cqe->res < 0) {
                    failed = true;
                }
                if (cqe->flags & IORING_CQE_F_MORE) {
                    ++notifs;
                }
            }
            io_uring_cqe_seen(&ring, cqe);
            rc = io_uring_peek_cqe(&ring, &cqe);
        }
    };
    for (auto _ : state) {
        size_t done = 0;
        while (done < size + header.size()) {
            // Rebuild the rest after a short send.
            msghdr msg{};
            iovec rest[2];
            size_t skip = done;
            int n = 0;
            for (const iovec& v : iov) {
                if (skip >= v.iov_len) {
                    skip -= v.iov_len;
                    continue;
                }
                rest[n++] = iovec{static_cast<uint8_t*>(v.iov_base) + skip, v.iov_len - skip};
                skip = 0;
            }
            msg.msg_iov = rest;
            msg.msg_iovlen = static_cast<size_t>(n);
            io_uring_sqe* sqe = io_uring_get_sqe(&ring);
            if (zc) {
                io_uring_prep_sendmsg_zc(sqe, pair.sender, &msg, MSG_NOSIGNAL);
            } else {
                io_uring_prep_sendmsg(sqe, pair.sender, &msg, MSG_NOSIGNAL);
            }
            io_uring_submit(&ring);
            io_uring_cqe* cqe = nullptr;
            // The send's own completion (notifications may come in between).
            while (true) {
                if (io_uring_wait_cqe(&ring, &cqe) != 0) {
                    failed = true;
                    break;
                }
                const bool notif = (cqe->flags & IORING_CQE_F_NOTIF) != 0;
                const int res = cqe->res;
                const bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
                io_uring_cqe_seen(&ring, cqe);
                if (notif) {
                    --notifs;
                    continue;
                }
                if (more) {
                    ++notifs;
                }
                if (res <= 0) {
                    failed = true;
                } else {
                    done += static_cast<size_t>(res);
                }
                break;
            }
            if (failed) {
                break;
            }
        }
        if (failed) {
            break;
        }
        reap(false);
    }
    // The payload must outlive every zero-copy notification.
    while (notifs > 0 && !failed) {
        reap(true);
    }
    io_uring_queue_exit(&ring);
    if (failed) {
        state.SkipWithError(zc ? "zero-copy send failed (kernel without SEND_ZC?)" : "send failed");
        return;
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(size + header.size()));
}
BENCHMARK(BM_RingSend)
    ->ArgNames({"bytes", "zc"})
    ->ArgsProduct({{1024, 16 * 1024, 128 * 1024}, {0, 1}});

void BM_TcpOutput(benchmark::State& state) {
    const size_t size = static_cast<size_t>(state.range(0));
    setLogLevel(LogLevel::Warn);
    NetConfig c;
    // A port picked by the kernel, then released for the server.
    const int probeFd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(probeFd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    getsockname(probeFd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(probeFd);
    c.listen = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    c.zeroCopy = state.range(1) != 0 ? ZeroCopy::On : ZeroCopy::Off;
    c.peerQueueFrames = 100000;
    c.peerQueueBytes = size_t{1} << 30;
    c.finishTimeoutMs = 200;
    net::TcpOutput out(net::TcpOutput::Mode::Server, c, [] {});
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        state.SkipWithError("connect failed");
        return;
    }
    std::atomic<bool> stop{false};
    std::thread reader([&] {
        std::vector<char> buf(1 << 20);
        while (!stop.load() && ::read(fd, buf.data(), buf.size()) > 0) {
        }
    });
    while (out.stats().peers.empty()) {
        std::this_thread::yield();
    }
    // Units made beforehand: the loop measures handing over and sending, not copying.
    std::vector<AccessUnitPtr> units;
    for (int i = 0; i < 64; ++i) {
        auto au = std::make_shared<AccessUnit>();
        au->data.assign(size, static_cast<uint8_t>(i));
        au->keyframe = au->idr = au->hasParameterSets = i == 0;
        au->captureTimeNs = monotonicNs();
        units.push_back(std::move(au));
    }
    uint64_t n = 0;
    for (auto _ : state) {
        out.consume(units[n == 0 ? 0 : 1 + n % 63]);
        ++n;
        if (n % 32 == 0) {
            // Keep the queue short: measure sending, not queueing.
            while (out.stats().framesSent + 4 < n) {
                std::this_thread::yield();
            }
        }
    }
    while (out.stats().framesSent < n) {
        std::this_thread::yield();
    }
    state.SetBytesProcessed(static_cast<int64_t>(n * (size + 4)));
    state.counters["zc_sends"] = static_cast<double>(out.stats().zeroCopySends);
    out.finish();
    stop.store(true);
    ::shutdown(fd, SHUT_RDWR);
    reader.join();
    ::close(fd);
}
BENCHMARK(BM_TcpOutput)
    ->ArgNames({"bytes", "zc"})
    ->ArgsProduct({{1024, 16 * 1024, 128 * 1024}, {0, 1}})
    ->UseRealTime();

// The send path of each I/O backend at the rate and size of a 640x480 stream at 1 Mbit/s:
// one receiver (in a child process, so that its reading is not counted), one access unit
// handed over per millisecond (the loop sleeps between units, as it does between frames), a
// 30 kB keyframe every 60 units and 4 kB units between. "cpu_us_per_frame" is this process's
// CPU time (engine-side hand-off and the loop thread: wake-up, send, completion) per unit.
void BM_BackendSendCpu(benchmark::State& state) {
    const auto backend = static_cast<IoBackend>(state.range(0));
    setLogLevel(LogLevel::Warn);
    const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(lfd, 1);
    getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
    const pid_t child = ::fork();
    if (child == 0) {
        const int fd = ::accept(lfd, nullptr, nullptr);
        std::vector<char> buf(1 << 20);
        while (::read(fd, buf.data(), buf.size()) > 0) {
        }
        ::_exit(0);
    }
    ::close(lfd);
    NetConfig c;
    c.io = backend;
    c.connect = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    std::vector<AccessUnitPtr> units;
    for (int i = 0; i < 60; ++i) {
        auto au = std::make_shared<AccessUnit>();
        au->data.assign(i == 0 ? 30000 : 4000, static_cast<uint8_t>(i));
        au->keyframe = au->idr = au->hasParameterSets = i == 0;
        units.push_back(std::move(au));
    }
    {
        net::TcpOutput out(net::TcpOutput::Mode::Client, c, [] {});
        while (out.stats().state != "connected") {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        rusage before{};
        getrusage(RUSAGE_SELF, &before);
        uint64_t n = 0;
        for (auto _ : state) {
            out.consume(units[n % units.size()]);
            ++n;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        while (out.stats().framesSent < n) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        rusage after{};
        getrusage(RUSAGE_SELF, &after);
        auto us = [](const rusage& r) {
            return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 +
                   static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
        };
        state.counters["cpu_us_per_frame"] = (us(after) - us(before)) / static_cast<double>(n);
        state.SetLabel(out.ioDescription());
        out.finish();
    }
    int status = 0;
    ::waitpid(child, &status, 0);
}
BENCHMARK(BM_BackendSendCpu)
    ->ArgName("io")
    ->Arg(static_cast<int>(IoBackend::Uring))
    ->Arg(static_cast<int>(IoBackend::Epoll))
    ->Iterations(3000)
    ->Repetitions(3)
    ->UseRealTime();

}  // namespace
