// SPDX-License-Identifier: GPL-2.0-or-later
// The RTSP server's request reader and answers (net::RtspReader, net::RtspSession), fed any
// bytes cut into chunks anywhere: the requests are the same however the bytes are cut, what
// the reader keeps stays bounded, a failed reader stays failed, and every answer is one
// well-formed RTSP response (status line, "Name: value" headers, an empty line, then exactly
// Content-Length bytes), whatever the request held: no header of the client's makes a line
// of its own in the answer. The same bytes as one UDP datagram on the RTCP port: the RTCP
// check reads nothing outside it, and what it takes starts as a report of RTP version 2 in
// whole 32-bit words. With users (the first byte's top bit), every request but OPTIONS goes
// through the authenticator first, as the server does (server_access.cpp): without the
// credentials of the one user (Basic, which a fuzzer can write) the answer is a well-formed
// 401 and the session is not touched; with them the session goes on.
//
// Input: 1 byte seeding the chunk sizes (its top bit: users), then the bytes a client sends.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "fuzz_check.hpp"
#include "net/auth.hpp"
#include "net/rtp.hpp"
#include "net/rtsp.hpp"

using namespace h265direct;

namespace {

struct Reading {
    std::vector<std::string> requests;  // method, URI, version and headers, flattened
    bool failed = false;
};

std::string flatten(const net::RtspRequest& r) {
    std::string s = r.method + '\n' + r.uri + '\n' + r.version + '\n';
    for (const auto& [k, v] : r.headers) {
        s += k + '\x1f' + v + '\n';
    }
    return s;
}

void checkAnswer(const std::string& a) {
    FUZZ_CHECK(a.rfind("RTSP/1.0 ", 0) == 0);
    const size_t end = a.find("\r\n\r\n");
    FUZZ_CHECK(end != std::string::npos);
    const std::string head = a.substr(0, end + 2);
    size_t contentLength = 0;
    size_t pos = head.find("\r\n") + 2;
    while (pos < head.size()) {
        const size_t eol = head.find("\r\n", pos);
        FUZZ_CHECK(eol != std::string::npos);
        const std::string line = head.substr(pos, eol - pos);
        const size_t colon = line.find(": ");
        FUZZ_CHECK(colon != std::string::npos && colon > 0);
        for (const char c : line) {
            FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 || c == '\t');
        }
        if (line.rfind("Content-Length: ", 0) == 0) {
            contentLength = std::stoul(line.substr(16));
        }
        pos = eol + 2;
    }
    FUZZ_CHECK(a.size() - end - 4 == contentLength);
}

// The answer of a request the authenticator refuses: a 401 with the challenges, the same for
// every method (the session is not asked).
bool refused(const net::Authenticator& auth, const net::RtspSession& session,
             const net::RtspRequest& request) {
    if (request.method == "OPTIONS") {
        return false;
    }
    const std::string header = request.header("Authorization");
    const net::Authenticator::Check c = auth.check(request.method, request.uri, header);
    if (c.verdict == net::Authenticator::Verdict::Granted) {
        // Only Basic can be right here: a Digest response to this run's nonces cannot be.
        FUZZ_CHECK(lowerAscii(trimSpace(header)).rfind("basic", 0) == 0);
        return false;
    }
    const std::string reply = session.unauthorized(
        request, auth.challenge(c.verdict == net::Authenticator::Verdict::Stale));
    checkAnswer(reply);
    FUZZ_CHECK(reply.rfind("RTSP/1.0 401 Unauthorized\r\n", 0) == 0);
    FUZZ_CHECK(reply.find("WWW-Authenticate: Digest realm=\"h265direct\", nonce=\"") !=
               std::string::npos);
    return true;
}

Reading read(std::span<const uint8_t> s, uint8_t seed, bool answer,
             const net::Authenticator* auth) {
    Reading r;
    net::RtspReader reader;
    net::RtspSession session({"/cam", 60, true}, 42);
    net::SdpParameters sdp{"\x40\x01", "\x42\x01", "\x44\x01", "127.0.0.1", 7};
    net::RtspSession::Context context;
    context.sdp = &sdp;
    context.serverRtpPort = 6970;
    context.serverRtcpPort = 6971;
    size_t pos = 0;
    unsigned step = seed;
    net::RtspRequest request;
    while (pos < s.size()) {
        step = step * 1103515245u + 12345u;
        const size_t n =
            seed == 0 ? s.size() : std::min<size_t>(s.size() - pos, 1 + (step >> 16) % 200);
        reader.feed(s.subspan(pos, n));
        pos += n;
        for (;;) {
            const net::RtspReader::Next next = reader.next(request);
            if (next != net::RtspReader::Next::Request) {
                break;
            }
            r.requests.push_back(flatten(request));
            if (answer && (auth == nullptr || !refused(*auth, session, request))) {
                std::string reply;
                if (session.handle(request, context, reply) != net::RtspSession::Outcome::Wait) {
                    checkAnswer(reply);
                }
                checkAnswer(net::RtspSession::unavailable(request));
            }
        }
        // Bounded: a head, a body, and at most one chunk not yet looked at.
        FUZZ_CHECK(reader.buffered() <= net::kRtspMaxRequest + net::kRtspMaxBody + 200);
    }
    r.failed = reader.failed();
    if (r.failed) {
        FUZZ_CHECK(!reader.error().empty());
        FUZZ_CHECK(reader.buffered() == 0);
        checkAnswer(net::RtspSession::badRequest(reader.error()));
        const uint8_t more[] = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n";
        reader.feed(more);
        FUZZ_CHECK(reader.next(request) == net::RtspReader::Next::Failed);
    }
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    const std::span<const uint8_t> stream(data + 1, size - 1);
    // A copy of exactly the datagram's size, so that AddressSanitizer sees any read past it.
    const std::vector<uint8_t> datagram(stream.begin(), stream.end());
    if (net::isRtcpCompound(datagram)) {
        FUZZ_CHECK(datagram.size() >= 8 && datagram.size() % 4 == 0);
        FUZZ_CHECK((datagram[0] & 0xc0) == 0x80 && (datagram[1] == 200 || datagram[1] == 201));
    }
    // One user, alice:wonderland, and Basic on (a fuzzer can write it, not a Digest answer).
    static const net::Authenticator auth(
        net::Authenticator::Settings{{{"alice", "wonderland"}}, true, 300});
    const Reading whole = read(stream, 0, true, (data[0] & 0x80) != 0 ? &auth : nullptr);
    const Reading cut = read(stream, data[0] == 0 ? 1 : data[0], false, nullptr);
    FUZZ_CHECK(whole.failed == cut.failed);
    if (!whole.failed) {
        FUZZ_CHECK(whole.requests == cut.requests);
    } else {
        // Cut differently, a stream may fail at the same request only: what came before it
        // is the same.
        const size_t n = std::min(whole.requests.size(), cut.requests.size());
        for (size_t i = 0; i < n; ++i) {
            FUZZ_CHECK(whole.requests[i] == cut.requests[i]);
        }
    }
    return 0;
}
