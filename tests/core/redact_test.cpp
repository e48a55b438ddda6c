// SPDX-License-Identifier: GPL-2.0-or-later
// Redaction: the user-info of URLs, the secret query values, and the literal secrets of the
// running sessions, as every message shows them.

#include "core/redact.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

using namespace h265direct;

TEST(Redact, UserInfoWithAndWithoutPassword) {
    EXPECT_EQ(redactUrl("rtsp://admin:secret@cam.lan:8554/live"),
              "rtsp://admin:***@cam.lan:8554/live");
    EXPECT_EQ(redactUrl("rtsp://token@cam.lan/live"), "rtsp://***@cam.lan/live");
    EXPECT_EQ(redactUrl("rtsp://admin:@cam.lan/live"), "rtsp://admin:***@cam.lan/live");
    EXPECT_EQ(redactUrl("rtsp://cam.lan:8554/live"), "rtsp://cam.lan:8554/live");
    EXPECT_EQ(redactUrl("rtsp://[::1]:8554/live"), "rtsp://[::1]:8554/live");
}

// A password holding '/', '?', '#' or '@', as written or percent-encoded: the host after it is
// found and nothing of the password is shown.
TEST(Redact, PasswordsWithUrlCharacters) {
    const std::vector<std::string> passwords = {
        "a@b?c", "a@b/c",  "p/ss",   "p?ss",     "p#ss",       "p@ss",    "a/b?c#d@e", "@@",
        "/x/",   "p%2Fss", "p%40ss", "p%3F%23x", "w0rd@/?#%2", "#!::u=x", "?"};
    for (const std::string& pw : passwords) {
        for (const std::string& tail : {std::string("/live"), std::string(""),
                                        std::string("/live?x=1"), std::string("?a=b")}) {
            const std::string url = "rtsp://admin:" + pw + "@cam.lan:8554" + tail;
            const UrlParts p = splitUrl(url);
            ASSERT_TRUE(p.hasUserinfo) << url;
            EXPECT_EQ(p.userinfo, "admin:" + pw) << url;
            EXPECT_EQ(p.authority, "cam.lan:8554") << url;
            EXPECT_EQ(redactUrl(url), "rtsp://admin:***@cam.lan:8554" + tail) << url;
        }
    }
}

// "HOST:PORT/PATH@..." and "USER:DIGITS/...@HOST" read alike: the parts are the first, and
// the redaction masks everything before that '@', so that the second never shows.
TEST(Redact, AmbiguousDigitsBeforeSlashAreMaskedWhole) {
    const UrlParts p = splitUrl("rtsp://user:1234/x@host/p");
    EXPECT_TRUE(p.ambiguous);
    EXPECT_FALSE(p.hasUserinfo);
    EXPECT_EQ(p.authority, "user:1234");
    EXPECT_EQ(redactUrl("rtsp://user:1234/x@host/p"), "rtsp://***@host/p");
    // An '@' in the path: what stands before it may be part of a password.
    EXPECT_EQ(redactUrl("rtsp://u:a@b/c@h.example:554/x"), "rtsp://u:***@h.example:554/x");
    EXPECT_EQ(redactUrl("rtsp://cam.lan/cam@1"), "rtsp://***@1");
    EXPECT_EQ(redactUrl("rtsp://a:b@c@d/e@f@g/h?pass=1"), "rtsp://a:***@g/h?pass=***");
    // A user-info and an '@' after the host: read as a longer password, shown masked.
    EXPECT_EQ(redactUrl("rtsp://u:p@host/cam@1"), "rtsp://u:***@1");
    // An '@' in a query without a user-info.
    EXPECT_EQ(redactUrl("rtsp://cam.lan/live?owner=a@b"), "rtsp://cam.lan/live?owner=a@b");
}

