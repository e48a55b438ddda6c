// SPDX-License-Identifier: GPL-2.0-or-later
// --rtsp against real clients on loopback: FFmpeg (ffmpeg, ffprobe) over RTP/TCP and RTP/UDP,
// GStreamer's rtspsrc, ten clients at once, a late joiner, a client that stops reading, the
// timestamps, and what a bad or silent client gets.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/child_process.hpp"
#include "common/media.hpp"
#include "common/test_util.hpp"
#include "net/net_fixture.hpp"
#include "rtsp/rtsp_server_fixture.hpp"

using namespace h265direct;
using namespace h265direct::test;

namespace {

// Packet times (s) of the video stream ffprobe reads from a URL for `seconds`.
std::vector<double> packetTimes(const std::string& url, const std::string& transport, int seconds) {
    const ProcessResult r =
        runProcess({"ffprobe", "-v", "error", "-rtsp_transport", transport, "-select_streams",
                    "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", "-read_intervals",
                    "%+" + std::to_string(seconds), url},
                   60);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    std::vector<double> out;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
        line.erase(std::remove(line.begin(), line.end(), ','), line.end());
        if (!line.empty() && line != "N/A") {
            out.push_back(std::stod(line));
        }
    }
    return out;
}

// The packets advance at the frame rate (1/30 s): the timestamps are the capture times at
// 90 kHz. On a busy machine the paced source is late now and then (and starts its schedule
// again), which the capture times show: every step is forward, and the median step is the
// period within 1 ms (as for --publish, tests/publish).
void expectFrameRate(const std::vector<double>& t, size_t atLeast) {
    ASSERT_GE(t.size(), atLeast);
    std::vector<double> steps;
    for (size_t i = 1; i < t.size(); ++i) {
        steps.push_back(t[i] - t[i - 1]);
        EXPECT_GT(steps.back(), 0.0) << "packet " << i;
    }
    std::sort(steps.begin(), steps.end());
    EXPECT_NEAR(steps[steps.size() / 2], 1.0 / 30, 0.001);
}

class RtspServer : public NetIoTest {};

TEST_P(RtspServer, FfmpegPullsOverTcpAndUdpAndDecodes) {
    Server server({}, currentIoPath()->io);
    TempDir dir;
    for (const char* transport : {"tcp", "udp"}) {
        SCOPED_TRACE(transport);
        const std::string out = dir.file(std::string(transport) + ".h265");
        const ProcessResult r = runProcess(ffmpegPull(server.url(), transport, 45, out), 60);
        ASSERT_EQ(r.exitCode, 0) << r.err;
        expectDecodes(out, 45);
    }
    EXPECT_TRUE(server.process->waitForStderr("plays (RTP over UDP)")) << server.process->err();
    server.process->signal(SIGINT);
    EXPECT_EQ(server.process->wait(), 0) << server.process->err();
}

H265D_NET_IO_SUITE(RtspServer);

TEST(RtspServer, GstreamerRtspsrcDecodesOverTcpAndUdp) {
    Server server({"--rtsp-path", "/cam/front"});
    TempDir dir;
    for (const std::string protocol : {"tcp", "udp"}) {
        SCOPED_TRACE(protocol);
        const std::string out = dir.file(protocol + ".yuv");
        const ProcessResult r = runProcess({"gst-launch-1.0",
                                            "-q",
                                            "rtspsrc",
                                            "location=" + server.url("/cam/front"),
                                            "protocols=" + protocol,
                                            "!",
                                            "rtph265depay",
                                            "!",
                                            "h265parse",
                                            "!",
                                            "avdec_h265",
                                            "!",
                                            "videoconvert",
                                            "!",
                                            "video/x-raw,format=I420",
                                            "!",
                                            "identity",
                                            "eos-after=31",
                                            "!",
                                            "filesink",
                                            "location=" + out},
                                           60);
        ASSERT_EQ(r.exitCode, 0) << r.err << r.out;
        // identity eos-after=31 passes 30 pictures, then ends the stream.
        EXPECT_EQ(readFile(out).size(), size_t{30} * kWidth * kHeight * 3 / 2);
    }
}

