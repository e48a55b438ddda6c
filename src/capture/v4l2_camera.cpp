// SPDX-License-Identifier: GPL-2.0-or-later
// The V4L2 camera source: negotiation at the start, the newest-frame policy while streaming,
// and the device-loss policy (retry with backoff, find the camera again by its identity, set
// format, rate and controls again). One file (about 700 lines): these three share the one
// state of the class (the session, the layout, the counters, the sequence numbering) and
// each step of one calls the others; the device session itself (fd, format, mappings) is
// v4l2_session.cpp, the matching by identity camera_identity.cpp.

#include "capture/v4l2_camera.hpp"

#include <linux/videodev2.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <optional>
#include <vector>

#include "capture/camera_identity.hpp"
#include "capture/format_negotiation.hpp"
#include "capture/v4l2_controls.hpp"
#include "capture/v4l2_device.hpp"
#include "capture/v4l2_frame_layout.hpp"
#include "capture/v4l2_session.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "frame/pixel_format.hpp"

namespace h265direct {

namespace {

constexpr const char* kTag = "camera";
constexpr int kFirstBackoffMs = 100;
constexpr int kMaxBackoffMs = 2000;
// Lease indices carry the stream generation above these bits, so that a lease handed back
// after the device was reopened is recognised as stale and ignored.
constexpr uint32_t kIndexBits = 8;
constexpr uint32_t kIndexMask = (1u << kIndexBits) - 1;

bool canConvert(uint32_t fourcc) {
    return findPixelFormat(fourcc) != nullptr;
}

int64_t timevalNs(const timeval& tv) {
    return static_cast<int64_t>(tv.tv_sec) * 1'000'000'000 +
           static_cast<int64_t>(tv.tv_usec) * 1000;
}

std::string sizeText(int w, int h) {
    return std::to_string(w) + "x" + std::to_string(h);
}

// Where the planes of `applied` lie in its buffers; nullopt when the driver's numbers make
// no sense for the format.
std::optional<CameraFrameLayout> layoutFor(const AppliedFormat& applied) {
    const PixelFormatInfo* info = findPixelFormat(applied.fourcc);
    const auto tight = packedLayout(applied.fourcc, applied.width, applied.height);
    if (info == nullptr || !tight || applied.buffers != info->buffers) {
        return std::nullopt;
    }
    std::optional<CameraFrameLayout> layout =
        info->buffers == 1
            ? cameraFrameLayout(info->planes, info->xChromaShift, info->yChromaShift,
                                tight->strides[0] / applied.width, applied.width, applied.height,
                                applied.bytesPerLine[0])
            : cameraSeparatePlanesLayout(info->planes, info->xChromaShift, info->yChromaShift,
                                         info->chromaBytesPerSample, applied.width, applied.height,
                                         applied.bytesPerLine);
    if (!layout) {
        return std::nullopt;
    }
    for (int b = 0; b < layout->bufferCount; ++b) {
        const auto i = static_cast<size_t>(b);
        if (applied.sizeImage[i] != 0 && layout->bufferBytes[i] > applied.sizeImage[i]) {
            return std::nullopt;
        }
    }
    return layout;
}

std::string layoutText(const AppliedFormat& applied) {
    std::string text;
    for (int b = 0; b < applied.buffers; ++b) {
        const auto i = static_cast<size_t>(b);
        appendItem(text, ", ",
                   "bytesperline " + std::to_string(applied.bytesPerLine[i]) + ", sizeimage " +
                       std::to_string(applied.sizeImage[i]));
    }
    return text;
}

class V4l2Camera final : public FrameSource {
public:
    explicit V4l2Camera(const SourceConfig& config);
    ~V4l2Camera() override;

