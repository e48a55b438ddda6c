// SPDX-License-Identifier: GPL-2.0-or-later
// Every start-code finder the build has (scalar, memchr, SSE2, AVX2, ...) finds the same
// start codes as the definition, one after the other along the buffer, from any alignment
// and to any length, and never reads outside [begin, end).
//
// Input: 1 byte choosing the offset the search starts at, then the buffer.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#include "fuzz_check.hpp"
#include "hevc/start_code.hpp"

using namespace h265direct::hevc::detail;

namespace {

// The definition, written independently of every variant.
bool startCodeAt(const uint8_t* p, const uint8_t* end) {
    return end - p >= 3 && p[0] == 0 && p[1] == 0 && p[2] == 1;
}

void checkAll(const uint8_t* begin, const uint8_t* end) {
    const auto variants = startCodeVariants();
    static const bool bestListed = [&] {
        for (const StartCodeVariant& v : variants) {
            if (v.fn == bestFindStartCode()) {
                return true;
            }
        }
        return false;
    }();
    FUZZ_CHECK(bestListed);  // the variant the parser uses is among those compared
    const uint8_t* want = variants[0].fn(begin, end);
    FUZZ_CHECK(want == end || startCodeAt(want, end));
    for (const uint8_t* p = begin; p < want; ++p) {
        FUZZ_CHECK(!startCodeAt(p, end));
    }
    for (const StartCodeVariant& v : variants) {
        FUZZ_CHECK(v.fn(begin, end) == want);
    }
    FUZZ_CHECK(bestFindStartCode()(begin, end) == want);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    // The first byte sets where the search begins (the alignment the vector loops see); the
    // input's length sets where it ends. The buffer has exactly the input's size, so that
    // AddressSanitizer sees any read past its end.
    const size_t skip = std::min<size_t>(data[0] % 64, size - 1);
    auto buf = std::make_unique<uint8_t[]>(size - 1);
    std::memcpy(buf.get(), data + 1, size - 1);
    const uint8_t* begin = buf.get() + skip;
    const uint8_t* end = buf.get() + (size - 1);
    // Every start code in turn, as the splitter walks a buffer.
    const FindStartCodeFn best = bestFindStartCode();
    for (const uint8_t* p = begin;;) {
        checkAll(p, end);
        const uint8_t* hit = best(p, end);
        if (hit == end) {
            break;
        }
        p = hit + 1;
    }
    return 0;
}