TEST(RtspServer, TenClientsAtOnceEachDecodeFromAKeyframe) {
    Server server;
    TempDir dir;
    std::vector<std::unique_ptr<ChildProcess>> clients;
    for (int i = 0; i < 10; ++i) {
        clients.push_back(std::make_unique<ChildProcess>(ffmpegPull(
            server.url(), i % 2 == 0 ? "tcp" : "udp", 40, dir.file(std::to_string(i) + ".h265"))));
    }
    EXPECT_TRUE(waitFor([&] { return server.figure("rtsp_playing") == 10; }, 60))
        << server.process->err();
    for (int i = 0; i < 10; ++i) {
        SCOPED_TRACE(i);
        ASSERT_EQ(clients[i]->wait(60), 0) << clients[i]->err();
        expectDecodes(dir.file(std::to_string(i) + ".h265"), 40);
    }
}

TEST(RtspServer, ALateJoinerStartsAtAKeyframe) {
    // Keyframes only every 10 s: the joiner's keyframe is the one it asks for.
    Server server({"--keyint", "300"});
    TempDir dir;
    const std::string first = dir.file("first.h265");
    ChildProcess early(ffmpegPull(server.url(), "tcp", 150, first));
    // The first client is well into its group of pictures before the second one comes.
    ASSERT_TRUE(waitFor(
        [&] { return std::filesystem::exists(first) && std::filesystem::file_size(first) > 20000; },
        30));
    const std::string late = dir.file("late.h265");
    const ProcessResult r = runProcess(ffmpegPull(server.url(), "tcp", 30, late), 60);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    expectDecodes(late, 30);
    ASSERT_EQ(early.wait(60), 0) << early.err();
    expectDecodes(first, 150);
}

TEST(RtspServer, PtsAdvanceAtTheFrameRate) {
    Server server;
    expectFrameRate(packetTimes(server.url(), "tcp", 3), 60);
    expectFrameRate(packetTimes(server.url(), "udp", 3), 60);
}

TEST(RtspServer, AStalledClientDoesNotStallTheOthers) {
    Server server({"--queue-frames", "8", "--send-buffer", "4096"});
    // A client that sets up, plays and then never reads.
    RawClient stalled(server.port, 4096);
    const std::string url = server.url();
    ASSERT_EQ(statusOf(stalled.request("DESCRIBE", url, 1)), "RTSP/1.0 200 OK");
    const std::string setup = stalled.request("SETUP", url + "trackID=0", 2,
                                              "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
    ASSERT_EQ(statusOf(setup), "RTSP/1.0 200 OK") << setup;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(setup, m, std::regex("Session: ([0-9a-f]+)")));
    const std::string play = stalled.request("PLAY", url, 3, "Session: " + m[1].str() + "\r\n");
    ASSERT_EQ(statusOf(play), "RTSP/1.0 200 OK") << play;
    ASSERT_NE(play.find("RTP-Info: url=" + url + "trackID=0;seq="), std::string::npos) << play;
    // Its queue fills and it drops whole access units...
    ASSERT_TRUE(waitFor([&] { return server.figure("rtsp_drops") > 0; }, 30))
        << server.process->err();
    // ...while another client gets every frame at the frame rate.
    expectFrameRate(packetTimes(url, "tcp", 3), 60);
}

