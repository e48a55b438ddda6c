#include <gtest/gtest.h>

#include "net/address.hpp"

namespace h265direct::net {
namespace {

TEST(Address, ParsesHostAndPort) {
    Endpoint e;
    ASSERT_EQ(parseEndpoint("127.0.0.1:5005", false, e), "");
    EXPECT_EQ(e.host, "127.0.0.1");
    EXPECT_EQ(e.port, 5005);
    EXPECT_TRUE(e.numeric);
    ASSERT_EQ(parseEndpoint("camera-host.example:1", false, e), "");
    EXPECT_EQ(e.host, "camera-host.example");
    EXPECT_EQ(e.port, 1);
    EXPECT_FALSE(e.numeric);
    ASSERT_EQ(parseEndpoint("localhost:65535", false, e), "");
    EXPECT_EQ(e.port, 65535);
}

TEST(Address, ParsesBracketedIpv6) {
    Endpoint e;
    ASSERT_EQ(parseEndpoint("[::1]:8000", false, e), "");
    EXPECT_EQ(e.host, "::1");
    EXPECT_EQ(e.port, 8000);
    EXPECT_TRUE(e.numeric);
    EXPECT_EQ(e.toString(), "[::1]:8000");
    ASSERT_EQ(parseEndpoint("[fe80::1:2]:9", false, e), "");
    EXPECT_EQ(e.host, "fe80::1:2");
}

TEST(Address, ListenFormsWithoutHost) {
    Endpoint e;
    ASSERT_EQ(parseEndpoint("5005", true, e), "");
    EXPECT_EQ(e.host, "");
    EXPECT_EQ(e.port, 5005);
    ASSERT_EQ(parseEndpoint(":5006", true, e), "");
    EXPECT_EQ(e.host, "");
    EXPECT_EQ(e.port, 5006);
    // A client needs a host.
    EXPECT_NE(parseEndpoint("5005", false, e), "");
    EXPECT_NE(parseEndpoint(":5005", false, e).find("no host"), std::string::npos);
}

TEST(Address, RejectsBadPortsWithAReason) {
    Endpoint e;
    EXPECT_NE(parseEndpoint("host", false, e).find("no port"), std::string::npos);
    EXPECT_NE(parseEndpoint("host:", false, e).find("no port"), std::string::npos);
    EXPECT_NE(parseEndpoint("host:0", false, e).find("out of range 1..65535"), std::string::npos);
    EXPECT_NE(parseEndpoint("host:99999", false, e).find("out of range"), std::string::npos);
    EXPECT_NE(parseEndpoint("host:65536", false, e).find("out of range"), std::string::npos);
    EXPECT_NE(parseEndpoint("host:12a", false, e).find("not a number"), std::string::npos);
    EXPECT_NE(parseEndpoint("host:-1", false, e).find("not a number"), std::string::npos);
    EXPECT_NE(parseEndpoint("0", true, e).find("out of range"), std::string::npos);
    EXPECT_NE(parseEndpoint("", true, e), "");
}

TEST(Address, RejectsMalformedIpv6) {
    Endpoint e;
    EXPECT_NE(parseEndpoint("::1:5005", false, e).find("brackets"), std::string::npos);
    EXPECT_NE(parseEndpoint("[::1]", false, e).find("no port"), std::string::npos);
    EXPECT_NE(parseEndpoint("[::1:5005", false, e).find("']'"), std::string::npos);
    EXPECT_NE(parseEndpoint("[not-v6]:5005", false, e).find("not an IPv6"), std::string::npos);
    EXPECT_NE(parseEndpoint("[::1]x5005", false, e), "");
}

TEST(Address, ResolvesLiteralsAndLocalhost) {
    Endpoint e;
    std::vector<SocketAddress> out;
    ASSERT_EQ(parseEndpoint("127.0.0.1:5005", false, e), "");
    ASSERT_EQ(resolveEndpoint(e, false, out), "");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].toString(), "127.0.0.1:5005");
    ASSERT_EQ(parseEndpoint("[::1]:7", false, e), "");
    ASSERT_EQ(resolveEndpoint(e, false, out), "");
    EXPECT_EQ(out[0].toString(), "[::1]:7");
    ASSERT_EQ(parseEndpoint("localhost:80", false, e), "");
    ASSERT_EQ(resolveEndpoint(e, false, out), "");
    EXPECT_FALSE(out.empty());
}

TEST(Address, UnresolvableNameIsAnError) {
    Endpoint e;
    std::vector<SocketAddress> out;
    ASSERT_EQ(parseEndpoint("no-such-host.invalid:5005", false, e), "");
    const std::string err = resolveEndpoint(e, false, out);
    EXPECT_NE(err.find("cannot resolve 'no-such-host.invalid'"), std::string::npos) << err;
    EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace h265direct::net
