// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "h265direct/access_unit.hpp"
#include "h265direct/config.hpp"
#include "h265direct/sink.hpp"
#include "h265direct/stats.hpp"

namespace h265direct {

// The whole path: source -> convert -> x265 -> Annex-B split -> outputs.
//
//   h265direct::EngineConfig cfg;            // defaults: moving pattern, 640x480@30, 1000 kbit/s
//   h265direct::Engine engine(cfg);
//   engine.onAccessUnit([](const h265direct::AccessUnitPtr& au) { /* au->bytes() ... */ });
//   int rc = engine.run();                   // blocks; engine.stop() from any thread ends it
class Engine {
public:
    using AccessUnitCallback = std::function<void(const AccessUnitPtr&)>;
    using StatsCallback = std::function<void(const StatsReport&)>;

    explicit Engine(EngineConfig config);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Called on the engine thread for every access unit, in order. Keep the pointer to keep
    // the bytes; do not block for long.
    void onAccessUnit(AccessUnitCallback callback);
    // Called on the engine thread once per stats interval.
    void onStats(StatsCallback callback);
    // An extra output, owned by the engine from now on.
    void addSink(std::unique_ptr<Sink> sink);

    // Runs until the frame/duration limit, the end of the source, stop() or a fatal error.
    // Returns an ExitCode; lastError() says what went wrong.
    int run();
    // Thread-safe and async-signal-safe: the run ends after the access unit in progress.
    void stop();
    // Thread-safe: the next picture is encoded as an IDR with parameter sets.
    void requestKeyframe();
    std::string lastError() const;

    // The first one is the default installed by the program: SIGINT/SIGTERM call stop().
    // Call before run() and before any other thread starts.
    void stopOnSignals();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

const char* version();

}  // namespace h265direct
