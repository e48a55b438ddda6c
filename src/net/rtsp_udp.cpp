// SPDX-License-Identifier: GPL-2.0-or-later
// --rtsp over UDP: the part of the RTSP server's loop thread that sends RTP packets as
// datagrams (sendmmsg, runs of packets as one UDP GSO message where the kernel allows it),
// opens each client's pair of UDP ports at SETUP, and reads what arrives on its RTCP port.
// The requests and RTP over the RTSP connection are rtsp_server.cpp.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/clock.hpp"
#include "net/tcp_output_impl.hpp"

namespace h265direct::net {

namespace {

constexpr int kRtcpReceiveBuffer = 16 * 1024;  // SO_RCVBUF of a UDP client's RTCP socket

// At most this many datagrams in one GSO message, and this many bytes (a UDP datagram's
// limit, with room for the IP and UDP headers); 64 is the oldest kernels' limit.
constexpr size_t kGsoMaxSegments = 64;
constexpr size_t kGsoMaxBytes = 64000;

// The messages for the packets of `batch` from `firstPacket` on (each packet is two iovecs,
// header and payload). With gso, a run of packets of one size, the last of it possibly
// shorter, goes as one message: the fragmentation units of a NAL unit.
void buildUdpMessages(SendBatch& batch, size_t firstPacket, bool gso,
                      std::vector<UdpMessage>& messages, std::vector<mmsghdr>& headers) {
    const size_t packets = batch.iov.size() / 2;
    const auto size = [&](size_t i) {
        return batch.iov[2 * i].iov_len + batch.iov[2 * i + 1].iov_len;
    };
    messages.clear();
    for (size_t i = firstPacket; i < packets;) {
        UdpMessage m;
        m.firstPacket = i;
        const size_t segment = size(i);
        size_t total = segment;
        size_t j = i + 1;
        while (gso && j < packets && j - i < kGsoMaxSegments && size(j - 1) == segment &&
               size(j) <= segment && total + size(j) <= kGsoMaxBytes) {
            total += size(j);
            ++j;
        }
        m.segments = j - i;
        m.segmentSize = static_cast<uint16_t>(segment);
        messages.push_back(m);
        i = j;
    }
    headers.assign(messages.size(), mmsghdr{});
    for (size_t k = 0; k < messages.size(); ++k) {
        UdpMessage& m = messages[k];
        msghdr& h = headers[k].msg_hdr;
        h.msg_iov = &batch.iov[2 * m.firstPacket];
        h.msg_iovlen = 2 * m.segments;
        if (m.segments > 1) {
            h.msg_control = m.control.data();
            h.msg_controllen = m.control.size();
            cmsghdr* c = CMSG_FIRSTHDR(&h);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            std::memcpy(CMSG_DATA(c), &m.segmentSize, sizeof(uint16_t));
        }
    }
}

// The same address and port.
bool sameAddress(const sockaddr_storage& a, const sockaddr_storage& b) {
    if (a.ss_family != b.ss_family) {
        return false;
    }
    if (a.ss_family == AF_INET6) {
        const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
        const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
        return x.sin6_port == y.sin6_port &&
               std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
    }
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return a.ss_family == AF_INET && x.sin_port == y.sin_port &&
           x.sin_addr.s_addr == y.sin_addr.s_addr;
}

}  // namespace

void TcpOutput::Impl::readRtcp(Peer& p, int64_t now) {
    RtspPeer& r = *p.rtsp;
    // What waits on the RTCP port, a bounded number of datagrams a turn (a flood stays in the
    // socket's buffer, which the kernel bounds): the client's receiver reports keep its
    // session alive, as its requests do; anything else is dropped and counted. What the
    // kernel dropped with the buffer full is counted too: each datagram read carries the
    // socket's drop count so far (SO_RXQ_OVFL).
    constexpr int kMaxReads = 16;
    std::array<uint8_t, 1500> buffer{};
    alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(uint32_t))> control{};
    uint64_t reports = 0;
    uint64_t rejected = 0;
    uint64_t overflow = 0;
    for (int i = 0; i < kMaxReads; ++i) {
        sockaddr_storage from{};
        iovec iov{buffer.data(), buffer.size()};
        msghdr msg{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        const ssize_t n = ::recvmsg(r.udpRtcp.get(), &msg, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            break;  // EAGAIN: nothing more (a pending ICMP error is of no use here either)
        }
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
                c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
                uint32_t dropped = 0;
                std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
                overflow +=
                    static_cast<uint32_t>(dropped - r.rtcpOverflow);  // wraps as the kernel's
                r.rtcpOverflow = dropped;
            }
        }
        const bool fromClient = sameAddress(from, r.rtcpPeer);
        if (fromClient && static_cast<size_t>(n) <= buffer.size() &&
            isRtcpCompound({buffer.data(), static_cast<size_t>(n)})) {
            ++reports;
            r.lastHeardNs = now;
            continue;
        }
        ++rejected;
        if (dropLog.allow()) {
            LOG_WARN(kNetTag, "%s: dropped a %zd-byte datagram on the RTCP port (%s)",
                     peerName(p).c_str(), n,
                     fromClient ? "not RTCP" : "not from the client's RTCP port");
        }
    }
    if (overflow > 0 && rtcpOverflowLog.allow()) {
        LOG_WARN(kNetTag, "%s: the RTCP port's buffer was full: %llu datagrams dropped",
                 peerName(p).c_str(), static_cast<unsigned long long>(overflow));
    }
    if (reports + rejected + overflow > 0) {
        std::lock_guard lock(figures.mutex);
        figures.totals.rtcpReports += reports;
        figures.totals.rtcpRejected += rejected;
        figures.totals.rtcpOverflow += overflow;
    }
}

