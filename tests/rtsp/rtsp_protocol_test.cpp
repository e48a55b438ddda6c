// SPDX-License-Identifier: GPL-2.0-or-later
// The RTSP server's protocol side without I/O: reading requests cut anywhere, and the answer
// to each method and to what is malformed or unsupported.

#include <gtest/gtest.h>

#include <string>

#include "net/rtsp.hpp"

namespace h265direct::net {
namespace {

std::span<const uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<RtspRequest> readAll(RtspReader& r, const std::string& s, size_t chunk) {
    std::vector<RtspRequest> out;
    for (size_t i = 0; i < s.size(); i += chunk) {
        r.feed(bytes(s.substr(i, chunk)));
        RtspRequest q;
        while (r.next(q) == RtspReader::Next::Request) {
            out.push_back(q);
        }
    }
    return out;
}

TEST(RtspReader, RequestsCutAnywhereWithInterleavedDataBetween) {
    const std::string rr = std::string("$\x01\x00\x05", 4) + "abcde";
    const std::string stream = "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\n\r\n" + rr +
                               "GET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 2\r\nContent-Length: "
                               "4\r\n\r\nbody" +
                               rr + "PLAY rtsp://h/ RTSP/1.0\nCSeq: 3\nSession:  abc ;x\n\n";
    for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
        RtspReader r;
        const auto got = readAll(r, stream, chunk);
        ASSERT_EQ(got.size(), 3u) << chunk;
        EXPECT_EQ(got[0].method, "OPTIONS");
        EXPECT_EQ(got[0].uri, "rtsp://h/");
        EXPECT_EQ(got[0].version, "RTSP/1.0");
        EXPECT_EQ(got[1].method, "GET_PARAMETER");
        EXPECT_EQ(got[1].header("cseq"), "2");
        EXPECT_EQ(got[2].header("Session"), "abc ;x");
        EXPECT_EQ(r.interleavedFrames(), 2u);
        EXPECT_FALSE(r.failed());
        EXPECT_EQ(r.buffered(), 0u);
    }
}

TEST(RtspReader, GarbageHugeHeadsAndBodiesFailForGood) {
    static constexpr char kNulHeader[] = "OPTIONS * RTSP/1.0\r\nX: a\0b\r\n\r\n";
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"GARBAGE\r\n\r\n", "request line"},
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "request line"},
        {"OPTIONS  * RTSP/1.0\r\n\r\n", "request line"},
        {"OPTIONS * RTSP/1.0\r\nno colon here\r\n\r\n", "header line"},
        {"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 99999\r\n\r\n", "Content-Length"},
        {"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -1\r\n\r\n", "Content-Length"},
        {std::string(kNulHeader, sizeof kNulHeader - 1), "control character"},
        {"OPTIONS * RTSP/1.0\r\nX-Long: " + std::string(9000, 'a'), "longer than 8192"},
    };
    for (const auto& [text, why] : bad) {
        RtspReader r;
        r.feed(bytes(text));
        RtspRequest q;
        EXPECT_EQ(r.next(q), RtspReader::Next::Failed) << text.substr(0, 40);
        EXPECT_NE(r.error().find(why), std::string::npos) << r.error();
        r.feed(bytes("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"));
        EXPECT_EQ(r.next(q), RtspReader::Next::Failed);
        EXPECT_EQ(r.buffered(), 0u);  // nothing kept after failing
    }
    // Many headers, each short: bounded too.
    std::string many = "OPTIONS * RTSP/1.0\r\n";
    for (int i = 0; i < 70; ++i) {
        many += "X: y\r\n";
    }
    RtspReader r;
    r.feed(bytes(many + "\r\n"));
    RtspRequest q;
    EXPECT_EQ(r.next(q), RtspReader::Next::Failed);
}

