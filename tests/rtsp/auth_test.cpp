// SPDX-License-Identifier: GPL-2.0-or-later
// RTSP authentication without I/O (net/auth.hpp): the RFCs' worked examples, the
// Authenticator's verdicts for right, wrong and expired credentials (its clock injected), the
// challenges, the Authorization header parser, users and user files.

#include "net/auth.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <string>
#include <vector>

#include "common/test_util.hpp"
#include "core/text.hpp"

using namespace h265direct;
using namespace h265direct::net;

namespace {

using Verdict = Authenticator::Verdict;

constexpr int64_t kSec = 1'000'000'000;
const std::string kUri = "rtsp://127.0.0.1:8554/cam";

// An Authenticator with the users alice:wonderland and bob:builder, on a clock the test moves.
struct Fixture {
    int64_t now = 1000 * kSec;
    Authenticator auth;
    explicit Fixture(bool basic = false, int lifetime = 300)
        : auth(
              Authenticator::Settings{
                  {{"alice", "wonderland"}, {"bob", "builder"}}, basic, lifetime},
              [this] { return now; }) {}
};

// The nonce of the challenge's last Digest line.
std::string nonceOf(const std::string& challenge) {
    std::string nonce;
    const std::regex re("nonce=\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(challenge.begin(), challenge.end(), re);
         it != std::sregex_iterator(); ++it) {
        nonce = (*it)[1];
    }
    return nonce;
}

// The Authorization header a client makes (qop empty: without qop, as live555 answers).
std::string digestHeader(const std::string& user, const std::string& password,
                         const std::string& nonce, const std::string& method = "DESCRIBE",
                         const std::string& uri = kUri, const std::string& qop = "auth",
                         DigestAlgorithm algorithm = DigestAlgorithm::Md5,
                         const std::string& realm = kAuthRealm) {
    const std::string response = digestResponse(algorithm, user, realm, password, method, uri,
                                                nonce, qop, "00000001", "0a4f113b");
    std::string h = "Digest username=\"" + user + "\", realm=\"" + realm + "\", nonce=\"" + nonce +
                    "\", uri=\"" + uri + "\", response=\"" + response + "\"";
    if (algorithm == DigestAlgorithm::Sha256) {
        h += ", algorithm=SHA-256";
    }
    if (!qop.empty()) {
        h += ", qop=" + qop + ", nc=00000001, cnonce=\"0a4f113b\"";
    }
    return h;
}

TEST(DigestResponse, Rfc2617WorkedExample) {
    // RFC 2617 3.5: Mufasa, "Circle Of Life", qop=auth.
    EXPECT_EQ(digestResponse(DigestAlgorithm::Md5, "Mufasa", "testrealm@host.com", "Circle Of Life",
                             "GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "auth",
                             "00000001", "0a4f113b"),
              "6629fae49393a05397450978507c4ef1");
}

TEST(DigestResponse, Rfc2069FormWithoutQop) {
    // RFC 2069 2.4's example: the same user, no qop: H(HA1:nonce:HA2).
    EXPECT_EQ(
        digestResponse(DigestAlgorithm::Md5, "Mufasa", "testrealm@host.com", "Circle Of Life",
                       "GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "", "", ""),
        "670fd8c2df070c60b045671b8b24ff02");
}

TEST(DigestResponse, Rfc7616WorkedExamplesSha256AndMd5) {
    // RFC 7616 3.9.1.
    const char* nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const char* cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    EXPECT_EQ(
        digestResponse(DigestAlgorithm::Sha256, "Mufasa", "http-auth@example.org", "Circle of Life",
                       "GET", "/dir/index.html", nonce, "auth", "00000001", cnonce),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    EXPECT_EQ(
        digestResponse(DigestAlgorithm::Md5, "Mufasa", "http-auth@example.org", "Circle of Life",
                       "GET", "/dir/index.html", nonce, "auth", "00000001", cnonce),
        "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(Authenticator, ChallengesOfferSha256ThenMd5LastRealmBeforeNonce) {
    Fixture f;
    const std::string c = f.auth.challenge(false);
    const std::regex line(
        "WWW-Authenticate: Digest realm=\"h265direct\", nonce=\"([0-9a-f]+)\", "
        "algorithm=(SHA-256|MD5), qop=\"auth\"\r\n");
    std::vector<std::string> algorithms;
    std::vector<std::string> nonces;
    for (auto it = std::sregex_iterator(c.begin(), c.end(), line); it != std::sregex_iterator();
         ++it) {
        nonces.push_back((*it)[1]);
        algorithms.push_back((*it)[2]);
    }
    EXPECT_EQ(algorithms, (std::vector<std::string>{"SHA-256", "MD5"})) << c;
    ASSERT_EQ(nonces.size(), 2u);
    EXPECT_EQ(nonces[0], nonces[1]);
    EXPECT_EQ(c.find("Basic"), std::string::npos) << c;
    EXPECT_EQ(c.find("stale"), std::string::npos) << c;
    // Two lines, nothing else.
    EXPECT_EQ(std::count(c.begin(), c.end(), '\n'), 2) << c;

    Fixture basic(true);
    const std::string b = basic.auth.challenge(true);
    EXPECT_NE(b.rfind("WWW-Authenticate: Basic realm=\"h265direct\"\r\n"), std::string::npos) << b;
    EXPECT_LT(b.find("algorithm=MD5"), b.find("Basic")) << b;
    EXPECT_EQ(std::count(b.begin(), b.end(), '\n'), 3) << b;
    // stale=true on both Digest challenges.
    const std::regex stale("algorithm=(SHA-256|MD5), qop=\"auth\", stale=true\r\n");
    EXPECT_EQ(
        std::distance(std::sregex_iterator(b.begin(), b.end(), stale), std::sregex_iterator()), 2)
        << b;
}

TEST(Authenticator, RightDigestCredentialsAreGrantedWithAndWithoutQopMd5AndSha256) {
    Fixture f;
    const std::string nonce = nonceOf(f.auth.challenge(false));
    ASSERT_FALSE(nonce.empty());
    for (const std::string qop : {"auth", ""}) {
        for (const DigestAlgorithm a : {DigestAlgorithm::Md5, DigestAlgorithm::Sha256}) {
            const Authenticator::Check c =
                f.auth.check("DESCRIBE", kUri,
                             digestHeader("alice", "wonderland", nonce, "DESCRIBE", kUri, qop, a));
            EXPECT_EQ(c.verdict, Verdict::Granted) << "qop '" << qop << "' " << c.reason;
            EXPECT_EQ(c.user, "alice");
        }
    }
    // The second user, another method and URI (SETUP of the track).
    const std::string track = kUri + "/trackID=0";
    EXPECT_EQ(
        f.auth.check("SETUP", track, digestHeader("bob", "builder", nonce, "SETUP", track)).verdict,
        Verdict::Granted);
    // The uri parameter as a path, and the response in upper-case hex.
    std::string h = digestHeader("bob", "builder", nonce, "PLAY", "/cam");
    const std::string lower = digestResponse(DigestAlgorithm::Md5, "bob", kAuthRealm, "builder",
                                             "PLAY", "/cam", nonce, "auth", "00000001", "0a4f113b");
    std::string upper = lower;
    for (char& ch : upper) {
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    h.replace(h.find(lower), lower.size(), upper);
    EXPECT_EQ(f.auth.check("PLAY", kUri, h).verdict, Verdict::Granted);
}

TEST(Authenticator, WrongUserPasswordRealmUriMethodOrNonceAreDenied) {
    Fixture f;
    const std::string nonce = nonceOf(f.auth.challenge(false));
    const auto verdict = [&](const std::string& header, const std::string& method = "DESCRIBE",
                             const std::string& uri = kUri) {
        return f.auth.check(method, uri, header).verdict;
    };
    EXPECT_EQ(verdict(digestHeader("alice", "Wonderland", nonce)), Verdict::Denied);
    EXPECT_EQ(verdict(digestHeader("alice", "builder", nonce)), Verdict::Denied);
    EXPECT_EQ(verdict(digestHeader("carol", "wonderland", nonce)), Verdict::Denied);
    EXPECT_EQ(verdict(digestHeader("alice", "wonderland", nonce, "DESCRIBE", kUri, "auth",
                                   DigestAlgorithm::Md5, "other")),
              Verdict::Denied);
    // Computed for another URI (and naming it), or for another method.
    EXPECT_EQ(verdict(digestHeader("alice", "wonderland", nonce, "DESCRIBE",
                                   "rtsp://127.0.0.1:8554/other")),
              Verdict::Denied);
    EXPECT_EQ(verdict(digestHeader("alice", "wonderland", nonce, "DESCRIBE", kUri), "DESCRIBE",
                      "rtsp://127.0.0.1:8554/other"),
              Verdict::Denied);
    EXPECT_EQ(verdict(digestHeader("alice", "wonderland", nonce, "PLAY")), Verdict::Denied);
    // Computed for one nonce, naming another of the server's.
    f.now += kSec;
    const std::string other = nonceOf(f.auth.challenge(false));
    ASSERT_NE(other, nonce);
    std::string h = digestHeader("alice", "wonderland", nonce);
    h.replace(h.find(nonce), nonce.size(), other);
    EXPECT_EQ(verdict(h), Verdict::Denied);
    // qop other than auth, or without nc/cnonce; algorithms the server does not have.
    EXPECT_EQ(verdict(digestHeader("alice", "wonderland", nonce, "DESCRIBE", kUri, "auth-int")),
              Verdict::Denied);
    std::string noNc = digestHeader("alice", "wonderland", nonce);
    noNc.erase(noNc.find(", nc=00000001"), 13);
    EXPECT_EQ(verdict(noNc), Verdict::Denied);
    EXPECT_EQ(verdict(digestHeader("alice", "wonderland", nonce) + ", algorithm=MD5-sess"),
              Verdict::Denied);
    EXPECT_EQ(verdict(digestHeader("alice", "wonderland", nonce) + ", algorithm=SHA-512-256"),
              Verdict::Denied);
    // Incomplete.
    EXPECT_EQ(verdict("Digest username=\"alice\", realm=\"h265direct\""), Verdict::Denied);
    // What the user named is kept for the log; the reason has no secret.
    const Authenticator::Check c =
        f.auth.check("DESCRIBE", kUri, digestHeader("alice", "x", nonce));
    EXPECT_EQ(c.user, "alice");
    EXPECT_EQ(std::string(c.reason).find('x'), std::string::npos);
}

TEST(Authenticator, MissingAndMalformedHeaders) {
    Fixture f;
    EXPECT_EQ(f.auth.check("DESCRIBE", kUri, "").verdict, Verdict::Missing);
    EXPECT_EQ(f.auth.check("DESCRIBE", kUri, "  ").verdict, Verdict::Missing);
    for (const char* h : {"Digest", "Digest username=", "Digest username=\"alice", "Negotiate abc",
                          "Bearer xyz", "Digest ,,,", "Basic", "\"x\""}) {
        EXPECT_EQ(f.auth.check("DESCRIBE", kUri, h).verdict, Verdict::Denied) << h;
    }
}

TEST(Authenticator, AnExpiredNonceWithRightCredentialsIsStale) {
    Fixture f(false, 10);
    const std::string nonce = nonceOf(f.auth.challenge(false));
    f.now += 10 * kSec;
    EXPECT_EQ(f.auth.check("DESCRIBE", kUri, digestHeader("alice", "wonderland", nonce)).verdict,
              Verdict::Granted);
    f.now += 1;
    EXPECT_EQ(f.auth.check("DESCRIBE", kUri, digestHeader("alice", "wonderland", nonce)).verdict,
              Verdict::Stale);
    // Wrong credentials on an expired nonce are not stale: they are wrong.
    EXPECT_EQ(f.auth.check("DESCRIBE", kUri, digestHeader("alice", "wrong", nonce)).verdict,
              Verdict::Denied);
    // The new nonce works; a nonce from another server (another key) is stale too.
    const std::string fresh = nonceOf(f.auth.challenge(true));
    EXPECT_EQ(f.auth.check("DESCRIBE", kUri, digestHeader("alice", "wonderland", fresh)).verdict,
              Verdict::Granted);
    Fixture other(false, 10);
    other.now = f.now;
    const std::string foreign = nonceOf(other.auth.challenge(false));
    EXPECT_EQ(f.auth.check("DESCRIBE", kUri, digestHeader("alice", "wonderland", foreign)).verdict,
              Verdict::Stale);
    for (const std::string& bogus :
         {std::string(), std::string("abc"), std::string(48, 'z'), std::string(48, '0')}) {
        EXPECT_EQ(
            f.auth.check("DESCRIBE", kUri, digestHeader("alice", "wonderland", bogus)).verdict,
            Verdict::Stale)
            << bogus;
    }
}

TEST(Authenticator, BasicOnlyWhenTurnedOn) {
    // alice:wonderland, bob:wonderland
    const std::string right = "Basic YWxpY2U6d29uZGVybGFuZA==";
    const std::string wrong = "Basic Ym9iOndvbmRlcmxhbmQ=";
    Fixture off;
    EXPECT_EQ(off.auth.check("DESCRIBE", kUri, right).verdict, Verdict::Denied);
    Fixture on(true);
    const Authenticator::Check c = on.auth.check("DESCRIBE", kUri, right);
    EXPECT_EQ(c.verdict, Verdict::Granted);
    EXPECT_EQ(c.user, "alice");
    EXPECT_EQ(on.auth.check("DESCRIBE", kUri, wrong).verdict, Verdict::Denied);
    EXPECT_EQ(on.auth.check("DESCRIBE", kUri, "Basic !!!!").verdict, Verdict::Denied);
    EXPECT_EQ(on.auth.check("DESCRIBE", kUri, "Basic YWxpY2U=").verdict,
              Verdict::Denied);  // "alice", no colon
    // A password with ':' in it: split at the first one.
    Authenticator colon(Authenticator::Settings{{{"u", "p:q"}}, true, 300});
    EXPECT_EQ(colon.check("DESCRIBE", kUri, "Basic dTpwOnE=").verdict, Verdict::Granted);
}

TEST(AuthorizationParser, TokensQuotedStringsEscapesCommasAndSpaces) {
    AuthorizationHeader h;
    ASSERT_TRUE(parseAuthorization(
        "Digest  username=\"a \\\"b\\\\\" ,realm = \"r\",, nc=00000001,qop=auth,\t"
        "uri=\"rtsp://h/p?x=1,2\" ,",
        h));
    EXPECT_EQ(h.scheme, "digest");
    ASSERT_NE(h.param("username"), nullptr);
    EXPECT_EQ(*h.param("username"), "a \"b\\");
    EXPECT_EQ(*h.param("realm"), "r");
    EXPECT_EQ(*h.param("nc"), "00000001");
    EXPECT_EQ(*h.param("qop"), "auth");
    EXPECT_EQ(*h.param("uri"), "rtsp://h/p?x=1,2");
    EXPECT_EQ(h.param("response"), nullptr);
    ASSERT_TRUE(parseAuthorization("DIGEST UserName=x", h));
    EXPECT_EQ(h.scheme, "digest");
    EXPECT_EQ(*h.param("username"), "x");
    ASSERT_TRUE(parseAuthorization("Basic dTpwOnE=", h));
    EXPECT_EQ(h.scheme, "basic");
    EXPECT_EQ(h.token68, "dTpwOnE=");
    EXPECT_TRUE(h.params.empty());
    // A token68 is no parameter list (the Authenticator finds no username in it).
    ASSERT_TRUE(parseAuthorization("Digest username=", h));
    EXPECT_EQ(h.token68, "username=");
    EXPECT_TRUE(h.params.empty());
    ASSERT_TRUE(parseAuthorization("Digest", h));
    EXPECT_TRUE(h.params.empty());
    ASSERT_TRUE(parseAuthorization("Digest a=\"\"", h));
    EXPECT_EQ(*h.param("a"), "");
}

TEST(AuthorizationParser, MalformedHeadersAreRefused) {
    AuthorizationHeader h;
    for (const std::string bad :
         {"", " ", "=x", "Digest user name", "Digest a=b, username=", "Digest username=\"x",
          "Digest username=\"x\\", "Digest a=b c=d", "Digest a=b;c=d", "Digest a=\"x\"y",
          "Digest a=b, a=c", "Digest a=b, A=c", "Di\"gest a=b", "Digest a=\"\x01\"", "Digest =b",
          "Basic abc=def=", "Digest a==b"}) {
        EXPECT_FALSE(parseAuthorization(bad, h)) << bad;
    }
    // NUL is no token character (scheme, name, token value, token68).
    for (const std::string& bad : {std::string("Dig\0est a=b", 12), std::string("\0\0\0\tc", 5),
                                   std::string("Digest a\0=b", 12), std::string("Digest a=b\0", 12),
                                   std::string("Basic ab\0c", 10)}) {
        EXPECT_FALSE(parseAuthorization(bad, h)) << bad.size();
    }
    std::string many = "Digest ";
    for (size_t i = 0; i <= kAuthMaxParams; ++i) {
        many += "p" + std::to_string(i) + "=v,";
    }
    EXPECT_FALSE(parseAuthorization(many, h));
    std::string just = "Digest ";
    for (size_t i = 0; i < kAuthMaxParams; ++i) {
        just += "p" + std::to_string(i) + "=v,";
    }
    EXPECT_TRUE(parseAuthorization(just, h));
    EXPECT_FALSE(parseAuthorization("Digest a=\"" + std::string(kAuthMaxHeader, 'x') + "\"", h));
}

TEST(Credentials, UserColonPassword) {
    const Result<Credential> c = parseCredential("alice:pa:ss word");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->user, "alice");
    EXPECT_EQ(c->password, "pa:ss word");
    for (const char* bad :
         {"alice", "alice:", ":secret", "", "a\x01:secret", "a\"b:secret", "alice:se\ncret"}) {
        const Result<Credential> r = parseCredential(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().exitCode, kExitUsage);
        EXPECT_EQ(r.error().message.find("secret"), std::string::npos) << r.error().message;
        EXPECT_EQ(r.error().message.find("cret"), std::string::npos) << r.error().message;
    }
}

TEST(Credentials, UserFileLinesCommentsAndErrorsNamingTheLine) {
    test::TempDir dir;
    const std::string path = dir.file("users");
    test::writeText(path, "# users\n\n  alice:wonderland\r\n\tbob:b:c  \n#carol:x\n");
    const Result<std::vector<Credential>> users = readUserFile(path);
    ASSERT_TRUE(users) << users.error().message;
    ASSERT_EQ(users->size(), 2u);
    EXPECT_EQ(users.value()[0].user, "alice");
    EXPECT_EQ(users.value()[0].password, "wonderland");
    EXPECT_EQ(users.value()[1].user, "bob");
    EXPECT_EQ(users.value()[1].password, "b:c");

    test::writeText(path, "alice:wonderland\nbob-topsecret\n");
    const Result<std::vector<Credential>> bad = readUserFile(path);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find(path + " line 2:"), std::string::npos)
        << bad.error().message;
    EXPECT_EQ(bad.error().message.find("topsecret"), std::string::npos) << bad.error().message;
    EXPECT_EQ(bad.error().message.find("wonderland"), std::string::npos);

    // A line without its newline at the end of the file counts.
    test::writeText(path, "alice:wonderland\nbob:builder");
    const Result<std::vector<Credential>> last = readUserFile(path);
    ASSERT_TRUE(last) << last.error().message;
    EXPECT_EQ(last->size(), 2u);
    // Not a regular file (a device that never ends, a FIFO nobody writes): refused at once.
    for (const std::string& special : {std::string("/dev/zero"), dir.file("fifo")}) {
        if (special != "/dev/zero") {
            ASSERT_EQ(mkfifo(special.c_str(), 0600), 0);
        }
        const Result<std::vector<Credential>> r = readUserFile(special);
        ASSERT_FALSE(r) << special;
        EXPECT_EQ(r.error().message, special + ": not a regular file");
    }
    // Too large.
    test::writeText(path, std::string(size_t{1} << 20, '#') + "\n");
    const Result<std::vector<Credential>> large = readUserFile(path);
    ASSERT_FALSE(large);
    EXPECT_EQ(large.error().message, path + ": larger than 1024 KiB");

    const Result<std::vector<Credential>> missing = readUserFile(dir.file("none"));
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("No such file"), std::string::npos)
        << missing.error().message;
}

TEST(Credentials, RelativeUserFileIsLookedUpInCredentialsDirectoryFirst) {
    test::TempDir dir;
    test::writeText(dir.file("users"), "carol:x\n");
    ASSERT_EQ(setenv("CREDENTIALS_DIRECTORY", dir.path().c_str(), 1), 0);
    EXPECT_EQ(userFilePath("users"), dir.file("users"));
    EXPECT_EQ(userFilePath("/etc/users"), "/etc/users");
    EXPECT_EQ(userFilePath("not-there"), "not-there");
    const Result<std::vector<Credential>> users = readUserFile("users");
    ASSERT_TRUE(users) << users.error().message;
    EXPECT_EQ(users->at(0).user, "carol");
    ASSERT_EQ(unsetenv("CREDENTIALS_DIRECTORY"), 0);
    EXPECT_EQ(userFilePath("users"), "users");
}

TEST(Credentials, ConfiguredUsersJoinsOptionsAndFileAndRefusesTwins) {
    test::TempDir dir;
    test::writeText(dir.file("users"), "bob:builder\n");
    NetConfig c;
    c.users = {"alice:wonderland"};
    c.userFile = dir.file("users");
    const Result<std::vector<Credential>> users = configuredUsers(c);
    ASSERT_TRUE(users) << users.error().message;
    EXPECT_EQ(users->size(), 2u);
    c.users.push_back("bob:other");
    const Result<std::vector<Credential>> twice = configuredUsers(c);
    ASSERT_FALSE(twice);
    EXPECT_NE(twice.error().message.find("'bob'"), std::string::npos) << twice.error().message;
    EXPECT_EQ(twice.error().message.find("builder"), std::string::npos);
}

TEST(LogSafe, EscapesAndBounds) {
    EXPECT_EQ(logSafe("alice"), "alice");
    EXPECT_EQ(logSafe("a\"b\\c\n\x7f\xff"), "a\\\"b\\\\c\\x0a\\x7f\\xff");
    EXPECT_EQ(logSafe(std::string(100, 'x'), 8), "xxxxxxxx...");
}

TEST(EqualConstantTime, ComparesContentAndLength) {
    EXPECT_TRUE(equalConstantTime("abc", "abc"));
    EXPECT_TRUE(equalConstantTime("", ""));
    EXPECT_FALSE(equalConstantTime("abc", "abd"));
    EXPECT_FALSE(equalConstantTime("abc", "abcd"));
}

}  // namespace
