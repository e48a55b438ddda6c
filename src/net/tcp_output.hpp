// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "h265direct/config.hpp"
#include "h265direct/sink.hpp"

namespace h265direct::net {

struct PeerStats {
    uint64_t id = 0;
    std::string address;
    size_t queueFrames = 0;
    size_t queueBytes = 0;
    uint64_t drops = 0;
    uint64_t framesSent = 0;
    uint64_t bytesSent = 0;
    bool connected = false;  // client: the connection is up (else: being made)
    bool waiting = false;    // skipping access units until the next keyframe
    bool playing = false;    // RTSP: after PLAY
};

// Totals since the start (peers: those connected now).
struct OutputStats {
    std::string state;             // client: connecting / connected / retrying; server: listening
    uint64_t bytesSent = 0;        // payload and framing the kernel took
    uint64_t framesSent = 0;       // access units whose last byte the kernel took (all peers)
    uint64_t drops = 0;            // access units dropped by full queues (all peers, ever)
    uint64_t unsent = 0;           // client: access units made while not connected
    uint64_t connects = 0;         // client: connections made; server: receivers accepted
    uint64_t refused = 0;          // server: receivers turned away (--max-peers, no descriptors)
    uint64_t connectFailures = 0;  // client: rounds of attempts that all failed
    uint64_t disconnects = 0;      // connections lost or closed by the peer
    uint64_t keyframeRequests = 0;
    uint64_t badRequests = 0;    // RTSP: connections closed for a malformed request
    uint64_t timeouts = 0;       // RTSP: sessions closed after --rtsp-timeout without a word
    uint64_t unauthorized = 0;   // RTSP with users: requests answered 401 (no or wrong
                                 // credentials, an expired nonce)
    uint64_t udpLost = 0;        // RTSP over UDP: packets the socket did not take (buffer full)
    uint64_t udpGsoSends = 0;    // RTSP over UDP: messages the kernel cut into datagrams (GSO)
    uint64_t udpGsoRefused = 0;  // RTSP over UDP: clients whose route refused GSO (then without)
    uint64_t rtcpReports = 0;    // RTSP over UDP: RTCP compound packets from the clients
    uint64_t rtcpRejected = 0;   // RTSP over UDP: datagrams on the RTCP ports dropped: not
                                 // RTCP, or not from the client's RTCP port
    uint64_t rtcpOverflow = 0;   // RTSP over UDP: datagrams for the RTCP ports the kernel
                                 // dropped, their socket's buffer full (SO_RXQ_OVFL)
    uint64_t zeroCopySends = 0;
    uint64_t plainSends = 0;
    std::vector<PeerStats> peers;
};

// A TCP output driven by one I/O loop (io_uring, or epoll where io_uring is missing) on its own
// thread: a client (-t) that connects
// and reconnects, or a server (-l) that accepts any number of receivers. consume() never
// blocks: it hands the shared access unit to the loop, which queues it per peer.
class TcpOutput : public Sink {
public:
    // Rtsp: the RTSP server (--rtsp), RTP over its TCP connections; rtsp_server.cpp.
    enum class Mode { Client, Server, Rtsp };

    // Parses and resolves the address, binds (server), and starts the loop thread. Throws
    // StartupError: kExitUsage for a bad address, kExitNetwork when the socket set-up fails.
    TcpOutput(Mode mode, const NetConfig& config, std::function<void()> requestKeyframe);
    ~TcpOutput() override;
    TcpOutput(const TcpOutput&) = delete;
    TcpOutput& operator=(const TcpOutput&) = delete;

    const char* name() const override;
    void consume(const AccessUnitPtr& au) override;
    void finish() override;
    void collectStats(StatsReport& report) override;
    int fatalError() const override;
    bool wantsFrames() const override;
    void watchState(std::function<void()> changed) override;

    OutputStats stats() const;
    // Server: the port it listens on.
    uint16_t localPort() const;
    // "io_uring" or "epoll", and the line that says which features are in use.
    const char* ioBackend() const;
    std::string ioDescription() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace h265direct::net
