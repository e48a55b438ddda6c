// Users of the servers (users.hpp): USER:PASSWORD entries and user files.

#include "net/users.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <unordered_set>

#include "core/text.hpp"

namespace h265direct::net {

namespace {

constexpr size_t kMaxUserFileLine = 1024;

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
    if (std::ifstream(inDir).good()) {
        return inDir;
    }
    return path;
}

Result<std::vector<Credential>> readUserFile(const std::string& path) {
    const std::string file = userFilePath(path);
    std::ifstream in(file);
    if (!in) {
        return Error{kExitUsage, file + ": " + std::strerror(errno)};
    }
    std::vector<Credential> users;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
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
    if (in.bad()) {
        return Error{kExitUsage, file + ": " + std::strerror(errno)};
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
