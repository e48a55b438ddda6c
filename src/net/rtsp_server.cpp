// SPDX-License-Identifier: GPL-2.0-or-later
// --rtsp: the RTSP server's part of the loop thread. Connections are accepted as the TCP
// server's receivers are (tcp_server.cpp); here each one's requests are read and answered
// (the protocol itself is rtsp.cpp), and after PLAY its queue goes out as RTP/H.265 packets
// interleaved on the connection (rtp.cpp) or over UDP (rtsp_udp.cpp), with RTCP sender
// reports. Answers and reports go between access units, never inside one.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/clock.hpp"
#include "core/secure_random.hpp"
#include "net/tcp_output_impl.hpp"

namespace h265direct::net {

namespace {

constexpr int64_t kDescribeWaitNs = 5'000'000'000;  // DESCRIBE waits this long for a keyframe
constexpr int64_t kReportIntervalNs = 5'000'000'000;
// Answers and RTCP reports waiting for a client to read them, at most.
constexpr size_t kMaxControlBytes = 64 * 1024;

// The local address a connection reached, without the port.
std::string localAddress(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        return {};
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, text, sizeof text);
    } else {
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, text, sizeof text);
    }
    return text;
}

}  // namespace

void TcpOutput::Impl::acceptRtsp(Peer& p) {
    RtspSession::Config c;
    c.path = normalizeRtspPath(config.rtspPath);
    c.timeoutSec = config.rtspSessionTimeoutSec;
    c.udp = true;
    p.rtsp = std::make_unique<RtspPeer>(c, secureRandom64());
    RtspPeer& r = *p.rtsp;
    r.ssrc = static_cast<uint32_t>(secureRandom64());
    r.firstSeq = static_cast<uint16_t>(secureRandom64());
    r.timestampOffset = static_cast<uint32_t>(secureRandom64());
    r.origin = localAddress(p.fd.get());
    r.lastHeardNs = monotonicNs();
    LOG_INFO(kNetTag, "%s connected", peerName(p).c_str());
}

void TcpOutput::Impl::onRtspBytes(Peer& p, size_t n) {
    RtspPeer& r = *p.rtsp;
    r.lastHeardNs = monotonicNs();
    r.reader.feed({r.in.data(), n});
    RtspRequest request;
    while (!p.closing && !r.closeAfterControl) {
        const RtspReader::Next next = r.reader.next(request);
        if (next == RtspReader::Next::NeedMore) {
            break;
        }
        if (next == RtspReader::Next::Failed) {
            {
                std::lock_guard lock(figures.mutex);
                ++figures.totals.badRequests;
            }
            if (dropLog.allow()) {
                LOG_WARN(kNetTag, "%s: bad request (%s): closing", peerName(p).c_str(),
                         r.reader.error().c_str());
            }
            r.closeReason = "bad request";
            r.closeAfterControl = true;
            queueControl(p, RtspSession::badRequest(r.reader.error()));
            break;
        }
        if (rtspAuthorized(p, request)) {
            answerRtsp(p, request);
        }
    }
}

void TcpOutput::Impl::answerRtsp(Peer& p, const RtspRequest& request) {
    RtspPeer& r = *p.rtsp;
    SdpParameters sdp = rtsp.sdp;
    sdp.origin = r.origin;
    sdp.sessionId = rtsp.sdp.sessionId;
    RtspSession::Context context;
    context.sdp = rtsp.haveSdp ? &sdp : nullptr;
    context.nextSeq = r.writer ? r.writer->nextSeq() : r.firstSeq;
    context.rtpTimeNow = rtpTimestamp(monotonicNs(), r.timestampOffset);
    context.ssrc = r.ssrc;
    if (request.method == "SETUP" && !r.session.playing()) {
        // RTP over UDP: the sockets first, their ports go into the answer.
        const RtspTransport t = parseRtspTransport(request.header("Transport"), true);
        if (t.kind == RtspTransport::Kind::Udp && openUdp(p, t)) {
            context.serverRtpPort = r.serverRtpPort;
            context.serverRtcpPort = r.serverRtcpPort;
        }
    }
    std::string reply;
    switch (r.session.handle(request, context, reply)) {
        case RtspSession::Outcome::Wait:
            // No keyframe yet (encoding starts with the first client): answer when it comes.
            r.waitingDescribe = request;
            r.describeSinceNs = monotonicNs();
            maybeRequestKeyframe();
            return;
        case RtspSession::Outcome::Setup: {
            const RtspTransport& t = r.session.transport();
            r.udp = t.kind == RtspTransport::Kind::Udp;
            if (!r.udp) {
                r.udpRtp.reset();
                r.udpRtcp.reset();
            }
            r.writer = std::make_unique<RtpWriter>(r.ssrc, r.firstSeq, r.timestampOffset,
                                                   r.udp ? -1 : t.rtpChannel);
            p.queue.setWriter(r.writer.get());
            server.hadPeer = true;
            break;
        }
        case RtspSession::Outcome::Play:
            // The answer goes first: the queue is empty and answers go before media.
            queueControl(p, std::move(reply));
            p.queue.waitForStartPoint();
            LOG_INFO(kNetTag, "%s plays (RTP over %s); it starts at the next keyframe",
                     peerName(p).c_str(), r.udp ? "UDP" : "TCP");
            maybeRequestKeyframe();
            return;
        case RtspSession::Outcome::Teardown:
            p.queue.clearUnsent();
            r.closeReason = "TEARDOWN";
            r.closeAfterControl = true;
            break;
        case RtspSession::Outcome::ReplyAndClose:
            r.closeReason = "bad request";
            r.closeAfterControl = true;
            {
                std::lock_guard lock(figures.mutex);
                ++figures.totals.badRequests;
            }
            break;
        case RtspSession::Outcome::Reply:
            break;
    }
    queueControl(p, std::move(reply));
}

