// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/stop_signal.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <mutex>
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

namespace {

// The StopSignal the signals go to, and whether the thread that waits for them runs: one
// thread for the process, whose target is cleared before its StopSignal is destroyed.
std::mutex gTargetMutex;
StopSignal* gTarget = nullptr;
bool gWaiting = false;

}  // namespace

void installStopOnSignals(StopSignal& stop) {
    std::lock_guard lock(gTargetMutex);
    gTarget = &stop;
    if (gWaiting) {
        return;
    }
    gWaiting = true;
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
        for (;;) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0) {
                continue;
            }
            std::lock_guard held(gTargetMutex);
            if (gTarget == nullptr || gTarget->requested()) {
                // Asked twice, or nothing left to stop: the user wants out now.
                _exit(128 + sig);
            }
            gTarget->request();
        }
    }).detach();
}

void removeStopOnSignals(StopSignal& stop) {
    std::lock_guard lock(gTargetMutex);
    if (gTarget == &stop) {
        gTarget = nullptr;
    }
}

}  // namespace h265direct
