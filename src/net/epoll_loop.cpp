// SPDX-License-Identifier: GPL-2.0-or-later
// The epoll backend of the I/O seam (io_loop.hpp), for kernels and sandboxes without io_uring:
// non-blocking sockets; an operation is tried at once where that cannot block (send,
// connect) and otherwise when epoll says its descriptor is ready. Its result is queued and
// handed out by drain(), as a ring's completion would be.

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/unique_fd.hpp"
#include "net/io_loop.hpp"

namespace h265direct::net {

namespace {

enum EpollKind : uint8_t { kRead = 1, kAccept, kConnect, kSend, kRecv, kTimer };

// Accepts per readiness event: a burst of receivers does not starve the others.
constexpr int kAcceptBurst = 64;

class EpollLoop final : public IoLoop {
public:
    explicit EpollLoop(std::string why) : why_(std::move(why)) {
        epfd_.reset(::epoll_create1(EPOLL_CLOEXEC));
        if (!epfd_) {
            throw StartupError(kExitNetwork, std::string("network output: epoll_create1: ") +
                                                 std::strerror(errno));
        }
    }

    const char* backend() const override { return "epoll"; }
    const IoFeatures& features() const override { return features_; }
    std::string describe() const override {
        return why_.empty() ? std::string("epoll") : "epoll (" + why_ + ")";
    }
    void adopt(int fd) override {
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags >= 0 && (flags & O_NONBLOCK) == 0) {
            ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        }
    }

    void read(IoOp& op, int fd, void* buffer, size_t size) override {
        wantRead(op, kRead, fd, buffer, size);
    }
    void accept(IoOp& op, int fd) override { wantRead(op, kAccept, fd, nullptr, 0); }
    void recv(IoOp& op, int fd, void* buffer, size_t size) override {
        wantRead(op, kRecv, fd, buffer, size);
    }
    void connect(IoOp& op, int fd, const sockaddr* address, socklen_t length,
                 int64_t timeoutNs) override;
    void sendmsg(IoOp& op, int fd, const msghdr* message, bool zeroCopy) override;
    void timer(IoOp& op, int64_t delayNs) override {
        op.ioKind = kTimer;
        timers_.push_back({monotonicNs() + delayNs, &op, -1});
    }
    void cancel(IoOp& op) override;
    int wait(int64_t timeoutNs) override;
    void drain(const std::function<void(IoOp&, const IoResult&)>& f) override;

private:
    struct FdState {
        IoOp* reader = nullptr;  // read, recv or accept
        void* buffer = nullptr;
        size_t size = 0;
        IoOp* writer = nullptr;  // send or connect
        const msghdr* message = nullptr;
        uint32_t registered = 0;  // the events epoll has for the descriptor
    };
    struct Deadline {
        int64_t at;
        IoOp* op;
        int connectFd;  // a connect's timeout: the descriptor; a timer: -1
    };

    void wantRead(IoOp& op, uint8_t kind, int fd, void* buffer, size_t size) {
        op.ioKind = kind;
        FdState& st = fds_[fd];
        st.reader = &op;
        st.buffer = buffer;
        st.size = size;
        update(fd, st);
    }
    void complete(IoOp& op, int res, bool more = false) {
        IoResult r;
        r.res = res;
        r.more = more;
        ready_.emplace_back(&op, r);
    }
    // Tells epoll what the descriptor waits for now. A descriptor with nothing to wait for is
    // removed at once: its owner may close it as soon as its last completion is handed out.
    void update(int fd, FdState& st);
    void onReadable(int fd, FdState& st);
    void onWritable(int fd, FdState& st);
    void dropDeadline(const IoOp* op) {
        timers_.erase(std::remove_if(timers_.begin(), timers_.end(),
                                     [op](const Deadline& d) { return d.op == op; }),
                      timers_.end());
    }

    std::string why_;
    UniqueFd epfd_;
    IoFeatures features_;
    std::unordered_map<int, FdState> fds_;
    std::vector<Deadline> timers_;
    std::deque<std::pair<IoOp*, IoResult>> ready_;
    std::deque<std::pair<IoOp*, IoResult>> handing_;
};

void EpollLoop::update(int fd, FdState& st) {
    const uint32_t want =
        (st.reader != nullptr ? EPOLLIN | EPOLLRDHUP : 0u) | (st.writer != nullptr ? EPOLLOUT : 0u);
    if (want == st.registered) {
        if (want == 0) {
            fds_.erase(fd);
        }
        return;
    }
    epoll_event ev{};
    ev.events = want;
    ev.data.fd = fd;
    if (want == 0) {
        ::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr);
        fds_.erase(fd);
        return;
    }
    int rc = ::epoll_ctl(epfd_.get(), st.registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
    if (rc != 0 && errno == EEXIST) {
        rc = ::epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev);
    } else if (rc != 0 && errno == ENOENT) {
        rc = ::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev);
    }
    if (rc != 0) {
        // Not a descriptor epoll can watch: the operations fail as the kernel says.
        const int err = errno;
        IoOp* r = std::exchange(st.reader, nullptr);
        IoOp* w = std::exchange(st.writer, nullptr);
        if (r != nullptr) {
            complete(*r, -err);
        }
        if (w != nullptr) {
            dropDeadline(w);
            complete(*w, -err);
        }
        ::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr);
        fds_.erase(fd);
        return;
    }
    st.registered = want;
}

