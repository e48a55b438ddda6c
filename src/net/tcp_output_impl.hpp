// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The inside of TcpOutput, shared by the files that implement it by job:
//   tcp_output.cpp   the public side: start, the engine thread's hand-off, figures, finish
//   output_loop.cpp  the loop thread: completions, peers and their queues, sending, the end
//   tcp_client.cpp   -t: name resolution (on its own thread), connecting, backoff
//   tcp_server.cpp   -l: listening sockets, accepting receivers, --max-peers
//   rtsp_server.cpp  --rtsp: the RTSP requests of each connection, RTP and RTCP on it
//   rtsp_udp.cpp     --rtsp: RTP and RTCP over UDP
//   server_access.cpp who may use -l and --rtsp: the warning at start, RTSP authentication
// The kernel is reached only through the I/O seam (io_loop.hpp): io_uring or epoll.
//
// Threads and what they own:
//   engine thread: consume(), finish(), collectStats(); touches only `handoff` (under its
//     mutex), `figures` (under its mutex) and the atomics `wants` and `fatal`;
//   loop thread: everything else (peers, listeners, client state, the I/O loop);
//   resolver thread (-t with a host name, on reconnection): getaddrinfo, then a ResolveJob.

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "net/address.hpp"
#include "net/auth.hpp"
#include "net/io_loop.hpp"
#include "net/peer_queue.hpp"
#include "net/rtp.hpp"
#include "net/rtsp.hpp"
#include "net/tcp_output.hpp"

namespace h265direct::net {

inline constexpr const char* kNetTag = "net";
inline constexpr int64_t kMs = 1'000'000;

enum class OpKind : uint8_t { Wake, Accept, Connect, Timer, Send, Recv };
enum class TimerKind : uint8_t { Reconnect, AcceptRetry, FinishDeadline, RtspTick };

struct Peer;
struct Listener;

struct Op : IoOp {
    explicit Op(OpKind k, TimerKind t = TimerKind::Reconnect) : kind(k), timer(t) {}
    OpKind kind;
    TimerKind timer;
    Peer* peer = nullptr;
    Listener* listener = nullptr;
    bool pending = false;
};

struct SendOp : Op {
    SendOp() : Op(OpKind::Send) {}
    SendBatch batch;
    bool zeroCopy = false;
    std::string control;  // RTSP: an answer or RTCP packet sent on its own (then batch is empty)
    iovec controlIov{};
};

// One sendmmsg message over UDP: `segments` consecutive RTP packets from `firstPacket` on;
// more than one when the kernel cuts it into datagrams of `segmentSize` bytes (UDP GSO).
struct UdpMessage {
    size_t firstPacket = 0;
    size_t segments = 1;
    uint16_t segmentSize = 0;
    alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))> control{};
};

// An RTSP connection's state (Mode::Rtsp).
struct RtspPeer {
    RtspPeer(RtspSession::Config config, uint64_t sessionId)
        : session(std::move(config), sessionId) {}
    RtspReader reader;
    RtspSession session;
    std::unique_ptr<RtpWriter> writer;  // from SETUP
    std::vector<uint8_t> in = std::vector<uint8_t>(4096);
    std::string control;  // answers and RTCP waiting to be sent, between access units
    std::string origin;   // our address as the client reached it
    uint32_t ssrc = 0;
    uint16_t firstSeq = 0;
    uint32_t timestampOffset = 0;
    int64_t lastHeardNs = 0;
    int64_t lastReportNs = 0;
    RtspRequest waitingDescribe;  // a DESCRIBE that waits for the parameter sets
    int64_t describeSinceNs = 0;  // 0: none waits
    bool closeAfterControl = false;
    std::string closeReason;
    int authFailures = 0;  // requests answered 401 but for expired nonces
    // RTP over UDP (SETUP with client_port): a connected socket each for RTP and RTCP.
    bool udp = false;
    UniqueFd udpRtp;
    UniqueFd udpRtcp;
    uint16_t serverRtpPort = 0;
    uint16_t serverRtcpPort = 0;
    bool gso = false;  // runs of RTP packets go as one message (UDP GSO); off once refused
    sockaddr_storage rtcpPeer{};  // the client's RTCP address (the RTCP socket is not connected)
    socklen_t rtcpPeerLen = 0;
    uint32_t rtcpOverflow = 0;  // the kernel's count of datagrams the RTCP socket dropped
};

