// SPDX-License-Identifier: GPL-2.0-or-later
// Users of the servers (users.hpp): USER:PASSWORD entries and user files.

#include "net/users.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "core/text.hpp"
#include "core/unique_fd.hpp"

namespace h265direct::net {

namespace {

constexpr size_t kMaxUserFileLine = 1024;
constexpr size_t kMaxUserFile = size_t{1} << 20;

}  // namespace

Result<Credential> parseCredential(std::string_view text) {
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        return Error{kExitUsage, "expects USER:PASSWORD (no ':' found)"};
    }
    Credential c{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
    if (c.user.empty()) {
        return Error{kExitUsage, "the user name before ':' is empty"};
    }
    const auto bad = [](char ch) {
        const auto u = static_cast<unsigned char>(ch);
        return u < 0x20 || u == 0x7f || ch == '"' || ch == '\\';
    };
    if (std::any_of(c.user.begin(), c.user.end(), bad)) {
        return Error{kExitUsage, "the user name '" + logSafe(c.user) +
                                     "' holds a control character, '\"' or '\\'"};
    }
    if (c.password.empty()) {
        return Error{kExitUsage, "the password of user '" + logSafe(c.user) + "' is empty"};
    }
    if (std::any_of(c.password.begin(), c.password.end(),
                    [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; })) {
        return Error{kExitUsage,
                     "the password of user '" + logSafe(c.user) + "' holds a control character"};
    }
    return c;
}

std::string userFilePath(const std::string& path) {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (path.empty() || path[0] == '/' || dir == nullptr || *dir == '\0') {
        return path;
    }
    std::string inDir = std::string(dir) + "/" + path;
    if (::access(inDir.c_str(), F_OK) == 0) {
        return inDir;
    }
    return path;
}

Result<std::vector<Credential>> readUserFile(const std::string& path) {
    const std::string file = userFilePath(path);
    // Opened without waiting (a FIFO would block until a writer comes), and only a regular
    // file of a bounded size is read: not a device that never ends.
    const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) {
        return Error{kExitUsage, file + ": " + std::strerror(errno)};
    }
    if (!S_ISREG(st.st_mode)) {
        return Error{kExitUsage, file + ": not a regular file"};
    }
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return Error{kExitUsage, file + ": " + std::strerror(errno)};
        }
        if (n == 0) {
            break;
        }
        text.append(buffer, static_cast<size_t>(n));
        if (text.size() > kMaxUserFile) {
            return Error{kExitUsage,
                         file + ": larger than " + std::to_string(kMaxUserFile >> 10) + " KiB"};
        }
    }
    std::vector<Credential> users;
    int number = 0;
    for (size_t pos = 0; pos < text.size();) {
        const size_t eol = std::min(text.find('\n', pos), text.size());
        const std::string_view line(text.data() + pos, eol - pos);
        pos = eol + 1;
        ++number;
        const std::string where = file + " line " + std::to_string(number) + ": ";
        if (line.size() > kMaxUserFileLine) {
            return Error{kExitUsage,
                         where + "longer than " + std::to_string(kMaxUserFileLine) + " bytes"};
        }
        const std::string_view t = trimSpace(line);
        if (t.empty() || t[0] == '#') {
            continue;
        }
        Result<Credential> c = parseCredential(t);
        if (!c) {
            return Error{kExitUsage, where + c.error().message};
        }
        users.push_back(std::move(c).value());
    }
    return users;
}

Result<std::vector<Credential>> configuredUsers(const NetConfig& config) {
    std::vector<Credential> users;
    for (const std::string& u : config.users) {
        Result<Credential> c = parseCredential(u);
        if (!c) {
            return Error{kExitUsage, "--user: " + c.error().message};
        }
        users.push_back(std::move(c).value());
    }
    if (!config.userFile.empty()) {
        Result<std::vector<Credential>> more = readUserFile(config.userFile);
        if (!more) {
            return Error{kExitUsage, "--user-file: " + more.error().message};
        }
        users.insert(users.end(), more->begin(), more->end());
    }
    std::unordered_set<std::string> seen;
    for (const Credential& c : users) {
        if (!seen.insert(c.user).second) {
            return Error{kExitUsage, "user '" + logSafe(c.user) + "' is given more than once"};
        }
    }
    return users;
}

}  // namespace h265direct::net
