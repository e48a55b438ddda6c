// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include "net/address.hpp"

namespace h265direct::net {
namespace {

// The endpoint into `e` and "", or the error's message (a usage error).
std::string parse(std::string_view text, bool hostOptional, Endpoint& e) {
    Result<Endpoint> r = parseEndpoint(text, hostOptional);
    if (!r) {
        EXPECT_EQ(r.error().exitCode, kExitUsage) << text;
        EXPECT_FALSE(r.error().message.empty()) << text;
        return r.error().message;
    }
    e = std::move(r).value();
    return "";
}

std::string resolve(const Endpoint& e, std::vector<SocketAddress>& out) {
    Result<std::vector<SocketAddress>> r = resolveEndpoint(e, false);
    if (!r) {
        EXPECT_EQ(r.error().exitCode, kExitUsage);
        out.clear();
        return r.error().message;
    }
    out = std::move(r).value();
    EXPECT_FALSE(out.empty());
    return "";
}

TEST(Address, ParsesHostAndPort) {
    Endpoint e;
    ASSERT_EQ(parse("127.0.0.1:5005", false, e), "");
    EXPECT_EQ(e.host, "127.0.0.1");
    EXPECT_EQ(e.port, 5005);
    EXPECT_TRUE(e.numeric);
    ASSERT_EQ(parse("camera-host.example:1", false, e), "");
    EXPECT_EQ(e.host, "camera-host.example");
    EXPECT_EQ(e.port, 1);
    EXPECT_FALSE(e.numeric);
    ASSERT_EQ(parse("localhost:65535", false, e), "");
    EXPECT_EQ(e.port, 65535);
}

TEST(Address, ParsesBracketedIpv6) {
    Endpoint e;
    ASSERT_EQ(parse("[::1]:8000", false, e), "");
    EXPECT_EQ(e.host, "::1");
    EXPECT_EQ(e.port, 8000);
    EXPECT_TRUE(e.numeric);
    EXPECT_EQ(e.toString(), "[::1]:8000");
    ASSERT_EQ(parse("[fe80::1:2]:9", false, e), "");
    EXPECT_EQ(e.host, "fe80::1:2");
}

TEST(Address, ListenFormsWithoutHost) {
    Endpoint e;
    ASSERT_EQ(parse("5005", true, e), "");
    EXPECT_EQ(e.host, "");
    EXPECT_EQ(e.port, 5005);
    ASSERT_EQ(parse(":5006", true, e), "");
    EXPECT_EQ(e.host, "");
    EXPECT_EQ(e.port, 5006);
    // A client needs a host.
    EXPECT_NE(parse("5005", false, e), "");
    EXPECT_NE(parse(":5005", false, e).find("no host"), std::string::npos);
}

TEST(Address, RejectsBadPortsWithAReason) {
    Endpoint e;
    EXPECT_NE(parse("host", false, e).find("no port"), std::string::npos);
    EXPECT_NE(parse("host:", false, e).find("no port"), std::string::npos);
    EXPECT_NE(parse("host:0", false, e).find("out of range 1..65535"), std::string::npos);
    EXPECT_NE(parse("host:99999", false, e).find("out of range"), std::string::npos);
    EXPECT_NE(parse("host:65536", false, e).find("out of range"), std::string::npos);
    EXPECT_NE(parse("host:12a", false, e).find("not a number"), std::string::npos);
    EXPECT_NE(parse("host:-1", false, e).find("not a number"), std::string::npos);
    EXPECT_NE(parse("0", true, e).find("out of range"), std::string::npos);
    EXPECT_NE(parse("", true, e), "");
}

TEST(Address, RejectsMalformedIpv6) {
    Endpoint e;
    EXPECT_NE(parse("::1:5005", false, e).find("brackets"), std::string::npos);
    EXPECT_NE(parse("[::1]", false, e).find("no port"), std::string::npos);
    EXPECT_NE(parse("[::1:5005", false, e).find("']'"), std::string::npos);
    EXPECT_NE(parse("[not-v6]:5005", false, e).find("not an IPv6"), std::string::npos);
    EXPECT_NE(parse("[::1]x5005", false, e), "");
}

TEST(Address, ResolvesLiteralsAndLocalhost) {
    Endpoint e;
    std::vector<SocketAddress> out;
    ASSERT_EQ(parse("127.0.0.1:5005", false, e), "");
    ASSERT_EQ(resolve(e, out), "");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].toString(), "127.0.0.1:5005");
    ASSERT_EQ(parse("[::1]:7", false, e), "");
    ASSERT_EQ(resolve(e, out), "");
    EXPECT_EQ(out[0].toString(), "[::1]:7");
    ASSERT_EQ(parse("localhost:80", false, e), "");
    ASSERT_EQ(resolve(e, out), "");
    EXPECT_FALSE(out.empty());
}

TEST(Address, UnresolvableNameIsAnError) {
    Endpoint e;
    std::vector<SocketAddress> out;
    ASSERT_EQ(parse("no-such-host.invalid:5005", false, e), "");
    const std::string err = resolve(e, out);
    EXPECT_NE(err.find("cannot resolve 'no-such-host.invalid'"), std::string::npos) << err;
    EXPECT_TRUE(out.empty());
}

TEST(Address, LoopbackAndWildcard) {
    const auto one = [](const std::string& host) {
        std::vector<SocketAddress> out;
        EXPECT_EQ(resolve(Endpoint{host, 5005, true}, out), "") << host;
        return out.empty() ? SocketAddress{} : out.front();
    };
    for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
        EXPECT_TRUE(one(host).isLoopback()) << host;
        EXPECT_FALSE(one(host).isWildcard()) << host;
    }
    for (const char* host : {"0.0.0.0", "::", "192.168.1.10", "::ffff:10.0.0.1", "2001:db8::1"}) {
        EXPECT_FALSE(one(host).isLoopback()) << host;
    }
    EXPECT_TRUE(one("0.0.0.0").isWildcard());
    EXPECT_TRUE(one("::").isWildcard());
    EXPECT_FALSE(one("192.168.1.10").isWildcard());
    // What -l and --rtsp bind without a host.
    const Result<std::vector<SocketAddress>> any = listenAddresses(Endpoint{"", 5005, false});
    ASSERT_TRUE(any) << any.error().message;
    ASSERT_FALSE(any->empty());
    EXPECT_TRUE(any->front().isWildcard());
    EXPECT_FALSE(any->front().isLoopback());
}

}  // namespace
}  // namespace h265direct::net