struct Listener {
    UniqueFd fd;
    SocketAddress address;
    Op acceptOp{OpKind::Accept};
    Op retryOp{OpKind::Timer, TimerKind::AcceptRetry};
};

struct Peer {
    Peer(uint64_t i, size_t maxBytes, size_t maxFrames, Framing framing)
        : id(i), queue(maxBytes, maxFrames, framing) {
        recvOp.peer = this;
        connectOp.peer = this;
    }
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
    std::unique_ptr<RtspPeer> rtsp;  // Mode::Rtsp
};

// One name resolution on the resolver thread; the loop takes the result when woken.
struct ResolveJob {
    std::mutex mutex;
    bool done = false;       // result and error are set
    bool abandoned = false;  // the output is going away: nobody to wake
    std::vector<SocketAddress> result;
    std::string error;
    int wakeFd = -1;
};

struct TcpOutput::Impl {
    Impl(Mode m, const NetConfig& c, std::function<void()> rk)
        : mode(m), config(c), requestKeyframe(std::move(rk)) {}

    // ---- tcp_client.cpp / tcp_server.cpp: set-up (constructor thread)
    void setUpClient();
    void setUpServer();

    // ---- output_loop.cpp (loop thread)
    void run();
    void handle(IoOp& io, const IoResult& r);
    void onWake();
    void distribute(const AccessUnitPtr& au);
    void maybeRequestKeyframe();
    void armWake();
    void armRecv(Peer& p);
    void armTimer(Op& op, int64_t delayNs);
    void onSend(SendOp* op, const IoResult& r);
    void onRecv(Peer& p, int res);
    void pump(Peer& p);
    void closePeer(Peer& p, const std::string& reason, bool error);
    void afterCompletions();
    void reap();
    // Whether a client is still there for --exit-on-disconnect: any receiver (-l), an RTSP
    // connection only with a session (one that sent OPTIONS or DESCRIBE alone is not a client).
    bool anyClientLeft() const;
    void beginFinish();
    void teardown();
    void publishStats();
    std::string peerName(const Peer& p) const {
        return mode == Mode::Client
                   ? p.address
                   : std::string(mode == Mode::Rtsp ? "RTSP client " : "receiver ") +
                         std::to_string(p.id) + " (" + p.address + ")";
    }

    // ---- tcp_client.cpp (loop thread)
    void startConnectRound();
    void startResolve();
    void onResolved();
    void tryNextAddress();
    void onConnect(Peer& p, int res);
    void connectRoundFailed(const std::string& reason);
    // The client's current connection (older ones may still be closing).
    Peer* clientPeer() {
        return peers.empty() || peers.back()->closing ? nullptr : peers.back().get();
    }

    // ---- tcp_server.cpp (loop thread)
    void armAccept(Listener& l);
    void onAccept(Listener& l, const IoResult& r);
    // Out of descriptors: accepts and closes the receivers waiting on l; false if it cannot.
    bool refuseWaiting(Listener& l);

    // ---- rtsp_server.cpp (loop thread)
    void acceptRtsp(Peer& p);
    void onRtspBytes(Peer& p, size_t n);
    void answerRtsp(Peer& p, const RtspRequest& request);
    void queueControl(Peer& p, std::string bytes);
    bool sendControl(Peer& p);
    void learnParameterSets(const AccessUnit& au);
    void rtspTick();

    // ---- server_access.cpp
    // Start-up (constructor thread): the warning for listeners beyond loopback that anyone
    // may use; the RTSP server's users (throws StartupError for bad ones).
    void setUpAccess();
    // Loop thread: whether the request may be answered; if not, the 401 is queued.
    bool rtspAuthorized(Peer& p, const RtspRequest& request);

