// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace h265direct::net {

// A parsed -t / -l value: host (empty: any address, listen only) and port.
struct Endpoint {
    std::string host;  // name, IPv4 literal or IPv6 literal (without brackets)
    uint16_t port = 0;
    bool numeric = false;  // host is an address literal: resolving it needs no lookup

    std::string toString() const;  // "host:port", "[v6]:port", ":port"
};

// Parses "HOST:PORT", "[IPV6]:PORT", and, when hostOptional, "PORT" or ":PORT". The port is
// decimal, 1..65535. The error (kExitUsage) says what is wrong, without the option's name.
Result<Endpoint> parseEndpoint(std::string_view text, bool hostOptional);

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;

    int family() const { return storage.ss_family; }
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
    sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
    std::string toString() const;  // "1.2.3.4:80", "[::1]:80"
    // 127.0.0.0/8, ::1, or IPv4 loopback mapped into IPv6: only this machine reaches it.
    bool isLoopback() const;
    // The IPv4 or IPv6 wildcard: a socket bound to it takes every address of this machine.
    bool isWildcard() const;
};

// Resolves an endpoint to stream socket addresses (getaddrinfo; blocks for names). passive:
// for binding, where an empty host means every local address. At least one address, or the
// resolver's message (kExitUsage).
Result<std::vector<SocketAddress>> resolveEndpoint(const Endpoint& endpoint, bool passive);

// The addresses to listen on: for an endpoint without a host, the IPv6 wildcard (one
// dual-stack socket takes IPv4 and IPv6 peers); otherwise what the host resolves to.
Result<std::vector<SocketAddress>> listenAddresses(const Endpoint& endpoint);

}  // namespace h265direct::net
