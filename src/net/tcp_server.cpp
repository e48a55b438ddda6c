// SPDX-License-Identifier: GPL-2.0-or-later
// -l: the listening sockets and the receivers they accept.

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "core/error.hpp"
#include "net/tcp_output_impl.hpp"

namespace h265direct::net {

void TcpOutput::Impl::setUpServer() {
    const std::string option = mode == Mode::Rtsp ? "--rtsp: " : "-l: ";
    endpoint =
        parseEndpoint(mode == Mode::Rtsp ? config.rtsp : config.listen, true).orThrow(option);
    const std::vector<SocketAddress> binds = listenAddresses(endpoint).orThrow(option);
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
        server.listeners.push_back(std::move(l));
    }
    if (server.listeners.empty()) {
        throw StartupError(lastErrno == EADDRNOTAVAIL ? kExitUsage : kExitNetwork,
                           option + lastError);
    }
    if (!lastError.empty()) {
        LOG_WARN(kNetTag, "%s%s (listening on the other addresses)", option.c_str(),
                 lastError.c_str());
    }
    SocketAddress bound;
    bound.length = sizeof bound.storage;
    if (getsockname(server.listeners.front()->fd.get(), bound.get(), &bound.length) == 0) {
        server.boundPort = ntohs(bound.family() == AF_INET6
                                     ? reinterpret_cast<sockaddr_in6*>(&bound.storage)->sin6_port
                                     : reinterpret_cast<sockaddr_in*>(&bound.storage)->sin_port);
    }
    server.reserveFd.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    setUpAccess();
    for (const auto& l : server.listeners) {
        if (mode == Mode::Rtsp) {
            LOG_INFO(kNetTag, "RTSP server listening on %s (path %s)",
                     l->address.toString().c_str(), config.rtspPath.c_str());
        } else {
            LOG_INFO(kNetTag, "listening on %s (framing %s)", l->address.toString().c_str(),
                     toString(config.framing));
        }
    }
}

void TcpOutput::Impl::armAccept(Listener& l) {
    io->accept(l.acceptOp, l.fd.get());
    l.acceptOp.pending = true;
}

void TcpOutput::Impl::onAccept(Listener& l, const IoResult& r) {
    if (!r.more) {
        l.acceptOp.pending = false;
    }
    if (r.res < 0) {
        if (r.res == -ECANCELED || finishing) {
            return;
        }
        if ((r.res == -EMFILE || r.res == -ENFILE) && !l.acceptOp.pending && refuseWaiting(l)) {
            armAccept(l);
            return;
        }
        // Other failures: try again shortly rather than spin.
        if (connectLog.allow()) {
            LOG_WARN(kNetTag, "accept on %s failed: %s", l.address.toString().c_str(),
                     std::strerror(-r.res));
        }
        if (!l.acceptOp.pending && !l.retryOp.pending) {
            armTimer(l.retryOp, 100 * kMs);
        }
        return;
    }
    if (!l.acceptOp.pending && !finishing) {
        armAccept(l);
    }
    UniqueFd fd(r.res);
    if (finishing) {
        return;
    }
    size_t live = 0;
    for (auto& p : peers) {
        live += p->closing ? 0 : 1;
    }
    if (config.maxPeers > 0 && live >= static_cast<size_t>(config.maxPeers)) {
        {
            std::lock_guard lock(figures.mutex);
            ++figures.totals.refused;
        }
        if (dropLog.allow()) {
            LOG_WARN(kNetTag, "refusing a receiver: %d already connected (--max-peers)",
                     config.maxPeers);
        }
        return;
    }
    io->adopt(fd.get());
    setConnectionOptions(fd.get(), config.sendBufferBytes);
    auto p = std::make_unique<Peer>(nextPeerId++, config.peerQueueBytes, config.peerQueueFrames,
                                    config.framing);
    SocketAddress from;
    from.length = sizeof from.storage;
    if (getpeername(fd.get(), from.get(), &from.length) == 0) {
        p->address = from.toString();
    }
    p->fd = std::move(fd);
    p->connected = true;
    // A receiver starts at parameter sets and an IDR, never inside a group of pictures.
    p->queue.waitForStartPoint();
    if (mode == Mode::Rtsp) {
        acceptRtsp(*p);
    } else {
        LOG_INFO(kNetTag, "%s joined; it starts at the next keyframe", peerName(*p).c_str());
    }
    armRecv(*p);
    peers.push_back(std::move(p));
    if (mode != Mode::Rtsp) {  // an RTSP connection counts once it sets up a session
        server.hadPeer = true;
    }
    {
        std::lock_guard lock(figures.mutex);
        ++figures.totals.connects;
    }
    maybeRequestKeyframe();
}

bool TcpOutput::Impl::refuseWaiting(Listener& l) {
    if (!server.reserveFd) {
        return false;
    }
    server.reserveFd.reset();
    uint64_t refused = 0;
    pollfd p{l.fd.get(), POLLIN, 0};
    while (::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0) {
        const int fd = ::accept4(l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            break;
        }
        ::close(fd);
        ++refused;
    }
    server.reserveFd.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    setUpAccess();
    {
        std::lock_guard lock(figures.mutex);
        figures.totals.refused += refused;
    }
    if (connectLog.allow()) {
        LOG_WARN(kNetTag,
                 "out of file descriptors (ulimit -n): refused %llu receiver(s) on %s; raise the "
                 "limit or lower --max-peers",
                 static_cast<unsigned long long>(refused), l.address.toString().c_str());
    }
    return true;
}

}  // namespace h265direct::net