// Blank lines and interleaved frames are dropped by the run, not byte by byte: the bytes the
// reader moves or scans stay a small multiple of the bytes fed, however they are cut.
TEST(RtspReader, FloodsOfBlankLinesAndInterleavedFramesCostLinearWork) {
    const std::string request = "OPTIONS * RTSP/1.0\r\nCSeq: 7\r\n\r\n";
    const std::string frame("$\x01\x00\x00", 4);  // an empty interleaved frame
    std::string interleaved;
    for (int i = 0; i < 2048; ++i) {
        interleaved += (i % 2 == 0) ? frame : "\r\n";
    }
    struct Case {
        std::string name;
        std::string unit;  // repeated up to the total
        size_t total;
        size_t chunk;
    };
    const std::vector<Case> cases = {
        {"50 MB of newlines in 4 KiB reads", "\n", size_t{50} << 20, 4096},
        {"8 MB of newlines in one read", "\n", size_t{8} << 20, size_t{8} << 20},
        {"8 MB of frames and blank lines in one read", interleaved, size_t{8} << 20,
         size_t{8} << 20},
        {"1 MB of frames and blank lines in 1000-byte reads", interleaved, size_t{1} << 20, 1000},
    };
    for (const Case& c : cases) {
        RtspReader r;
        std::string chunk;
        size_t fed = 0;
        RtspRequest q;
        while (fed < c.total) {
            chunk.clear();
            while (chunk.size() < c.chunk && fed + chunk.size() < c.total) {
                chunk += c.unit;
            }
            r.feed(bytes(chunk));
            fed += chunk.size();
            ASSERT_EQ(r.next(q), RtspReader::Next::NeedMore) << c.name;
            ASSERT_LT(r.buffered(), 4u) << c.name;
        }
        r.feed(bytes(request));
        fed += request.size();
        ASSERT_EQ(r.next(q), RtspReader::Next::Request) << c.name;
        EXPECT_EQ(q.method, "OPTIONS");
        EXPECT_EQ(q.header("CSeq"), "7");
        EXPECT_LE(r.touchedBytes(), 4 * fed) << c.name;
    }
    // A request that arrives a byte at a time, its head near the limit, is scanned once.
    const std::string big = "OPTIONS * RTSP/1.0\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n";
    RtspReader r;
    RtspRequest q;
    for (size_t i = 0; i < big.size(); ++i) {
        r.feed(bytes(big.substr(i, 1)));
        ASSERT_EQ(r.next(q),
                  i + 1 < big.size() ? RtspReader::Next::NeedMore : RtspReader::Next::Request)
            << i;
    }
    EXPECT_LE(r.touchedBytes(), 8 * big.size());
}

// More than the limit without the end of a head fails, however slowly it comes.
TEST(RtspReader, AHeadDrippedPastTheLimitFails) {
    RtspReader r;
    RtspRequest q;
    r.feed(bytes("OPTIONS * RTSP/1.0\r\nX-Big: "));
    size_t fed = 0;
    while (r.next(q) == RtspReader::Next::NeedMore) {
        ASSERT_LE(fed, kRtspMaxRequest) << "still reading past the limit";
        r.feed(bytes("a"));
        ++fed;
    }
    EXPECT_EQ(r.next(q), RtspReader::Next::Failed);
    EXPECT_NE(r.error().find("longer than 8192"), std::string::npos) << r.error();
}

TEST(RtspUrl, PathsAndTransports) {
    EXPECT_EQ(rtspUrlPath("rtsp://127.0.0.1:8554/cam/trackID=0?x=1"), "/cam/trackID=0");
    EXPECT_EQ(rtspUrlPath("RTSP://host"), "/");
    EXPECT_EQ(rtspUrlPath("*"), "*");
    EXPECT_EQ(rtspUrlPath("http://host/"), "");
    EXPECT_EQ(normalizeRtspPath("/cam//"), "/cam");
    EXPECT_EQ(normalizeRtspPath("/"), "/");
    EXPECT_EQ(base64(bytes("")), "");
    EXPECT_EQ(base64(bytes("f")), "Zg==");
    EXPECT_EQ(base64(bytes("fo")), "Zm8=");
    EXPECT_EQ(base64(bytes("foob")), "Zm9vYg==");

    RtspTransport t = parseRtspTransport("RTP/AVP/TCP;unicast;interleaved=2-3", false);
    EXPECT_EQ(t.kind, RtspTransport::Kind::Interleaved);
    EXPECT_EQ(t.rtpChannel, 2);
    EXPECT_EQ(t.rtcpChannel, 3);
    t = parseRtspTransport("RTP/AVP;multicast,RTP/AVP;unicast;client_port=5000-5001", true);
    EXPECT_EQ(t.kind, RtspTransport::Kind::Udp);
    EXPECT_EQ(t.clientRtpPort, 5000);
    EXPECT_EQ(t.clientRtcpPort, 5001);
    EXPECT_EQ(parseRtspTransport("RTP/AVP;unicast;client_port=5000-5001", false).kind,
              RtspTransport::Kind::None);
    EXPECT_EQ(parseRtspTransport("RTP/AVP/TCP;interleaved=300-301", true).kind,
              RtspTransport::Kind::None);
    EXPECT_EQ(parseRtspTransport("RTP/AVP/TCP;mode=record", true).kind, RtspTransport::Kind::None);
    EXPECT_EQ(parseRtspTransport("RAW/RAW/UDP;unicast", true).kind, RtspTransport::Kind::None);
}

