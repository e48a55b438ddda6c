// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <span>

namespace h265direct {

// Bytes from the kernel's CSPRNG (getrandom(2); it blocks only until the pool is seeded at
// boot): the one source of whatever a peer must not guess (nonce keys, RTSP session ids,
// SSRCs, first sequence numbers, timestamp offsets). There is no weaker fallback: a kernel
// without getrandom makes it throw StartupError.
void secureRandom(std::span<uint8_t> out);
uint64_t secureRandom64();

}  // namespace h265direct
