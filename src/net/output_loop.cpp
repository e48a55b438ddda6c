// SPDX-License-Identifier: GPL-2.0-or-later
// The loop thread of a TcpOutput: completions from the I/O seam, the hand-off from the
// engine, the peers and their queues, sending, closing, and the end of the run. One file
// (about 500 lines): these steps share the peers' life cycle (an operation in flight keeps
// a peer until its completion), and split apart they would each have to know it.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "net/tcp_output_impl.hpp"

namespace h265direct::net {

namespace {

// A peer that acknowledges nothing for this long is gone (cable pulled, host down): the
// kernel fails the connection instead of retransmitting for many minutes.
constexpr unsigned kUserTimeoutMs = 10000;
// Access units per send: several queued units go out in one sendmsg.
constexpr size_t kMaxUnitsPerSend = 32;
constexpr size_t kMaxLatencySamples = 20000;

bool isFatalZeroCopyError(int res) {
    return res == -EOPNOTSUPP || res == -EINVAL;
}

}  // namespace

void setConnectionOptions(int fd, size_t sendBuffer) {
    if (sendBuffer > 0) {
        // Less in the kernel, more in our queue, where drops keep whole access units.
        const int size = static_cast<int>(std::min<size_t>(sendBuffer, 1u << 30));
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const unsigned timeout = kUserTimeoutMs;
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof timeout);
}

void TcpOutput::Impl::armWake() {
    io->read(wakeOp, wakeFd.get(), &wakeBuf, sizeof wakeBuf);
    wakeOp.pending = true;
}

void TcpOutput::Impl::armRecv(Peer& p) {
    if (p.rtsp) {
        io->recv(p.recvOp, p.fd.get(), p.rtsp->in.data(), p.rtsp->in.size());
    } else {
        io->recv(p.recvOp, p.fd.get(), discard.data(), discard.size());
    }
    p.recvOp.pending = true;
    ++p.activeOps;
}

void TcpOutput::Impl::armTimer(Op& op, int64_t delayNs) {
    io->timer(op, delayNs);
    op.pending = true;
}

void TcpOutput::Impl::run() {
    armWake();
    if (mode == Mode::Client) {
        startConnectRound();
    } else {
        for (auto& l : server.listeners) {
            armAccept(*l);
        }
    }
    if (mode == Mode::Rtsp) {
        armTimer(rtsp.tickOp, 1000 * kMs);
    }
    publishStats();
    const auto onCompletion = [this](IoOp& op, const IoResult& r) { handle(op, r); };
    while (!exitLoop) {
        if (const int rc = io->wait(-1); rc < 0) {
            LOG_ERROR(kNetTag, "%s wait failed: %s", io->backend(), std::strerror(-rc));
            setFatal(kExitNetwork);
            break;
        }
        io->drain(onCompletion);
        afterCompletions();
    }
    teardown();
}

void TcpOutput::Impl::handle(IoOp& io_, const IoResult& r) {
    auto& op = static_cast<Op&>(io_);
    switch (op.kind) {
        case OpKind::Wake:
            op.pending = false;
            onWake();
            break;
        case OpKind::Accept:
            onAccept(*op.listener, r);
            break;
        case OpKind::Connect:
            op.pending = false;
            --op.peer->activeOps;
            onConnect(*op.peer, r.res);
            break;
        case OpKind::Timer:
            op.pending = false;
            if (r.res == -ECANCELED) {
                break;
            }
            if (op.timer == TimerKind::Reconnect) {
                if (!finishing) {
                    startConnectRound();
                }
            } else if (op.timer == TimerKind::AcceptRetry) {
                if (!finishing) {
                    armAccept(*op.listener);
                }
            } else if (op.timer == TimerKind::RtspTick) {
                if (!finishing) {
                    rtspTick();
                    armTimer(rtsp.tickOp, 1000 * kMs);
                }
            } else {
                // Receivers that did not take the rest in time are cut off.
                for (auto& p : peers) {
                    if (p->connectOp.pending) {
                        io->cancel(p->connectOp);
                    }
                    closePeer(*p, "finish timeout", false);
                }
            }
            break;
        case OpKind::Send:
            onSend(static_cast<SendOp*>(&op), r);
            break;
        case OpKind::Recv:
            op.pending = false;
            --op.peer->activeOps;
            onRecv(*op.peer, r.res);
            break;
    }
}

void TcpOutput::Impl::onWake() {
    std::deque<AccessUnitPtr> batch;
    bool finishNow = false;
    bool gap = false;
    {
        std::lock_guard lock(handoff.mutex);
        batch.swap(handoff.incoming);
        handoff.wakePending = false;
        finishNow = handoff.finishRequested;
        gap = std::exchange(handoff.gap, false);
    }
    if (gap) {
        // The loop fell behind the engine and units were lost before reaching the queues.
        for (auto& p : peers) {
            p->queue.waitForStartPoint();
        }
    }
    onResolved();
    for (const AccessUnitPtr& au : batch) {
        distribute(au);
    }
    maybeRequestKeyframe();
    if (finishNow && !finishing) {
        beginFinish();
    }
    if (!exitLoop) {
        armWake();
    }
}

void TcpOutput::Impl::distribute(const AccessUnitPtr& au) {
    if (mode == Mode::Client && clientPeer() == nullptr) {
        std::lock_guard lock(figures.mutex);
        ++figures.totals.unsent;
        return;
    }
    if (mode == Mode::Rtsp) {
        learnParameterSets(*au);
    }
    for (auto& pp : peers) {
        Peer& p = *pp;
        if (p.closing || (p.rtsp && !p.rtsp->session.playing())) {
            continue;
        }
        const PeerQueue::Offer r = p.queue.offer(au);
        if (r == PeerQueue::Offer::GapStarted && dropLog.allow()) {
            const PeerQueue::Overflow full = p.queue.lastOverflow();
            LOG_WARN(kNetTag,
                     "%s is too slow (queue full: %zu frames, %zu bytes, limits %zu frames, "
                     "%zu bytes): dropping until the next keyframe",
                     peerName(p).c_str(), full.frames, full.bytes, p.queue.maxFrames(),
                     p.queue.maxBytes());
        }
        pump(p);
    }
}

void TcpOutput::Impl::maybeRequestKeyframe() {
    bool anyWaiting = false;
    for (auto& p : peers) {
        // Only receivers that are there: no keyframes for a server that does not answer.
        const bool waiting =
            p->rtsp ? (p->rtsp->session.playing() && p->queue.waitingForStartPoint()) ||
                          p->rtsp->describeSinceNs != 0
                    : p->queue.waitingForStartPoint();
        anyWaiting = anyWaiting || (!p->closing && p->connected && waiting);
    }
    if (!anyWaiting) {
        return;
    }
    const int64_t now = monotonicNs();
    if (keyframeRequested &&
        now - lastKeyframeRequestNs < int64_t{config.keyframeRequestIntervalMs} * kMs) {
        return;
    }
    keyframeRequested = true;
    lastKeyframeRequestNs = now;
    if (requestKeyframe) {
        requestKeyframe();
    }
    std::lock_guard lock(figures.mutex);
    ++figures.totals.keyframeRequests;
}

void TcpOutput::Impl::pump(Peer& p) {
    if (p.rtsp) {
        const bool busy = sendControl(p);
        if (p.rtsp->udp) {
            pumpUdp(p);  // the media does not share the connection with the answers
            return;
        }
        if (busy) {
            return;
        }
    }
    if (p.closing || !p.connected || p.sending || !p.queue.readyToSend()) {
        return;
    }
    auto op = std::make_unique<SendOp>();
    op->peer = &p;
    p.queue.prepare(op->batch, kMaxUnitsPerSend);
    op->zeroCopy =
        zeroCopyAvailable &&
        (config.zeroCopy == ZeroCopy::On ||
         (config.zeroCopy == ZeroCopy::Auto && op->batch.bytes >= config.zeroCopyMinBytes));
    io->sendmsg(*op, p.fd.get(), &op->batch.msg, op->zeroCopy);
    op->pending = true;
    p.sending = true;
    ++p.activeOps;
    {
        std::lock_guard lock(figures.mutex);
        ++(op->zeroCopy ? figures.totals.zeroCopySends : figures.totals.plainSends);
    }
    op.release();  // owned by the I/O loop until its last completion
}

void TcpOutput::Impl::onSend(SendOp* op, const IoResult& r) {
    if (r.notif) {
        // The kernel no longer reads the buffers: the batch's references go now.
        --notifsPending;
        delete op;
        return;
    }
    Peer& p = *op->peer;
    op->pending = false;
    --p.activeOps;
    p.sending = false;
    if (!op->control.empty()) {
        // An RTSP answer or RTCP packet: what the kernel did not take goes first next time.
        if (r.res < 0) {
            if (r.res != -ECANCELED || !p.closing) {
                closePeer(p, std::strerror(-r.res), true);
            }
        } else if (p.rtsp) {
            const auto sent = static_cast<size_t>(r.res);
            p.rtsp->control.insert(0, op->control, sent, std::string::npos);
            p.bytesSent += sent;
            std::lock_guard lock(figures.mutex);
            figures.totals.bytesSent += sent;
        }
        delete op;
        pump(p);
        return;
    }
    const bool notifFollows = op->zeroCopy && r.more;
    const int res = r.res;
    if (res < 0 && op->zeroCopy && isFatalZeroCopyError(res)) {
        LOG_WARN(kNetTag, "zero-copy send not usable here (%s): plain sends from now on",
                 std::strerror(-res));
        zeroCopyAvailable = false;
        p.queue.complete(0, [](const AccessUnitPtr&) {});
    } else if (res < 0) {
        p.queue.complete(0, [](const AccessUnitPtr&) {});
        if (res != -ECANCELED || !p.closing) {
            closePeer(p, std::strerror(-res), true);
        }
    } else {
        const int64_t now = monotonicNs();
        uint64_t frames = 0;
        std::lock_guard lock(figures.mutex);
        p.queue.complete(static_cast<size_t>(res), [&](const AccessUnitPtr& au) {
            ++frames;
            if (au->captureTimeNs > 0 && figures.latencies.size() < kMaxLatencySamples) {
                figures.latencies.push_back(now - au->captureTimeNs);
            }
        });
        p.framesSent += frames;
        p.bytesSent += static_cast<uint64_t>(res);
        figures.totals.framesSent += frames;
        figures.totals.bytesSent += static_cast<uint64_t>(res);
    }
    if (notifFollows) {
        ++notifsPending;
    } else {
        delete op;
    }
    pump(p);
}

void TcpOutput::Impl::onRecv(Peer& p, int res) {
    if (p.closing) {
        return;
    }
    if (res > 0 && p.rtsp) {
        onRtspBytes(p, static_cast<size_t>(res));
        if (!p.closing) {
            armRecv(p);
        }
        return;
    }
    if (res > 0) {
        // Receivers have nothing to say in this protocol: their bytes are read and ignored.
        armRecv(p);
        return;
    }
    if (res == 0 && p.rtsp) {
        // An RTSP client that closes its side is gone (its session with it).
        closePeer(p, "closed by the client", false);
        return;
    }
    if (res == 0) {
        // A half-close: the peer may still read. Finishing: it has read everything.
        p.eof = true;
        if (finishing && p.writeShut) {
            closePeer(p, "done", false);
        }
        return;
    }
    closePeer(p, std::strerror(-res), true);
}

void TcpOutput::Impl::closePeer(Peer& p, const std::string& reason, bool error) {
    if (p.closing) {
        return;
    }
    p.closing = true;
    p.queue.clearUnsent();
    if (p.fd) {
        // Wakes the peer's pending receive and send; the descriptor closes once they are done.
        ::shutdown(p.fd.get(), SHUT_RDWR);
    }
    if (p.connected) {
        if (error) {
            LOG_WARN(kNetTag, "%s: connection lost (%s) after %llu frames, %llu dropped",
                     peerName(p).c_str(), reason.c_str(),
                     static_cast<unsigned long long>(p.framesSent),
                     static_cast<unsigned long long>(p.queue.drops()));
        } else {
            LOG_INFO(kNetTag, "%s: closed (%s) after %llu frames, %llu dropped",
                     peerName(p).c_str(), reason.c_str(),
                     static_cast<unsigned long long>(p.framesSent),
                     static_cast<unsigned long long>(p.queue.drops()));
        }
        std::lock_guard lock(figures.mutex);
        if (!finishing) {
            ++figures.totals.disconnects;
        }
    }
}

void TcpOutput::Impl::reap() {
    for (auto it = peers.begin(); it != peers.end();) {
        Peer& p = **it;
        if (!p.closing || p.activeOps > 0) {
            ++it;
            continue;
        }
        const bool wasConnected = p.connected;
        {
            std::lock_guard lock(figures.mutex);
            figures.totals.drops += p.queue.drops();
        }
        it = peers.erase(it);
        if (finishing) {
            continue;
        }
        if (mode == Mode::Client) {
            if (wasConnected) {
                if (config.exitOnDisconnect) {
                    LOG_ERROR(kNetTag, "connection to %s lost (--exit-on-disconnect)",
                              endpoint.toString().c_str());
                    setFatal(kExitNetwork);
                    setWants(config.keepEncoding);
                } else {
                    // Reconnect at once; failures back off from there.
                    startConnectRound();
                }
            }
        } else if (config.exitOnDisconnect && server.hadPeer && !anyClientLeft()) {
            LOG_ERROR(kNetTag, "the last %s left (--exit-on-disconnect)",
                      mode == Mode::Rtsp ? "RTSP client" : "receiver");
            setFatal(kExitNetwork);
        }
    }
}

bool TcpOutput::Impl::anyClientLeft() const {
    return std::any_of(peers.begin(), peers.end(), [this](const std::unique_ptr<Peer>& p) {
        return mode != Mode::Rtsp || (p->rtsp && p->rtsp->session.setUp());
    });
}

void TcpOutput::Impl::beginFinish() {
    finishing = true;
    armTimer(finishOp, int64_t{config.finishTimeoutMs} * kMs);
    for (auto& l : server.listeners) {
        if (l->acceptOp.pending) {
            io->cancel(l->acceptOp);
        }
    }
    if (client.reconnectOp.pending) {
        io->cancel(client.reconnectOp);
    }
    if (rtsp.tickOp.pending) {
        io->cancel(rtsp.tickOp);
    }
    // A connection being made may still take what is queued (within the finish timeout);
    // a failed one is not retried.
}

void TcpOutput::Impl::afterCompletions() {
    if (finishing) {
        for (auto& p : peers) {
            if (p->closing || !p->connected || p->sending || !p->queue.empty() ||
                (p->rtsp && !p->rtsp->control.empty())) {
                continue;
            }
            if (!p->writeShut) {
                // Everything went out: FIN, then wait for the receiver to close.
                p->writeShut = true;
                ::shutdown(p->fd.get(), SHUT_WR);
            }
            if (p->eof) {
                closePeer(*p, "done", false);
            }
        }
    }
    reap();
    if (mode != Mode::Client) {
        bool any = false;
        for (auto& p : peers) {
            any = any || !p->closing;
        }
        setWants(any || config.keepEncoding);
    }
    if (finishing && peers.empty()) {
        exitLoop = true;
    }
    publishStats();
}

void TcpOutput::Impl::publishStats() {
    std::lock_guard lock(figures.mutex);
    OutputStats& totals = figures.totals;
    totals.peers.clear();
    for (auto& p : peers) {
        if (p->closing) {
            continue;
        }
        PeerStats s;
        s.id = p->id;
        s.address = p->address;
        s.queueFrames = p->queue.frames();
        s.queueBytes = p->queue.bytes();
        s.drops = p->queue.drops();
        s.framesSent = p->framesSent;
        s.bytesSent = p->bytesSent;
        s.connected = p->connected;
        s.waiting = p->queue.waitingForStartPoint();
        s.playing = p->rtsp && p->rtsp->session.playing();
        totals.peers.push_back(std::move(s));
    }
    if (mode != Mode::Client) {
        totals.state = finishing ? "closing" : "listening";
    } else {
        const Peer* p = clientPeer();
        totals.state = finishing      ? "closing"
                       : p == nullptr ? "retrying"
                       : p->connected ? "connected"
                                      : "connecting";
    }
}

void TcpOutput::Impl::teardown() {
    // Every operation must be over before the buffers and descriptors it uses go away.
    if (client.resolving) {
        std::lock_guard lock(client.resolving->mutex);
        client.resolving->abandoned = true;
    }
    for (auto& p : peers) {
        if (!p->closing) {
            closePeer(*p, "stopping", false);
        }
        if (p->connectOp.pending) {
            io->cancel(p->connectOp);
        }
    }
    for (Op* op : {&wakeOp, &client.reconnectOp, &finishOp, &rtsp.tickOp}) {
        if (op->pending) {
            io->cancel(*op);
        }
    }
    for (auto& l : server.listeners) {
        for (Op* op : {&l->acceptOp, &l->retryOp}) {
            if (op->pending) {
                io->cancel(*op);
            }
        }
    }
    const int64_t deadline = monotonicNs() + 1000 * kMs;
    auto busy = [&] {
        bool any = notifsPending > 0 || wakeOp.pending || client.reconnectOp.pending ||
                   finishOp.pending || rtsp.tickOp.pending;
        for (auto& p : peers) {
            any = any || p->activeOps > 0;
        }
        for (auto& l : server.listeners) {
            any = any || l->acceptOp.pending || l->retryOp.pending;
        }
        return any;
    };
    while (busy()) {
        const int64_t left = deadline - monotonicNs();
        if (left <= 0 || io->wait(left) < 0) {
            break;
        }
        io->drain([&](IoOp& io_, const IoResult& r) {
            auto& op = static_cast<Op&>(io_);
            if (op.kind == OpKind::Send) {
                onSend(static_cast<SendOp*>(&op), r);
            } else if (op.kind == OpKind::Accept) {
                if (!r.more) {
                    op.pending = false;
                }
                if (r.res >= 0) {
                    ::close(r.res);
                }
            } else {
                op.pending = false;
                if (op.peer != nullptr && (op.kind == OpKind::Recv || op.kind == OpKind::Connect)) {
                    --op.peer->activeOps;
                }
            }
        });
    }
    {
        std::lock_guard lock(figures.mutex);
        for (auto& p : peers) {
            figures.totals.drops += p->queue.drops();
        }
    }
    peers.clear();
    publishStats();
}

}  // namespace h265direct::net
