// SPDX-License-Identifier: GPL-2.0-or-later
// The public side of a TcpOutput: start-up, the engine thread's hand-off to the loop thread,
// the figures, and the end. The rest lives by job in output_loop.cpp, tcp_client.cpp and
// tcp_server.cpp (see tcp_output_impl.hpp for the thread map).

#include "net/tcp_output.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/percentile.hpp"
#include "h265direct/stats.hpp"
#include "net/tcp_output_impl.hpp"

namespace h265direct::net {

TcpOutput::TcpOutput(Mode mode, const NetConfig& config, std::function<void()> requestKeyframe)
    : impl_(std::make_unique<Impl>(mode, config, std::move(requestKeyframe))) {
    Impl& d = *impl_;
    if (config.reconnectMinMs > config.reconnectMaxMs || config.reconnectMinMs <= 0) {
        throw StartupError(kExitUsage, "--reconnect-min " + std::to_string(config.reconnectMinMs) +
                                           " must be from 1 to --reconnect-max " +
                                           std::to_string(config.reconnectMaxMs));
    }
    if (mode == Mode::Client) {
        d.setUpClient();
    } else {
        d.setUpServer();
    }
    d.wakeFd.reset(eventfd(0, EFD_CLOEXEC));
    if (!d.wakeFd) {
        throw StartupError(kExitFailure, std::string("eventfd: ") + std::strerror(errno));
    }
    d.io = makeIoLoop(config.io);
    d.ioDescription = d.io->describe();
    LOG_INFO(kNetTag, "%s: network I/O: %s", name(), d.ioDescription.c_str());
    d.zeroCopyAvailable = config.zeroCopy != ZeroCopy::Off && d.io->features().zeroCopySend;
    if (config.zeroCopy == ZeroCopy::On && !d.zeroCopyAvailable) {
        LOG_WARN(kNetTag, "--zerocopy on: %s has no zero-copy send here; using plain sends",
                 d.io->backend());
    }
    for (auto& l : d.server.listeners) {
        d.io->adopt(l->fd.get());
    }
    d.io->adopt(d.wakeFd.get());
    d.setWants(mode == Mode::Client || config.keepEncoding);
    d.lastCollectNs = monotonicNs();
    d.thread = std::thread([&d] {
        // Named for top -H and per-thread figures: "h265d-client", "h265d-server", "h265d-rtsp".
        pthread_setname_np(pthread_self(), d.mode == Mode::Client   ? "h265d-client"
                                           : d.mode == Mode::Server ? "h265d-server"
                                                                    : "h265d-rtsp");
        d.run();
    });
}

TcpOutput::~TcpOutput() {
    finish();
}

const char* TcpOutput::name() const {
    return impl_->mode == Mode::Client   ? "tcp-client"
           : impl_->mode == Mode::Server ? "tcp-server"
                                         : "rtsp-server";
}

void TcpOutput::consume(const AccessUnitPtr& au) {
    Impl& d = *impl_;
    bool notify = false;
    {
        std::lock_guard lock(d.handoff.mutex);
        if (d.handoff.finishRequested) {
            return;
        }
        const size_t limit = std::max<size_t>(16, d.config.peerQueueFrames);
        if (d.handoff.incoming.size() >= limit) {
            d.handoff.incoming.pop_front();
            ++d.handoff.drops;
            d.handoff.gap = true;
        }
        d.handoff.incoming.push_back(au);
        if (!d.handoff.wakePending) {
            d.handoff.wakePending = true;
            notify = true;
        }
    }
    if (notify) {
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(d.wakeFd.get(), &one, sizeof one);
    }
}

void TcpOutput::finish() {
    Impl& d = *impl_;
    if (d.finished) {
        return;
    }
    d.finished = true;
    {
        std::lock_guard lock(d.handoff.mutex);
        d.handoff.finishRequested = true;
    }
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(d.wakeFd.get(), &one, sizeof one);
    if (d.thread.joinable()) {
        d.thread.join();
    }
}

void TcpOutput::collectStats(StatsReport& report) {
    Impl& d = *impl_;
    const int64_t now = monotonicNs();
    std::vector<int64_t> lat;
    OutputStats t;
    {
        std::lock_guard lock(d.figures.mutex);
        lat.swap(d.figures.latencies);
        t = d.figures.totals;
    }
    uint64_t handoffDrops = 0;
    {
        std::lock_guard lock(d.handoff.mutex);
        handoffDrops = d.handoff.drops;
    }
    const std::string prefix = d.mode == Mode::Client   ? "client_"
                               : d.mode == Mode::Server ? "server_"
                                                        : "rtsp_";
    const double seconds = static_cast<double>(now - d.lastCollectNs) / 1e9;
    const uint64_t bytes = t.bytesSent - d.collectedBytes;
    d.collectedBytes = t.bytesSent;
    d.lastCollectNs = now;
    uint64_t drops = t.drops + handoffDrops;
    size_t maxQueue = 0;
    std::string detail;
    int64_t playing = 0;
    for (const PeerStats& p : t.peers) {
        drops += p.drops;
        maxQueue = std::max(maxQueue, p.queueFrames);
        playing += p.playing ? 1 : 0;
        if (d.mode != Mode::Client) {
            if (!detail.empty()) {
                detail += ' ';
            }
            detail += std::to_string(p.id) + ":q" + std::to_string(p.queueFrames) + "/d" +
                      std::to_string(p.drops);
        }
    }
    if (d.mode == Mode::Client) {
        report.add(prefix + "state", t.state);
    } else {
        report.add(prefix + "peers", static_cast<int64_t>(t.peers.size()));
    }
    if (d.mode == Mode::Rtsp) {
        report.add(prefix + "playing", playing);
    }
    report.add(prefix + "kbps", seconds > 0 ? static_cast<double>(bytes) * 8 / 1000 / seconds : 0.0,
               "kbit/s", 0);
    report.add(prefix + "bytes", static_cast<int64_t>(t.bytesSent), "B");
    report.add(prefix + "queue", static_cast<int64_t>(maxQueue), "frames");
    report.add(prefix + "drops", static_cast<int64_t>(drops));
    if (d.mode == Mode::Client) {
        report.add(prefix + "reconnects",
                   static_cast<int64_t>(t.connects > 0 ? t.connects - 1 : 0));
        report.add(prefix + "connect_failures", static_cast<int64_t>(t.connectFailures));
    } else {
        report.add(prefix + "peer_queues", detail.empty() ? std::string("-") : detail);
        report.add(prefix + "refused", static_cast<int64_t>(t.refused));
    }
    if (d.mode == Mode::Rtsp) {
        report.add(prefix + "bad_requests", static_cast<int64_t>(t.badRequests));
        report.add(prefix + "timeouts", static_cast<int64_t>(t.timeouts));
        report.add(prefix + "unauthorized", static_cast<int64_t>(t.unauthorized));
        report.add(prefix + "udp_lost", static_cast<int64_t>(t.udpLost), "packets");
        report.add(prefix + "udp_gso_sends", static_cast<int64_t>(t.udpGsoSends));
        report.add(prefix + "udp_gso_refused", static_cast<int64_t>(t.udpGsoRefused));
        report.add(prefix + "rtcp_reports", static_cast<int64_t>(t.rtcpReports));
        report.add(prefix + "rtcp_rejected", static_cast<int64_t>(t.rtcpRejected));
        report.add(prefix + "rtcp_overflow", static_cast<int64_t>(t.rtcpOverflow));
    }
    report.add(prefix + "latency_p50_ms", static_cast<double>(percentile(lat, 0.5)) / 1e6, "ms", 2);
    report.add(prefix + "latency_p99_ms", static_cast<double>(percentile(lat, 0.99)) / 1e6, "ms",
               2);
    report.add(prefix + "io", d.ioDescription);
}

void TcpOutput::Impl::setWants(bool v) {
    if (wants.exchange(v) != v) {
        std::lock_guard lock(watchMutex);
        if (watch) {
            watch();
        }
    }
}

void TcpOutput::Impl::setFatal(int code) {
    fatal.store(code);
    std::lock_guard lock(watchMutex);
    if (watch) {
        watch();
    }
}

void TcpOutput::watchState(std::function<void()> changed) {
    std::lock_guard lock(impl_->watchMutex);
    impl_->watch = std::move(changed);
}

int TcpOutput::fatalError() const {
    return impl_->fatal.load();
}

bool TcpOutput::wantsFrames() const {
    return impl_->wants.load();
}

OutputStats TcpOutput::stats() const {
    std::lock_guard lock(impl_->figures.mutex);
    OutputStats t = impl_->figures.totals;
    for (const PeerStats& p : t.peers) {
        t.drops += p.drops;
    }
    return t;
}

uint16_t TcpOutput::localPort() const {
    return impl_->server.boundPort;
}

const char* TcpOutput::ioBackend() const {
    return impl_->io->backend();
}

std::string TcpOutput::ioDescription() const {
    return impl_->ioDescription;
}

}  // namespace h265direct::net