TEST(Redact, SecretQueryValues) {
    EXPECT_EQ(redactUrl("srt://127.0.0.1:9000?passphrase=SuperSecret1&streamid=publish:cam:user:X"
                        "&pbkeylen=16&latency=200"),
              "srt://127.0.0.1:9000?passphrase=***&streamid=***&pbkeylen=16&latency=200");
    // SRT's access-control stream ids hold '#' and ':'.
    EXPECT_EQ(redactUrl("srt://h:1?streamid=#!::u=admin,r=live&mode=caller"),
              "srt://h:1?streamid=***&mode=caller");
    // '@' in a query value is the value's: a passphrase or stream id holding one is masked
    // whole.
    EXPECT_EQ(redactUrl("srt://h:1?streamid=#!::u=admin@x/y&mode=caller"),
              "srt://h:1?streamid=***&mode=caller");
    EXPECT_EQ(redactUrl("srt://h:1?passphrase=ab@cd/ef?gh&latency=1"),
              "srt://h:1?passphrase=***&latency=1");
    EXPECT_EQ(redactUrl("rtsp://h:554/x?token=a@b&y=1"), "rtsp://h:554/x?token=***&y=1");
    const UrlParts v6 = splitUrl("srt://[::1]:9000?streamid=a@b");
    EXPECT_FALSE(v6.hasUserinfo);
    EXPECT_EQ(v6.authority, "[::1]:9000");
    // A value with an unencoded '&' goes on in the items without '='.
    EXPECT_EQ(redactUrl("srt://h:1?passphrase=abc&def&ghi&latency=20"),
              "srt://h:1?passphrase=***&latency=20");
    EXPECT_EQ(redactUrl("rtsp://h/x?token=t1&api_key=k&Password=p&auth=a&user=u&pass=q&pwd=w"),
              "rtsp://h/x?token=***&api_key=***&Password=***&auth=***&user=u&pass=***&pwd=***");
    EXPECT_EQ(redactUrl("srt://h:1?p%61ssphrase=xyz"), "srt://h:1?p%61ssphrase=***");
    EXPECT_EQ(redactUrl("srt://h:1?passphrase"), "srt://h:1?passphrase");
}

TEST(Redact, KeysThatAreSecretAndKeysThatAreNot) {
    for (const char* k : {"passphrase", "streamid", "password", "pass", "pwd", "token", "key",
                          "secret", "auth", "access_token", "api_key", "STREAMID", "sig"}) {
        EXPECT_TRUE(isSecretQueryKey(k)) << k;
    }
    for (const char* k : {"pbkeylen", "latency", "mode", "user", "maxbw", "kmrefreshrate", ""}) {
        EXPECT_FALSE(isSecretQueryKey(k)) << k;
    }
}

TEST(Redact, TextThatIsNoUrlIsLeftAlone) {
    for (const char* t : {"", "plain words", "127.0.0.1:8554/x", "://x", "1a://b", "a b://c"}) {
        EXPECT_EQ(redactUrl(t), t) << t;
    }
}

TEST(Redact, UrlsInsideText) {
    EXPECT_EQ(redactText("cannot publish to srt://h:1?streamid=abcdef: Connection refused"),
              "cannot publish to srt://h:1?streamid=***: Connection refused");
    EXPECT_EQ(redactText("'rtsp://a:b@h/x' and (rtsp://c@h/y), done."),
              "'rtsp://a:***@h/x' and (rtsp://***@h/y), done.");
    EXPECT_EQ(redactText("Connection to tcp://127.0.0.1:554 failed"),
              "Connection to tcp://127.0.0.1:554 failed");
}

TEST(Redact, RegisteredSecretsAreMaskedWhileTheirScopeLives) {
    const std::string secret = "TopSecretValue42";
    EXPECT_EQ(redactText("KMREQ: " + secret + " rejected"), "KMREQ: " + secret + " rejected");
    {
        const SecretScope scope({secret, "abc"});
        EXPECT_EQ(redactText("KMREQ: " + secret + " rejected, " + secret),
                  "KMREQ: *** rejected, ***");
        // Shorter than four characters: masked only inside URLs.
        EXPECT_EQ(redactText("abc"), "abc");
        const SecretScope same({secret});
    }
    EXPECT_EQ(redactText(secret), secret);
}

TEST(Redact, UrlSecretsAreEachSecretAsWrittenAndDecoded) {
    const std::vector<std::string> s = urlSecrets("rtsp://admin:p%40ss@h/x?token=t%2Fk&latency=20");
    EXPECT_EQ(s, (std::vector<std::string>{"p%40ss", "p@ss", "t%2Fk", "t/k"}));
    EXPECT_EQ(urlSecrets("rtsp://user:1234/x@host/p"), (std::vector<std::string>{"1234/x"}));
    EXPECT_EQ(urlSecrets("srt://h:1?streamid=abc&pbkeylen=16"), (std::vector<std::string>{"abc"}));
    EXPECT_TRUE(urlSecrets("rtsp://h/x").empty());
}

TEST(Redact, PercentDecode) {
    EXPECT_EQ(percentDecode("a%2Fb%40c%3f"), "a/b@c?");
    EXPECT_EQ(percentDecode("100%"), "100%");
    EXPECT_EQ(percentDecode("%zz%4"), "%zz%4");
}
