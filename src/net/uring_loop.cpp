// SPDX-License-Identifier: GPL-2.0-or-later
// The io_uring backend of the I/O seam (io_loop.hpp): every operation is one ring submission.
// At start it probes what the kernel has and uses only that.

#include <liburing.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/log.hpp"
#include "net/io_loop.hpp"

namespace h265direct::net {

namespace {

enum UringKind : uint8_t { kRead = 1, kAccept, kConnect, kSend, kRecv, kTimer };

// H265DIRECT_IO_URING_MASK: a comma-separated list of what to take as missing, as on an older
// kernel: setup (io_uring itself), fast-poll, multishot-accept, send-zc, single-issuer,
// defer-taskrun, coop-taskrun. For tests and for working around a kernel bug.
bool masked(const char* name) {
    const char* env = std::getenv("H265DIRECT_IO_URING_MASK");
    if (env == nullptr) {
        return false;
    }
    const std::string list = std::string(",") + env + ",";
    return list.find(std::string(",") + name + ",") != std::string::npos;
}

void setTimespec(__kernel_timespec& ts, int64_t ns) {
    ts.tv_sec = ns / 1'000'000'000;
    ts.tv_nsec = ns % 1'000'000'000;
}

class UringLoop final : public IoLoop {
public:
    // Returns 0, or -errno with what failed.
    int init(std::string& what);
    ~UringLoop() override {
        if (ready_) {
            io_uring_queue_exit(&ring_);
        }
    }

    const char* backend() const override { return "io_uring"; }
    const IoFeatures& features() const override { return features_; }
    std::string describe() const override;
    void adopt(int) override {}

    void read(IoOp& op, int fd, void* buffer, size_t size) override {
        io_uring_sqe* s = sqe(op, kRead);
        io_uring_prep_read(s, fd, buffer, static_cast<unsigned>(size), 0);
    }
    void accept(IoOp& op, int fd) override {
        io_uring_sqe* s = sqe(op, kAccept);
        if (features_.multishotAccept) {
            io_uring_prep_multishot_accept(s, fd, nullptr, nullptr, SOCK_CLOEXEC);
        } else {
            io_uring_prep_accept(s, fd, nullptr, nullptr, SOCK_CLOEXEC);
        }
    }
    void connect(IoOp& op, int fd, const sockaddr* address, socklen_t length,
                 int64_t timeoutNs) override {
        // The connect and its timeout are one link: both go into the same submission, or
        // the connect would be submitted with a link to nothing (and no timeout).
        reserve(2);
        io_uring_sqe* s = sqe(op, kConnect);
        io_uring_prep_connect(s, fd, address, length);
        s->flags |= IOSQE_IO_LINK;
        setTimespec(op.ts, timeoutNs);
        io_uring_sqe* t = sqe(internalOp_, 0);
        io_uring_prep_link_timeout(t, &op.ts, 0);
    }
    void sendmsg(IoOp& op, int fd, const msghdr* message, bool zeroCopy) override {
        io_uring_sqe* s = sqe(op, kSend);
        if (zeroCopy && features_.zeroCopySend) {
            io_uring_prep_sendmsg_zc(s, fd, message, MSG_NOSIGNAL);
        } else {
            io_uring_prep_sendmsg(s, fd, message, MSG_NOSIGNAL);
        }
    }
    void recv(IoOp& op, int fd, void* buffer, size_t size) override {
        io_uring_sqe* s = sqe(op, kRecv);
        io_uring_prep_recv(s, fd, buffer, size, 0);
    }
    void timer(IoOp& op, int64_t delayNs) override {
        setTimespec(op.ts, delayNs);
        io_uring_sqe* s = sqe(op, kTimer);
        io_uring_prep_timeout(s, &op.ts, 0, 0);
    }
    void cancel(IoOp& op) override {
        io_uring_sqe* s = sqe(internalOp_, 0);
        if (op.ioKind == kTimer) {
            io_uring_prep_timeout_remove(s, reinterpret_cast<uint64_t>(&op), 0);
        } else {
            io_uring_prep_cancel(s, &op, 0);
        }
    }