RtspRequest req(const std::string& method, const std::string& uri,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    RtspRequest r;
    r.method = method;
    r.uri = uri;
    r.version = "RTSP/1.0";
    r.headers = {{"CSeq", "7"}};
    r.headers.insert(r.headers.end(), headers.begin(), headers.end());
    return r;
}

std::string statusLine(const std::string& reply) {
    return reply.substr(0, reply.find("\r\n"));
}

TEST(RtspSession, AClientsWayThroughTheMethods) {
    RtspSession s({"/cam", 60, true}, 0x1234);
    RtspSession::Context c;
    std::string reply;
    using O = RtspSession::Outcome;

    EXPECT_EQ(s.handle(req("OPTIONS", "rtsp://h:1/cam"), c, reply), O::Reply);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 200 OK");
    EXPECT_NE(reply.find("CSeq: 7\r\n"), std::string::npos);
    EXPECT_NE(reply.find("Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"),
              std::string::npos);

    EXPECT_EQ(s.handle(req("DESCRIBE", "rtsp://h:1/other"), c, reply), O::Reply);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 404 Not Found");
    // No parameter sets yet: the answer waits.
    EXPECT_EQ(s.handle(req("DESCRIBE", "rtsp://h:1/cam"), c, reply), O::Wait);
    SdpParameters sdp;
    sdp.vps = "\x40\x01\x0c";
    sdp.sps = "\x42\x01";
    sdp.pps = "\x44\x01\xc1";
    sdp.origin = "::ffff:10.0.0.2";
    sdp.sessionId = 99;
    c.sdp = &sdp;
    EXPECT_EQ(s.handle(req("DESCRIBE", "rtsp://h:1/cam/"), c, reply), O::Reply);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 200 OK");
    EXPECT_NE(reply.find("Content-Base: rtsp://h:1/cam/\r\n"), std::string::npos);
    EXPECT_NE(reply.find("Content-Type: application/sdp\r\n"), std::string::npos);
    const std::string body = reply.substr(reply.find("\r\n\r\n") + 4);
    EXPECT_NE(reply.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
              std::string::npos);
    EXPECT_NE(body.find("o=- 99 1 IN IP4 10.0.0.2\r\n"), std::string::npos);
    EXPECT_NE(body.find("m=video 0 RTP/AVP 96\r\n"), std::string::npos);
    EXPECT_NE(body.find("a=rtpmap:96 H265/90000\r\n"), std::string::npos);
    EXPECT_NE(body.find("a=fmtp:96 sprop-vps=QAEM; sprop-sps=QgE=; sprop-pps=RAHB\r\n"),
              std::string::npos);
    EXPECT_NE(body.find("a=control:trackID=0\r\n"), std::string::npos);

    // PLAY before SETUP is out of order.
    EXPECT_EQ(s.handle(req("PLAY", "rtsp://h:1/cam/"), c, reply), O::Reply);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 455 Method Not Valid in This State");
    EXPECT_EQ(s.handle(req("SETUP", "rtsp://h:1/cam/trackID=0",
                           {{"Transport", "RTP/AVP/TCP;interleaved=abc"}}),
                       c, reply),
              O::Reply);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 461 Unsupported Transport");

    c.ssrc = 0xABCDEF01;
    EXPECT_EQ(s.handle(req("SETUP", "rtsp://h:1/cam/trackID=0",
                           {{"Transport", "RTP/AVP/TCP;unicast;interleaved=0-1"}}),
                       c, reply),
              O::Setup);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 200 OK");
    EXPECT_NE(reply.find("Transport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=ABCDEF01\r\n"),
              std::string::npos);
    EXPECT_NE(reply.find("Session: 0000000000001234;timeout=60\r\n"), std::string::npos);
    EXPECT_TRUE(s.setUp());

    EXPECT_EQ(s.handle(req("PLAY", "rtsp://h:1/cam/", {{"Session", "ffff"}}), c, reply), O::Reply);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 454 Session Not Found");
    c.nextSeq = 4321;
    c.rtpTimeNow = 987654;
    EXPECT_EQ(s.handle(req("PLAY", "rtsp://h:1/cam/", {{"Session", "0000000000001234"}}), c, reply),
              O::Play);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 200 OK");
    EXPECT_NE(reply.find("Range: npt=0.000-\r\n"), std::string::npos);
    EXPECT_NE(reply.find("RTP-Info: url=rtsp://h:1/cam/trackID=0;seq=4321;rtptime=987654\r\n"),
              std::string::npos);
    EXPECT_TRUE(s.playing());

    EXPECT_EQ(s.handle(req("GET_PARAMETER", "rtsp://h:1/cam/", {{"Session", "0000000000001234"}}),
                       c, reply),
              O::Reply);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 200 OK");
    EXPECT_EQ(s.handle(req("PAUSE", "rtsp://h:1/cam/"), c, reply), O::Reply);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 405 Method Not Allowed");
    EXPECT_NE(reply.find("Allow: "), std::string::npos);
    EXPECT_EQ(s.handle(req("BREW", "rtsp://h:1/cam/"), c, reply), O::Reply);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 501 Not Implemented");
    EXPECT_EQ(
        s.handle(req("TEARDOWN", "rtsp://h:1/cam/", {{"Session", "0000000000001234"}}), c, reply),
        O::Teardown);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 200 OK");
    EXPECT_FALSE(s.playing());
}