bool TcpOutput::Impl::openUdp(Peer& p, const RtspTransport& t) {
    RtspPeer& r = *p.rtsp;
    r.udpRtp.reset();
    r.udpRtcp.reset();
    sockaddr_storage local{};
    sockaddr_storage remote{};
    socklen_t localLen = sizeof local;
    socklen_t remoteLen = sizeof remote;
    // The packets go to the address the RTSP connection comes from, never elsewhere.
    if (getsockname(p.fd.get(), reinterpret_cast<sockaddr*>(&local), &localLen) != 0 ||
        getpeername(p.fd.get(), reinterpret_cast<sockaddr*>(&remote), &remoteLen) != 0) {
        return false;
    }
    const auto setPort = [](sockaddr_storage& a, uint16_t port) {
        if (a.ss_family == AF_INET6) {
            reinterpret_cast<sockaddr_in6*>(&a)->sin6_port = htons(port);
        } else {
            reinterpret_cast<sockaddr_in*>(&a)->sin_port = htons(port);
        }
    };
    // RTP: connected to the client's RTP port. RTCP: not connected, so that what arrives
    // from elsewhere is read and counted (readRtcp); the sender reports go with sendto.
    const auto open = [&](uint16_t localPort, uint16_t clientPort, UniqueFd& fd,
                          uint16_t& boundPort, bool connect) {
        fd.reset(::socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        sockaddr_storage bindTo = local;
        setPort(bindTo, localPort);
        sockaddr_storage to = remote;
        setPort(to, clientPort);
        if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&bindTo), localLen) != 0 ||
            (connect && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), remoteLen) != 0)) {
            return false;
        }
        if (!connect) {
            r.rtcpPeer = to;
            r.rtcpPeerLen = remoteLen;
            // A report is a few hundred bytes every few seconds, and at most 16 datagrams
            // are read a second: a small buffer bounds what a flood holds (the kernel
            // doubles the figure). What it drops with the buffer full is counted (readRtcp).
            const int size = kRtcpReceiveBuffer;
            setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
            const int on = 1;
            if (setsockopt(fd.get(), SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on) != 0 &&
                !rtsp.overflowUncountedSaid) {
                rtsp.overflowUncountedSaid = true;
                LOG_WARN(kNetTag,
                         "datagrams the kernel drops on a full RTCP port cannot be counted here "
                         "(SO_RXQ_OVFL: %s); rtsp_rtcp_overflow stays 0",
                         std::strerror(errno));
            }
            r.rtcpOverflow = 0;
        }
        sockaddr_storage bound{};
        socklen_t len = sizeof bound;
        getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len);
        boundPort =
            ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
        return true;
    };
    // An even RTP port and the next one for RTCP (RFC 3550 11): clients such as FFmpeg send
    // their reports there whatever server_port says. A few tries, as another socket may take
    // the odd port first.
    bool opened = false;
    for (int attempt = 0; attempt < 16 && !opened; ++attempt) {
        opened = open(0, t.clientRtpPort, r.udpRtp, r.serverRtpPort, true) &&
                 r.serverRtpPort % 2 == 0 && r.serverRtpPort < 65535 &&
                 open(static_cast<uint16_t>(r.serverRtpPort + 1), t.clientRtcpPort, r.udpRtcp,
                      r.serverRtcpPort, false);
    }
    if (!opened) {
        LOG_WARN(kNetTag, "%s: no pair of UDP ports for RTP and RTCP: %s", peerName(p).c_str(),
                 std::strerror(errno));
        r.udpRtp.reset();
        r.udpRtcp.reset();
        r.serverRtpPort = r.serverRtcpPort = 0;
        return false;
    }
    if (config.sendBufferBytes > 0) {
        const int size = static_cast<int>(std::min<size_t>(config.sendBufferBytes, 1u << 30));
        setsockopt(r.udpRtp.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    // UDP GSO where the kernel knows it (Linux 4.18 on): an older one would ignore the
    // segment size and send a run of packets as one datagram, so it is asked first.
    int segment = 0;
    socklen_t segmentLen = sizeof segment;
    r.gso = getsockopt(r.udpRtp.get(), SOL_UDP, UDP_SEGMENT, &segment, &segmentLen) == 0;
    return true;
}

void TcpOutput::Impl::pumpUdp(Peer& p) {
    RtspPeer& r = *p.rtsp;
    if (p.closing || !r.session.playing() || !r.udpRtp) {
        return;
    }
    // Datagrams never wait: each goes at once (sendmmsg on a non-blocking socket), or is lost
    // and counted when the socket buffer is full, as on any UDP path. A run of packets of one
    // size (the fragmentation units of a NAL unit; the last may be shorter) goes as one
    // message that the kernel cuts into datagrams (UDP GSO), where the socket allows it.
    // (The batch and the messages are kept from call to call: no allocation per send.)
    SendBatch& batch = rtsp.udpBatch;
    std::vector<UdpMessage>& messages = rtsp.udpMessages;
    std::vector<mmsghdr>& headers = rtsp.udpHeaders;
    while (p.queue.readyToSend()) {
        p.queue.prepare(batch, 32);
        // The writer gives each packet as two iovecs: its header and its payload.
        const size_t packets = batch.iov.size() / 2;
        buildUdpMessages(batch, 0, r.gso, messages, headers);
        size_t sent = 0;
        size_t packetsSent = 0;
        size_t bytes = 0;
        uint64_t gsoSends = 0;
        while (sent < headers.size()) {
            const int n = ::sendmmsg(r.udpRtp.get(), headers.data() + sent,
                                     static_cast<unsigned>(headers.size() - sent), MSG_DONTWAIT);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && messages[sent].segments > 1 &&
                (errno == EINVAL || errno == EIO || errno == EMSGSIZE)) {
                // The kernel refuses to segment on this socket's route (EIO: a device without
                // checksum offload; EMSGSIZE or EINVAL: a route MTU below a packet, which
                // datagrams of their own cross as IP fragments): one datagram per packet
                // from here on, for this client.
                const int error = errno;
                r.gso = false;
                std::lock_guard lock(figures.mutex);
                if (figures.totals.udpGsoRefused++ == 0) {
                    LOG_WARN(kNetTag,
                             "%s: the kernel refuses UDP segmentation (%s): one datagram per "
                             "RTP packet for it (logged once; counted in rtsp_udp_gso_refused)",
                             peerName(p).c_str(), std::strerror(error));
                }
                buildUdpMessages(batch, messages[sent].firstPacket, false, messages, headers);
                sent = 0;
                continue;
            }
            if (n <= 0) {
                break;
            }
            for (size_t i = sent; i < sent + static_cast<size_t>(n); ++i) {
                packetsSent += messages[i].segments;
                bytes += headers[i].msg_len;
                gsoSends += messages[i].segments > 1 ? 1 : 0;
            }
            sent += static_cast<size_t>(n);
        }
        const int64_t now = monotonicNs();
        uint64_t frames = 0;
        std::lock_guard lock(figures.mutex);
        p.queue.complete(batch.bytes, [&](const AccessUnitPtr& au) {
            ++frames;
            if (au->captureTimeNs > 0 && figures.latencies.size() < 20000) {
                figures.latencies.push_back(now - au->captureTimeNs);
            }
        });
        p.framesSent += frames;
        p.bytesSent += bytes;
        figures.totals.framesSent += frames;
        figures.totals.bytesSent += bytes;
        figures.totals.udpLost += packets - std::min(packets, packetsSent);
        figures.totals.udpGsoSends += gsoSends;
    }
    batch.clear();  // the access units are not held here
}

}  // namespace h265direct::net
