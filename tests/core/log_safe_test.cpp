// SPDX-License-Identifier: GPL-2.0-or-later
// logSafe: what a peer or another program sent reaches a log line with every byte that a
// terminal could act on escaped.

#include <gtest/gtest.h>

#include <string>

#include "core/text.hpp"

using namespace h265direct;

namespace {

// True when s holds no C0 control, DEL or byte above 0x7f.
bool plainAscii(const std::string& s) {
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) {
            return false;
        }
    }
    return true;
}

}  // namespace

TEST(LogSafe, ControlsDelAndC1AreEscaped) {
    EXPECT_EQ(logSafe("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
    EXPECT_EQ(logSafe(std::string("a\0b", 3)), "a\\x00b");
    EXPECT_EQ(logSafe("\r\n\t\x7f"), "\\x0d\\x0a\\x09\\x7f");
    // C1 controls, raw (a CSI on an 8-bit terminal) and encoded in UTF-8 (U+009B).
    EXPECT_EQ(logSafe("\x9b"
                      "2J"),
              "\\x9b2J");
    EXPECT_EQ(logSafe("\xc2\x9b"
                      "2J"),
              "\\xc2\\x9b2J");
    EXPECT_EQ(logSafe("\xc2\x85"), "\\xc2\\x85");  // NEL
}

TEST(LogSafe, InvalidUtf8AndOtherNonAsciiAreEscaped) {
    EXPECT_EQ(logSafe("\xff\xfe"), "\\xff\\xfe");
    EXPECT_EQ(logSafe("\xc3"), "\\xc3");                    // cut short
    EXPECT_EQ(logSafe("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
    EXPECT_EQ(logSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a UTF-16 surrogate
    EXPECT_EQ(logSafe("\xe2\x80\xae"), "\\xe2\\x80\\xae");  // right-to-left override
}

TEST(LogSafe, PrintableAsciiStaysQuotesAndBackslashesAreEscapedLengthIsBounded) {
    EXPECT_EQ(logSafe("OPTIONS rtsp://h/ RTSP/1.0"), "OPTIONS rtsp://h/ RTSP/1.0");
    EXPECT_EQ(logSafe("say \"x\\y\""), "say \\\"x\\\\y\\\"");
    EXPECT_EQ(logSafe(std::string(100, 'x'), 8), "xxxxxxxx...");
    // Every byte value, in a long text: the result is plain ASCII and bounded.
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all += static_cast<char>(i);
    }
    const std::string out = logSafe(all, 2000);
    EXPECT_TRUE(plainAscii(out)) << out;
    EXPECT_EQ(out.size(), 95u - 2u + 4u + 161u * 4u);   // printable, minus '"' '\', those two
                                                        // as two bytes each, the rest as \xNN
    EXPECT_LE(logSafe(all, 64).size(), 64u + 3u + 3u);  // the last escape may pass max by 3
}