TEST(RtspSession, UdpSetupNamesBothPortPairs) {
    RtspSession s({"/", 30, true}, 1);
    RtspSession::Context c;
    c.serverRtpPort = 6970;
    c.serverRtcpPort = 6971;
    std::string reply;
    EXPECT_EQ(s.handle(req("SETUP", "rtsp://h/trackID=0",
                           {{"Transport", "RTP/AVP;unicast;client_port=5000-5001"}}),
                       c, reply),
              RtspSession::Outcome::Setup);
    EXPECT_NE(reply.find("Transport: RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;"),
              std::string::npos);
    EXPECT_NE(reply.find(";timeout=30\r\n"), std::string::npos);
}

TEST(RtspSession, MalformedRequestsGetTheirStatus) {
    RtspSession s({"/", 60, false}, 1);
    RtspSession::Context c;
    std::string reply;
    RtspRequest noCseq = req("OPTIONS", "*");
    noCseq.headers.clear();
    EXPECT_EQ(s.handle(noCseq, c, reply), RtspSession::Outcome::ReplyAndClose);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 400 Bad Request");
    RtspRequest v2 = req("OPTIONS", "*");
    v2.version = "RTSP/2.0";
    EXPECT_EQ(s.handle(v2, c, reply), RtspSession::Outcome::Reply);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 505 RTSP Version Not Supported");
    // UDP not offered: a UDP-only SETUP is refused, so that the client falls back to TCP.
    EXPECT_EQ(s.handle(req("SETUP", "rtsp://h/trackID=0",
                           {{"Transport", "RTP/AVP;unicast;client_port=5000-5001"}}),
                       c, reply),
              RtspSession::Outcome::Reply);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 461 Unsupported Transport");
    EXPECT_EQ(s.handle(req("TEARDOWN", "rtsp://h/"), c, reply), RtspSession::Outcome::Reply);
    EXPECT_EQ(statusLine(reply), "RTSP/1.0 454 Session Not Found");
}

}  // namespace
}  // namespace h265direct::net
