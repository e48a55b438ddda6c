// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/io_loop.hpp"

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace h265direct::net {

const char* toString(IoBackend backend) {
    switch (backend) {
        case IoBackend::Uring:
            return "uring";
        case IoBackend::Epoll:
            return "epoll";
        case IoBackend::Auto:
            break;
    }
    return "auto";
}

bool parseIoBackend(const std::string& text, IoBackend& out) {
    for (IoBackend b : {IoBackend::Auto, IoBackend::Uring, IoBackend::Epoll}) {
        if (text == toString(b)) {
            out = b;
            return true;
        }
    }
    return false;
}

std::unique_ptr<IoLoop> makeIoLoop(IoBackend backend) {
    if (backend == IoBackend::Epoll) {
        return makeEpollLoop("--io epoll");
    }
    int error = 0;
    std::string what;
    if (auto loop = makeUringLoop(error, what)) {
        return loop;
    }
    const std::string reason = what + ": " + std::strerror(-error);
    if (backend == IoBackend::Uring) {
        throw StartupError(kExitNetwork,
                           "network output: --io uring: io_uring is not usable here (" + reason +
                               "); it needs Linux 5.7 or later and io_uring enabled (sysctl "
                               "kernel.io_uring_disabled=0); --io epoll works everywhere");
    }
    return makeEpollLoop("io_uring not usable: " + reason);
}

}  // namespace h265direct::net
