#include "net/uring.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.hpp"

namespace h265direct::net {

Ring::Ring(unsigned entries) {
    io_uring_params params{};
    params.flags = IORING_SETUP_CQSIZE;
    // Room for a burst of completions from many receivers (sends, notifications, reads).
    params.cq_entries = entries * 8;
    int rc = io_uring_queue_init_params(entries, &ring_, &params);
    if (rc == -EINVAL) {
        params = io_uring_params{};
        rc = io_uring_queue_init_params(entries, &ring_, &params);
    }
    if (rc < 0) {
        throw StartupError(kExitNetwork,
                           std::string("network output: io_uring is not available (") +
                               std::strerror(-rc) +
                               "); it needs Linux 5.19 or later and io_uring "
                               "enabled (sysctl kernel.io_uring_disabled=0)");
    }
    if (io_uring_probe* probe = io_uring_get_probe_ring(&ring_)) {
        for (int op = 0; op < 256 && op <= probe->last_op; ++op) {
            supported_[op] = io_uring_opcode_supported(probe, op) ? 1 : 0;
        }
        io_uring_free_probe(probe);
    }
}

Ring::~Ring() {
    io_uring_queue_exit(&ring_);
}

io_uring_sqe* Ring::sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&ring_);
    while (s == nullptr) {
        io_uring_submit(&ring_);
        s = io_uring_get_sqe(&ring_);
    }
    return s;
}

int Ring::submitAndWait() {
    const int rc = io_uring_submit_and_wait(&ring_, 1);
    return rc == -EINTR ? 0 : rc;
}

int Ring::submitAndWait(int64_t timeoutNs) {
    __kernel_timespec ts{};
    ts.tv_sec = timeoutNs / 1'000'000'000;
    ts.tv_nsec = timeoutNs % 1'000'000'000;
    io_uring_cqe* cqe = nullptr;
    const int rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    return rc == -EINTR || rc == -ETIME ? 0 : rc;
}

bool Ring::supports(int opcode) const {
    return opcode >= 0 && opcode < 256 && supported_[opcode] != 0;
}

}  // namespace h265direct::net