    // ---- rtsp_udp.cpp (loop thread)
    void pumpUdp(Peer& p);
    bool openUdp(Peer& p, const RtspTransport& t);
    void readRtcp(Peer& p, int64_t now);

    // Store `wants` / `fatal` and tell the engine's watch (watchState) of a change.
    void setWants(bool v);
    void setFatal(int code);

    // ---- fixed at start
    Mode mode;
    NetConfig config;
    std::function<void()> requestKeyframe;
    Endpoint endpoint;
    std::unique_ptr<IoLoop> io;
    std::string ioDescription;  // the I/O path in use, for the log and the figures
    bool zeroCopyAvailable = false;
    std::thread thread;

    // ---- hand-off from the engine thread
    struct Handoff {
        std::mutex mutex;
        std::deque<AccessUnitPtr> incoming;
        bool wakePending = false;
        bool finishRequested = false;
        bool gap = false;  // units were lost before reaching the queues
        uint64_t drops = 0;
    } handoff;
    UniqueFd wakeFd;
    std::atomic<bool> wants{true};
    std::atomic<int> fatal{0};
    std::mutex watchMutex;
    std::function<void()> watch;  // the engine's watchState: told of every change of the two
    bool finished = false;        // finish() was called (engine thread)

    // ---- figures, shared with the engine thread
    struct Figures {
        mutable std::mutex mutex;
        OutputStats totals;
        std::vector<int64_t> latencies;
    } figures;
    uint64_t collectedBytes = 0;  // engine thread
    int64_t lastCollectNs = 0;    // engine thread

    // ---- loop thread: peers and the end of the run
    Op wakeOp{OpKind::Wake};
    uint64_t wakeBuf = 0;
    std::list<std::unique_ptr<Peer>> peers;
    uint64_t nextPeerId = 1;
    Op finishOp{OpKind::Timer, TimerKind::FinishDeadline};
    bool finishing = false;
    bool exitLoop = false;
    int64_t lastKeyframeRequestNs = 0;
    bool keyframeRequested = false;
    int notifsPending = 0;
    std::vector<uint8_t> discard = std::vector<uint8_t>(16384);
    LogThrottle connectLog{10'000'000'000};
    LogThrottle dropLog;
    LogThrottle rtcpOverflowLog;  // apart: a flood's rejected datagrams would hide it

    // ---- loop thread: the client (-t)
    struct Client {
        std::vector<SocketAddress> addresses;
        size_t addressIndex = 0;
        int failuresInRow = 0;
        bool everConnected = false;
        Op reconnectOp{OpKind::Timer, TimerKind::Reconnect};
        std::string lastError;
        std::shared_ptr<ResolveJob> resolving;  // a lookup is under way
        std::minstd_rand jitter{std::random_device{}()};
    } client;

    // ---- the server (-l): set up at start, then loop thread
    struct Server {
        std::list<std::unique_ptr<Listener>> listeners;
        // Held in reserve: out of descriptors, it is closed for a moment so that waiting
        // receivers can be accepted and closed (refused) instead of hanging in the backlog.
        UniqueFd reserveFd;
        // A receiver was accepted (-l), or an RTSP client set up a session: from then on
        // --exit-on-disconnect ends the run when none is left.
        bool hadPeer = false;
        uint16_t boundPort = 0;
    } server;

    // ---- the RTSP server (--rtsp): loop thread
    struct Rtsp {
        SdpParameters sdp;
        bool haveSdp = false;
        Op tickOp{OpKind::Timer, TimerKind::RtspTick};
        // pumpUdp's, reused for every client
        SendBatch udpBatch;
        std::vector<UdpMessage> udpMessages;
        std::vector<mmsghdr> udpHeaders;
        // The kernel (or an emulator's system-call layer) refused SO_RXQ_OVFL: said once.
        bool overflowUncountedSaid = false;
        std::unique_ptr<Authenticator> auth;  // with users; null: anyone may watch
        LogThrottle authLog;
    } rtsp;
};

// Socket options of every connection (client and accepted).
void setConnectionOptions(int fd, size_t sendBuffer);

}  // namespace h265direct::net
