// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace h265direct::test {

struct ProcessResult {
    int exitCode = -1;  // exit status, or 128 + signal number when killed by a signal
    std::string out;    // everything written to stdout
    std::string err;    // everything written to stderr
    bool timedOut = false;
};

// Runs argv[0] (PATH is searched) with the arguments, stdin from /dev/null, and collects its
// output. Kills it (SIGKILL) after timeoutSec. Never uses a shell.
ProcessResult runProcess(const std::vector<std::string>& argv, double timeoutSec = 120);

// Runs a shell command line through /bin/sh -c (for pipelines of real tools).
ProcessResult runShell(const std::string& command, double timeoutSec = 120);

// The built h265direct binary.
std::string binaryPath();

// True if the program is on PATH.
bool haveProgram(const std::string& name);

// A fresh directory removed (with its contents) on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

std::vector<uint8_t> readFile(const std::string& path);
void writeFile(const std::string& path, const void* data, size_t size);
// The same for text.
std::string readText(const std::string& path);
void writeText(const std::string& path, const std::string& text);

}  // namespace h265direct::test
