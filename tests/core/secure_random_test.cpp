// SPDX-License-Identifier: GPL-2.0-or-later
// The kernel's CSPRNG as the one source of unguessable identifiers: it is read through
// getrandom, with no weaker fallback, and its values look like random ones.

#include "core/secure_random.hpp"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "core/error.hpp"

using namespace h265direct;

namespace {

#if defined(__x86_64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
#else
#error "no audit architecture known for this target"
#endif

// In this process from now on, getrandom fails with ENOSYS, as on a kernel without it.
void refuseGetrandom() {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kNativeArch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getrandom, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(sizeof filter / sizeof filter[0]);
    prog.filter = filter;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        std::fprintf(stderr, "seccomp refused\n");
        std::_Exit(3);
    }
}

}  // namespace

// Without getrandom there is no value at all (so none comes from a weaker source): the caller
// gets a StartupError that names it.
TEST(SecureRandom, WithoutGetrandomItFailsInsteadOfFallingBack) {
    EXPECT_EXIT(
        {
            refuseGetrandom();
            try {
                const uint64_t v = secureRandom64();
                std::fprintf(stderr, "returned %llx\n", static_cast<unsigned long long>(v));
                std::_Exit(1);
            } catch (const StartupError& e) {
                std::fprintf(stderr, "%s\n", e.what());
                std::_Exit(0);
            }
        },
        testing::ExitedWithCode(0), "getrandom.*Function not implemented");
}

// 1000 draws: all distinct, and every one of the 64 bits is seen both set and clear (a
// source with a stuck bit, a 32-bit seed widened, or a counter fails one of these; a fair
// source fails with a chance below 2^-900).
TEST(SecureRandom, DrawsAreDistinctAndUseEveryBit) {
    std::set<uint64_t> seen;
    uint64_t anySet = 0;
    uint64_t anyClear = 0;
    for (int i = 0; i < 1000; ++i) {
        const uint64_t v = secureRandom64();
        seen.insert(v);
        anySet |= v;
        anyClear |= ~v;
    }
    EXPECT_EQ(seen.size(), 1000u);
    EXPECT_EQ(anySet, ~uint64_t{0});
    EXPECT_EQ(anyClear, ~uint64_t{0});
    // Longer requests are filled to the end.
    std::array<uint8_t, 4096> big{};
    secureRandom(big);
    std::array<int, 256> counts{};
    for (const uint8_t b : big) {
        ++counts[b];
    }
    EXPECT_LT(*std::max_element(counts.begin(), counts.end()), 64);  // 16 expected per value
    EXPECT_GT(std::count_if(counts.begin(), counts.end(), [](int c) { return c > 0; }), 200);
}
