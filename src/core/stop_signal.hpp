// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <atomic>

#include "core/unique_fd.hpp"

namespace h265direct {

// A one-way "stop now" flag that blocking waits can poll() on: an eventfd that becomes
// readable (and stays readable) once stop is requested. Safe from any thread and from a
// signal handler.
class StopSignal {
public:
    StopSignal();
    void request();
    bool requested() const { return requested_.load(std::memory_order_acquire); }
    // Add this to a poll set with POLLIN; never read from it.
    int fd() const { return fd_.get(); }

private:
    std::atomic<bool> requested_{false};
    UniqueFd fd_;
};

// Blocks SIGINT/SIGTERM/SIGHUP in the calling thread (call it before any thread starts, so
// that every thread inherits the mask) and starts a thread that turns them into
// stop.request(). SIGPIPE is ignored. A second signal while stopping ends the process.
// Installing again (another StopSignal) moves the signals to it.
void installStopOnSignals(StopSignal& stop);
// Signals no longer go to `stop` (called before it is destroyed); one that comes after ends
// the process at once, as a second one does.
void removeStopOnSignals(StopSignal& stop);

}  // namespace h265direct