    int wait(int64_t timeoutNs) override;
    void drain(const std::function<void(IoOp&, const IoResult&)>& f) override;

private:
    // SINGLE_ISSUER: the thread that enables the ring is the one that may submit, so the
    // ring is enabled by the first submission (wait(), or a full submission queue).
    int enable() {
        if (!disabled_) {
            return 0;
        }
        disabled_ = false;
        // io_uring_enable_rings() is declared but not exported by Debian 12's liburing 2.3.
        if (::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr,
                      0) != 0) {
            return -errno;
        }
        return 0;
    }
    // Submits what is queued until n submission entries are free.
    void reserve(unsigned n) {
        while (io_uring_sq_space_left(&ring_) < n) {
            if (const int rc = enable(); rc != 0) {
                // The kernel refused to enable a ring it created: nothing can be sent.
                LOG_ERROR("net", "io_uring: enabling the ring failed: %s", std::strerror(-rc));
                std::abort();
            }
            io_uring_submit(&ring_);
        }
    }
    io_uring_sqe* sqe(IoOp& op, uint8_t kind) {
        reserve(1);
        io_uring_sqe* s = io_uring_get_sqe(&ring_);
        op.ioKind = kind;
        io_uring_sqe_set_data(s, &op);
        return s;
    }

    io_uring ring_{};
    // user_data of the ring's own operations (connect timeouts, cancellations): not
    // delivered. One per ring: each output's loop thread writes its own.
    IoOp internalOp_;
    bool ready_ = false;
    bool disabled_ = false;  // created disabled: enabled by the thread that submits
    IoFeatures features_;
};

int UringLoop::init(std::string& what) {
    if (masked("setup")) {
        what = "io_uring_setup (masked by H265DIRECT_IO_URING_MASK)";
        return -ENOSYS;
    }
    constexpr unsigned kEntries = 256;
    // The richest set of flags first; a kernel refuses flags it does not know (EINVAL).
    const bool single = !masked("single-issuer");
    const bool defer = single && !masked("defer-taskrun");
    const bool coop = !masked("coop-taskrun");
    struct Attempt {
        unsigned flags;
        bool use;
    };
    const Attempt attempts[] = {
        {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED, defer},
        {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_R_DISABLED,
         single && coop},
        {IORING_SETUP_COOP_TASKRUN, coop},
        {0, true},
    };
    int rc = -EINVAL;
    unsigned used = 0;
    for (const Attempt& a : attempts) {
        if (!a.use) {
            continue;
        }
        for (bool cqSize : {true, false}) {
            io_uring_params params{};
            params.flags = a.flags | (cqSize ? IORING_SETUP_CQSIZE : 0u);
            // Room for a burst of completions from many receivers.
            params.cq_entries = kEntries * 8;
            rc = io_uring_queue_init_params(kEntries, &ring_, &params);
            if (rc == 0) {
                used = params.flags;
                if ((params.features & IORING_FEAT_FAST_POLL) == 0 || masked("fast-poll")) {
                    // Without it every waiting socket operation holds a kernel worker thread.
                    io_uring_queue_exit(&ring_);
                    what = "io_uring without IORING_FEAT_FAST_POLL (Linux 5.7)";
                    return -EOPNOTSUPP;
                }
                break;
            }
            if (rc != -EINVAL) {
                what = "io_uring_setup";
                return rc;
            }
        }
        if (rc == 0) {
            break;
        }
    }
    if (rc < 0) {
        what = "io_uring_setup";
        return rc;
    }
    ready_ = true;
    disabled_ = (used & IORING_SETUP_R_DISABLED) != 0;
    features_.singleIssuer = (used & IORING_SETUP_SINGLE_ISSUER) != 0;
    features_.deferTaskrun = (used & IORING_SETUP_DEFER_TASKRUN) != 0;
    features_.coopTaskrun = (used & IORING_SETUP_COOP_TASKRUN) != 0;

    io_uring_probe* probe = io_uring_get_probe_ring(&ring_);
    if (probe == nullptr) {
        what = "io_uring probe (Linux 5.6)";
        return -EOPNOTSUPP;
    }
    // What the outputs cannot do without.
    const struct {
        int op;
        const char* name;
    } needed[] = {
        {IORING_OP_READ, "READ"},
        {IORING_OP_ACCEPT, "ACCEPT"},
        {IORING_OP_CONNECT, "CONNECT"},
        {IORING_OP_SENDMSG, "SENDMSG"},
        {IORING_OP_RECV, "RECV"},
        {IORING_OP_TIMEOUT, "TIMEOUT"},
        {IORING_OP_LINK_TIMEOUT, "LINK_TIMEOUT"},
        {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"},
        {IORING_OP_TIMEOUT_REMOVE, "TIMEOUT_REMOVE"},
    };
    for (const auto& n : needed) {
        if (!io_uring_opcode_supported(probe, n.op)) {
            io_uring_free_probe(probe);
            what = std::string("io_uring without IORING_OP_") + n.name;
            return -EOPNOTSUPP;
        }
    }
    // Multishot accept came with Linux 5.19, as IORING_OP_SOCKET did; the probe has no bit
    // for the flag itself.
    features_.multishotAccept =
        io_uring_opcode_supported(probe, IORING_OP_SOCKET) && !masked("multishot-accept");
    features_.zeroCopySend =
        io_uring_opcode_supported(probe, IORING_OP_SENDMSG_ZC) && !masked("send-zc");
    io_uring_free_probe(probe);
    return 0;
}

std::string UringLoop::describe() const {
    std::string s = "io_uring (";
    s += features_.multishotAccept ? "multishot accept" : "single-shot accept";
    s += features_.zeroCopySend ? ", zero-copy send" : ", no zero-copy send";
    if (features_.singleIssuer) {
        s += ", single issuer";
    }
    if (features_.deferTaskrun) {
        s += ", deferred task run";
    } else if (features_.coopTaskrun) {
        s += ", cooperative task run";
    }
    return s + ")";
}

int UringLoop::wait(int64_t timeoutNs) {
    if (const int rc = enable(); rc != 0) {
        return rc;
    }
    int rc = 0;
    if (timeoutNs < 0) {
        rc = io_uring_submit_and_wait(&ring_, 1);
    } else {
        __kernel_timespec ts{};
        setTimespec(ts, timeoutNs);
        io_uring_cqe* cqe = nullptr;
        rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
    return rc == -EINTR || rc == -ETIME || rc == -EBUSY || rc == -EAGAIN || rc > 0 ? 0 : rc;
}

void UringLoop::drain(const std::function<void(IoOp&, const IoResult&)>& f) {
    unsigned head = 0;
    unsigned count = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&ring_, head, cqe) {
        ++count;
        auto* op = static_cast<IoOp*>(io_uring_cqe_get_data(cqe));
        if (op == nullptr || op == &internalOp_) {
            continue;
        }
        IoResult r;
        r.res = cqe->res;
        r.more = (cqe->flags & IORING_CQE_F_MORE) != 0;
        r.notif = (cqe->flags & IORING_CQE_F_NOTIF) != 0;
        if (op->ioKind == kAccept && r.res == -EINVAL && !r.more && features_.multishotAccept) {
            // A kernel that has IORING_OP_SOCKET without multishot accept (a backport): the
            // caller's retry is single-shot.
            features_.multishotAccept = false;
        }
        f(*op, r);
    }
    io_uring_cq_advance(&ring_, count);
}

}  // namespace

std::unique_ptr<IoLoop> makeUringLoop(int& error, std::string& what) {
    auto loop = std::make_unique<UringLoop>();
    error = loop->init(what);
    if (error < 0) {
        return nullptr;
    }
    return loop;
}

}  // namespace h265direct::net
