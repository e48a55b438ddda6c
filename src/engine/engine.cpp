// SPDX-License-Identifier: GPL-2.0-or-later
#include "h265direct/engine.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <vector>

#include "capture/frame_source.hpp"
#include "convert/converter.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/stop_signal.hpp"
#include "core/unique_fd.hpp"
#include "encode/x265_encoder.hpp"
#include "engine/au_pool.hpp"
#include "engine/frame_stats.hpp"
#include "engine/output_sinks.hpp"
#include "engine/picture_source.hpp"
#include "frame/pixel_format.hpp"
#include "h265direct/annexb.hpp"
#include "net/net_sinks.hpp"
#include "publish/publish_output.hpp"

namespace h265direct {
namespace {
constexpr const char* kTag = "engine";
}  // namespace

struct Engine::Impl {
    explicit Impl(EngineConfig c) : config(std::move(c)) {}

    int run();
    // The run ends with `e`: kept for lastError(), printed as the one error line, its code
    // returned.
    int fail(const Error& e);
    // Splits the encoder's bytes, shares them with every sink. False: the run must end.
    bool publish(const EncodedFrame& frame, int64_t captureNs, int64_t encodeNs);
    void emitStats(int64_t now);
    void printFrameLine(const AccessUnit& au) const;
    void emitTotals(int64_t now);
    // Nothing to encode: sleeps until a sink's state changes (watchState), stop, or the
    // deadline (monotonic ns, 0 = none).
    void sleepUntilWanted(int64_t deadlineNs);

    EngineConfig config;
    StopSignal stop;
    UniqueFd sinkStateFd;  // eventfd: a sink's wantsFrames() or fatalError() changed
    std::atomic<bool> keyframeRequested{false};
    AccessUnitCallback auCallback;
    StatsCallback statsCallback;
    std::vector<std::unique_ptr<Sink>> extraSinks;

    mutable std::mutex errorMutex;
    std::string lastError;

