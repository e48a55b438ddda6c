// SPDX-License-Identifier: GPL-2.0-or-later
// The receiver's length-framing parser (net::LengthDeframer, what h265direct-receiver reads
// the length framing with), fed any bytes cut into chunks anywhere: it returns exactly the
// frames a plain reading of the whole stream finds, in order, stops for good at the first
// zero or over-limit length, and counts as pending exactly the bytes of no complete frame.
//
// Input: 1 byte choosing the frame size limit, 1 byte seeding the chunk sizes, the stream.

#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "net/framing.hpp"

using namespace h265direct;

namespace {

struct Reading {
    std::vector<std::vector<uint8_t>> frames;
    bool failed = false;
    size_t pending = 0;  // bytes after the last complete frame (when not failed)
};

// The framing as docs/protocol.md states it, read from the whole stream at once.
Reading reference(std::span<const uint8_t> s, size_t limit) {
    Reading r;
    size_t pos = 0;
    while (s.size() - pos >= net::kLengthHeaderSize) {
        const size_t n = (size_t{s[pos]} << 24) | (size_t{s[pos + 1]} << 16) |
                         (size_t{s[pos + 2]} << 8) | s[pos + 3];
        if (n == 0 || n > limit) {
            r.failed = true;
            return r;
        }
        if (s.size() - pos - net::kLengthHeaderSize < n) {
            break;
        }
        r.frames.emplace_back(s.begin() + static_cast<ptrdiff_t>(pos + net::kLengthHeaderSize),
                              s.begin() + static_cast<ptrdiff_t>(pos + net::kLengthHeaderSize + n));
        pos += net::kLengthHeaderSize + n;
    }
    r.pending = s.size() - pos;
    return r;
}

// As the receiver reads: feed a chunk, take every complete frame, repeat.
Reading chunked(std::span<const uint8_t> s, size_t limit, uint8_t seed) {
    Reading r;
    net::LengthDeframer d(limit);
    std::vector<uint8_t> frame;
    size_t pos = 0;
    unsigned step = seed;
    while (pos < s.size() && !d.failed()) {
        step = step * 1103515245u + 12345u;
        const size_t n = std::min<size_t>(s.size() - pos, 1 + (step >> 16) % 64);
        FUZZ_CHECK(d.feed(s.subspan(pos, n)));
        pos += n;
        while (d.next(frame)) {
            FUZZ_CHECK(!frame.empty() && frame.size() <= limit);
            r.frames.push_back(frame);
        }
    }
    r.failed = d.failed();
    if (r.failed) {
        // Unusable for good: nothing more goes in or comes out.
        FUZZ_CHECK(!d.error().empty());
        const uint8_t more[8] = {0, 0, 0, 1, 0x40, 0, 0, 0};
        FUZZ_CHECK(!d.feed(more));
        FUZZ_CHECK(!d.next(frame));
    } else {
        r.pending = d.pending();
    }
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) {
        return 0;
    }
    const uint8_t limitChoice = data[0];
    const uint8_t seed = data[1];
    const std::vector<uint8_t> stream(data + 2, data + size);
    for (const size_t limit : {size_t{64} << 20, size_t{1} + limitChoice * 8u}) {
        const Reading want = reference(stream, limit);
        const Reading got = chunked(stream, limit, seed);
        FUZZ_CHECK(got.frames == want.frames);
        FUZZ_CHECK(got.failed == want.failed);
        FUZZ_CHECK(got.pending == want.pending);
    }
    return 0;
}
