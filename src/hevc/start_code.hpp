// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Start-code search: the hot loop of the Annex-B parser.

#include <cstdint>
#include <span>

namespace h265direct::hevc::detail {

// Each returns the first p in [begin, end - 3] with p[0..2] == 00 00 01, or end.
using FindStartCodeFn = const uint8_t* (*)(const uint8_t* begin, const uint8_t* end);

const uint8_t* findStartCodeScalar(const uint8_t* begin, const uint8_t* end);
const uint8_t* findStartCodeMemchr(const uint8_t* begin, const uint8_t* end);
#if defined(__x86_64__) || defined(__i386__)
const uint8_t* findStartCodeSse2(const uint8_t* begin, const uint8_t* end);
const uint8_t* findStartCodeAvx2(const uint8_t* begin, const uint8_t* end);
bool haveAvx2();
#endif
#if defined(__aarch64__)
const uint8_t* findStartCodeNeon(const uint8_t* begin, const uint8_t* end);
#endif

struct StartCodeVariant {
    const char* name;
    FindStartCodeFn fn;
};
// Every variant this build has and this CPU runs, the byte-by-byte one ("scalar") first:
// what tests and fuzz targets check against each other.
std::span<const StartCodeVariant> startCodeVariants();

// The fastest variant this CPU runs, chosen on first use. Callers in loops fetch it once.
FindStartCodeFn bestFindStartCode();
const char* bestFindStartCodeName();

}  // namespace h265direct::hevc::detail
