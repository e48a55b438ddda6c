// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <linux/time_types.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "h265direct/config.hpp"

namespace h265direct::net {

// The seam between the network outputs and the kernel: asynchronous socket operations that
// complete later, on the loop thread, in drain(). Two backends implement it: io_uring (the
// operations are ring submissions) and epoll (non-blocking sockets, the operation is tried
// when the descriptor is ready). The outputs (client, server, peers, queues) are written
// once against this interface.
//
// Rules both backends keep:
// - every operation started completes exactly once (accept: until a completion without
//   `more`), also when cancelled (res -ECANCELED) or when its socket is shut down;
// - completions are delivered by drain(), never from inside the call that starts an
//   operation;
// - an operation object stays valid and is not reused until its (last) completion.

// One operation in flight. The outputs derive their own operation types from it.
struct IoOp {
    __kernel_timespec ts{};  // a timer's or a connect timeout's time (io_uring reads it late)
    uint8_t ioKind = 0;      // which operation the backend started (backend use)
};

struct IoResult {
    int res = 0;         // bytes, a descriptor (accept), 0, or -errno
    bool more = false;   // accept: more completions follow; zero-copy send: a notification
    bool notif = false;  // zero-copy send: the kernel no longer reads the buffers
};

// What the I/O path can do, found at start.
struct IoFeatures {
    bool multishotAccept = false;  // one accept operation for every receiver (io_uring 5.19)
    bool zeroCopySend = false;     // IORING_OP_SENDMSG_ZC (6.1)
    bool singleIssuer = false;     // IORING_SETUP_SINGLE_ISSUER (6.0)
    bool deferTaskrun = false;     // IORING_SETUP_DEFER_TASKRUN (6.1)
    bool coopTaskrun = false;      // IORING_SETUP_COOP_TASKRUN (5.19)
};

class IoLoop {
public:
    virtual ~IoLoop() = default;

    // "io_uring" or "epoll".
    virtual const char* backend() const = 0;
    virtual const IoFeatures& features() const = 0;
    // One line: the backend, its features, and why it was chosen.
    virtual std::string describe() const = 0;

    // A socket the outputs made or accepted, before any operation on it.
    virtual void adopt(int fd) = 0;

    virtual void read(IoOp& op, int fd, void* buffer, size_t size) = 0;
    // Completions carry an accepted descriptor each (or -errno); `more` says that the
    // operation goes on (multishot), else it must be started again for the next receiver.
    virtual void accept(IoOp& op, int fd) = 0;
    // Completes with 0 once connected, -ECANCELED after timeoutNs, else -errno.
    virtual void connect(IoOp& op, int fd, const sockaddr* address, socklen_t length,
                         int64_t timeoutNs) = 0;
    // Completes with the bytes the kernel took (possibly fewer than asked). Zero-copy (only
    // where features().zeroCopySend): the completion has `more` set and a second one with
    // `notif` follows once the buffers are free.
    virtual void sendmsg(IoOp& op, int fd, const msghdr* message, bool zeroCopy) = 0;
    virtual void recv(IoOp& op, int fd, void* buffer, size_t size) = 0;
    // Completes after delayNs (res -ETIME), or -ECANCELED when cancelled first.
    virtual void timer(IoOp& op, int64_t delayNs) = 0;
    // Makes a pending operation (or timer) complete soon; it may still complete normally.
    virtual void cancel(IoOp& op) = 0;

    // Starts what was asked and waits for at least one completion, or at most timeoutNs
    // (< 0: no limit). Returns 0, or -errno on a failure of the loop itself.
    virtual int wait(int64_t timeoutNs) = 0;
    // Hands every completion ready now to f.
    virtual void drain(const std::function<void(IoOp&, const IoResult&)>& f) = 0;
};

// The loop the configuration asks for. Auto: io_uring when the kernel has it (and every
// operation the outputs need), else epoll, saying why. Throws StartupError (kExitNetwork)
// when io_uring is asked for and not available.
std::unique_ptr<IoLoop> makeIoLoop(IoBackend backend);

const char* toString(IoBackend backend);
// "auto" / "uring" / "epoll"; false for anything else.
bool parseIoBackend(const std::string& text, IoBackend& out);

// Backends (io_loop.cpp chooses).
std::unique_ptr<IoLoop> makeEpollLoop(std::string why);
// Returns null and sets error (-errno, and what failed) when io_uring cannot be used here.
std::unique_ptr<IoLoop> makeUringLoop(int& error, std::string& what);

}  // namespace h265direct::net