TEST(RtspServer, PlayStartsAtTheRtpInfoSeqWithAKeyframeAndSenderReportsFollow) {
    Server server;
    RawClient c(server.port);
    const std::string url = server.url();
    ASSERT_EQ(statusOf(c.request("DESCRIBE", url, 1)), "RTSP/1.0 200 OK");
    const std::string setup = c.request("SETUP", url + "trackID=0", 2,
                                        "Transport: RTP/AVP/TCP;unicast;interleaved=4-5\r\n");
    std::smatch session;
    std::smatch ssrc;
    ASSERT_TRUE(std::regex_search(setup, session, std::regex("Session: ([0-9a-f]+);timeout=60")))
        << setup;
    ASSERT_TRUE(std::regex_search(setup, ssrc, std::regex("interleaved=4-5;ssrc=([0-9A-F]{8})")))
        << setup;
    const std::string play = c.request("PLAY", url, 3, "Session: " + session[1].str() + "\r\n");
    std::smatch info;
    ASSERT_TRUE(std::regex_search(play, info, std::regex("seq=([0-9]+);rtptime=([0-9]+)"))) << play;
    const auto be32 = [](const uint8_t* p) {
        return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    };
    // Interleaved frames until the first sender report.
    bool first = true;
    uint32_t lastRtpTime = 0;
    uint16_t expectSeq = 0;
    size_t packets = 0;
    const int64_t end = monotonicNs() + 20'000'000'000;
    while (monotonicNs() < end) {
        const std::vector<uint8_t> h = readSome(c.fd, 4);
        ASSERT_EQ(h.size(), 4u);
        ASSERT_EQ(h[0], '$');
        const std::vector<uint8_t> p = readSome(c.fd, (size_t{h[2]} << 8) | h[3]);
        ASSERT_EQ(p.size(), (size_t{h[2]} << 8) | h[3]);
        if (h[1] == 4) {
            ASSERT_GE(p.size(), 14u);
            const uint16_t seq = static_cast<uint16_t>((p[2] << 8) | p[3]);
            if (first) {
                // The first packet: the sequence number PLAY announced, a VPS (keyframe).
                EXPECT_EQ(seq, std::stoul(info[1]));
                EXPECT_EQ((p[12] >> 1) & 0x3f, 32);
                first = false;
            } else {
                EXPECT_EQ(seq, expectSeq);
            }
            expectSeq = static_cast<uint16_t>(seq + 1);
            EXPECT_EQ(be32(&p[8]), std::stoul(ssrc[1], nullptr, 16));
            lastRtpTime = be32(&p[4]);
            ++packets;
            continue;
        }
        ASSERT_EQ(h[1], 5);
        ASSERT_FALSE(first) << "a sender report before any packet";
        ASSERT_GE(p.size(), 28u);
        EXPECT_EQ(p[1], 200);
        EXPECT_EQ(be32(&p[4]), std::stoul(ssrc[1], nullptr, 16));
        // NTP time: now (the same machine's wall clock), within a few seconds.
        const double ntp = be32(&p[8]) - 2208988800.0;
        EXPECT_NEAR(ntp, static_cast<double>(time(nullptr)), 5.0);
        // RTP time of that moment: just after the last frame's capture time.
        const auto ahead = static_cast<int32_t>(be32(&p[16]) - lastRtpTime);
        EXPECT_GE(ahead, 0);
        EXPECT_LT(ahead, 45000);  // half a second
        EXPECT_EQ(be32(&p[20]), packets);
        return;
    }
    FAIL() << "no sender report within 20 s";
}

// A datagram socket on 127.0.0.1 (port 0: any).
struct UdpSocket {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    uint16_t port = 0;
    UdpSocket() {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        const int size = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~UdpSocket() { ::close(fd); }
    void sendTo(uint16_t to, const std::vector<uint8_t>& bytes) const {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(to);
        ASSERT_EQ(
            ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a),
            static_cast<ssize_t>(bytes.size()));
    }
    // The next datagram, or empty after idleSec of silence.
    std::vector<uint8_t> receive(double idleSec = 10) const {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(idleSec * 1000)) != 1) {
            return {};
        }
        std::vector<uint8_t> d(65536);
        const ssize_t n = ::recv(fd, d.data(), d.size(), 0);
        d.resize(n > 0 ? static_cast<size_t>(n) : 0);
        return d;
    }
};