void EpollLoop::connect(IoOp& op, int fd, const sockaddr* address, socklen_t length,
                        int64_t timeoutNs) {
    op.ioKind = kConnect;
    if (::connect(fd, address, length) == 0) {
        complete(op, 0);
        return;
    }
    if (errno != EINPROGRESS) {
        complete(op, -errno);
        return;
    }
    FdState& st = fds_[fd];
    st.writer = &op;
    st.message = nullptr;
    timers_.push_back({monotonicNs() + timeoutNs, &op, fd});
    update(fd, st);
}

void EpollLoop::sendmsg(IoOp& op, int fd, const msghdr* message, bool) {
    op.ioKind = kSend;
    const ssize_t n = ::sendmsg(fd, message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
        complete(op, static_cast<int>(n));
        return;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
        complete(op, -errno);
        return;
    }
    FdState& st = fds_[fd];
    st.writer = &op;
    st.message = message;
    update(fd, st);
}

void EpollLoop::cancel(IoOp& op) {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
        if (it->op == &op && it->connectFd < 0) {
            timers_.erase(it);
            complete(op, -ECANCELED);
            return;
        }
    }
    for (auto& [fd, st] : fds_) {
        if (st.reader == &op || st.writer == &op) {
            (st.reader == &op ? st.reader : st.writer) = nullptr;
            dropDeadline(&op);
            complete(op, -ECANCELED);
            update(fd, st);  // may erase the entry: the loop ends here
            return;
        }
    }
}

void EpollLoop::onReadable(int fd, FdState& st) {
    IoOp& op = *st.reader;
    if (op.ioKind == kAccept) {
        for (int i = 0; i < kAcceptBurst; ++i) {
            const int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c >= 0) {
                complete(op, c, true);
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }
            if (errno == ECONNABORTED || errno == EINTR) {
                continue;
            }
            // Out of descriptors and the like: the operation ends, as a ring's would.
            st.reader = nullptr;
            complete(op, -errno);
            return;
        }
        return;
    }
    const ssize_t n = op.ioKind == kRecv ? ::recv(fd, st.buffer, st.size, MSG_DONTWAIT)
                                         : ::read(fd, st.buffer, st.size);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    st.reader = nullptr;
    complete(op, n < 0 ? -errno : static_cast<int>(n));
}

void EpollLoop::onWritable(int fd, FdState& st) {
    IoOp& op = *st.writer;
    if (op.ioKind == kConnect) {
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
        }
        st.writer = nullptr;
        dropDeadline(&op);
        complete(op, -err);
        return;
    }
    const ssize_t n = ::sendmsg(fd, st.message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    st.writer = nullptr;
    complete(op, n < 0 ? -errno : static_cast<int>(n));
}

int EpollLoop::wait(int64_t timeoutNs) {
    int64_t now = monotonicNs();
    int64_t waitNs = ready_.empty() ? timeoutNs : 0;
    for (const Deadline& d : timers_) {
        const int64_t left = std::max<int64_t>(0, d.at - now);
        waitNs = waitNs < 0 ? left : std::min(waitNs, left);
    }
    // Milliseconds, rounded up: a timer never fires early.
    const int ms =
        waitNs < 0
            ? -1
            : static_cast<int>(std::min<int64_t>((waitNs + 999'999) / 1'000'000, 24 * 3600 * 1000));
    epoll_event events[64];
    const int n = ::epoll_wait(epfd_.get(), events, 64, ms);
    if (n < 0 && errno != EINTR) {
        return -errno;
    }
    for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        auto it = fds_.find(fd);
        if (it == fds_.end()) {
            continue;
        }
        FdState& st = it->second;
        const uint32_t e = events[i].events;
        if (st.reader != nullptr && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
            onReadable(fd, st);
        }
        if (st.writer != nullptr && (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
            onWritable(fd, st);
        }
        update(fd, st);
    }
    now = monotonicNs();
    for (size_t i = 0; i < timers_.size();) {
        if (timers_[i].at > now) {
            ++i;
            continue;
        }
        const Deadline d = timers_[i];
        timers_.erase(timers_.begin() + static_cast<std::ptrdiff_t>(i));
        if (d.connectFd < 0) {
            complete(*d.op, -ETIME);
            continue;
        }
        // A connect that took too long: cancelled, as a ring's linked timeout does.
        auto it = fds_.find(d.connectFd);
        if (it != fds_.end() && it->second.writer == d.op) {
            it->second.writer = nullptr;
            complete(*d.op, -ECANCELED);
            update(d.connectFd, it->second);
        }
    }
    return 0;
}

void EpollLoop::drain(const std::function<void(IoOp&, const IoResult&)>& f) {
    handing_.swap(ready_);
    while (!handing_.empty()) {
        auto [op, r] = handing_.front();
        handing_.pop_front();
        f(*op, r);
    }
}

}  // namespace

std::unique_ptr<IoLoop> makeEpollLoop(std::string why) {
    return std::make_unique<EpollLoop>(std::move(why));
}

}  // namespace h265direct::net
