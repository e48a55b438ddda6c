// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "convert/converter.hpp"
#include "core/status.hpp"
#include "core/stop_signal.hpp"
#include "core/unique_fd.hpp"
#include "engine/picture_source.hpp"
#include "frame/frame.hpp"
#include "h265direct/stats.hpp"

namespace h265direct {

// Captures and converts the next frame on its own thread while the engine thread encodes
// the current one. x265's ultrafast work on one picture keeps about one core busy, so on a
// board with two or more cores the conversion (and a file's reading) costs no encoder time.
//
// The source is used only by this stage's thread from construction to destruction, except
// that the engine thread converts and releases an unpaced source's frame (pattern, file:
// their release is an atomic flag).
// Live sources (camera, paced): the newest frame wins: a converted frame not yet taken when
// a newer one is ready goes unencoded and is counted (`skipped`). Unpaced sources: nothing is
// dropped; the stage waits for the encoder.
class ConvertAhead {
public:
    struct Picture {
        Status status = Status::Ok;  // Ok: a picture; otherwise what the source said
        const I420Planes* planes = nullptr;
        int64_t captureNs = 0;
        uint64_t sequence = 0;
        bool discontinuity = false;
        int slot = -1;
    };

    // `counts`: where frames left out (short, paused) are counted; the stage's own when null.
    ConvertAhead(FrameSource& source, Converter& converter, int width, int height, bool live,
                 PictureCounts* counts = nullptr);
    ~ConvertAhead();
    ConvertAhead(const ConvertAhead&) = delete;
    ConvertAhead& operator=(const ConvertAhead&) = delete;

    // The oldest converted picture, or the source's end status once every picture before it
    // was taken; Stopped as soon as `stop` is requested.
    Picture take(const StopSignal& stop);
    // The encoder is done with the picture's planes.
    void giveBack(int slot);
    // While paused, frames are taken from the source and handed back unconverted (counted).
    void setPaused(bool paused) { paused_.store(paused, std::memory_order_relaxed); }

    // The source's figures of the last interval (gathered on the stage's thread), with this
    // stage's skipped frames added to the source's own `skipped`.
    void collectStats(StatsReport& report);
    // Since the start: frames too short for their format; frames not converted while paused.
    uint64_t shortFrames() const { return counts_.shortFrames.load(); }
    uint64_t idleFrames() const { return counts_.idleFrames.load(); }

private:
    void run();
    // Converts the lease's frame into the slot, releases the lease and queues the picture.
    void convertInto(FrameLease& lease, int slot, bool olderDiscontinuity);

    static constexpr int kMaxSlots = 2;
    FrameSource& source_;
    Converter& converter_;
    bool live_;
    // I420 pictures. Live: two, one being encoded and one being written or waiting; a newer
    // frame is written over a waiting one. Unpaced: one; the next frame is read (the slow
    // part: a file or pipe) while the current one encodes and is converted (0.02-0.1 ms) by
    // the engine thread when it gives the picture back: one picture less resident (1.4 MB at
    // 1280x720) than converting ahead into a second one (docs/benchmarks.md).
    int slots_;
    std::unique_ptr<uint8_t[]> memory_;
    I420Planes planes_[kMaxSlots];
    Picture meta_[kMaxSlots];

    StopSignal workerStop_;
    UniqueFd readyFd_;  // eventfd: a picture or the end is ready (the engine polls it)
    std::mutex mutex_;
    std::condition_variable slotFreed_;
    std::vector<int> free_;
    std::deque<int> ready_;
    FrameLease pending_;              // unpaced: read, waiting for the encoder's picture
    bool pendingConverting_ = false;  // the engine thread is converting the pending frame
    bool ended_ = false;
    Status endStatus_ = Status::Ok;
    StatsReport sourceStats_;
    bool sourceStatsWanted_ = true;
    uint64_t skipped_ = 0;
    PictureCounts ownCounts_;
    PictureCounts& counts_;
    std::atomic<bool> paused_{false};
    std::thread worker_;
};

}  // namespace h265direct
