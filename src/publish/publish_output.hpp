// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "h265direct/config.hpp"
#include "h265direct/sink.hpp"
#include "publish/publish_url.hpp"

namespace h265direct::publish {

struct PublishStats {
    std::string state;         // connecting / publishing / retrying / failed / finished
    uint64_t framesSent = 0;   // access units written to the server
    uint64_t bytesSent = 0;    // their Annex-B bytes (before RTP or MPEG-TS packing)
    uint64_t drops = 0;        // lost to a full queue, and the gap after it to a keyframe
    uint64_t unsent = 0;       // made while no session was up or starting
    uint64_t sessions = 0;     // sessions started (header written)
    uint64_t failures = 0;     // attempts to start a session that failed
    uint64_t disconnects = 0;  // sessions lost (the server went away or stalled)
    size_t queueFrames = 0;    // waiting, and the one being written
};

// One --publish output: an RTSP publisher (ANNOUNCE / SETUP / RECORD, RTP interleaved over
// the RTSP TCP connection) or an SRT caller carrying MPEG-TS, both through libavformat, on a
// thread of its own behind a bounded queue of whole access units. consume() never blocks.
//
// Every session starts at an IDR with its parameter sets (the output asks the engine for
// one); timestamps are the capture times, relative to the session's first access unit. A
// failed attempt or a lost session is logged in one line and retried after a delay that
// starts at --reconnect-min and doubles up to --reconnect-max; with --exit-on-disconnect the
// output fails for good instead (exit code 8).
class PublishOutput : public Sink {
public:
    // Parses the URL and loads libavformat. Throws StartupError: kExitUsage for a bad URL,
    // kExitFailure when libavformat cannot be loaded.
    PublishOutput(const std::string& url, int index, const NetConfig& config,
                  std::function<void()> requestKeyframe);
    ~PublishOutput() override;
    PublishOutput(const PublishOutput&) = delete;
    PublishOutput& operator=(const PublishOutput&) = delete;

    const char* name() const override;
    void consume(const AccessUnitPtr& au) override;
    void finish() override;
    void collectStats(StatsReport& report) override;
    int fatalError() const override;
    void watchState(std::function<void()> changed) override;

    PublishStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One publish output per --publish URL of the configuration, numbered from 1 in their order.
// requestKeyframe as for makeNetworkSinks. Throws StartupError: kExitUsage for a bad URL,
// kExitFailure when libavformat cannot be loaded.
std::vector<std::unique_ptr<Sink>> makePublishSinks(const NetConfig& config,
                                                    const std::function<void()>& requestKeyframe);

}  // namespace h265direct::publish
