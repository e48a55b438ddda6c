#include "net/tcp_output.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <random>
#include <thread>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "h265direct/stats.hpp"
#include "net/address.hpp"
#include "net/peer_queue.hpp"
#include "net/uring.hpp"

namespace h265direct::net {

namespace {

constexpr const char* kTag = "net";
// A peer that acknowledges nothing for this long is gone (cable pulled, host down): the
// kernel fails the connection instead of retransmitting for many minutes.
constexpr unsigned kUserTimeoutMs = 10000;
// Access units per send: several queued units go out in one sendmsg.
constexpr size_t kMaxUnitsPerSend = 32;
constexpr size_t kMaxLatencySamples = 20000;
constexpr int64_t kMs = 1'000'000;

enum class OpKind : uint8_t { Wake, Accept, Connect, LinkTimeout, Timer, Send, Recv, Cancel };
enum class TimerKind : uint8_t { Reconnect, AcceptRetry, FinishDeadline };

struct Peer;
struct Listener;

struct Op {
    OpKind kind;
    Peer* peer = nullptr;
    Listener* listener = nullptr;
    TimerKind timer = TimerKind::Reconnect;
    bool pending = false;
};

struct SendOp : Op {
    SendOp() : Op{OpKind::Send} {}
    SendBatch batch;
    bool zeroCopy = false;
};

struct Listener {
    UniqueFd fd;
    SocketAddress address;
    Op acceptOp{OpKind::Accept};
    Op retryOp{OpKind::Timer};
    __kernel_timespec retryTs{};
};

struct Peer {
    Peer(uint64_t i, size_t maxBytes, size_t maxFrames, Framing framing)
        : id(i), queue(maxBytes, maxFrames, framing) {}
    uint64_t id;
    UniqueFd fd;
    std::string address;
    PeerQueue queue;
    Op recvOp{OpKind::Recv};
    Op connectOp{OpKind::Connect};
    bool connected = false;
    bool sending = false;
    bool closing = false;
    bool eof = false;        // the peer will send nothing more
    bool writeShut = false;  // we sent FIN (finishing)
    int activeOps = 0;       // operations that use fd
    uint64_t framesSent = 0;
    uint64_t bytesSent = 0;
};

bool isFatalZeroCopyError(int res) {
    return res == -EOPNOTSUPP || res == -EINVAL;
}

}  // namespace

struct TcpOutput::Impl {
    Impl(Mode m, const NetConfig& c, std::function<void()> rk)
        : mode(m), config(c), requestKeyframe(std::move(rk)) {}

    // Set-up (constructor thread).
    void setUpClient();
    void setUpServer();

    // Loop thread.
    void run();
    void handle(const io_uring_cqe& cqe);
    void onWake();
    void distribute(const AccessUnitPtr& au);
    void maybeRequestKeyframe();
    void armWake();
    void armAccept(Listener& l);
    void armRecv(Peer& p);
    void armTimer(Op& op, __kernel_timespec& ts, int64_t delayNs);
    void onAccept(Listener& l, const io_uring_cqe& cqe);
    void startConnectRound();
    void tryNextAddress();
    void onConnect(Peer& p, int res);
    void connectRoundFailed(const std::string& reason);
    void onSend(SendOp* op, const io_uring_cqe& cqe);
    void onRecv(Peer& p, int res);
    void pump(Peer& p);
    void closePeer(Peer& p, const std::string& reason, bool error);
    void afterCompletions();
    void reap();
    void beginFinish();
    void teardown();
    void publishStats();
    // Store `wants` / `fatal` and tell the engine's watch (watchState) of a change.
    void setWants(bool v);
    void setFatal(int code);
    // The client's current connection (older ones may still be closing).
    Peer* clientPeer() {
        return peers.empty() || peers.back()->closing ? nullptr : peers.back().get();
    }
    std::string peerName(const Peer& p) const {
        return mode == Mode::Client ? p.address
                                    : "receiver " + std::to_string(p.id) + " (" + p.address + ")";
    }

