#include "core/stop_signal.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace h265direct {

StopSignal::StopSignal() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!fd_) {
        throw std::system_error(errno, std::generic_category(), "eventfd");
    }
}

void StopSignal::request() {
    requested_.store(true, std::memory_order_release);
    const uint64_t one = 1;
    // Only async-signal-safe calls here. The counter saturates harmlessly.
    [[maybe_unused]] ssize_t n = ::write(fd_.get(), &one, sizeof one);
}

void installStopOnSignals(StopSignal& stop) {
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set, &stop] {
        for (;;) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0) {
                continue;
            }
            if (stop.requested()) {
                // Asked twice: the user wants out now.
                _exit(128 + sig);
            }
            stop.request();
        }
    }).detach();
}

}  // namespace h265direct