    const FrameFormat& format() const override { return format_; }
    std::string describe() const override;
    Status next(FrameLease& out, const StopSignal& stop) override;
    void collectStats(StatsReport& report) override;

protected:
    void releaseFrame(uint32_t index) override;

private:
    // A failed set-up step (StepFailure): the caller decides, an exit code at start-up, a
    // later retry after a device loss.
    StepFailure apply(AppliedFormat& applied) {
        return session_.apply(choice_.fourcc, choice_.width, choice_.height, choice_.rate, applied);
    }
    StepFailure startStreaming();
    void stopStreaming();
    int queue(uint32_t buffer) { return session_.queue(buffer); }
    // allowStaleDrop: a newest frame that is already old may go back for a fresh one.
    Status dequeueNewest(FrameLease& out, bool& allowStaleDrop);
    Status deviceFailed(int err, const char* what);
    bool tryReopen();
    // Opens the camera again where it is now (see tryReopen): 0 or -errno.
    int openCamera();
    Status waitWhileLost(const StopSignal& stop, int64_t deadline);
    void reportTimeout(int waitedMs);
    std::string controlsText() const;

    // Settings.
    SourceConfig config_;
    FormatChoice choice_;
    FrameFormat format_;
    CameraFrameLayout layout_;
    std::string card_;
    CameraIdentity identity_;  // what VIDIOC_QUERYCAP said of it at the start
    std::string node_;         // the node it was last opened at

