// SPDX-License-Identifier: GPL-2.0-or-later
#include "hevc/start_code.hpp"

#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define H265D_X86 1
#elif defined(__aarch64__)
#include <arm_neon.h>
#define H265D_NEON 1
#endif

namespace h265direct::hevc::detail {

const uint8_t* findStartCodeScalar(const uint8_t* begin, const uint8_t* end) {
    if (end - begin < 3) {
        return end;
    }
    for (const uint8_t* p = begin; p + 3 <= end; ++p) {
        if (p[0] == 0 && p[1] == 0 && p[2] == 1) {
            return p;
        }
    }
    return end;
}

// 0x01 is as rare in coded data as 0x00, and libc's memchr is vectorised: jump from one
// 0x01 to the next and look back two bytes.
const uint8_t* findStartCodeMemchr(const uint8_t* begin, const uint8_t* end) {
    if (end - begin < 3) {
        return end;
    }
    const uint8_t* p = begin + 2;
    while (p < end) {
        const void* hit = std::memchr(p, 1, static_cast<size_t>(end - p));
        if (hit == nullptr) {
            return end;
        }
        const uint8_t* one = static_cast<const uint8_t*>(hit);
        if (one[-1] == 0 && one[-2] == 0) {
            return one - 2;
        }
        // The 01 just found cannot be one of the two zeros of the next start code, so the
        // next candidate 01 is at least three bytes on.
        p = one + 3;
    }
    return end;
}

#ifdef H265D_X86

// Compare three overlapping loads (p, p+1, p+2) against 00, 00, 01 and AND the results:
// one bit per position where a start code begins. 16 positions per step.
const uint8_t* findStartCodeSse2(const uint8_t* begin, const uint8_t* end) {
    const uint8_t* p = begin;
    const __m128i zero = _mm_setzero_si128();
    const __m128i one = _mm_set1_epi8(1);
    while (end - p >= 18) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2));
        const __m128i m =
            _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(a, zero), _mm_cmpeq_epi8(b, zero)),
                          _mm_cmpeq_epi8(c, one));
        const int bits = _mm_movemask_epi8(m);
        if (bits != 0) {
            return p + __builtin_ctz(static_cast<unsigned>(bits));
        }
        p += 16;
    }
    return findStartCodeScalar(p, end);
}

__attribute__((target("avx2"))) const uint8_t* findStartCodeAvx2(const uint8_t* begin,
                                                                 const uint8_t* end) {
    const uint8_t* p = begin;
    const __m256i zero = _mm256_setzero_si256();
    const __m256i one = _mm256_set1_epi8(1);
    // 64 positions per step; the first test only asks "any zero pair at all?", which coded
    // data rarely has, so the common path is two compares, one AND and a test per 32 bytes.
    while (end - p >= 66) {
        const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 1));
        const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
        const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 33));
        const __m256i z0 = _mm256_cmpeq_epi8(_mm256_or_si256(a0, b0), zero);
        const __m256i z1 = _mm256_cmpeq_epi8(_mm256_or_si256(a1, b1), zero);
        if (!_mm256_testz_si256(_mm256_or_si256(z0, z1), _mm256_or_si256(z0, z1))) {
            const __m256i c0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2));
            const __m256i c1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 34));
            const auto m0 = static_cast<uint32_t>(
                _mm256_movemask_epi8(_mm256_and_si256(z0, _mm256_cmpeq_epi8(c0, one))));
            if (m0 != 0) {
                return p + __builtin_ctz(m0);
            }
            const auto m1 = static_cast<uint32_t>(
                _mm256_movemask_epi8(_mm256_and_si256(z1, _mm256_cmpeq_epi8(c1, one))));
            if (m1 != 0) {
                return p + 32 + __builtin_ctz(m1);
            }
        }
        p += 64;
    }
    return findStartCodeSse2(p, end);
}

bool haveAvx2() {
    // May run from a static constructor, before libgcc has filled in its CPU model.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

FindStartCodeFn bestFindStartCode() {
    static const FindStartCodeFn best = haveAvx2() ? findStartCodeAvx2 : findStartCodeSse2;
    return best;
}
const char* bestFindStartCodeName() {
    return haveAvx2() ? "avx2" : "sse2";
}

#elif defined(H265D_NEON)

// Advanced SIMD is part of every aarch64 CPU. As the AVX2 variant: 32 positions per step, the
// common path only asks "any zero pair at all?" (two ORs, two compares, one across-vector max);
// only then is the 01 compared and the first hit located. NEON has no movemask: narrowing
// each 16-bit lane by 4 bits packs the 16 byte masks into 64 bits, 4 bits per position.
const uint8_t* findStartCodeNeon(const uint8_t* begin, const uint8_t* end) {
    const uint8_t* p = begin;
    const uint8x16_t one = vdupq_n_u8(1);
    const auto firstHit = [](uint8x16_t m) -> int {
        const uint64_t bits =
            vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(m), 4)), 0);
        return bits == 0 ? -1 : __builtin_ctzll(bits) / 4;
    };
    while (end - p >= 34) {
        const uint8x16_t a0 = vld1q_u8(p);
        const uint8x16_t b0 = vld1q_u8(p + 1);
        const uint8x16_t a1 = vld1q_u8(p + 16);
        const uint8x16_t b1 = vld1q_u8(p + 17);
        const uint8x16_t z0 = vceqzq_u8(vorrq_u8(a0, b0));
        const uint8x16_t z1 = vceqzq_u8(vorrq_u8(a1, b1));
        if (vmaxvq_u8(vorrq_u8(z0, z1)) != 0) {
            const int h0 = firstHit(vandq_u8(z0, vceqq_u8(vld1q_u8(p + 2), one)));
            if (h0 >= 0) {
                return p + h0;
            }
            const int h1 = firstHit(vandq_u8(z1, vceqq_u8(vld1q_u8(p + 18), one)));
            if (h1 >= 0) {
                return p + 16 + h1;
            }
        }
        p += 32;
    }
    return findStartCodeScalar(p, end);
}

FindStartCodeFn bestFindStartCode() {
    return findStartCodeNeon;
}
const char* bestFindStartCodeName() {
    return "neon";
}

#else

FindStartCodeFn bestFindStartCode() {
    return findStartCodeMemchr;
}
const char* bestFindStartCodeName() {
    return "memchr";
}

#endif

std::span<const StartCodeVariant> startCodeVariants() {
    static const std::vector<StartCodeVariant> variants = [] {
        std::vector<StartCodeVariant> v = {{"scalar", findStartCodeScalar},
                                           {"memchr", findStartCodeMemchr}};
#ifdef H265D_X86
        v.push_back({"sse2", findStartCodeSse2});
        if (haveAvx2()) {
            v.push_back({"avx2", findStartCodeAvx2});
        }
#elif defined(H265D_NEON)
        v.push_back({"neon", findStartCodeNeon});
#endif
        return v;
    }();
    return variants;
}

}  // namespace h265direct::hevc::detail
