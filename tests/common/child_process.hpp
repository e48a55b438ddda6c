// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/unique_fd.hpp"

namespace h265direct::test {

// A program running in the background while a test talks to it: stdin from /dev/null,
// stdout to `stdoutPath`, stderr collected. Killed (SIGKILL) on destruction if still running.
class ChildProcess {
public:
    explicit ChildProcess(const std::vector<std::string>& argv,
                          const std::string& stdoutPath = "/dev/null");
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    // Waits until its stderr holds `text`; false if it ended first or timeoutSec passed.
    bool waitForStderr(const std::string& text, double timeoutSec = 60);
    // Everything it wrote to stderr so far.
    std::string err();
    void signal(int sig);
    // Waits for it to end: its exit code, 128 + signal when killed by one, or -1 when it
    // still runs after timeoutSec (it is then killed).
    int wait(double timeoutSec = 60);

    // CPU time (user + system, every thread) used so far, in seconds: /proc/<pid>/stat.
    double cpuSeconds() const;
    // Voluntary context switches (times a thread went to sleep) of all its threads so far:
    // /proc/<pid>/task/*/status.
    long long voluntarySwitches() const;
    // Open file descriptors (entries of /proc/<pid>/fd).
    int openFds() const;
    // Resident memory in kB (VmRSS of /proc/<pid>/status).
    long long rssKb() const;

private:
    void readErr();

    pid_t pid_ = -1;
    UniqueFd pidFd_;
    UniqueFd errFd_;
    std::thread reader_;
    std::mutex mutex_;
    std::condition_variable grew_;
    std::string err_;
    bool errClosed_ = false;
    int exitCode_ = -1;
    bool reaped_ = false;
};

}  // namespace h265direct::test
