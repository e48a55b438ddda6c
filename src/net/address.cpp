// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

namespace h265direct::net {

namespace {

bool isLiteral(const std::string& host, int family) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(family, host.c_str(), buf) == 1;
}

Error usage(std::string message) {
    return Error{kExitUsage, std::move(message)};
}

Result<uint16_t> parsePort(std::string_view text) {
    if (text.empty()) {
        return usage("no port given (expected HOST:PORT)");
    }
    unsigned long value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return usage("port '" + std::string(text) + "' is not a number 1..65535");
        }
        value = value * 10 + static_cast<unsigned long>(c - '0');
        if (value > 65535) {
            return usage("port " + std::string(text) + " is out of range 1..65535");
        }
    }
    if (value == 0) {
        return usage("port 0 is out of range 1..65535");
    }
    return static_cast<uint16_t>(value);
}

}  // namespace

std::string Endpoint::toString() const {
    const std::string p = std::to_string(port);
    if (host.find(':') != std::string::npos) {
        return "[" + host + "]:" + p;
    }
    return host + ":" + p;
}

bool SocketAddress::isLoopback() const {
    if (family() == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&storage);
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (family() == AF_INET6) {
        const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(&a) || (IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127);
    }
    return false;
}

bool SocketAddress::isWildcard() const {
    if (family() == AF_INET) {
        return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr == INADDR_ANY;
    }
    if (family() == AF_INET6) {
        const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr;
        return IN6_IS_ADDR_UNSPECIFIED(&a);
    }
    return false;
}

Result<Endpoint> parseEndpoint(std::string_view text, bool hostOptional) {
    if (text.empty()) {
        return usage("empty address");
    }
    std::string_view host;
    std::string_view port;
    if (text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos) {
            return usage("'" + std::string(text) + "': missing ']' after the IPv6 address");
        }
        host = text.substr(1, close - 1);
        const std::string_view rest = text.substr(close + 1);
        if (rest.empty()) {
            return usage("'" + std::string(text) + "': no port given (expected [ADDRESS]:PORT)");
        }
        if (rest.front() != ':') {
            return usage("'" + std::string(text) + "': expected ':' after ']'");
        }
        port = rest.substr(1);
        if (host.empty()) {
            return usage("'" + std::string(text) + "': empty IPv6 address");
        }
        if (!isLiteral(std::string(host), AF_INET6)) {
            return usage("'" + std::string(host) + "' is not an IPv6 address");
        }
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            if (hostOptional && text.find_first_not_of("0123456789") == std::string_view::npos) {
                port = text;  // "-l 5005"
            } else {
                return usage("'" + std::string(text) + "': no port given (expected HOST:PORT)");
            }
        } else {
            host = text.substr(0, colon);
            port = text.substr(colon + 1);
            if (host.find(':') != std::string_view::npos) {
                return usage("'" + std::string(text) +
                             "': write IPv6 addresses in brackets, e.g. [::1]:5005");
            }
        }
    }
    if (host.empty() && !hostOptional) {
        return usage("'" + std::string(text) + "': no host given (expected HOST:PORT)");
    }
    Result<uint16_t> portNumber = parsePort(port);
    if (!portNumber) {
        return portNumber.error();
    }
    Endpoint out;
    out.port = portNumber.value();
    out.host = std::string(host);
    out.numeric = out.host.empty() || isLiteral(out.host, AF_INET) || isLiteral(out.host, AF_INET6);
    return out;
}

std::string SocketAddress::toString() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&storage);
        inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
        return std::string(buf) + ":" + std::to_string(ntohs(a->sin_port));
    }
    if (family() == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&storage);
        inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
        return "[" + std::string(buf) + "]:" + std::to_string(ntohs(a->sin6_port));
    }
    return "?";
}

Result<std::vector<SocketAddress>> resolveEndpoint(const Endpoint& endpoint, bool passive) {
    std::vector<SocketAddress> out;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags =
        AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) | (endpoint.numeric ? AI_NUMERICHOST : 0);
    const std::string port = std::to_string(endpoint.port);
    addrinfo* list = nullptr;
    const int rc = getaddrinfo(endpoint.host.empty() ? nullptr : endpoint.host.c_str(),
                               port.c_str(), &hints, &list);
    if (rc != 0) {
        return usage(std::string("cannot resolve '") + endpoint.host + "': " + gai_strerror(rc));
    }
    for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) {
            continue;
        }
        SocketAddress a;
        std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
        a.length = ai->ai_addrlen;
        bool duplicate = false;
        for (const SocketAddress& b : out) {
            duplicate = duplicate || (b.length == a.length &&
                                      std::memcmp(&b.storage, &a.storage, a.length) == 0);
        }
        if (!duplicate) {
            out.push_back(a);
        }
    }
    freeaddrinfo(list);
    if (out.empty()) {
        return usage("'" + endpoint.host + "' has no IPv4 or IPv6 address");
    }
    return out;
}

Result<std::vector<SocketAddress>> listenAddresses(const Endpoint& endpoint) {
    if (!endpoint.host.empty()) {
        return resolveEndpoint(endpoint, true);
    }
    SocketAddress any6;
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&any6.storage);
    a6->sin6_family = AF_INET6;
    a6->sin6_addr = in6addr_any;
    a6->sin6_port = htons(endpoint.port);
    any6.length = sizeof(sockaddr_in6);
    return std::vector<SocketAddress>{any6};
}

}  // namespace h265direct::net