// A hand-made client playing over RTP/UDP: its RTSP connection, its RTP and RTCP sockets.
struct UdpClient {
    RawClient rtsp;
    UdpSocket rtp;
    UdpSocket rtcp;
    uint16_t serverRtpPort = 0;
    uint16_t serverRtcpPort = 0;
    uint16_t firstSeq = 0;
    explicit UdpClient(const Server& server) : rtsp(server.port) {
        const std::string url = server.url();
        EXPECT_EQ(statusOf(rtsp.request("DESCRIBE", url, 1)), "RTSP/1.0 200 OK");
        const std::string setup =
            rtsp.request("SETUP", url + "trackID=0", 2,
                         "Transport: RTP/AVP;unicast;client_port=" + std::to_string(rtp.port) +
                             "-" + std::to_string(rtcp.port) + "\r\n");
        std::smatch session;
        std::smatch ports;
        EXPECT_TRUE(std::regex_search(setup, session, std::regex("Session: ([0-9a-f]+)"))) << setup;
        EXPECT_TRUE(std::regex_search(setup, ports, std::regex("server_port=([0-9]+)-([0-9]+)")))
            << setup;
        if (session.empty() || ports.empty()) {
            return;
        }
        serverRtpPort = static_cast<uint16_t>(std::stoul(ports[1]));
        serverRtcpPort = static_cast<uint16_t>(std::stoul(ports[2]));
        const std::string play =
            rtsp.request("PLAY", url, 3, "Session: " + session[1].str() + "\r\n");
        std::smatch info;
        EXPECT_TRUE(std::regex_search(play, info, std::regex("seq=([0-9]+)"))) << play;
        if (!info.empty()) {
            firstSeq = static_cast<uint16_t>(std::stoul(info[1]));
        }
    }
};

// An RTCP receiver report with one report block, then an SDES with a CNAME.
std::vector<uint8_t> receiverReport() {
    // RR with one report block (its SSRC, 24 bytes of block); SDES, one chunk, CNAME "hostx".
    return {0x81, 201, 0, 7, 1, 2, 3, 4, 0, 0, 0,   0,   0,   0,   0,   0,
            0,    0,   0, 0, 0, 0, 0, 0, 0, 0, 0,   0,   0,   0,   0,   0,
            0x81, 202, 0, 3, 1, 2, 3, 4, 1, 5, 'h', 'o', 's', 't', 'x', 0};
}

// Over UDP every RTP packet is one datagram, also where a run of them left the server as one
// segmented (GSO) message: consecutive sequence numbers from PLAY's, the first a VPS, every
// fragmentation unit but a NAL unit's last exactly 12 + 1400 bytes. The ports are an even
// RTP port and the next one for RTCP.
TEST_P(RtspServer, OverUdpEachRtpPacketIsOneDatagramThoughRunsGoAsOneGsoMessage) {
    Server server({}, currentIoPath()->io);
    UdpClient c(server);
    ASSERT_NE(c.serverRtpPort, 0);
    EXPECT_EQ(c.serverRtpPort % 2, 0);
    EXPECT_EQ(c.serverRtcpPort, c.serverRtpPort + 1);
    uint16_t expectSeq = c.firstSeq;
    int markers = 0;
    size_t fragments = 0;
    while (markers < 60) {
        const std::vector<uint8_t> d = c.rtp.receive();
        ASSERT_GE(d.size(), 14u) << "no RTP packet for 10 s";
        ASSERT_LE(d.size(), 1412u);
        EXPECT_EQ(d[0], 0x80);
        EXPECT_EQ(d[1] & 0x7f, 96);
        const uint16_t seq = static_cast<uint16_t>((d[2] << 8) | d[3]);
        ASSERT_EQ(seq, expectSeq) << "a datagram missing or out of order";
        if (seq == c.firstSeq) {
            EXPECT_EQ((d[12] >> 1) & 0x3f, 32) << "the first packet is not a VPS";
        }
        expectSeq = static_cast<uint16_t>(seq + 1);
        if (((d[12] >> 1) & 0x3f) == 49) {
            ++fragments;
            if ((d[14] & 0x40) == 0) {
                EXPECT_EQ(d.size(), 1412u) << "a fragmentation unit other than a NAL's last";
            }
        }
        markers += (d[1] & 0x80) != 0 ? 1 : 0;
    }
    EXPECT_GT(fragments, 60u);  // the stream's frames are fragmented: GSO has runs to send
    EXPECT_TRUE(waitFor([&] { return server.figure("rtsp_udp_gso_sends") > 0; }, 10))
        << server.process->err();
    EXPECT_EQ(server.figure("rtsp_udp_gso_refused"), 0);
    EXPECT_EQ(server.figure("rtsp_udp_lost"), 0);
}