    // Live state.
    V4l2Session session_;
    uint32_t generation_ = 0;
    bool pendingLoss_ = false;  // a requeue failed with the device gone
    bool lostDevice_ = false;   // the last failure was the device vanishing (not a stream error)
    int pendingErr_ = 0;
    int64_t lostSinceNs_ = 0;
    int64_t nextAttemptNs_ = 0;
    int backoffMs_ = kFirstBackoffMs;
    bool discontinuity_ = false;
    bool haveSequence_ = false;
    uint32_t lastSequence_ = 0;
    uint64_t sequenceOffset_ = 0;
    uint64_t lastOutSequence_ = 0;
    bool anyFrame_ = false;
    bool warnedClock_ = false;
    LogThrottle timeoutLog_{5'000'000'000};
    LogThrottle badFrameLog_{5'000'000'000};
    LogThrottle waitingLog_{10'000'000'000};
    LogThrottle otherDeviceLog_{10'000'000'000};

    // Counters: totals and since the last collectStats().
    uint64_t frames_ = 0;
    uint64_t driverDrops_ = 0;
    uint64_t skipped_ = 0;
    uint64_t reconnects_ = 0;
    uint64_t badFrames_ = 0;
    uint64_t reportedDrops_ = 0;
    uint64_t reportedSkipped_ = 0;
    uint64_t reportedReconnects_ = 0;
};

V4l2Camera::V4l2Camera(const SourceConfig& config) : config_(config) {
    const std::string& path = config_.path;
    if (config_.camera.buffers < 2 || config_.camera.buffers > kIndexMask) {
        throw StartupError(kExitUsage,
                           "--buffers must be between 2 and " + std::to_string(kIndexMask));
    }
    session_.adopt(openCaptureDevice(path));
    const V4l2Device& dev = session_.device();
    card_ = dev.card();
    identity_ = dev.identity();
    node_ = path;

    NegotiationRequest request;
    request.fourcc = config_.fourcc;
    request.width = config_.width;
    request.height = config_.height;
    request.rate = FrameRate{config_.fpsNum, config_.fpsDen};
    choice_ =
        negotiateFormat(dev.enumerateFormats(config_.width, config_.height), request, canConvert)
            .orThrow(path + ": ");
    for (const std::string& note : choice_.notes) {
        LOG_INFO(kTag, "%s: %s", path.c_str(), note.c_str());
    }

    AppliedFormat applied;
    if (const StepFailure f = apply(applied)) {
        if (f.err == -EBUSY) {
            throwDeviceError(path, f.step, f.err);
        }
        throw StartupError(kExitFormat, path + ": " + f.step + " failed for " +
                                            fourccToString(choice_.fourcc) + " " +
                                            sizeText(choice_.width, choice_.height) + ": " +
                                            std::strerror(-f.err));
    }
    if (applied.fourcc != choice_.fourcc || applied.width != choice_.width ||
        applied.height != choice_.height) {
        throw StartupError(kExitFormat, path + ": asked for " + fourccToString(choice_.fourcc) +
                                            " " + sizeText(choice_.width, choice_.height) +
                                            ", the device gave " + fourccToString(applied.fourcc) +
                                            " " + sizeText(applied.width, applied.height) +
                                            " (see --list-formats)");
    }
    if (!packedLayout(applied.fourcc, applied.width, applied.height)) {
        throw StartupError(kExitFormat, path + ": cannot use " + fourccToString(applied.fourcc) +
                                            " " + sizeText(applied.width, applied.height));
    }
    const auto layout = layoutFor(applied);
    if (!layout) {
        throw StartupError(kExitFormat, path + ": the driver's buffer layout for " +
                                            fourccToString(applied.fourcc) + " makes no sense (" +
                                            std::to_string(applied.buffers) + " buffers, " +
                                            layoutText(applied) + ")");
    }
    layout_ = *layout;

    format_.fourcc = applied.fourcc;
    format_.width = applied.width;
    format_.height = applied.height;
    // Keep the plain numbers when the driver's rate is the one asked for in its own units.
    FrameRate rate = applied.rate.valid() ? applied.rate : choice_.rate;
    if (compareRates(rate, choice_.rate) == 0) {
        rate = choice_.rate;
    }
    format_.fpsNum = rate.num;
    format_.fpsDen = rate.den;
    for (size_t i = 0; i < 3; ++i) {
        format_.strides[i] = layout_.strides[i];
    }
    // libv4l2 hands a JPEG's Y'CbCr samples over as they are: full range. (Its RGB from a
    // JPEG is ordinary RGB, which the converter maps to the limited range.)
    const PixelFormatInfo* info = findPixelFormat(applied.fourcc);
    format_.fullRange =
        choice_.emulated &&
        (choice_.sourceFourcc == V4L2_PIX_FMT_MJPEG || choice_.sourceFourcc == V4L2_PIX_FMT_JPEG) &&
        info != nullptr && info->layout != Layout::kRgb;

    const FrameRate asked{config_.fpsNum, config_.fpsDen};
    const FrameRate got{format_.fpsNum, format_.fpsDen};
    if (!applied.rateSettable) {
        LOG_WARN(kTag, "%s: the device does not let its frame rate be set; it runs at %s fps",
                 path.c_str(), formatRate(got).c_str());
    }
    if (compareRates(asked, got) != 0) {
        LOG_WARN(kTag, "%s: the device gives %s fps, not the %s fps asked for (%s %s)",
                 path.c_str(), formatRate(got).c_str(), formatRate(asked).c_str(),
                 fourccToString(format_.fourcc).c_str(),
                 sizeText(format_.width, format_.height).c_str());
    }

    if (!config_.camera.controls.empty()) {
        applyControls(session_.device(), config_.camera.controls).orThrow(path + ": ");
        LOG_INFO(kTag, "%s: controls set: %s", path.c_str(), controlsText().c_str());
    }

    if (const StepFailure f = startStreaming()) {
        stopStreaming();
        if (f.err == -EBUSY) {
            throwDeviceError(path, f.step, f.err);
        }
        throw StartupError(f.err == -ENODEV ? kExitInput : kExitFailure,
                           path + ": " + f.step + " failed: " + std::strerror(-f.err));
    }
    LOG_INFO(kTag, "%s", describe().c_str());
}

V4l2Camera::~V4l2Camera() {
    stopStreaming();
    session_.close();
    LOG_INFO(kTag,
             "%s: %" PRIu64 " frames delivered, %" PRIu64 " skipped (newest frame taken), %" PRIu64
             " dropped by the driver, %" PRIu64 " reconnects",
             config_.path.c_str(), frames_, skipped_, driverDrops_, reconnects_);
}

std::string V4l2Camera::describe() const {
    return config_.path + " (" + card_ + "): " + fourccToString(format_.fourcc) +
           (choice_.emulated ? " (converted by libv4l2)" : "") + " " +
           sizeText(format_.width, format_.height) + " at " +
           formatRate(FrameRate{format_.fpsNum, format_.fpsDen}) + " fps, " +
           std::to_string(session_.bufferCount() == 0 ? config_.camera.buffers
                                                      : session_.bufferCount()) +
           " buffers" +
           (layout_.bufferCount > 1 ? " of " + std::to_string(layout_.bufferCount) + " planes"
                                    : "");
}

StepFailure V4l2Camera::startStreaming() {
    StepFailure f = session_.start(config_.camera.buffers, kIndexMask, layout_.bufferCount,
                                   layout_.bufferBytes);
    haveSequence_ = false;
    return f;
}

void V4l2Camera::stopStreaming() {
    session_.stop();
    ++generation_;
}

void V4l2Camera::releaseFrame(uint32_t index) {
    const uint32_t buffer = index & kIndexMask;
    if ((index >> kIndexBits) != (generation_ & ((1u << (32 - kIndexBits)) - 1)) ||
        !session_.streaming() || buffer >= session_.bufferCount() || session_.queued(buffer)) {
        return;  // from a stream that has been torn down since
    }
    if (const int rc = queue(buffer); rc < 0 && !pendingLoss_) {
        // Handled by the next call to next(), where the loop can react.
        pendingLoss_ = true;
        pendingErr_ = rc;
    }
}

Status V4l2Camera::deviceFailed(int err, const char* what) {
    const bool gone = err == -ENODEV || err == -ENXIO || err == -ENOENT;
    LOG_WARN(kTag, "%s: %s (%s: %s); %s", config_.path.c_str(),
             gone ? "the device is gone" : "the device failed", what, std::strerror(-err),
             config_.camera.exitOnDeviceLoss ? "stopping (--exit-on-device-loss)"
             : gone                          ? "waiting for it to come back"
                                             : "restarting capture");
    lostDevice_ = gone;
    stopStreaming();
    session_.close();
    pendingLoss_ = false;
    lostSinceNs_ = monotonicNs();
    backoffMs_ = kFirstBackoffMs;
    nextAttemptNs_ = lostSinceNs_ + int64_t{backoffMs_} * 1'000'000;
    return Status::DeviceLost;
}

bool V4l2Camera::tryReopen() {
    const std::string& path = config_.path;
    auto retryLater = [&](const char* what, int err) {
        if (waitingLog_.allow()) {
            LOG_INFO(kTag, "%s: not back yet (%s: %s); trying again, at most every %d ms",
                     path.c_str(), what, std::strerror(-err), kMaxBackoffMs);
        }
        nextAttemptNs_ = monotonicNs() + int64_t{backoffMs_} * 1'000'000;
        backoffMs_ = std::min(backoffMs_ * 2, kMaxBackoffMs);
        stopStreaming();
        session_.close();
        return false;
    };
    if (const int rc = openCamera(); rc < 0) {
        return retryLater("open", rc);
    }
    if (!session_.device().canCapture() || !session_.device().canStream()) {
        return retryLater("VIDIOC_QUERYCAP", -ENODEV);
    }
    AppliedFormat applied;
    if (const StepFailure f = apply(applied)) {
        return retryLater(f.step, f.err);
    }
    if (applied.fourcc != format_.fourcc || applied.width != format_.width ||
        applied.height != format_.height) {
        LOG_WARN(kTag, "%s: the device came back with %s %s instead of %s %s; waiting",
                 path.c_str(), fourccToString(applied.fourcc).c_str(),
                 sizeText(applied.width, applied.height).c_str(),
                 fourccToString(format_.fourcc).c_str(),
                 sizeText(format_.width, format_.height).c_str());
        return retryLater("VIDIOC_S_FMT", -EINVAL);
    }
    // Same format, perhaps different padding: frames carry their strides, so only the
    // layout moves.
    const auto fresh = layoutFor(applied);
    if (!fresh) {
        return retryLater("VIDIOC_S_FMT", -EINVAL);
    }
    layout_ = *fresh;
    // A device that comes back has its controls at their defaults: set them again. One the
    // device no longer takes is reported, and streaming goes on.
    if (!config_.camera.controls.empty()) {
        if (const Result<size_t> set = applyControls(session_.device(), config_.camera.controls);
            !set) {
            LOG_WARN(kTag, "%s: %s", path.c_str(), set.error().message.c_str());
        } else {
            LOG_INFO(kTag, "%s: controls set again: %s", path.c_str(), controlsText().c_str());
        }
    }
    if (const StepFailure f = startStreaming()) {
        return retryLater(f.step, f.err);
    }
    ++reconnects_;
    discontinuity_ = true;
    backoffMs_ = kFirstBackoffMs;
    LOG_WARN(kTag, "%s: %s after %.1f s; streaming again (reconnect %" PRIu64 ")", path.c_str(),
             lostDevice_ ? "the device is back" : "capture restarted",
             static_cast<double>(monotonicNs() - lostSinceNs_) / 1e9, reconnects_);
    if (session_.device().path() != node_) {
        node_ = session_.device().path();
        LOG_WARN(kTag, "%s: camera returned as %s (%s, %s)", path.c_str(), node_.c_str(),
                 identity_.card.c_str(), identity_.busInfo.c_str());
    }
    return true;
}

int V4l2Camera::openCamera() {
    // Where it was last, then the path given (a /dev/v4l/by-id name follows the camera by
    // itself), then wherever a node has its identity: a USB camera may come back under
    // another number, and another camera may have taken the old one.
    std::vector<std::string> tried;
    int rc = -ENOENT;
    auto attempt = [&](const std::string& node) {
        if (std::find(tried.begin(), tried.end(), node) != tried.end()) {
            return false;
        }
        tried.push_back(node);
        rc = session_.open(node);
        if (rc < 0) {
            return false;
        }
        if (const CameraIdentity found = session_.device().identity(); found != identity_) {
            if (otherDeviceLog_.allow()) {
                LOG_INFO(kTag,
                         "%s: another device is at %s now (%s, %s); looking for the camera "
                         "(%s, %s)",
                         config_.path.c_str(), node.c_str(), found.card.c_str(),
                         found.busInfo.c_str(), identity_.card.c_str(), identity_.busInfo.c_str());
            }
            session_.close();
            rc = -ENODEV;
            return false;
        }
        return true;
    };
    if (attempt(node_) || attempt(config_.path)) {
        return 0;
    }
    const int pathRc = rc;
    if (const auto found = findCamera(identity_, listVideoNodes())) {
        if (attempt(*found)) {
            return 0;
        }
    }
    return pathRc;
}

std::string V4l2Camera::controlsText() const {
    std::string text;
    for (const CameraControl& c : config_.camera.controls) {
        appendItem(text, ", ", c.name + "=" + c.value);
    }
    return text;
}

void V4l2Camera::reportTimeout(int waitedMs) {
    if (timeoutLog_.allow()) {
        LOG_WARN(kTag, "%s: no frame for %d ms (%s)", config_.path.c_str(), waitedMs,
                 session_.streaming() ? "the device is stalled or very slow"
                 : lostDevice_        ? "the device is gone; still waiting for it to come back"
                                      : "capture is being restarted");
    }
}

Status V4l2Camera::waitWhileLost(const StopSignal& stop, int64_t deadline) {
    for (;;) {
        if (stop.requested()) {
            return Status::Stopped;
        }
        int64_t now = monotonicNs();
        if (now >= nextAttemptNs_ && tryReopen()) {
            return Status::Ok;
        }
        now = monotonicNs();
        if (now >= deadline) {
            return Status::Again;
        }
        const int64_t wake = std::min(deadline, nextAttemptNs_);
        pollfd pfd{stop.fd(), POLLIN, 0};
        const int ms = static_cast<int>(std::max<int64_t>((wake - now + 999'999) / 1'000'000, 0));
        if (::poll(&pfd, 1, ms) < 0 && errno != EINTR) {
            return Status::Error;
        }
    }
}

Status V4l2Camera::next(FrameLease& out, const StopSignal& stop) {
    out = FrameLease();
    const int timeoutMs = std::max(config_.camera.frameTimeoutMs, 1);
    const int64_t start = monotonicNs();
    const int64_t deadline = start + int64_t{timeoutMs} * 1'000'000;
    bool allowStaleDrop = true;
    if (pendingLoss_ && session_.streaming()) {
        deviceFailed(pendingErr_, "VIDIOC_QBUF");
        if (config_.camera.exitOnDeviceLoss) {
            return Status::DeviceLost;
        }
    }
    for (;;) {
        if (stop.requested()) {
            return Status::Stopped;
        }
        if (!session_.streaming()) {
            const Status s = waitWhileLost(stop, deadline);
            if (s == Status::Again) {
                reportTimeout(timeoutMs);
            }
            if (s != Status::Ok) {
                return s;
            }
            continue;
        }
        const int64_t now = monotonicNs();
        if (now >= deadline) {
            reportTimeout(timeoutMs);
            return Status::Again;
        }
        pollfd fds[2] = {{session_.device().fd(), POLLIN, 0}, {stop.fd(), POLLIN, 0}};
        const int ms = static_cast<int>((deadline - now + 999'999) / 1'000'000);
        const int rc = ::poll(fds, 2, ms);
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            LOG_ERROR(kTag, "%s: poll: %s", config_.path.c_str(), std::strerror(errno));
            return Status::Error;
        }
        if (fds[1].revents != 0) {
            return Status::Stopped;
        }
        if (rc == 0) {
            continue;  // the deadline check above reports it
        }
        // POLLERR without POLLIN: the stream or device failed; DQBUF tells how.
        const Status s = dequeueNewest(out, allowStaleDrop);
        if (s == Status::Ok) {
            return s;
        }
        if (s == Status::DeviceLost && config_.camera.exitOnDeviceLoss) {
            return s;
        }
        if (s == Status::Error) {
            return s;
        }
        if (s == Status::Again && (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
            // Readable with an error, yet DQBUF says nothing is ready: treat as failed
            // rather than spin on a poll that keeps returning at once.
            deviceFailed(-EIO, "poll");
            if (config_.camera.exitOnDeviceLoss) {
                return Status::DeviceLost;
            }
        }
    }
}

Status V4l2Camera::dequeueNewest(FrameLease& out, bool& allowStaleDrop) {
    int held = -1;
    DequeuedBuffer heldBuf;
    int failure = 0;
    for (;;) {
        if (held >= 0) {
            // Another one ready? Asked with poll() rather than a DQBUF that fails with
            // EAGAIN, which libv4l2 would report as an error.
            pollfd pfd{session_.device().fd(), POLLIN, 0};
            if (::poll(&pfd, 1, 0) <= 0 || (pfd.revents & (POLLIN | POLLERR)) == 0) {
                break;
            }
        }
        DequeuedBuffer b;
        const int rc = session_.dequeue(b);
        if (rc == -EAGAIN) {
            break;
        }
        if (rc < 0) {
            failure = rc;
            break;
        }
        if (b.index >= session_.bufferCount()) {
            continue;
        }

        // The driver's frame counter: a jump means frames it had no buffer for.
        if (haveSequence_ && b.sequence > lastSequence_ + 1) {
            driverDrops_ += b.sequence - lastSequence_ - 1;
        }
        if (!haveSequence_ || b.sequence > lastSequence_) {
            lastSequence_ = b.sequence;
        }
        haveSequence_ = true;

        // Damaged: flagged so, or shorter than a frame in any of its planes (bytesused counts
        // the data offset too), or data placed beyond what is mapped.
        bool corrupt = (b.flags & V4L2_BUF_FLAG_ERROR) != 0;
        uint32_t used = 0;
        for (int p = 0; p < layout_.bufferCount; ++p) {
            const auto i = static_cast<size_t>(p);
            used += b.bytesUsed[i];
            const size_t payload =
                b.bytesUsed[i] > b.dataOffset[i] ? b.bytesUsed[i] - b.dataOffset[i] : 0;
            corrupt = corrupt || (b.bytesUsed[i] != 0 && payload < layout_.bufferBytes[i]) ||
                      b.dataOffset[i] + layout_.bufferBytes[i] > session_.mappedBytes(b.index, p);
        }
        if (corrupt) {
            ++badFrames_;
            ++driverDrops_;
            if (badFrameLog_.allow()) {
                LOG_WARN(kTag, "%s: the driver marked a frame as damaged (%u bytes); dropped",
                         config_.path.c_str(), used);
            }
            queue(b.index);
            continue;
        }
        if (held >= 0) {
            // An older frame is waiting too: encoding is behind the camera. Keep the newest.
            queue(static_cast<uint32_t>(held));
            ++skipped_;
        }
        held = static_cast<int>(b.index);
        heldBuf = b;
    }
    if (held < 0) {
        if (failure == 0) {
            return Status::Again;
        }
        if (failure == -EPIPE) {
            failure = -EIO;
        }
        return deviceFailed(failure, "VIDIOC_DQBUF");
    }
    if (failure != 0) {
        // Deliver what we have; the failure shows again on the next call.
        LOG_DEBUG(kTag, "%s: VIDIOC_DQBUF: %s after a frame", config_.path.c_str(),
                  std::strerror(-failure));
    }

    const int64_t now = monotonicNs();
    int64_t captured = now;
    if ((heldBuf.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) == V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC) {
        captured = timevalNs(heldBuf.timestamp);
        // Guard against a driver that fills in nonsense: never in the future, never before
        // the stream could have started.
        if (captured > now || captured <= 0) {
            captured = now;
        }
        // When every buffer sat full during a long encode, the driver dropped what came
        // after, so even the newest frame is old. All buffers are queued again now: a fresh
        // frame is at most one frame time away, and waiting for it costs less latency than
        // encoding this one. Once per call, so odd timestamps cannot stall the stream.
        const int64_t periodNs = format_.fpsNum > 0
                                     ? int64_t{1'000'000'000} * format_.fpsDen / format_.fpsNum
                                     : int64_t{33'000'000};
        const int64_t staleNs = std::max<int64_t>(3 * periodNs, 100'000'000);
        if (allowStaleDrop && failure == 0 && now - captured > staleNs) {
            allowStaleDrop = false;
            queue(static_cast<uint32_t>(held));
            ++skipped_;
            LOG_DEBUG(kTag, "%s: newest frame is %.0f ms old; waiting for a fresh one",
                      config_.path.c_str(), static_cast<double>(now - captured) / 1e6);
            return Status::Again;
        }
    } else if (!warnedClock_) {
        warnedClock_ = true;
        LOG_WARN(kTag,
                 "%s: the driver's timestamps are not from the monotonic clock; using "
                 "the time of dequeue for latency",
                 config_.path.c_str());
    }

    if (discontinuity_ || !anyFrame_) {
        sequenceOffset_ = anyFrame_ ? lastOutSequence_ + 1 - heldBuf.sequence : 0;
    }
    FrameView view;
    for (int p = 0; p < layout_.planeCount; ++p) {
        // Each plane straight from its mapping: the converter (or, for I420, the encoder)
        // reads it there.
        const auto i = static_cast<size_t>(p);
        const int b = layout_.buffer[i];
        view.planes[i] = session_.data(static_cast<uint32_t>(held), b) +
                         heldBuf.dataOffset[static_cast<size_t>(b)] + layout_.offsets[i];
        view.strides[i] = layout_.strides[i];
    }
    view.bytes = layout_.frameBytes;
    view.captureNs = captured;
    view.sequence = sequenceOffset_ + heldBuf.sequence;
    view.discontinuity = discontinuity_;
    discontinuity_ = false;
    anyFrame_ = true;
    lastOutSequence_ = view.sequence;
    ++frames_;
    const uint32_t index = (generation_ << kIndexBits) | static_cast<uint32_t>(held);
    out = FrameLease(this, index, view);
    return Status::Ok;
}

void V4l2Camera::collectStats(StatsReport& report) {
    report.add("driver_drops", static_cast<int64_t>(driverDrops_ - reportedDrops_));
    report.add("skipped", static_cast<int64_t>(skipped_ - reportedSkipped_));
    report.add("reconnects", static_cast<int64_t>(reconnects_ - reportedReconnects_));
    reportedDrops_ = driverDrops_;
    reportedSkipped_ = skipped_;
    reportedReconnects_ = reconnects_;
}

}  // namespace

std::unique_ptr<FrameSource> openV4l2Camera(const SourceConfig& config) {
    return std::make_unique<V4l2Camera>(config);
}

}  // namespace h265direct
