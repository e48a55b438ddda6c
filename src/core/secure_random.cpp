// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/secure_random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.hpp"

namespace h265direct {

void secureRandom(std::span<uint8_t> out) {
    size_t got = 0;
    while (got < out.size()) {
        const ssize_t n = getrandom(out.data() + got, out.size() - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw StartupError(kExitFailure,
                               std::string("getrandom (the kernel's random bytes): ") +
                                   (n < 0 ? std::strerror(errno) : "no bytes"));
        }
        got += static_cast<size_t>(n);
    }
}

uint64_t secureRandom64() {
    uint8_t bytes[8];
    secureRandom(bytes);
    uint64_t v = 0;
    std::memcpy(&v, bytes, sizeof v);
    return v;
}

}  // namespace h265direct