// A route whose MTU is below the packets (a network namespace of this test's own, loopback
// MTU 1300): the kernel refuses to segment, the server sends each packet as a datagram of its
// own (IP-fragmented on that route), logs it once, counts it, and FFmpeg decodes every frame.
TEST(RtspServer, WhereTheKernelRefusesGsoEachPacketGoesAloneAndFfmpegDecodes) {
    TempDir dir;
    const std::string script = R"(set -e
ip link set lo mtu 1300 up
"$1" --pattern -s 160x120 --keyint 15 --rtsp 127.0.0.1:8554 --stats-json 2>"$2/server.log" &
server=$!
i=0; until grep -q 'RTSP server listening' "$2/server.log"; do
  i=$((i+1)); [ $i -lt 300 ] || exit 3; sleep 0.1; done
ffmpeg -hide_banner -nostdin -loglevel error -rtsp_transport udp -i rtsp://127.0.0.1:8554/ \
  -frames:v 45 -c copy -f hevc -flush_packets 1 -y "$2/out.h265"
i=0; until grep -q '"rtsp_udp_gso_refused":1' "$2/server.log"; do
  i=$((i+1)); [ $i -lt 300 ] || exit 4; sleep 0.1; done
kill -INT $server
wait $server
)";
    const ProcessResult r = runProcess(
        {"unshare", "-rn", "sh", "-c", script, "sh", binaryPath(), dir.path().string()}, 120);
    const std::vector<uint8_t> bytes = readFile(dir.file("server.log"));
    const std::string log(bytes.begin(), bytes.end());
    ASSERT_EQ(r.exitCode, 0) << r.err << log;
    expectDecodes(dir.file("out.h265"), 45);
    const std::string refusal = "the kernel refuses UDP segmentation";
    const size_t first = log.find(refusal);
    EXPECT_NE(first, std::string::npos) << log;
    EXPECT_EQ(log.find(refusal, first + 1), std::string::npos) << "logged more than once";
    EXPECT_EQ(log.find("\"rtsp_udp_lost\":0"), log.find("\"rtsp_udp_lost\":")) << log;
}

// A real client's receiver reports (FFmpeg sends them to the port after the RTP one) arrive
// and are counted while it plays.
TEST(RtspServer, FfmpegReceiverReportsOverUdpAreReadAndCounted) {
    Server server;
    TempDir dir;
    const std::string out = dir.file("a.h265");
    ChildProcess client(ffmpegPull(server.url(), "udp", 150, out));
    EXPECT_TRUE(waitFor([&] { return server.figure("rtsp_rtcp_reports") >= 2; }, 30))
        << server.process->err();
    EXPECT_EQ(client.wait(60), 0) << client.err();
    expectDecodes(out, 150);
    EXPECT_EQ(server.figure("rtsp_rtcp_rejected"), 0);
}