    // Live state of one run.
    std::unique_ptr<FrameSource> source;
    std::unique_ptr<X265Encoder> encoder;
    std::unique_ptr<Converter> converter;
    std::unique_ptr<PictureSource> pictures;  // uses source, converter, encoder: reset first
    std::vector<std::unique_ptr<Sink>> sinks;
    AccessUnitPool pool;
    std::unique_ptr<FrameStats> stats;
    FrameFormat format;
    uint64_t frameNumber = 0;
    int64_t runStartNs = 0;
    int64_t nextStatsNs = 0;
    // Capture time per pts, for pictures the encoder gives back later than it took them.
    static constexpr size_t kCaptureRing = 64;
    int64_t captureByPts[kCaptureRing] = {};
};

int Engine::Impl::fail(const Error& e) {
    {
        std::lock_guard lock(errorMutex);
        lastError = e.message;
    }
    printError(e.message);
    return e.exitCode;
}

void Engine::Impl::printFrameLine(const AccessUnit& au) const {
    // The original script's per-frame line, kept word for word so that its readers work.
    const double seconds = static_cast<double>(au.pts) * format.fpsDen / format.fpsNum;
    fprintf(stderr,
            "[Frame] Time: %.3f | Resolution: %dx%d | Framerate: %d/%d | Encoded Bytes: %zu\n",
            seconds, format.width, format.height, format.fpsNum, format.fpsDen, au.data.size());
}

bool Engine::Impl::publish(const EncodedFrame& frame, int64_t captureNs, int64_t encodeNs) {
    std::shared_ptr<AccessUnit> au = pool.acquire();
    au->data.assign(frame.bytes.begin(), frame.bytes.end());
    // Whole NAL units, exactly one access unit, a picture in it; keyframe, IDR and parameter
    // sets filled in. Never hand on a stream we cannot parse ourselves.
    const hevc::ParseError pe = hevc::describeAccessUnit(*au);
    if (pe != hevc::ParseError::None) {
        fail({kExitFailure, std::string("encoder output is not a valid Annex-B access unit: ") +
                                hevc::toString(pe)});
        return false;
    }
    au->pts = frame.pts;
    au->frameNumber = frameNumber++;
    au->captureTimeNs = captureNs;
    au->encodedTimeNs = monotonicNs();
    const AccessUnitPtr shared = std::move(au);
    for (auto& sink : sinks) {
        sink->consume(shared);
    }
    const int64_t outNs = monotonicNs();
    stats->onFrame(shared->data.size(), shared->keyframe, encodeNs, outNs - captureNs);
    if (config.stats.perFrame && !config.stats.quiet) {
        printFrameLine(*shared);
    }
    return true;
}

void Engine::Impl::emitStats(int64_t now) {
    StatsReport report;
    stats->report(now, report);
    pictures->collectStats(report);
    for (auto& sink : sinks) {
        sink->collectStats(report);
    }
    pictures->collectCounts(report);
    if (statsCallback) {
        statsCallback(report);
    }
    if (config.stats.quiet) {
        return;
    }
    if (config.stats.json) {
        fprintf(stderr, "%s\n", report.toJson().c_str());
        return;
    }
    // The original script's bandwidth line first, then the rest of the figures.
    const auto& fields = report.fields();
    StatsReport rest;
    for (const auto& f : fields) {
        if (f.key != "kbps" && f.key != "interval_s") {
            rest.add(f);
        }
    }
    fprintf(stderr, "[Bandwidth] ~%.0f kbps over last %.2fs | %s\n",
            std::get<double>(report.find("kbps")->value),
            std::get<double>(report.find("interval_s")->value), rest.toText().c_str());
}

void Engine::Impl::emitTotals(int64_t now) {
    if (config.stats.quiet || !stats) {
        return;
    }
    StatsReport report;
    stats->totals(now, report);
    if (config.stats.json) {
        fprintf(stderr, "%s\n", report.toJson().c_str());
    } else {
        fprintf(stderr, "[Total] %s\n", report.toText().c_str());
    }
}

void Engine::Impl::sleepUntilWanted(int64_t deadlineNs) {
    int timeoutMs = -1;
    if (deadlineNs > 0) {
        const int64_t left = deadlineNs - monotonicNs();
        timeoutMs = static_cast<int>(std::clamp<int64_t>((left + 999'999) / 1'000'000, 0, 60'000));
    }
    pollfd fds[2] = {{sinkStateFd.get(), POLLIN, 0}, {stop.fd(), POLLIN, 0}};
    if (poll(fds, 2, timeoutMs) > 0 && (fds[0].revents & POLLIN) != 0) {
        uint64_t count = 0;
        [[maybe_unused]] ssize_t n = ::read(sinkStateFd.get(), &count, sizeof count);
    }
}

int Engine::Impl::run() {
    runStartNs = monotonicNs();
    frameNumber = 0;
    sinks.clear();
    std::vector<std::unique_ptr<Sink>> networkSinks;
    try {
        // Bad addresses are the cheapest mistakes to find: before the camera is opened.
        const auto requestKeyframe = [this] { keyframeRequested.store(true); };
        networkSinks = makeNetworkSinks(config.output.net, requestKeyframe);
        for (auto& sink :
             h265direct::publish::makePublishSinks(config.output.net, requestKeyframe)) {
            networkSinks.push_back(std::move(sink));
        }
        source = openSource(config.source);
        format = source->format();
        converter = std::make_unique<Converter>(format);
        encoder = std::make_unique<X265Encoder>(config.encoder, format.width, format.height,
                                                format.fpsNum, format.fpsDen, format.fullRange);
        if (!config.output.file.empty()) {
            sinks.push_back(makeFileSink(config.output.file));
        }
        for (auto& sink : networkSinks) {
            sinks.push_back(std::move(sink));
        }
        for (auto& sink : extraSinks) {
            sinks.push_back(std::move(sink));
        }
        extraSinks.clear();
        if (auCallback) {
            sinks.push_back(makeCallbackSink(auCallback));
        }
    } catch (const StartupError& e) {
        return fail({e.exitCode(), e.what()});
    } catch (const std::exception& e) {
        return fail({kExitFailure, e.what()});
    }
    sinkStateFd.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!sinkStateFd) {
        return fail({kExitFailure, std::string("eventfd: ") + strerror(errno)});
    }
    for (auto& sink : sinks) {
        sink->watchState([fd = sinkStateFd.get()] {
            const uint64_t one = 1;
            [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);
        });
    }

    const bool live = config.source.kind == SourceKind::Camera || config.source.pace;
    try {
        pictures = makePictureSource(*source, *converter, *encoder, config.convertThread, live);
    } catch (const std::exception& e) {
        return fail({kExitFailure, e.what()});
    }

    LOG_INFO(kTag, "source: %s", source->describe().c_str());
    LOG_INFO(kTag, "encoder: %s%s", encoder->describe().c_str(),
             converter->passThrough() ? " (input used as is, no conversion)" : "");
    if (sinks.empty()) {
        LOG_INFO(kTag, "no output given (-o, -t, -l): encoding for the stats only");
    }

    stats = std::make_unique<FrameStats>(monotonicNs());
    const int64_t intervalNs = static_cast<int64_t>(config.stats.intervalMs) * 1'000'000;
    nextStatsNs = monotonicNs() + intervalNs;
    const int64_t endNs =
        config.durationSec > 0 ? runStartNs + static_cast<int64_t>(config.durationSec * 1e9) : 0;
    int exitCode = kExitOk;
    int64_t pts = 0;

    auto tickStats = [&](int64_t now) {
        if (now >= nextStatsNs) {
            emitStats(now);
            nextStatsNs += intervalNs * ((now - nextStatsNs) / intervalNs + 1);
        }
    };
    auto sinkFailure = [&]() {
        for (auto& sink : sinks) {
            if (int code = sink->fatalError()) {
                return code;
            }
        }
        return 0;
    };

    for (;;) {
        // A sink may fail while nothing is encoded (a client that cannot connect): looked at
        // before every frame, wanted or not.
        if (int code = sinkFailure()) {
            exitCode = fail({code, "an output failed; stopping"});
            break;
        }
        if (stop.requested()) {
            break;
        }
        if (config.maxFrames > 0 && frameNumber >= config.maxFrames) {
            break;
        }
        if (endNs > 0 && monotonicNs() >= endNs) {
            break;
        }
        bool wanted = sinks.empty();
        for (auto& sink : sinks) {
            wanted = wanted || sink->wantsFrames();
        }
        if (!wanted && !live) {
            // Nobody wants frames and the source would hand them out as fast as they are
            // asked for: ask for none until a sink wants them (no frame is lost: an unpaced
            // source's frames have no time to miss).
            int64_t deadline = nextStatsNs;
            if (endNs > 0) {
                deadline = std::min(deadline, endNs);
            }
            sleepUntilWanted(deadline);
            tickStats(monotonicNs());
            continue;
        }
        pictures->setWanted(wanted);
        // The next picture, ready for the encoder; it goes back when this iteration ends.
        Picture picture;
        const Status st = pictures->next(picture, stop);
        if (st == Status::Again) {
            // Nothing to encode this time (a source timeout, a frame left out and counted).
            tickStats(monotonicNs());
            continue;
        }
        if (st == Status::Stopped || st == Status::EndOfStream) {
            break;
        }
        if (st == Status::DeviceLost) {
            exitCode = fail({kExitDeviceLost, "the capture device went away"});
            break;
        }
        if (st != Status::Ok) {
            exitCode = fail({kExitFailure, "capture failed"});
            break;
        }
        if (picture.discontinuity() ||
            keyframeRequested.exchange(false, std::memory_order_relaxed)) {
            encoder->requestKeyframe();
        }
        const int64_t captureNs = picture.captureNs();
        const int64_t encodeStart = monotonicNs();
        EncodedFrame out;
        const Status es = encoder->encode(pts, out, picture.planes());
        picture.encoded();
        captureByPts[static_cast<uint64_t>(pts) % kCaptureRing] = captureNs;
        ++pts;
        const int64_t encodeNs = monotonicNs() - encodeStart;
        if (es == Status::Again) {
            continue;
        }
        if (es != Status::Ok) {
            exitCode = fail({kExitFailure, "encoding failed"});
            break;
        }
        const int64_t outCapture = captureByPts[static_cast<uint64_t>(out.pts) % kCaptureRing];
        if (!publish(out, outCapture, encodeNs)) {
            exitCode = kExitFailure;
            break;
        }
        tickStats(monotonicNs());
    }

    // Pictures x265 may still hold (none with zerolatency). Not after a failure.
    if (exitCode == kExitOk) {
        EncodedFrame out;
        while ((config.maxFrames == 0 || frameNumber < config.maxFrames) &&
               encoder->flush(out) == Status::Ok) {
            const int64_t outCapture = captureByPts[static_cast<uint64_t>(out.pts) % kCaptureRing];
            if (!publish(out, outCapture, 0)) {
                exitCode = kExitFailure;
                break;
            }
        }
    }
    for (auto& sink : sinks) {
        sink->finish();
    }
    if (exitCode == kExitOk) {
        if (int code = sinkFailure()) {
            exitCode = fail({code, "an output failed"});
        }
    }
    // The last report comes after the outputs finished, so that it carries their final
    // states and counts even when the last frame fell on an interval's end.
    const int64_t now = monotonicNs();
    if (stats->totalFrames() > 0) {
        emitStats(now);
    }
    emitTotals(now);
    pictures.reset();
    sinks.clear();
    sinkStateFd.reset();
    encoder.reset();
    converter.reset();
    source.reset();
    return exitCode;
}

Engine::Engine(EngineConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Engine::~Engine() {
    removeStopOnSignals(impl_->stop);
}

void Engine::onAccessUnit(AccessUnitCallback callback) {
    impl_->auCallback = std::move(callback);
}
void Engine::onStats(StatsCallback callback) {
    impl_->statsCallback = std::move(callback);
}
void Engine::addSink(std::unique_ptr<Sink> sink) {
    impl_->extraSinks.push_back(std::move(sink));
}
int Engine::run() {
    return impl_->run();
}
void Engine::stop() {
    impl_->stop.request();
}
void Engine::requestKeyframe() {
    impl_->keyframeRequested.store(true);
}
void Engine::stopOnSignals() {
    installStopOnSignals(impl_->stop);
}

std::string Engine::lastError() const {
    std::lock_guard lock(impl_->errorMutex);
    return impl_->lastError;
}

const char* version() {
    return H265D_VERSION;
}

}  // namespace h265direct
