// SPDX-License-Identifier: GPL-2.0-or-later
// rusage_exec: runs a command and reports its resource use, for the end-to-end comparison.
//
//   rusage_exec FD COMMAND [ARGS...]
//
// Writes "pid N" to file descriptor FD as soon as COMMAND runs, and when it ends
// "status S utime_us U stime_us S maxrss_kb M" from wait4(), then exits with COMMAND's code.
//
// Why not fork the command straight from the benchmark (Python): a child's peak RSS
// (ru_maxrss) also counts the memory it had before exec, i.e. a copy of the parent's address
// space, so every contender would "peak" at the harness's own size. Forked from this small
// program, the command starts from a few hundred kilobytes.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: rusage_exec FD COMMAND [ARGS...]\n");
        return 2;
    }
    const int fd = std::atoi(argv[1]);
    const pid_t pid = fork();
    if (pid < 0) {
        std::fprintf(stderr, "rusage_exec: fork: %s\n", std::strerror(errno));
        return 1;
    }
    if (pid == 0) {
        close(fd);
        execvp(argv[2], argv + 2);
        std::fprintf(stderr, "rusage_exec: %s: %s\n", argv[2], std::strerror(errno));
        _exit(127);
    }
    dprintf(fd, "pid %d\n", static_cast<int>(pid));
    int status = 0;
    rusage ru{};
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            std::fprintf(stderr, "rusage_exec: wait4: %s\n", std::strerror(errno));
            return 1;
        }
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    dprintf(fd, "status %d utime_us %lld stime_us %lld maxrss_kb %ld\n", code,
            static_cast<long long>(ru.ru_utime.tv_sec) * 1000000 + ru.ru_utime.tv_usec,
            static_cast<long long>(ru.ru_stime.tv_sec) * 1000000 + ru.ru_stime.tv_usec,
            ru.ru_maxrss);
    return code;
}