// Receiver reports keep a UDP client's session alive without a word on its RTSP connection:
// of two clients that play and then say nothing there, the one that sends reports outlives
// the other's timeout, though it began first. A datagram that is not RTCP, or a report from
// elsewhere than the client's RTCP port, is dropped and counted.
TEST(RtspServer, UdpReceiverReportsKeepASessionAliveAndStrayDatagramsAreCounted) {
    Server server({"--rtsp-timeout", "5"});
    UdpClient reporting(server);
    UdpClient silent(server);
    ASSERT_NE(reporting.serverRtcpPort, 0);
    ASSERT_NE(silent.serverRtcpPort, 0);
    // A report every 15 frames, until the silent client's connection is closed.
    int markers = 0;
    bool silentClosed = false;
    const int64_t end = monotonicNs() + 60'000'000'000;
    while (!silentClosed && monotonicNs() < end) {
        const std::vector<uint8_t> d = reporting.rtp.receive();
        ASSERT_FALSE(d.empty()) << "no RTP packet for 10 s";
        if (d.size() >= 2 && (d[1] & 0x80) != 0 && ++markers % 15 == 0) {
            reporting.rtcp.sendTo(reporting.serverRtcpPort, receiverReport());
        }
        pollfd p{silent.rtsp.fd, POLLIN, 0};
        char c = 0;
        silentClosed = poll(&p, 1, 0) == 1 && ::read(silent.rtsp.fd, &c, 1) == 0;
    }
    ASSERT_TRUE(silentClosed) << server.process->err();
    EXPECT_TRUE(waitFor([&] { return server.figure("rtsp_timeouts") == 1; }, 10));
    EXPECT_GE(server.figure("rtsp_rtcp_reports"), 1);
    // The reporting client is still served and answered.
    EXPECT_EQ(statusOf(reporting.rtsp.request("OPTIONS", "*", 4)), "RTSP/1.0 200 OK");
    EXPECT_FALSE(reporting.rtp.receive().empty());
    // Not RTCP, from the client's own RTCP port; a report from another port.
    reporting.rtcp.sendTo(reporting.serverRtcpPort, {'h', 'e', 'l', 'l', 'o', '!', '!', '!'});
    UdpSocket stranger;
    stranger.sendTo(reporting.serverRtcpPort, receiverReport());
    EXPECT_TRUE(waitFor([&] { return server.figure("rtsp_rtcp_rejected") == 2; }, 10))
        << server.process->err();
    EXPECT_TRUE(server.process->waitForStderr("datagram on the RTCP port", 10));
    EXPECT_EQ(server.figure("rtsp_rtcp_overflow"), 0);
}

// A flood on a client's RTCP port fills its socket's small buffer: the datagrams read are
// rejected, and those the kernel dropped are counted as well (SO_RXQ_OVFL); the client is
// still served.
TEST(RtspServer, AFloodOnTheRtcpPortIsCounted) {
    Server server;
    UdpClient client(server);
    ASSERT_NE(client.serverRtcpPort, 0);
    UdpSocket stranger;
    constexpr int kFlood = 2000;
    for (int i = 0; i < kFlood; ++i) {
        stranger.sendTo(client.serverRtcpPort, receiverReport());
    }
    // Where the kernel's drop count cannot be had (qemu's user-mode emulation refuses
    // SO_RXQ_OVFL), the server says so; what it read is still counted.
    UdpSocket probe;
    const int on = 1;
    if (setsockopt(probe.fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on) != 0) {
        EXPECT_TRUE(server.process->waitForStderr(
            "drops on a full RTCP port cannot be counted here (SO_RXQ_OVFL", 10))
            << server.process->err();
        EXPECT_TRUE(waitFor([&] { return server.figure("rtsp_rtcp_rejected") > 0; }, 60));
        EXPECT_EQ(server.figure("rtsp_rtcp_overflow"), 0);
        EXPECT_FALSE(client.rtp.receive().empty());
        return;
    }
    EXPECT_EQ(server.process->err().find("cannot be counted here"), std::string::npos);
    // The count comes with a datagram that got in after the drops, once the server reads
    // that far (16 datagrams a second).
    EXPECT_TRUE(waitFor(
        [&] {
            stranger.sendTo(client.serverRtcpPort, receiverReport());
            return server.figure("rtsp_rtcp_overflow") > 0;
        },
        60))
        << server.process->err();
    EXPECT_TRUE(server.process->waitForStderr("the RTCP port's buffer was full", 10));
    // Every datagram of the flood is accounted for: read and rejected, or dropped.
    EXPECT_TRUE(waitFor(
        [&] {
            return server.figure("rtsp_rtcp_rejected") + server.figure("rtsp_rtcp_overflow") >=
                   kFlood;
        },
        60))
        << server.figure("rtsp_rtcp_rejected") << " " << server.figure("rtsp_rtcp_overflow");
    EXPECT_EQ(server.figure("rtsp_rtcp_reports"), 0);
    EXPECT_FALSE(client.rtp.receive().empty());
}