void TcpOutput::Impl::queueControl(Peer& p, std::string bytes) {
    RtspPeer& r = *p.rtsp;
    if (r.control.size() + bytes.size() > kMaxControlBytes) {
        // A client that sends requests but does not read the answers: it is not kept in memory.
        if (dropLog.allow()) {
            LOG_WARN(kNetTag, "%s does not read its answers (%zu bytes waiting): closing",
                     peerName(p).c_str(), r.control.size());
        }
        closePeer(p, "not reading", false);
        return;
    }
    r.control += bytes;
    pump(p);
}

bool TcpOutput::Impl::sendControl(Peer& p) {
    RtspPeer& r = *p.rtsp;
    if (p.closing || !p.connected) {
        return true;
    }
    if (p.sending) {
        return true;
    }
    if (r.control.empty()) {
        if (r.closeAfterControl) {
            closePeer(p, r.closeReason, false);
            return true;
        }
        return false;
    }
    if (p.queue.midUnit()) {
        return false;  // the rest of the access unit first
    }
    auto op = std::make_unique<SendOp>();
    op->peer = &p;
    op->control = std::move(r.control);
    r.control.clear();
    op->controlIov = iovec{op->control.data(), op->control.size()};
    op->batch.msg.msg_iov = &op->controlIov;
    op->batch.msg.msg_iovlen = 1;
    io->sendmsg(*op, p.fd.get(), &op->batch.msg, false);
    op->pending = true;
    p.sending = true;
    ++p.activeOps;
    {
        std::lock_guard lock(figures.mutex);
        ++figures.totals.plainSends;
    }
    op.release();  // owned by the I/O loop until its completion
    return true;
}

void TcpOutput::Impl::learnParameterSets(const AccessUnit& au) {
    if (!au.hasParameterSets) {
        return;
    }
    std::string* slots[3] = {&rtsp.sdp.vps, &rtsp.sdp.sps, &rtsp.sdp.pps};
    bool seen[3] = {false, false, false};
    for (const NalUnitInfo& nal : au.nals) {
        if (nal.type < 32 || nal.type > 34 || seen[nal.type - 32]) {
            continue;
        }
        seen[nal.type - 32] = true;
        const std::string bytes(reinterpret_cast<const char*>(au.data.data()) + nal.offset,
                                nal.size);
        if (*slots[nal.type - 32] != bytes) {
            *slots[nal.type - 32] = bytes;
            rtsp.sdp.sessionId = secureRandom64() >> 1;
        }
    }
    rtsp.haveSdp = !rtsp.sdp.vps.empty() && !rtsp.sdp.sps.empty() && !rtsp.sdp.pps.empty();
    if (!rtsp.haveSdp) {
        return;
    }
    for (auto& p : peers) {
        if (!p->closing && p->rtsp && p->rtsp->describeSinceNs != 0) {
            p->rtsp->describeSinceNs = 0;
            answerRtsp(*p, p->rtsp->waitingDescribe);
        }
    }
}

void TcpOutput::Impl::rtspTick() {
    const int64_t now = monotonicNs();
    const int64_t timeoutNs = int64_t{config.rtspSessionTimeoutSec} * 1'000'000'000;
    for (auto& pp : peers) {
        Peer& p = *pp;
        if (p.closing || !p.rtsp) {
            continue;
        }
        RtspPeer& r = *p.rtsp;
        if (r.udpRtcp) {
            readRtcp(p, now);
        }
        if (now - r.lastHeardNs > timeoutNs) {
            {
                std::lock_guard lock(figures.mutex);
                ++figures.totals.timeouts;
            }
            closePeer(p,
                      "nothing heard for --rtsp-timeout " +
                          std::to_string(config.rtspSessionTimeoutSec) + " s",
                      false);
            continue;
        }
        if (r.describeSinceNs != 0 && now - r.describeSinceNs > kDescribeWaitNs) {
            r.describeSinceNs = 0;
            queueControl(p, RtspSession::unavailable(r.waitingDescribe));
        }
        if (r.session.playing() && r.writer && r.writer->packetCount() > 0 &&
            (r.lastReportNs == 0 || now - r.lastReportNs >= kReportIntervalNs)) {
            r.lastReportNs = now;
            const std::vector<uint8_t> report = rtcpSenderReport(
                r.ssrc, wallClockNs(), rtpTimestamp(now, r.timestampOffset),
                r.writer->packetCount(), r.writer->octetCount(), "h265direct@" + r.origin);
            if (r.udp) {
                // Lost when the socket is full, as RTCP over UDP may be.
                [[maybe_unused]] const ssize_t n =
                    ::sendto(r.udpRtcp.get(), report.data(), report.size(), MSG_DONTWAIT,
                             reinterpret_cast<const sockaddr*>(&r.rtcpPeer), r.rtcpPeerLen);
            } else {
                const std::vector<uint8_t> framed =
                    interleaved(static_cast<uint8_t>(r.session.transport().rtcpChannel), report);
                queueControl(p, std::string(framed.begin(), framed.end()));
            }
        }
    }
}

}  // namespace h265direct::net