    Mode mode;
    NetConfig config;
    std::function<void()> requestKeyframe;
    Endpoint endpoint;
    std::vector<SocketAddress> addresses;
    std::unique_ptr<Ring> ring;
    std::thread thread;

    // Handoff from the engine thread.
    std::mutex handoffMutex;
    std::deque<AccessUnitPtr> incoming;
    bool wakePending = false;
    bool finishRequested = false;
    bool handoffGap = false;
    uint64_t handoffDrops = 0;
    UniqueFd wakeFd;
    std::atomic<bool> wants{true};
    std::atomic<int> fatal{0};
    std::mutex watchMutex;
    std::function<void()> watch;
    bool finished = false;  // finish() was called (engine thread)

    // Loop state.
    Op wakeOp{OpKind::Wake};
    uint64_t wakeBuf = 0;
    std::list<std::unique_ptr<Listener>> listeners;
    std::list<std::unique_ptr<Peer>> peers;
    uint64_t nextPeerId = 1;
    size_t addressIndex = 0;
    int connectFailuresInRow = 0;
    bool everConnected = false;
    bool hadPeer = false;
    Op reconnectOp{OpKind::Timer, nullptr, nullptr, TimerKind::Reconnect};
    __kernel_timespec reconnectTs{};
    Op linkTimeoutOp{OpKind::LinkTimeout};
    __kernel_timespec connectTs{};
    std::string lastConnectError;
    Op finishOp{OpKind::Timer, nullptr, nullptr, TimerKind::FinishDeadline};
    __kernel_timespec finishTs{};
    Op cancelOp{OpKind::Cancel};
    bool finishing = false;
    bool exitLoop = false;
    bool zeroCopyAvailable = false;
    int64_t lastKeyframeRequestNs = 0;
    bool keyframeRequested = false;
    int notifsPending = 0;
    std::vector<uint8_t> discard = std::vector<uint8_t>(16384);
    LogThrottle connectLog{10'000'000'000};
    LogThrottle dropLog;
    std::minstd_rand jitter{std::random_device{}()};

    // Figures, shared with the engine thread.
    mutable std::mutex statsMutex;
    OutputStats totals;
    std::vector<int64_t> latencies;
    uint64_t collectedBytes = 0;
    int64_t lastCollectNs = 0;
    uint16_t boundPort = 0;
};

// ---------------------------------------------------------------- set-up

static void setSocketOptions(int fd, size_t sendBuffer) {
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

void TcpOutput::Impl::setUpClient() {
    if (std::string err = parseEndpoint(config.connect, false, endpoint); !err.empty()) {
        throw StartupError(kExitUsage, "-t: " + err);
    }
    if (std::string err = resolveEndpoint(endpoint, false, addresses); !err.empty()) {
        throw StartupError(kExitUsage, "-t: " + err);
    }
}

void TcpOutput::Impl::setUpServer() {
    if (std::string err = parseEndpoint(config.listen, true, endpoint); !err.empty()) {
        throw StartupError(kExitUsage, "-l: " + err);
    }
    std::vector<SocketAddress> binds;
    if (std::string err = listenAddresses(endpoint, binds); !err.empty()) {
        throw StartupError(kExitUsage, "-l: " + err);
    }
    std::string lastError;
    int lastErrno = 0;
    for (size_t i = 0; i < binds.size(); ++i) {
        SocketAddress addr = binds[i];
        UniqueFd fd(::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd && addr.family() == AF_INET6 && endpoint.host.empty()) {
            // No IPv6 on this machine: IPv4 only.
            auto* a4 = reinterpret_cast<sockaddr_in*>(&addr.storage);
            *a4 = sockaddr_in{};
            a4->sin_family = AF_INET;
            a4->sin_addr.s_addr = htonl(INADDR_ANY);
            a4->sin_port = htons(endpoint.port);
            addr.length = sizeof(sockaddr_in);
            fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        }
        if (!fd) {
            lastErrno = errno;
            lastError = std::string("socket: ") + std::strerror(errno);
            continue;
        }
        const int one = 1;
        const int v6only = endpoint.host.empty() ? 0 : 1;
        setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (addr.family() == AF_INET6) {
            setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
        }
        if (::bind(fd.get(), addr.get(), addr.length) != 0 || ::listen(fd.get(), 128) != 0) {
            lastErrno = errno;
            lastError = "cannot listen on " + addr.toString() + ": " + std::strerror(errno);
            continue;
        }
        auto l = std::make_unique<Listener>();
        l->fd = std::move(fd);
        l->address = addr;
        l->acceptOp.listener = l.get();
        l->retryOp.listener = l.get();
        l->retryOp.timer = TimerKind::AcceptRetry;
        listeners.push_back(std::move(l));
    }
    if (listeners.empty()) {
        throw StartupError(lastErrno == EADDRNOTAVAIL ? kExitUsage : kExitNetwork,
                           "-l: " + lastError);
    }
    if (!lastError.empty()) {
        LOG_WARN(kTag, "-l: %s (listening on the other addresses)", lastError.c_str());
    }
    SocketAddress bound;
    bound.length = sizeof bound.storage;
    if (getsockname(listeners.front()->fd.get(), bound.get(), &bound.length) == 0) {
        boundPort = ntohs(bound.family() == AF_INET6
                              ? reinterpret_cast<sockaddr_in6*>(&bound.storage)->sin6_port
                              : reinterpret_cast<sockaddr_in*>(&bound.storage)->sin_port);
    }
    for (const auto& l : listeners) {
        LOG_INFO(kTag, "listening on %s (framing %s)", l->address.toString().c_str(),
                 toString(config.framing));
    }
}

// ---------------------------------------------------------------- loop

void TcpOutput::Impl::armWake() {
    io_uring_sqe* s = ring->sqe();
    io_uring_prep_read(s, wakeFd.get(), &wakeBuf, sizeof wakeBuf, 0);
    io_uring_sqe_set_data(s, &wakeOp);
    wakeOp.pending = true;
}

void TcpOutput::Impl::armAccept(Listener& l) {
    io_uring_sqe* s = ring->sqe();
    io_uring_prep_multishot_accept(s, l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data(s, &l.acceptOp);
    l.acceptOp.pending = true;
}

void TcpOutput::Impl::armRecv(Peer& p) {
    io_uring_sqe* s = ring->sqe();
    io_uring_prep_recv(s, p.fd.get(), discard.data(), discard.size(), 0);
    io_uring_sqe_set_data(s, &p.recvOp);
    p.recvOp.pending = true;
    ++p.activeOps;
}

void TcpOutput::Impl::armTimer(Op& op, __kernel_timespec& ts, int64_t delayNs) {
    ts.tv_sec = delayNs / 1'000'000'000;
    ts.tv_nsec = delayNs % 1'000'000'000;
    io_uring_sqe* s = ring->sqe();
    io_uring_prep_timeout(s, &ts, 0, 0);
    io_uring_sqe_set_data(s, &op);
    op.pending = true;
}

void TcpOutput::Impl::run() {
    armWake();
    if (mode == Mode::Client) {
        startConnectRound();
    } else {
        for (auto& l : listeners) {
            armAccept(*l);
        }
    }
    publishStats();
    while (!exitLoop) {
        const int rc = ring->submitAndWait();
        if (rc < 0 && rc != -EBUSY && rc != -EAGAIN) {
            LOG_ERROR(kTag, "io_uring wait failed: %s", std::strerror(-rc));
            setFatal(kExitNetwork);
            break;
        }
        ring->drain([&](const io_uring_cqe& cqe) { handle(cqe); });
        afterCompletions();
    }
    teardown();
}

void TcpOutput::Impl::handle(const io_uring_cqe& cqe) {
    auto* op = static_cast<Op*>(io_uring_cqe_get_data(&cqe));
    if (op == nullptr) {
        return;
    }
    switch (op->kind) {
        case OpKind::Wake:
            op->pending = false;
            onWake();
            break;
        case OpKind::Accept:
            onAccept(*op->listener, cqe);
            break;
        case OpKind::Connect:
            op->pending = false;
            --op->peer->activeOps;
            onConnect(*op->peer, cqe.res);
            break;
        case OpKind::LinkTimeout:
        case OpKind::Cancel:
            op->pending = false;
            break;
        case OpKind::Timer:
            op->pending = false;
            if (op->timer == TimerKind::Reconnect) {
                if (!finishing) {
                    startConnectRound();
                }
            } else if (op->timer == TimerKind::AcceptRetry) {
                if (!finishing) {
                    armAccept(*op->listener);
                }
            } else {
                // Receivers that did not take the rest in time are cut off.
                for (auto& p : peers) {
                    if (p->connectOp.pending) {
                        io_uring_sqe* c = ring->sqe();
                        io_uring_prep_cancel(c, &p->connectOp, 0);
                        io_uring_sqe_set_data(c, &cancelOp);
                    }
                    closePeer(*p, "finish timeout", false);
                }
            }
            break;
        case OpKind::Send:
            onSend(static_cast<SendOp*>(op), cqe);
            break;
        case OpKind::Recv:
            op->pending = false;
            --op->peer->activeOps;
            onRecv(*op->peer, cqe.res);
            break;
    }
}

void TcpOutput::Impl::onWake() {
    std::deque<AccessUnitPtr> batch;
    bool finishNow = false;
    bool gap = false;
    {
        std::lock_guard lock(handoffMutex);
        batch.swap(incoming);
        wakePending = false;
        finishNow = finishRequested;
        gap = std::exchange(handoffGap, false);
    }
    if (gap) {
        // The loop fell behind the engine and units were lost before reaching the queues.
        for (auto& p : peers) {
            p->queue.waitForStartPoint();
        }
    }
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
        std::lock_guard lock(statsMutex);
        ++totals.unsent;
        return;
    }
    for (auto& pp : peers) {
        Peer& p = *pp;
        if (p.closing) {
            continue;
        }
        const PeerQueue::Offer r = p.queue.offer(au);
        if (r == PeerQueue::Offer::GapStarted && dropLog.allow()) {
            LOG_WARN(kTag,
                     "%s is too slow (queue %zu frames, %zu bytes): dropping until the next "
                     "keyframe",
                     peerName(p).c_str(), p.queue.frames(), p.queue.bytes());
        }
        pump(p);
    }
}

void TcpOutput::Impl::maybeRequestKeyframe() {
    bool anyWaiting = false;
    for (auto& p : peers) {
        // Only receivers that are there: no keyframes for a server that does not answer.
        anyWaiting = anyWaiting || (!p->closing && p->connected && p->queue.waitingForStartPoint());
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
    std::lock_guard lock(statsMutex);
    ++totals.keyframeRequests;
}

void TcpOutput::Impl::onAccept(Listener& l, const io_uring_cqe& cqe) {
    if (!(cqe.flags & IORING_CQE_F_MORE)) {
        l.acceptOp.pending = false;
    }
    if (cqe.res < 0) {
        if (cqe.res == -ECANCELED || finishing) {
            return;
        }
        // Out of descriptors and the like: try again shortly rather than spin.
        if (connectLog.allow()) {
            LOG_WARN(kTag, "accept on %s failed: %s", l.address.toString().c_str(),
                     std::strerror(-cqe.res));
        }
        if (!l.acceptOp.pending && !l.retryOp.pending) {
            armTimer(l.retryOp, l.retryTs, 100 * kMs);
        }
        return;
    }
    if (!l.acceptOp.pending && !finishing) {
        armAccept(l);
    }
    UniqueFd fd(cqe.res);
    if (finishing) {
        return;
    }
    size_t live = 0;
    for (auto& p : peers) {
        live += p->closing ? 0 : 1;
    }
    if (config.maxPeers > 0 && live >= static_cast<size_t>(config.maxPeers)) {
        if (dropLog.allow()) {
            LOG_WARN(kTag, "refusing a receiver: %d already connected (--max-peers)",
                     config.maxPeers);
        }
        return;
    }
    setSocketOptions(fd.get(), config.sendBufferBytes);
    auto p = std::make_unique<Peer>(nextPeerId++, config.peerQueueBytes, config.peerQueueFrames,
                                    config.framing);
    SocketAddress from;
    from.length = sizeof from.storage;
    if (getpeername(fd.get(), from.get(), &from.length) == 0) {
        p->address = from.toString();
    }
    p->fd = std::move(fd);
    p->connected = true;
    p->recvOp.peer = p.get();
    p->connectOp.peer = p.get();
    // A receiver starts at parameter sets and an IDR, never inside a group of pictures.
    p->queue.waitForStartPoint();
    LOG_INFO(kTag, "%s joined; it starts at the next keyframe", peerName(*p).c_str());
    armRecv(*p);
    peers.push_back(std::move(p));
    hadPeer = true;
    {
        std::lock_guard lock(statsMutex);
        ++totals.connects;
    }
    maybeRequestKeyframe();
}

void TcpOutput::Impl::startConnectRound() {
    if (everConnected || connectFailuresInRow > 0) {
        if (!endpoint.numeric) {
            // Names may move (DHCP, dynamic DNS): look again, keep the old result on failure.
            std::vector<SocketAddress> fresh;
            if (resolveEndpoint(endpoint, false, fresh).empty()) {
                addresses = std::move(fresh);
            }
        }
    }
    auto p = std::make_unique<Peer>(nextPeerId++, config.peerQueueBytes, config.peerQueueFrames,
                                    config.framing);
    p->recvOp.peer = p.get();
    p->connectOp.peer = p.get();
    // The very first connection takes the stream from its first unit (an IDR); later ones
    // start at the next keyframe like any new receiver.
    if (everConnected || connectFailuresInRow > 0) {
        p->queue.waitForStartPoint();
    }
    // Only the first attempt holds frames for the connection to come; later ones start at a
    // requested keyframe, so encoding may stay paused until the connection is up.
    const bool first = !everConnected && connectFailuresInRow == 0;
    peers.push_back(std::move(p));
    setWants(first || config.keepEncoding);
    addressIndex = 0;
    lastConnectError.clear();
    tryNextAddress();
}

void TcpOutput::Impl::tryNextAddress() {
    Peer* p = clientPeer();
    while (addressIndex < addresses.size()) {
        const SocketAddress& a = addresses[addressIndex];
        UniqueFd fd(::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd) {
            lastConnectError = std::strerror(errno);
            ++addressIndex;
            continue;
        }
        setSocketOptions(fd.get(), config.sendBufferBytes);
        p->fd = std::move(fd);
        p->address = a.toString();
        io_uring_sqe* s = ring->sqe();
        io_uring_prep_connect(s, p->fd.get(), a.get(), a.length);
        io_uring_sqe_set_data(s, &p->connectOp);
        s->flags |= IOSQE_IO_LINK;
        p->connectOp.pending = true;
        ++p->activeOps;
        const int64_t t = int64_t{config.connectTimeoutMs} * kMs;
        connectTs.tv_sec = t / 1'000'000'000;
        connectTs.tv_nsec = t % 1'000'000'000;
        io_uring_sqe* lt = ring->sqe();
        io_uring_prep_link_timeout(lt, &connectTs, 0);
        io_uring_sqe_set_data(lt, &linkTimeoutOp);
        linkTimeoutOp.pending = true;
        return;
    }
    connectRoundFailed(lastConnectError.empty() ? "no address" : lastConnectError);
}

void TcpOutput::Impl::onConnect(Peer& p, int res) {
    if (p.closing) {
        return;
    }
    if (res == 0) {
        p.connected = true;
        everConnected = true;
        connectFailuresInRow = 0;
        LOG_INFO(kTag, "connected to %s (framing %s)", p.address.c_str(), toString(config.framing));
        {
            std::lock_guard lock(statsMutex);
            ++totals.connects;
        }
        if (p.queue.empty()) {
            p.queue.waitForStartPoint();
        }
        setWants(true);
        armRecv(p);
        pump(p);
        maybeRequestKeyframe();
        return;
    }
    if (finishing) {
        closePeer(p, "finishing", false);
        return;
    }
    lastConnectError = res == -ECANCELED ? "timed out" : std::strerror(-res);
    p.fd.reset();
    ++addressIndex;
    tryNextAddress();
}

void TcpOutput::Impl::connectRoundFailed(const std::string& reason) {
    Peer* p = clientPeer();
    const size_t lost = p != nullptr ? p->queue.frames() : 0;
    if (p != nullptr) {
        p->queue.clearUnsent();
        p->closing = true;  // reaped once its operations are done (none are left)
    }
    ++connectFailuresInRow;
    {
        std::lock_guard lock(statsMutex);
        ++totals.connectFailures;
        totals.unsent += lost;
    }
    if (config.exitOnDisconnect) {
        LOG_ERROR(kTag, "cannot connect to %s: %s (--exit-on-disconnect)",
                  endpoint.toString().c_str(), reason.c_str());
        setFatal(kExitNetwork);
        setWants(config.keepEncoding);
        return;
    }
    const int shift = std::min(connectFailuresInRow - 1, 20);
    int64_t delay =
        std::min<int64_t>(int64_t{config.reconnectMinMs} << shift, int64_t{config.reconnectMaxMs});
    // A little jitter, so that many cameras do not retry in step after a server restart.
    delay = delay * (90 + static_cast<int64_t>(jitter() % 21)) / 100;
    if (connectLog.allow()) {
        LOG_WARN(kTag, "cannot connect to %s: %s; retrying in %lld ms (until it works)",
                 endpoint.toString().c_str(), reason.c_str(), static_cast<long long>(delay));
    }
    setWants(config.keepEncoding);
    armTimer(reconnectOp, reconnectTs, delay * kMs);
}

void TcpOutput::Impl::pump(Peer& p) {
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
    io_uring_sqe* s = ring->sqe();
    if (op->zeroCopy) {
        io_uring_prep_sendmsg_zc(s, p.fd.get(), &op->batch.msg, MSG_NOSIGNAL);
    } else {
        io_uring_prep_sendmsg(s, p.fd.get(), &op->batch.msg, MSG_NOSIGNAL);
    }
    io_uring_sqe_set_data(s, op.get());
    op->pending = true;
    p.sending = true;
    ++p.activeOps;
    {
        std::lock_guard lock(statsMutex);
        ++(op->zeroCopy ? totals.zeroCopySends : totals.plainSends);
    }
    op.release();  // owned by the ring until its last completion
}

void TcpOutput::Impl::onSend(SendOp* op, const io_uring_cqe& cqe) {
    if (cqe.flags & IORING_CQE_F_NOTIF) {
        // The kernel no longer reads the buffers: the batch's references go now.
        --notifsPending;
        delete op;
        return;
    }
    Peer& p = *op->peer;
    op->pending = false;
    --p.activeOps;
    p.sending = false;
    const bool notifFollows = (cqe.flags & IORING_CQE_F_MORE) != 0;
    const int res = cqe.res;
    if (res < 0 && op->zeroCopy && isFatalZeroCopyError(res)) {
        LOG_WARN(kTag, "zero-copy send not usable here (%s): plain sends from now on",
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
        std::lock_guard lock(statsMutex);
        p.queue.complete(static_cast<size_t>(res), [&](const AccessUnitPtr& au) {
            ++frames;
            if (au->captureTimeNs > 0 && latencies.size() < kMaxLatencySamples) {
                latencies.push_back(now - au->captureTimeNs);
            }
        });
        p.framesSent += frames;
        p.bytesSent += static_cast<uint64_t>(res);
        totals.framesSent += frames;
        totals.bytesSent += static_cast<uint64_t>(res);
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
    if (res > 0) {
        // Receivers have nothing to say in this protocol: their bytes are read and ignored.
        armRecv(p);
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
            LOG_WARN(kTag, "%s: connection lost (%s) after %llu frames, %llu dropped",
                     peerName(p).c_str(), reason.c_str(),
                     static_cast<unsigned long long>(p.framesSent),
                     static_cast<unsigned long long>(p.queue.drops()));
        } else {
            LOG_INFO(kTag, "%s: closed (%s) after %llu frames, %llu dropped", peerName(p).c_str(),
                     reason.c_str(), static_cast<unsigned long long>(p.framesSent),
                     static_cast<unsigned long long>(p.queue.drops()));
        }
        std::lock_guard lock(statsMutex);
        if (!finishing) {
            ++totals.disconnects;
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
            std::lock_guard lock(statsMutex);
            totals.drops += p.queue.drops();
        }
        it = peers.erase(it);
        if (finishing) {
            continue;
        }
        if (mode == Mode::Client) {
            if (wasConnected) {
                if (config.exitOnDisconnect) {
                    LOG_ERROR(kTag, "connection to %s lost (--exit-on-disconnect)",
                              endpoint.toString().c_str());
                    setFatal(kExitNetwork);
                    setWants(config.keepEncoding);
                } else {
                    // Reconnect at once; failures back off from there.
                    startConnectRound();
                }
            }
        } else if (config.exitOnDisconnect && hadPeer && peers.empty()) {
            LOG_ERROR(kTag, "the last receiver left (--exit-on-disconnect)");
            setFatal(kExitNetwork);
        }
    }
}

void TcpOutput::Impl::beginFinish() {
    finishing = true;
    armTimer(finishOp, finishTs, int64_t{config.finishTimeoutMs} * kMs);
    for (auto& l : listeners) {
        if (l->acceptOp.pending) {
            io_uring_sqe* s = ring->sqe();
            io_uring_prep_cancel(s, &l->acceptOp, 0);
            io_uring_sqe_set_data(s, &cancelOp);
        }
    }
    if (reconnectOp.pending) {
        io_uring_sqe* s = ring->sqe();
        io_uring_prep_timeout_remove(s, reinterpret_cast<uint64_t>(&reconnectOp), 0);
        io_uring_sqe_set_data(s, &cancelOp);
    }
    // A connection being made may still take what is queued (within the finish timeout);
    // a failed one is not retried.
}

void TcpOutput::Impl::afterCompletions() {
    if (finishing) {
        for (auto& p : peers) {
            if (p->closing || !p->connected || p->sending || !p->queue.empty()) {
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
    if (mode == Mode::Server) {
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
    std::lock_guard lock(statsMutex);
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
        totals.peers.push_back(std::move(s));
    }
    if (mode == Mode::Server) {
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
    for (auto& p : peers) {
        if (!p->closing) {
            closePeer(*p, "stopping", false);
        }
    }
    io_uring_sqe* s = ring->sqe();
    io_uring_prep_cancel(s, nullptr, IORING_ASYNC_CANCEL_ANY);
    io_uring_sqe_set_data(s, &cancelOp);
    const int64_t deadline = monotonicNs() + 1000 * kMs;
    auto busy = [&] {
        bool any = notifsPending > 0 || wakeOp.pending || reconnectOp.pending || finishOp.pending;
        for (auto& p : peers) {
            any = any || p->activeOps > 0;
        }
        for (auto& l : listeners) {
            any = any || l->acceptOp.pending || l->retryOp.pending;
        }
        return any;
    };
    while (busy()) {
        const int64_t left = deadline - monotonicNs();
        if (left <= 0 || ring->submitAndWait(left) < 0) {
            break;
        }
        ring->drain([&](const io_uring_cqe& cqe) {
            auto* op = static_cast<Op*>(io_uring_cqe_get_data(&cqe));
            if (op == nullptr) {
                return;
            }
            if (op->kind == OpKind::Send) {
                onSend(static_cast<SendOp*>(op), cqe);
            } else if (op->kind == OpKind::Accept) {
                if (!(cqe.flags & IORING_CQE_F_MORE)) {
                    op->pending = false;
                }
                if (cqe.res >= 0) {
                    ::close(cqe.res);
                }
            } else {
                op->pending = false;
                if (op->peer != nullptr &&
                    (op->kind == OpKind::Recv || op->kind == OpKind::Connect)) {
                    --op->peer->activeOps;
                }
            }
        });
    }
    {
        std::lock_guard lock(statsMutex);
        for (auto& p : peers) {
            totals.drops += p->queue.drops();
        }
    }
    peers.clear();
    publishStats();
}

// ---------------------------------------------------------------- public side

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
    d.ring = std::make_unique<Ring>(256);
    d.zeroCopyAvailable =
        config.zeroCopy != ZeroCopy::Off && d.ring->supports(IORING_OP_SENDMSG_ZC);
    if (config.zeroCopy == ZeroCopy::On && !d.zeroCopyAvailable) {
        LOG_WARN(kTag, "--zerocopy on: this kernel has no zero-copy send; using plain sends");
    }
    d.setWants(mode == Mode::Client || config.keepEncoding);
    d.lastCollectNs = monotonicNs();
    d.thread = std::thread([&d] { d.run(); });
}

TcpOutput::~TcpOutput() {
    finish();
}

const char* TcpOutput::name() const {
    return impl_->mode == Mode::Client ? "tcp-client" : "tcp-server";
}

void TcpOutput::consume(const AccessUnitPtr& au) {
    Impl& d = *impl_;
    bool notify = false;
    {
        std::lock_guard lock(d.handoffMutex);
        if (d.finishRequested) {
            return;
        }
        const size_t limit = std::max<size_t>(16, d.config.peerQueueFrames);
        if (d.incoming.size() >= limit) {
            d.incoming.pop_front();
            ++d.handoffDrops;
            d.handoffGap = true;
        }
        d.incoming.push_back(au);
        if (!d.wakePending) {
            d.wakePending = true;
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
        std::lock_guard lock(d.handoffMutex);
        d.finishRequested = true;
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
        std::lock_guard lock(d.statsMutex);
        lat.swap(d.latencies);
        t = d.totals;
    }
    uint64_t handoffDrops = 0;
    {
        std::lock_guard lock(d.handoffMutex);
        handoffDrops = d.handoffDrops;
    }
    const std::string prefix = d.mode == Mode::Client ? "client_" : "server_";
    const double seconds = static_cast<double>(now - d.lastCollectNs) / 1e9;
    const uint64_t bytes = t.bytesSent - d.collectedBytes;
    d.collectedBytes = t.bytesSent;
    d.lastCollectNs = now;
    uint64_t drops = t.drops + handoffDrops;
    size_t maxQueue = 0;
    std::string detail;
    for (const PeerStats& p : t.peers) {
        drops += p.drops;
        maxQueue = std::max(maxQueue, p.queueFrames);
        if (d.mode == Mode::Server) {
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
    }
    auto pct = [&](double q) {
        if (lat.empty()) {
            return 0.0;
        }
        const size_t idx =
            std::min(lat.size() - 1, static_cast<size_t>(q * static_cast<double>(lat.size())));
        std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(idx), lat.end());
        return static_cast<double>(lat[idx]) / 1e6;
    };
    report.add(prefix + "latency_p50_ms", pct(0.5), "ms", 2);
    report.add(prefix + "latency_p99_ms", pct(0.99), "ms", 2);
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
    std::lock_guard lock(impl_->statsMutex);
    OutputStats t = impl_->totals;
    for (const PeerStats& p : t.peers) {
        t.drops += p.drops;
    }
    return t;
}

uint16_t TcpOutput::localPort() const {
    return impl_->boundPort;
}

}  // namespace h265direct::net
