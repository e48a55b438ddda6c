// SPDX-License-Identifier: GPL-2.0-or-later
// -t: resolving the receiver's name (off the loop thread), connecting to each of its
// addresses in turn, and retrying with backoff.

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "net/tcp_output_impl.hpp"

namespace h265direct::net {

void TcpOutput::Impl::setUpClient() {
    endpoint = parseEndpoint(config.connect, false).orThrow("-t: ");
    // At start the caller waits anyway, and a name that does not resolve is a usage error.
    client.addresses = resolveEndpoint(endpoint, false).orThrow("-t: ");
}

void TcpOutput::Impl::startConnectRound() {
    if ((client.everConnected || client.failuresInRow > 0) && !endpoint.numeric) {
        // Names may move (DHCP, dynamic DNS): look again first, on the resolver thread.
        startResolve();
        return;
    }
    auto p = std::make_unique<Peer>(nextPeerId++, config.peerQueueBytes, config.peerQueueFrames,
                                    config.framing);
    // The very first connection takes the stream from its first unit (an IDR); later ones
    // start at the next keyframe like any new receiver.
    const bool first = !client.everConnected && client.failuresInRow == 0;
    if (!first) {
        p->queue.waitForStartPoint();
    }
    // Only the first attempt holds frames for the connection to come; later ones start at a
    // requested keyframe, so encoding may stay paused until the connection is up.
    peers.push_back(std::move(p));
    setWants(first || config.keepEncoding);
    client.addressIndex = 0;
    client.lastError.clear();
    tryNextAddress();
}

void TcpOutput::Impl::startResolve() {
    if (client.resolving) {
        return;
    }
    auto job = std::make_shared<ResolveJob>();
    job->wakeFd = wakeFd.get();
    client.resolving = job;
    setWants(config.keepEncoding);
    // getaddrinfo may block for seconds (an unreachable DNS server): never on the loop.
    // The thread is detached; teardown abandons the job, after which it touches nothing of
    // the output.
    std::thread([job, e = endpoint] {
        Result<std::vector<SocketAddress>> fresh = resolveEndpoint(e, false);
        std::lock_guard lock(job->mutex);
        if (fresh) {
            job->result = std::move(fresh).value();
        } else {
            job->error = fresh.error().message;
        }
        job->done = true;
        if (!job->abandoned) {
            const uint64_t one = 1;
            [[maybe_unused]] const ssize_t n = ::write(job->wakeFd, &one, sizeof one);
        }
    }).detach();
}

void TcpOutput::Impl::onResolved() {
    std::shared_ptr<ResolveJob> job = client.resolving;
    if (!job) {
        return;
    }
    {
        std::lock_guard lock(job->mutex);
        if (!job->done) {
            return;
        }
        if (job->error.empty() && !job->result.empty()) {
            client.addresses = std::move(job->result);
        } else if (connectLog.allow()) {
            // Keep the old addresses: the name server may be the thing that is down.
            LOG_WARN(kNetTag, "-t: %s (trying the addresses it had)", job->error.c_str());
        }
    }
    client.resolving.reset();
    if (finishing) {
        return;
    }
    auto p = std::make_unique<Peer>(nextPeerId++, config.peerQueueBytes, config.peerQueueFrames,
                                    config.framing);
    p->queue.waitForStartPoint();
    peers.push_back(std::move(p));
    setWants(config.keepEncoding);
    client.addressIndex = 0;
    client.lastError.clear();
    tryNextAddress();
}

void TcpOutput::Impl::tryNextAddress() {
    Peer* p = clientPeer();
    while (client.addressIndex < client.addresses.size()) {
        const SocketAddress& a = client.addresses[client.addressIndex];
        UniqueFd fd(::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd) {
            client.lastError = std::strerror(errno);
            ++client.addressIndex;
            continue;
        }
        io->adopt(fd.get());
        setConnectionOptions(fd.get(), config.sendBufferBytes);
        p->fd = std::move(fd);
        p->address = a.toString();
        io->connect(p->connectOp, p->fd.get(), a.get(), a.length,
                    int64_t{config.connectTimeoutMs} * kMs);
        p->connectOp.pending = true;
        ++p->activeOps;
        return;
    }
    connectRoundFailed(client.lastError.empty() ? "no address" : client.lastError);
}

void TcpOutput::Impl::onConnect(Peer& p, int res) {
    if (p.closing) {
        return;
    }
    if (res == 0) {
        p.connected = true;
        client.everConnected = true;
        client.failuresInRow = 0;
        LOG_INFO(kNetTag, "connected to %s (framing %s)", p.address.c_str(),
                 toString(config.framing));
        {
            std::lock_guard lock(figures.mutex);
            ++figures.totals.connects;
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
    client.lastError = res == -ECANCELED ? "timed out" : std::strerror(-res);
    p.fd.reset();
    ++client.addressIndex;
    tryNextAddress();
}

void TcpOutput::Impl::connectRoundFailed(const std::string& reason) {
    Peer* p = clientPeer();
    const size_t lost = p != nullptr ? p->queue.frames() : 0;
    if (p != nullptr) {
        p->queue.clearUnsent();
        p->closing = true;  // reaped once its operations are done (none are left)
    }
    ++client.failuresInRow;
    {
        std::lock_guard lock(figures.mutex);
        ++figures.totals.connectFailures;
        figures.totals.unsent += lost;
    }
    if (config.exitOnDisconnect) {
        LOG_ERROR(kNetTag, "cannot connect to %s: %s (--exit-on-disconnect)",
                  endpoint.toString().c_str(), reason.c_str());
        setFatal(kExitNetwork);
        setWants(config.keepEncoding);
        return;
    }
    const int shift = std::min(client.failuresInRow - 1, 20);
    int64_t delay =
        std::min<int64_t>(int64_t{config.reconnectMinMs} << shift, int64_t{config.reconnectMaxMs});
    // A little jitter, so that many cameras do not retry in step after a server restart.
    delay = delay * (90 + static_cast<int64_t>(client.jitter() % 21)) / 100;
    if (connectLog.allow()) {
        LOG_WARN(kNetTag, "cannot connect to %s: %s; retrying in %lld ms (until it works)",
                 endpoint.toString().c_str(), reason.c_str(), static_cast<long long>(delay));
    }
    setWants(config.keepEncoding);
    armTimer(client.reconnectOp, delay * kMs);
}

}  // namespace h265direct::net
