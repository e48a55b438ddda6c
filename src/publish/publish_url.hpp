// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "net/address.hpp"

namespace h265direct::publish {

// A parsed --publish value.
struct PublishUrl {
    enum class Kind { Rtsp, Srt };
    Kind kind = Kind::Rtsp;
    // What libavformat opens: rtsp:// with its user-info percent-encoded ('/', '?', '#', '@'
    // in a password), srt:// without its passphrase and streamid, which go in `options`.
    std::string url;
    std::string display;  // for messages: user-info and secret query values as ***
    net::Endpoint endpoint;
    // srt://: the protocol's options taken out of the URL (passphrase, streamid; decoded), so
    // that no message of libavformat or libsrt that shows the URL can carry them.
    std::vector<std::pair<std::string, std::string>> options;
    // The literal secrets of the URL (as written and decoded), masked in every message while
    // a session runs.
    std::vector<std::string> secrets;
};

// Parses "rtsp://[USER[:PASS]@]HOST[:PORT]/PATH" (port 554 when left out) and
// "srt://HOST:PORT[?OPTIONS]" (caller mode; passphrase= of 10..79 characters, pbkeylen= of 0,
// 16, 24 or 32). The error (kExitUsage) says what is wrong, without the option's name, and
// shows the URL only with its secrets masked.
Result<PublishUrl> parsePublishUrl(std::string_view text);

}  // namespace h265direct::publish
