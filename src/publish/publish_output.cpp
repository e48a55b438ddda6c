// SPDX-License-Identifier: GPL-2.0-or-later
// --publish: a session with an RTSP server (RECORD) or an SRT listener (MPEG-TS), through
// libavformat, on a thread of its own (one Impl, one lock). The engine thread only queues
// (consume); the thread starts sessions at start points, writes, and retries.

#include "publish/publish_output.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/percentile.hpp"
#include "core/redact.hpp"
#include "h265direct/annexb.hpp"
#include "h265direct/stats.hpp"
#include "net/peer_queue.hpp"
#include "publish/avformat_lib.hpp"

namespace h265direct::publish {

namespace {
constexpr const char* kTag = "publish";
constexpr int64_t kMs = 1'000'000;
constexpr int kClockRate = 90000;  // RTP and MPEG-TS both count presentation times at 90 kHz

}  // namespace

struct PublishOutput::Impl {
    Impl(PublishUrl t, int i, const NetConfig& c, std::function<void()> kf)
        : target(std::move(t)),
          index(i),
          config(c),
          requestKeyframe(std::move(kf)),
          prefix("publish" + std::to_string(i) + "_"),
          label("publish" + std::to_string(i)) {}

    // One session: a muxer context with its stream.
    struct Session {
        explicit Session(const AvformatLib& lib) : av(lib) {}
        ~Session() { close(); }
        Session(const Session&) = delete;
        Session& operator=(const Session&) = delete;

        bool open(Impl& d, const AccessUnit& first, std::string& why);
        bool write(Impl& d, const AccessUnit& au, std::string& why);
        void close();

        const AvformatLib& av;
        AVFormatContext* ctx = nullptr;
        AVStream* stream = nullptr;
        AVPacket* packet = nullptr;
        bool ownsIo = false;
        bool headerWritten = false;
        int64_t epochNs = 0;
        int64_t lastPts = -1;
    };

    static int interrupted(void* opaque) {
        auto* d = static_cast<Impl*>(opaque);
        return monotonicNs() > d->deadlineNs.load(std::memory_order_relaxed) ? 1 : 0;
    }
    // Blocking libavformat calls give up after timeoutMs, or at the end of the run.
    void armDeadline(int64_t timeoutMs) {
        deadlineNs.store(std::min(monotonicNs() + timeoutMs * kMs, finishDeadlineNs.load()));
    }
    std::string failureText(int code, const char* what);

    void run();
    // The next queued unit; null when the run is over (finish, and nothing left in time).
    AccessUnitPtr pop();
    void maybeRequestKeyframeLocked();
    void setState(const char* s) {
        std::lock_guard lock(mutex);
        totals.state = s;
    }
    void setFatal(int code) {
        fatal.store(code);
        std::lock_guard lock(watchMutex);
        if (watch) {
            watch();
        }
    }

    PublishUrl target;
    SecretScope secrets{target.secrets};  // masked in every message while the output lives
    int index;
    NetConfig config;
    std::function<void()> requestKeyframe;
    std::string prefix;
    std::string label;
    const AvformatLib* av = nullptr;

    mutable std::mutex mutex;
    std::condition_variable cv;
    std::deque<AccessUnitPtr> queue;
    size_t queueBytes = 0;
    // The unit pop() handed to the session thread and not yet counted as sent or unsent (0
    // or 1). The figures show it as queued, so that every unit is in exactly one of them.
    size_t inFlight = 0;
    bool accepting = false;  // a session is up or starting: consume() queues
    bool waiting = true;     // skipping units up to the next start point
    bool gap = false;        // ... because a full queue dropped some (else: a new session)
    bool finishing = false;
    int64_t lastKeyframeRequestNs = std::numeric_limits<int64_t>::min() / 2;
    PublishStats totals;
    std::vector<int64_t> latencies;  // capture -> written, this interval

