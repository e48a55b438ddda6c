// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/child_process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace h265direct::test {

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& stdoutPath) {
    int errPipe[2];
    if (pipe2(errPipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe2 failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2);
    std::vector<char*> args;
    for (const std::string& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(errPipe[1]);
    errFd_.reset(errPipe[0]);
    if (rc != 0) {
        throw std::runtime_error(std::string("spawn ") + argv[0] + ": " + strerror(rc));
    }
    pidFd_.reset(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
    if (!pidFd_) {
        throw std::runtime_error(std::string("pidfd_open: ") + strerror(errno));
    }
    reader_ = std::thread([this] { readErr(); });
}

ChildProcess::~ChildProcess() {
    if (!reaped_) {
        ::kill(pid_, SIGKILL);
        wait(60);
    }
    if (reader_.joinable()) {
        reader_.join();
    }
}

void ChildProcess::readErr() {
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(errFd_.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        std::lock_guard lock(mutex_);
        if (n <= 0) {
            errClosed_ = true;
            grew_.notify_all();
            return;
        }
        err_.append(buf, static_cast<size_t>(n));
        grew_.notify_all();
    }
}

bool ChildProcess::waitForStderr(const std::string& text, double timeoutSec) {
    std::unique_lock lock(mutex_);
    return grew_.wait_for(lock, std::chrono::duration<double>(timeoutSec), [&] {
        return err_.find(text) != std::string::npos || errClosed_;
    }) && err_.find(text) != std::string::npos;
}

std::string ChildProcess::err() {
    std::lock_guard lock(mutex_);
    return err_;
}

void ChildProcess::signal(int sig) {
    if (!reaped_) {
        ::kill(pid_, sig);
    }
}

int ChildProcess::wait(double timeoutSec) {
    if (reaped_) {
        return exitCode_;
    }
    pollfd p{pidFd_.get(), POLLIN, 0};
    int timedOut = poll(&p, 1, static_cast<int>(timeoutSec * 1000)) <= 0;
    if (timedOut) {
        ::kill(pid_, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    exitCode_ = timedOut ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (reader_.joinable()) {
        reader_.join();  // stderr ends with the process (unless a child of it kept it open)
    }
    return exitCode_;
}

namespace {

std::string procPath(pid_t pid, const std::string& rest) {
    return "/proc/" + std::to_string(pid) + "/" + rest;
}

// The value of `key:` in a /proc status file, -1 if absent.
long long statusField(const std::string& path, const std::string& key) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + ":", 0) == 0) {
            return std::stoll(line.substr(key.size() + 1));
        }
    }
    return -1;
}

}  // namespace

double ChildProcess::cpuSeconds() const {
    std::ifstream in(procPath(pid_, "stat"));
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) {
        throw std::runtime_error("cannot read " + procPath(pid_, "stat"));
    }
    // After "pid (comm)": field 3 is the state; utime and stime are fields 14 and 15.
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) {
            utime = std::stoll(field);
        } else if (i == 15) {
            stime = std::stoll(field);
        }
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long long ChildProcess::voluntarySwitches() const {
    long long total = 0;
    DIR* d = opendir(procPath(pid_, "task").c_str());
    if (d == nullptr) {
        throw std::runtime_error("cannot list " + procPath(pid_, "task"));
    }
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') {
            continue;
        }
        const long long v =
            statusField(procPath(pid_, "task/" + std::string(e->d_name) + "/status"),
                        "voluntary_ctxt_switches");
        total += v > 0 ? v : 0;
    }
    closedir(d);
    return total;
}

int ChildProcess::openFds() const {
    DIR* d = opendir(procPath(pid_, "fd").c_str());
    if (d == nullptr) {
        throw std::runtime_error("cannot list " + procPath(pid_, "fd"));
    }
    int n = 0;
    while (dirent* e = readdir(d)) {
        n += e->d_name[0] != '.' ? 1 : 0;
    }
    closedir(d);
    return n;
}

long long ChildProcess::rssKb() const {
    return statusField(procPath(pid_, "status"), "VmRSS");
}

}  // namespace h265direct::test
