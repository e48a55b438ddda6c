// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "h265direct/config.hpp"

namespace h265direct::net {

// The users of the servers (the RTSP server's authentication, auth.hpp): --user entries and
// --user-file files. No message here holds a password.

// One user: the name and the password.
struct Credential {
    std::string user;
    std::string password;
};

// "USER:PASSWORD": a user name without ':', and a password, neither empty. The error says
// what is wrong without the password.
Result<Credential> parseCredential(std::string_view text);

// Where --user-file FILE is read: a relative path is looked up in $CREDENTIALS_DIRECTORY
// (systemd's LoadCredential=) first when that is set, then as it is.
std::string userFilePath(const std::string& path);

// A user file: one USER:PASSWORD a line; blank lines and lines starting with '#' (after
// spaces) are left out. The error names the file and line, never a password.
Result<std::vector<Credential>> readUserFile(const std::string& path);

// Every user of a configuration: --user's, then the file's. An error for a bad entry, an
// unreadable file, or a user given twice.
Result<std::vector<Credential>> configuredUsers(const NetConfig& config);

}  // namespace h265direct::net
