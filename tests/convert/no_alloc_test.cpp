// SPDX-License-Identifier: GPL-2.0-or-later
// The frame path allocates nothing: sources hand out ring buffers and the converter writes
// into the caller's picture. Counted by wrapping glibc's allocator in this test program.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <vector>

#include "capture/frame_source.hpp"
#include "convert/converter.hpp"
#include "frame/pixel_format.hpp"

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define H265D_COUNT_ALLOCATIONS 1

namespace {
std::atomic<long> allocations{0};
}

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);

void* malloc(size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(n);
}
void* calloc(size_t count, size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(count, n);
}
void* realloc(void* p, size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, n);
}
int posix_memalign(void** p, size_t align, size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    *p = __libc_memalign(align, n);
    return *p != nullptr ? 0 : ENOMEM;
}
void* aligned_alloc(size_t align, size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_memalign(align, n);
}
}
#endif

namespace h265direct {
namespace {

#ifdef H265D_COUNT_ALLOCATIONS

TEST(NoAllocation, CountingWorks) {
    const long before = allocations.load();
    void* volatile p = std::malloc(100);
    std::free(p);
    EXPECT_EQ(allocations.load() - before, 1);
    std::vector<int> v(static_cast<size_t>(allocations.load() % 7 + 10));
    EXPECT_EQ(allocations.load() - before, 2);
}

class NoAllocation : public ::testing::TestWithParam<uint32_t> {};

TEST_P(NoAllocation, PatternAndConversionPerFrame) {
    SourceConfig c;
    c.fourcc = GetParam();
    c.width = 160;
    c.height = 96;
    c.pace = false;
    auto src = openSource(c);
    Converter conv(src->format());
    std::vector<uint8_t> out(size_t{160} * 96 * 3 / 2);
    I420Planes dst{out.data(), out.data() + 160 * 96, out.data() + 160 * 96 * 5 / 4, 160, 80, 80};
    StopSignal stop;
    {
        FrameLease lease;
        ASSERT_EQ(src->next(lease, stop), Status::Ok);
        ASSERT_EQ(conv.convert(lease.view(), dst), Status::Ok);
    }
    const long before = allocations.load();
    bool ok = true;
    for (int i = 0; i < 10; ++i) {
        FrameLease lease;
        ok = ok && src->next(lease, stop) == Status::Ok;
        ok = ok && conv.convert(lease.view(), dst) == Status::Ok;
    }
    const long made = allocations.load() - before;
    EXPECT_TRUE(ok);
    EXPECT_EQ(made, 0);
}

std::vector<uint32_t> allFormats() {
    std::vector<uint32_t> out;
    for (const PixelFormatInfo& f : supportedPixelFormats()) {
        out.push_back(f.fourcc);
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(All, NoAllocation, ::testing::ValuesIn(allFormats()),
                         [](const auto& p) { return fourccToString(p.param); });

#else

TEST(NoAllocation, NotCountedUnderSanitizers) {
    GTEST_SKIP() << "allocator is the sanitizer's";
}

#endif

}  // namespace
}  // namespace h265direct
