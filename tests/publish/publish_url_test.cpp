// SPDX-License-Identifier: GPL-2.0-or-later
// --publish URLs on their own: what libavformat opens, what messages show, the SRT
// passphrase's and key length's bounds, and errors that never show a secret.

#include "publish/publish_url.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

using namespace h265direct;
using namespace h265direct::publish;

TEST(PublishUrl, SrtSecretsTravelAsOptionsNotInTheUrl) {
    const Result<PublishUrl> r = parsePublishUrl(
        "srt://127.0.0.1:9000?passphrase=Super%26Secret1&streamid=publish:cam&pbkeylen=32"
        "&latency=200");
    ASSERT_TRUE(r) << r.error().message;
    const PublishUrl& u = r.value();
    EXPECT_EQ(u.kind, PublishUrl::Kind::Srt);
    EXPECT_EQ(u.url, "srt://127.0.0.1:9000?pbkeylen=32&latency=200");
    EXPECT_EQ(u.display,
              "srt://127.0.0.1:9000?passphrase=***&streamid=***&pbkeylen=32&latency=200");
    EXPECT_EQ(u.options, (std::vector<std::pair<std::string, std::string>>{
                             {"passphrase", "Super&Secret1"}, {"streamid", "publish:cam"}}));
    EXPECT_NE(std::find(u.secrets.begin(), u.secrets.end(), "Super&Secret1"), u.secrets.end());
    EXPECT_EQ(u.endpoint.port, 9000);
}

TEST(PublishUrl, RtspPasswordWithUrlCharactersIsEncodedForLibavformat) {
    const Result<PublishUrl> r = parsePublishUrl("rtsp://admin:p/a?s#s@w0rd%41@cam.lan:8554/live");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r.value().url, "rtsp://admin:p%2Fa%3Fs%23s%40w0rd%41@cam.lan:8554/live");
    EXPECT_EQ(r.value().display, "rtsp://admin:***@cam.lan:8554/live");
    EXPECT_EQ(r.value().endpoint.host, "cam.lan");
    EXPECT_EQ(r.value().endpoint.port, 8554);
    // Without special characters the URL is opened as written.
    const Result<PublishUrl> plain = parsePublishUrl("rtsp://cam.lan/live");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain.value().url, "rtsp://cam.lan/live");
    EXPECT_EQ(plain.value().endpoint.port, 554);
}

TEST(PublishUrl, PassphraseOfTenToSeventyNineCharacters) {
    for (const size_t n : {size_t{10}, size_t{79}}) {
        EXPECT_TRUE(parsePublishUrl("srt://h:1?passphrase=" + std::string(n, 'x'))) << n;
    }
    for (const size_t n : {size_t{0}, size_t{9}, size_t{80}}) {
        const std::string secret = std::string(n, 'q');
        const Result<PublishUrl> r = parsePublishUrl("srt://h:1?passphrase=" + secret);
        ASSERT_FALSE(r) << n;
        EXPECT_EQ(r.error().exitCode, kExitUsage);
        EXPECT_NE(r.error().message.find("10..79"), std::string::npos) << r.error().message;
        if (n > 0) {
            EXPECT_EQ(r.error().message.find(secret), std::string::npos) << r.error().message;
        }
    }
}

TEST(PublishUrl, KeyLengthIsZeroSixteenTwentyFourOrThirtyTwo) {
    for (const char* ok : {"0", "16", "24", "32"}) {
        EXPECT_TRUE(parsePublishUrl(std::string("srt://h:1?pbkeylen=") + ok)) << ok;
    }
    for (const char* bad : {"8", "20", "", "16x", "-16"}) {
        const Result<PublishUrl> r = parsePublishUrl(std::string("srt://h:1?pbkeylen=") + bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message.find("0 (the default), 16, 24 or 32"), std::string::npos);
    }
}

// Every refusal shows the URL with its secrets masked, whatever the mistake.
TEST(PublishUrl, ErrorsNeverShowASecret) {
    const std::string pw = "Hunter2/?#@pw";
    const std::vector<std::string> urls = {
        "rtsp://admin:" + pw + "@:8554/live",          // no host
        "rtsp://admin:" + pw + "@cam.lan:99999/live",  // bad port
        "rtsp://admin:" + pw + "@cam lan/live",        // a space
        "srt://h?passphrase=" + pw + "xx",             // no port
        "srt://h:1/path?streamid=" + pw,               // a path
        "srt://h:1?mode=listener&streamid=" + pw,      // listener
        "srt://admin:" + pw + "@h:1",                  // user-info
    };
    for (const std::string& url : urls) {
        const Result<PublishUrl> r = parsePublishUrl(url);
        ASSERT_FALSE(r) << url;
        EXPECT_EQ(r.error().message.find("Hunter2"), std::string::npos) << r.error().message;
    }
}
