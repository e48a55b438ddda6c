// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <functional>

#include "h265direct/access_unit.hpp"
#include "h265direct/stats.hpp"

namespace h265direct {

// An output of encoded access units (file, stdout, TCP client, TCP server, callback).
// All calls come from the engine thread.
class Sink {
public:
    virtual ~Sink() = default;
    virtual const char* name() const = 0;
    // Every access unit, in order. Must not block on a slow consumer: queue or drop
    // (whole access units, counted) instead.
    virtual void consume(const AccessUnitPtr& au) = 0;
    // After the last access unit: deliver what is queued (bounded wait) and close.
    virtual void finish() {}
    // Once per stats interval: add this sink's figures.
    virtual void collectStats(StatsReport& /*report*/) {}
    // False while this output has nobody to deliver to (a TCP output without a connected
    // receiver). When no sink wants frames the engine may skip encoding to save CPU; the sink
    // asks for a keyframe before it wants frames again. Thread-safe.
    virtual bool wantsFrames() const { return true; }
    // Non-zero once the sink failed for good and the run must end with that exit code.
    virtual int fatalError() const { return 0; }
    // Called once before the first access unit. A sink whose wantsFrames() or fatalError()
    // can change outside consume() (on a thread of its own) calls `changed` after each such
    // change, from any thread: an engine with nothing to encode sleeps until then instead of
    // polling. `changed` is cheap and never blocks.
    virtual void watchState(std::function<void()> changed) { (void)changed; }
};

}  // namespace h265direct
