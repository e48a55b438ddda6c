// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace h265direct::net {

// The RTSP server's protocol side (RFC 2326), without I/O: reading requests from the bytes a
// client sends, and the answer to each. The I/O loop (rtsp_server.cpp) feeds the bytes and
// sends the answers and the media.

inline constexpr size_t kRtspMaxRequest = 8192;  // request line and headers
inline constexpr size_t kRtspMaxBody = 4096;     // a body (GET_PARAMETER, SET_PARAMETER)

struct RtspRequest {
    std::string method;
    std::string uri;
    std::string version;
    std::vector<std::pair<std::string, std::string>> headers;
    // The value of a header (the first of that name, any case), or empty.
    std::string header(std::string_view name) const;
};

// Reads requests from a connection's bytes, cut anywhere. Interleaved binary data (RTCP
// receiver reports, '$' channel length) is skipped. A request whose head (request line and
// headers) is longer than kRtspMaxRequest, a body above kRtspMaxBody, or bytes that are not
// a request make the reader fail for good: the connection is answered 400 and closed.
class RtspReader {
public:
    enum class Next { NeedMore, Request, Failed };
    // Appends bytes (copies them; what is kept stays below the limits).
    void feed(std::span<const uint8_t> bytes);
    // The next complete request, if any.
    Next next(RtspRequest& out);
    bool failed() const { return failed_; }
    // Why it failed; the client's bytes in it are escaped (logSafe) for a log line.
    const std::string& error() const { return error_; }
    // Interleaved frames skipped so far.
    uint64_t interleavedFrames() const { return interleaved_; }
    size_t buffered() const { return buffer_.size() - start_; }
    // Bytes moved inside the buffer (to drop what was read) or scanned (for blank lines and the
    // end of a head) so far: a small multiple of the bytes fed, however they were cut.
    uint64_t touchedBytes() const { return touched_; }

private:
    Next fail(std::string why);
    void consume(size_t n);
    // Where the head of the request at start_ ends (relative to start_, its length in
    // headLength), or npos.
    size_t findHeadEnd(size_t& headLength);

    std::string buffer_;
    size_t start_ = 0;    // bytes of buffer_ already read
    size_t scanned_ = 0;  // bytes after start_ known to hold no end of a head
    uint64_t touched_ = 0;
    size_t skip_ = 0;  // bytes of an interleaved frame still to skip
    uint64_t interleaved_ = 0;
    bool failed_ = false;
    std::string error_;
};

// The path part of an RTSP URL ("rtsp://host:port/a/b?x" -> "/a/b"; "*" -> "*"), or empty
// when it is not an rtsp:// URL.
std::string rtspUrlPath(std::string_view uri);
// A path as the server compares them: without trailing slashes ("/" stays).
std::string normalizeRtspPath(std::string_view path);

std::string base64(std::span<const uint8_t> bytes);

// The transport a client asked for in SETUP (the first of its list the server can serve).
struct RtspTransport {
    enum class Kind { None, Interleaved, Udp } kind = Kind::None;
    int rtpChannel = 0;  // interleaved
    int rtcpChannel = 1;
    uint16_t clientRtpPort = 0;  // UDP
    uint16_t clientRtcpPort = 0;
};
RtspTransport parseRtspTransport(std::string_view header, bool udpAllowed);

// The stream's description (SDP) for DESCRIBE.
struct SdpParameters {
    std::string vps, sps, pps;  // raw NAL units (no start code)
    std::string origin;         // the server's address as seen by the client
    uint64_t sessionId = 0;
};
std::string makeSdp(const SdpParameters& p);

// One connection's RTSP state and its answers.
class RtspSession {
public:
    struct Config {
        std::string path;  // normalized
        int timeoutSec = 60;
        bool udp = false;  // RTP over UDP offered
    };
    // What the server knows when it answers.
    struct Context {
        const SdpParameters* sdp = nullptr;  // null: no parameter sets yet
        uint16_t nextSeq = 0;                // PLAY: the first packet's sequence number
        uint32_t rtpTimeNow = 0;             // PLAY: the RTP time of now
        uint16_t serverRtpPort = 0;          // SETUP over UDP: the server's ports (0: none)
        uint16_t serverRtcpPort = 0;
        uint32_t ssrc = 0;
    };
    enum class Outcome {
        Reply,          // send `reply`
        ReplyAndClose,  // send `reply`, then close the connection
        Setup,          // send `reply`; transport() is chosen
        Play,           // send `reply`, then the media from the next keyframe
        Teardown,       // send `reply`, stop the media and close
        Wait,           // DESCRIBE before any parameter sets: ask again when they come
    };

    RtspSession(Config config, uint64_t sessionId);
    Outcome handle(const RtspRequest& request, const Context& context, std::string& reply);
    // The answer to bytes that are not a request (the reader failed).
    static std::string badRequest(const std::string& why);
    // DESCRIBE waited too long for the stream.
    static std::string unavailable(const RtspRequest& request);
    // 401 Unauthorized with the challenge header lines (each ending in CRLF).
    std::string unauthorized(const RtspRequest& request, const std::string& challenge) const;

    bool setUp() const { return setUp_; }
    bool playing() const { return playing_; }
    const RtspTransport& transport() const { return transport_; }
    const std::string& sessionId() const { return sessionText_; }

private:
    std::string status(int code, const char* reason, const RtspRequest& request,
                       const std::string& headers = {}, const std::string& body = {}) const;
    bool pathIsOurs(const std::string& uri, bool track) const;

    Config config_;
    std::string sessionText_;
    bool setUp_ = false;
    bool playing_ = false;
    std::string setupUri_;
    RtspTransport transport_;
};

}  // namespace h265direct::net