    std::atomic<int64_t> deadlineNs{std::numeric_limits<int64_t>::max()};
    std::atomic<int64_t> finishDeadlineNs{std::numeric_limits<int64_t>::max()};
    std::atomic<int> fatal{0};
    std::mutex watchMutex;
    std::function<void()> watch;
    std::thread thread;
    bool finished = false;
    LogThrottle retryLog;
    std::minstd_rand jitter{std::random_device{}()};
    int64_t lastCollectNs = 0;
    uint64_t collectedBytes = 0;
};

std::string PublishOutput::Impl::failureText(int code, const char* what) {
    if (code == AVERROR_EXIT) {
        takeAvformatMessage();
        return std::string(what) + ": no answer within " + std::to_string(config.connectTimeoutMs) +
               " ms";
    }
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av->strerror(code, text, sizeof text);
    const std::string detail = takeAvformatMessage();
    if (detail.empty()) {
        return std::string(what) + ": " + text;
    }
    // "Connection refused" says it already; "405 Method Not Allowed" gains the error class.
    return std::string(what) + ": " + detail +
           (detail.find(text) != std::string::npos ? "" : std::string(" (") + text + ")");
}

bool PublishOutput::Impl::Session::open(Impl& d, const AccessUnit& first, std::string& why) {
    const bool rtsp = d.target.kind == PublishUrl::Kind::Rtsp;
    takeAvformatMessage();
    int r = av.allocOutputContext(&ctx, nullptr, rtsp ? "rtsp" : "mpegts", d.target.url.c_str());
    if (r < 0 || ctx == nullptr) {
        why = d.failureText(r, "setting up the muxer");
        return false;
    }
    ctx->interrupt_callback.callback = &Impl::interrupted;
    ctx->interrupt_callback.opaque = &d;
    stream = av.newStream(ctx, nullptr);
    packet = av.packetAlloc();
    if (stream == nullptr || packet == nullptr) {
        why = "out of memory";
        return false;
    }
    stream->time_base = AVRational{1, kClockRate};
    AVCodecParameters* par = stream->codecpar;
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = AV_CODEC_ID_HEVC;
    // The parameter sets of the first unit (Annex-B): RTSP's SDP carries them as
    // sprop-vps/sps/pps; they are in the stream before every IDR as well.
    std::vector<uint8_t> sets;
    for (const NalUnitInfo& n : first.nals) {
        if (n.type == 33) {
            hevc::SpsInfo sps;
            const std::span<const uint8_t> nal(first.data.data() + n.offset, n.size);
            if (hevc::parseSps(nal, sps) == hevc::ParseError::None) {
                par->width = static_cast<int>(sps.displayWidth);
                par->height = static_cast<int>(sps.displayHeight);
            }
        }
        if (n.type >= 32 && n.type <= 34) {
            sets.insert(sets.end(), {0, 0, 0, 1});
            sets.insert(sets.end(), first.data.begin() + n.offset,
                        first.data.begin() + n.offset + n.size);
        }
    }
    auto* extra = static_cast<uint8_t*>(av.malloc(sets.size() + AV_INPUT_BUFFER_PADDING_SIZE));
    if (extra == nullptr) {
        why = "out of memory";
        return false;
    }
    std::memcpy(extra, sets.data(), sets.size());
    std::memset(extra + sets.size(), 0, AV_INPUT_BUFFER_PADDING_SIZE);
    par->extradata = extra;
    par->extradata_size = static_cast<int>(sets.size());

    AVDictionary* options = nullptr;
    // Each unit leaves at once, not when the I/O buffer fills.
    av.dictSet(&options, "flush_packets", "1", 0);
    d.armDeadline(d.config.connectTimeoutMs);
    if (rtsp) {
        av.dictSet(&options, "rtsp_transport", "tcp", 0);
    } else {
        AVDictionary* io = nullptr;
        av.dictSet(&io, "connect_timeout", std::to_string(d.config.connectTimeoutMs).c_str(), 0);
        // Closing waits (up to --finish-timeout) until the listener has what was sent: the
        // last frames of a run are not lost in SRT's latency window.
        const int lingerSeconds = std::max(1, (d.config.finishTimeoutMs + 999) / 1000);
        av.dictSet(&io, "linger", std::to_string(lingerSeconds).c_str(), 0);
        for (const auto& [key, value] : d.target.options) {  // passphrase, streamid
            av.dictSet(&io, key.c_str(), value.c_str(), 0);
        }
        r = av.ioOpen(&ctx->pb, d.target.url.c_str(), AVIO_FLAG_WRITE, &ctx->interrupt_callback,
                      &io);
        av.dictFree(&io);
        if (r < 0) {
            av.dictFree(&options);
            why = d.failureText(r, "connecting");
            return false;
        }
        ownsIo = true;
    }
    r = av.writeHeader(ctx, &options);
    av.dictFree(&options);
    if (r < 0) {
        why = d.failureText(r, rtsp ? "starting the RTSP session" : "starting the stream");
        return false;
    }
    headerWritten = true;
    epochNs = first.captureTimeNs;
    return true;
}

bool PublishOutput::Impl::Session::write(Impl& d, const AccessUnit& au, std::string& why) {
    // The capture time since the session's first unit, in the stream's time base (90 kHz).
    const int64_t ns = std::max<int64_t>(0, au.captureTimeNs - epochNs);
    const AVRational tb = stream->time_base;
    const int64_t perSecond = tb.num > 0 ? tb.den / tb.num : kClockRate;
    int64_t pts = ns / 1'000'000'000 * perSecond + ns % 1'000'000'000 * perSecond / 1'000'000'000;
    if (pts <= lastPts) {
        pts = lastPts + 1;  // two captures within one tick: keep the stream strictly increasing
    }
    lastPts = pts;
    packet->data = const_cast<uint8_t*>(au.data.data());
    packet->size = static_cast<int>(au.data.size());
    packet->pts = pts;
    packet->dts = pts;  // no reordering: zerolatency encodes no B-frames
    packet->duration = 0;
    packet->stream_index = 0;
    packet->flags = au.keyframe ? AV_PKT_FLAG_KEY : 0;
    packet->buf = nullptr;
    d.armDeadline(d.config.connectTimeoutMs);
    const int r = av.writeFrame(ctx, packet);
    if (r < 0) {
        why = d.failureText(r, "sending");
        return false;
    }
    return true;
}

void PublishOutput::Impl::Session::close() {
    if (ctx != nullptr) {
        if (headerWritten) {
            // RTSP: TEARDOWN (not waited for) and the connection closed; MPEG-TS: flushed.
            av.writeTrailer(ctx);
        }
        if (ownsIo) {
            av.ioClose(&ctx->pb);
        }
        av.freeContext(ctx);
        ctx = nullptr;
    }
    if (packet != nullptr) {
        av.packetFree(&packet);
    }
    takeAvformatMessage();
}

void PublishOutput::Impl::maybeRequestKeyframeLocked() {
    const int64_t now = monotonicNs();
    if (now - lastKeyframeRequestNs >= int64_t{config.keyframeRequestIntervalMs} * kMs) {
        lastKeyframeRequestNs = now;
        requestKeyframe();
    }
}

AccessUnitPtr PublishOutput::Impl::pop() {
    std::unique_lock lock(mutex);
    for (;;) {
        if (finishing && monotonicNs() > finishDeadlineNs.load()) {
            totals.unsent += queue.size();
            queue.clear();
            queueBytes = 0;
            return nullptr;
        }
        if (!queue.empty()) {
            AccessUnitPtr au = std::move(queue.front());
            queue.pop_front();
            queueBytes -= au->data.size();
            inFlight = 1;
            return au;
        }
        if (finishing) {
            return nullptr;
        }
        cv.wait(lock);
    }
}

void PublishOutput::Impl::run() {
    int failuresInRow = 0;
    for (;;) {
        {
            std::lock_guard lock(mutex);
            if (finishing) {
                break;
            }
            if (!accepting) {
                // A new attempt after a failure or a loss. (The first one was set up by the
                // constructor: units may be queued before this thread runs.)
                accepting = true;
                waiting = true;
                gap = false;
            }
            totals.state = "connecting";
            lastKeyframeRequestNs = std::numeric_limits<int64_t>::min() / 2;
            maybeRequestKeyframeLocked();
        }
        AccessUnitPtr first = pop();
        if (!first) {
            break;
        }
        std::string why;
        bool lost = false;
        bool done = false;
        {
            Session s(*av);
            if (s.open(*this, *first, why)) {
                failuresInRow = 0;
                LOG_INFO(kTag, "%s: publishing to %s", label.c_str(), target.display.c_str());
                {
                    std::lock_guard lock(mutex);
                    ++totals.sessions;
                    totals.state = "publishing";
                }
                for (AccessUnitPtr au = std::move(first); au; au = pop()) {
                    if (!s.write(*this, *au, why)) {
                        lost = true;
                        std::lock_guard lock(mutex);
                        ++totals.unsent;  // the unit being written
                        inFlight = 0;
                        break;
                    }
                    const int64_t now = monotonicNs();
                    std::lock_guard lock(mutex);
                    ++totals.framesSent;
                    inFlight = 0;
                    totals.bytesSent += au->data.size();
                    latencies.push_back(now - au->captureTimeNs);
                }
                done = !lost;
            } else {
                std::lock_guard lock(mutex);
                ++totals.unsent;  // the unit the session was to start with
                inFlight = 0;
            }
            std::lock_guard lock(mutex);
            if (finishing && !lost) {
                done = true;
            }
        }
        if (done) {
            break;
        }
        {
            std::lock_guard lock(mutex);
            accepting = false;
            totals.unsent += queue.size();
            queue.clear();
            queueBytes = 0;
            if (lost) {
                ++totals.disconnects;
            } else {
                ++totals.failures;
            }
            if (finishing) {
                break;
            }
        }
        ++failuresInRow;
        const char* what = lost ? "lost the session with" : "cannot publish to";
        if (config.exitOnDisconnect) {
            LOG_ERROR(kTag, "%s: %s %s: %s (--exit-on-disconnect)", label.c_str(), what,
                      target.display.c_str(), why.c_str());
            setState("failed");
            setFatal(kExitNetwork);
            return;
        }
        const int shift = std::min(failuresInRow - 1, 20);
        int64_t delay = std::min<int64_t>(int64_t{config.reconnectMinMs} << shift,
                                          int64_t{config.reconnectMaxMs});
        // A little jitter, so that many cameras do not retry in step after a server restart.
        delay = delay * (90 + static_cast<int64_t>(jitter() % 21)) / 100;
        if (lost || retryLog.allow()) {
            LOG_WARN(kTag, "%s: %s %s: %s; retrying in %lld ms", label.c_str(), what,
                     target.display.c_str(), why.c_str(), static_cast<long long>(delay));
        }
        std::unique_lock lock(mutex);
        totals.state = "retrying";
        cv.wait_for(lock, std::chrono::milliseconds(delay), [this] { return finishing; });
    }
    std::lock_guard lock(mutex);
    accepting = false;
    totals.state = "finished";
}

PublishOutput::PublishOutput(const std::string& url, int index, const NetConfig& config,
                             std::function<void()> requestKeyframe) {
    impl_ = std::make_unique<Impl>(parsePublishUrl(url).orThrow("--publish: "), index, config,
                                   std::move(requestKeyframe));
    Impl& d = *impl_;
    d.av = &avformatLib();
    d.totals.state = "connecting";
    d.accepting = true;  // the first unit may come before the thread runs
    d.lastCollectNs = monotonicNs();
    d.thread = std::thread([&d] { d.run(); });
}

PublishOutput::~PublishOutput() {
    finish();
}

const char* PublishOutput::name() const {
    return impl_->label.c_str();
}

void PublishOutput::consume(const AccessUnitPtr& au) {
    Impl& d = *impl_;
    {
        std::lock_guard lock(d.mutex);
        if (d.finishing) {
            return;
        }
        if (!d.accepting) {
            ++d.totals.unsent;
            return;
        }
        if (d.waiting) {
            if (!net::isStartPoint(*au)) {
                ++(d.gap ? d.totals.drops : d.totals.unsent);
                d.maybeRequestKeyframeLocked();
                return;
            }
            d.waiting = false;
            d.gap = false;
        }
        const size_t limit = std::max<size_t>(2, d.config.peerQueueFrames);
        if (d.queue.size() >= limit || d.queueBytes + au->data.size() > d.config.peerQueueBytes) {
            // The server is slower than the camera: what is queued is stale by now. Start
            // again at the next keyframe rather than deliver a broken picture.
            d.totals.drops += d.queue.size() + 1;
            d.queue.clear();
            d.queueBytes = 0;
            d.waiting = true;
            d.gap = true;
            d.maybeRequestKeyframeLocked();
            return;
        }
        d.queue.push_back(au);
        d.queueBytes += au->data.size();
    }
    d.cv.notify_one();
}

void PublishOutput::finish() {
    Impl& d = *impl_;
    if (d.finished) {
        return;
    }
    d.finished = true;
    {
        std::lock_guard lock(d.mutex);
        d.finishing = true;
        // A session that is up gets --finish-timeout to deliver what is queued; anything
        // else (connecting, waiting to retry) ends now.
        const bool up = d.totals.state == "publishing";
        const int64_t end = monotonicNs() + (up ? int64_t{d.config.finishTimeoutMs} * kMs : 0);
        d.finishDeadlineNs.store(end);
        d.deadlineNs.store(std::min(d.deadlineNs.load(), end));
    }
    d.cv.notify_all();
    if (d.thread.joinable()) {
        d.thread.join();
    }
}

PublishStats PublishOutput::stats() const {
    std::lock_guard lock(impl_->mutex);
    PublishStats s = impl_->totals;
    s.queueFrames = impl_->queue.size() + impl_->inFlight;
    return s;
}

void PublishOutput::collectStats(StatsReport& report) {
    Impl& d = *impl_;
    const int64_t now = monotonicNs();
    std::vector<int64_t> lat;
    PublishStats t;
    {
        std::lock_guard lock(d.mutex);
        lat.swap(d.latencies);
        t = d.totals;
        t.queueFrames = d.queue.size() + d.inFlight;
    }
    const double seconds = static_cast<double>(now - d.lastCollectNs) / 1e9;
    const uint64_t bytes = t.bytesSent - d.collectedBytes;
    d.collectedBytes = t.bytesSent;
    d.lastCollectNs = now;
    const std::string& p = d.prefix;
    report.add(p + "state", t.state);
    report.add(p + "kbps", seconds > 0 ? static_cast<double>(bytes) * 8 / 1000 / seconds : 0.0,
               "kbit/s", 0);
    report.add(p + "frames", static_cast<int64_t>(t.framesSent));
    report.add(p + "queue", static_cast<int64_t>(t.queueFrames), "frames");
    report.add(p + "drops", static_cast<int64_t>(t.drops));
    report.add(p + "unsent", static_cast<int64_t>(t.unsent));
    report.add(p + "sessions", static_cast<int64_t>(t.sessions));
    report.add(p + "failures", static_cast<int64_t>(t.failures));
    report.add(p + "disconnects", static_cast<int64_t>(t.disconnects));
    report.add(p + "latency_p50_ms", static_cast<double>(percentile(lat, 0.5)) / 1e6, "ms", 2);
}

int PublishOutput::fatalError() const {
    return impl_->fatal.load();
}

void PublishOutput::watchState(std::function<void()> changed) {
    std::lock_guard lock(impl_->watchMutex);
    impl_->watch = std::move(changed);
}

std::vector<std::unique_ptr<Sink>> makePublishSinks(const NetConfig& config,
                                                    const std::function<void()>& requestKeyframe) {
    std::vector<std::unique_ptr<Sink>> sinks;
    int index = 1;
    for (const std::string& url : config.publish) {
        sinks.push_back(std::make_unique<PublishOutput>(url, index++, config, requestKeyframe));
    }
    return sinks;
}

}  // namespace h265direct::publish