TEST(RtspServer, BadRequestsAreAnsweredAndClosedAndTheServerGoesOn) {
    Server server({"--max-peers", "20"});
    {
        RawClient c(server.port);
        c.send("GARBAGE\r\n\r\n");
        EXPECT_EQ(statusOf(c.answer()), "RTSP/1.0 400 Bad Request");
        EXPECT_TRUE(c.closedWithin(10));
    }
    {
        // A head that never ends: closed at 8 KiB, not buffered on.
        RawClient c(server.port);
        c.send("OPTIONS * RTSP/1.0\r\nX-Big: " + std::string(20000, 'a'));
        EXPECT_EQ(statusOf(c.answer()), "RTSP/1.0 400 Bad Request");
        EXPECT_TRUE(c.closedWithin(10));
    }
    {
        RawClient c(server.port);
        EXPECT_EQ(statusOf(c.request("BREW", "*", 1)), "RTSP/1.0 501 Not Implemented");
        EXPECT_EQ(statusOf(c.request("RECORD", server.url(), 2)),
                  "RTSP/1.0 405 Method Not Allowed");
        EXPECT_EQ(statusOf(c.request("DESCRIBE", server.url("/nothing"), 3)),
                  "RTSP/1.0 404 Not Found");
        EXPECT_EQ(statusOf(c.request("PLAY", server.url(), 4)),
                  "RTSP/1.0 455 Method Not Valid in This State");
        EXPECT_EQ(statusOf(c.request("SETUP", server.url() + "trackID=0", 5,
                                     "Transport: RTP/AVP;multicast\r\n")),
                  "RTSP/1.0 461 Unsupported Transport");
        const std::string options = c.request("OPTIONS", "*", 6);
        EXPECT_EQ(statusOf(options), "RTSP/1.0 200 OK");
        EXPECT_NE(options.find("CSeq: 6\r\n"), std::string::npos);
    }
    {
        // Many connections at once: those above --max-peers are closed and counted.
        std::vector<std::unique_ptr<RawClient>> many;
        for (int i = 0; i < 300; ++i) {
            many.push_back(std::make_unique<RawClient>(server.port));
        }
        EXPECT_TRUE(waitFor([&] { return server.figure("rtsp_refused") >= 280; }, 30))
            << server.figure("rtsp_refused");
    }
    EXPECT_TRUE(waitFor([&] { return server.figure("rtsp_bad_requests") == 2; }, 10));
    // And a real client is served as before.
    TempDir dir;
    const ProcessResult r = runProcess(ffmpegPull(server.url(), "tcp", 20, dir.file("a.h265")), 60);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    expectDecodes(dir.file("a.h265"), 20);
    server.process->signal(SIGINT);
    EXPECT_EQ(server.process->wait(), 0) << server.process->err();
}

// Blank lines between requests are skipped, however many: 50 MB of them, then a request that
// is answered on the same connection.
TEST(RtspServer, AFloodOfBlankLinesIsSkippedAndTheNextRequestAnswered) {
    Server server;
    RawClient c(server.port);
    const std::string newlines(size_t{1} << 20, '\n');
    for (int i = 0; i < 50; ++i) {
        c.send(newlines);
    }
    const std::string options = c.request("OPTIONS", "*", 1);
    EXPECT_EQ(statusOf(options), "RTSP/1.0 200 OK");
    EXPECT_NE(options.find("CSeq: 1\r\n"), std::string::npos);
}

