#pragma once

#include <liburing.h>

#include <cstdint>

namespace h265direct::net {

// Owns one io_uring instance (liburing). Not thread-safe: one thread submits and reaps.
class Ring {
public:
    // Throws StartupError (kExitNetwork) when io_uring is unavailable.
    explicit Ring(unsigned entries = 256);
    ~Ring();
    Ring(const Ring&) = delete;
    Ring& operator=(const Ring&) = delete;

    // A free submission entry; submits the queued ones first when the queue is full.
    io_uring_sqe* sqe();
    // Submits what is queued and waits for at least one completion. Returns >= 0 or -errno
    // (-EINTR is returned as 0).
    int submitAndWait();
    // The same, waiting at most timeoutNs; a timeout returns 0.
    int submitAndWait(int64_t timeoutNs);
    // Calls f(const io_uring_cqe&) for every completion ready now; returns how many.
    template <typename F>
    unsigned drain(F&& f) {
        unsigned head = 0;
        unsigned count = 0;
        io_uring_cqe* cqe = nullptr;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            f(*cqe);
            ++count;
        }
        io_uring_cq_advance(&ring_, count);
        return count;
    }
    bool supports(int opcode) const;

private:
    io_uring ring_{};
    uint8_t supported_[256] = {};
};

}  // namespace h265direct::net