TEST(RtspServer, AClientThatDoesNotReadItsAnswersIsClosed) {
    Server server({"--send-buffer", "4096"});
    RawClient c(server.port, 4096);
    std::string requests;
    for (int i = 1; i <= 5000; ++i) {
        requests += "OPTIONS * RTSP/1.0\r\nCSeq: " + std::to_string(i) + "\r\n\r\n";
    }
    c.send(requests);
    EXPECT_TRUE(server.process->waitForStderr("does not read its answers", 30))
        << server.process->err();
    EXPECT_TRUE(c.closedWithin(20));
    TempDir dir;
    const ProcessResult r = runProcess(ffmpegPull(server.url(), "tcp", 10, dir.file("a.h265")), 60);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    expectDecodes(dir.file("a.h265"), 10);
}

TEST(RtspServer, ASilentClientIsClosedAfterTheTimeout) {
    Server server({"--rtsp-timeout", "5"});
    RawClient c(server.port);
    EXPECT_EQ(statusOf(c.request("OPTIONS", "*", 1)), "RTSP/1.0 200 OK");
    EXPECT_TRUE(c.closedWithin(20));
    EXPECT_TRUE(waitFor([&] { return server.figure("rtsp_timeouts") == 1; }, 10));
}

// --exit-on-disconnect: the run ends (exit code 8) when the last RTSP client leaves. A
// connection that only asks OPTIONS and DESCRIBE (a health check, a probe) is not a client:
// the run goes on after it.
TEST(RtspServer, ExitOnDisconnectEndsTheRunWhenTheLastClientLeaves) {
    Server server({"--exit-on-disconnect"});
    {
        RawClient probe(server.port);
        EXPECT_EQ(statusOf(probe.request("OPTIONS", "*", 1)), "RTSP/1.0 200 OK");
        EXPECT_EQ(statusOf(probe.request("DESCRIBE", server.url(), 2)), "RTSP/1.0 200 OK");
    }
    ASSERT_TRUE(server.process->waitForStderr("closed (closed by the client)", 30))
        << server.process->err();
    // Two more stats lines: the probe is gone from the server's list, and the run went on.
    const auto statsLines = [&] {
        const std::string err = server.process->err();
        size_t n = 0;
        for (size_t at = err.find("\"rtsp_peers\":"); at != std::string::npos;
             at = err.find("\"rtsp_peers\":", at + 1)) {
            ++n;
        }
        return n;
    };
    const size_t before = statsLines();
    ASSERT_TRUE(waitFor([&] { return statsLines() >= before + 2; }, 30)) << server.process->err();
    EXPECT_EQ(server.figure("rtsp_peers"), 0);
    TempDir dir;
    const ProcessResult r = runProcess(ffmpegPull(server.url(), "udp", 10, dir.file("a.h265")), 60);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    expectDecodes(dir.file("a.h265"), 10);
    EXPECT_EQ(server.process->wait(30), 8) << server.process->err();
    EXPECT_NE(server.process->err().find("the last RTSP client left (--exit-on-disconnect)"),
              std::string::npos)
        << server.process->err();
}

TEST(RtspServer, BadOptionValuesAreUsageErrors) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{"--rtsp", "0"},
                                                 {"--rtsp", "host:"},
                                                 {"--rtsp", "70000"},
                                                 {"--rtsp", "8554", "--rtsp-path", "cam"},
                                                 {"--rtsp", "8554", "--rtsp-path", "/a b"},
                                                 {"--rtsp", "8554", "--rtsp-timeout", "1"}}) {
        std::vector<std::string> argv = {binaryPath(), "--pattern", "--frames", "1"};
        argv.insert(argv.end(), args.begin(), args.end());
        const ProcessResult r = runProcess(argv, 30);
        EXPECT_EQ(r.exitCode, 2) << args.back() << ": " << r.err;
        EXPECT_EQ(r.err.rfind("h265direct: error: ", 0), 0u) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
    // A port in use is a network failure.
    TestListener taken;
    const ProcessResult r = runProcess(
        {binaryPath(), "--pattern", "--rtsp", "127.0.0.1:" + std::to_string(taken.port)}, 30);
    EXPECT_EQ(r.exitCode, 8) << r.err;
    EXPECT_NE(r.err.find("h265direct: error: --rtsp: cannot listen on"), std::string::npos)
        << r.err;
}

}  // namespace
