// SPDX-License-Identifier: GPL-2.0-or-later
// Throughput of the RTSP request reader on what a hostile client may send in place of
// requests: blank lines and empty interleaved frames, fed in the 4 KiB reads the server
// makes, and a request that arrives a byte at a time. Bytes per second are the figure; the
// tests (tests/rtsp) hold the work to a small multiple of the bytes fed.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <string>

#include "net/rtsp.hpp"

namespace {

using h265direct::net::RtspReader;
using h265direct::net::RtspRequest;

std::span<const uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void feedRepeated(benchmark::State& state, const std::string& read) {
    RtspReader reader;
    RtspRequest request;
    for (auto _ : state) {
        reader.feed(bytes(read));
        benchmark::DoNotOptimize(reader.next(request));
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(read.size()));
}

void BM_BlankLines4KiBReads(benchmark::State& state) {
    feedRepeated(state, std::string(4096, '\n'));
}
BENCHMARK(BM_BlankLines4KiBReads);

void BM_EmptyInterleavedFrames4KiBReads(benchmark::State& state) {
    std::string read;
    while (read.size() < 4096) {
        read += std::string("$\x01\x00\x00", 4);
    }
    feedRepeated(state, read);
}
BENCHMARK(BM_EmptyInterleavedFrames4KiBReads);

void BM_RequestAByteAtATime(benchmark::State& state) {
    const std::string request =
        "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n";
    RtspRequest out;
    for (auto _ : state) {
        RtspReader reader;
        for (size_t i = 0; i < request.size(); ++i) {
            reader.feed(bytes(request).subspan(i, 1));
            benchmark::DoNotOptimize(reader.next(out));
        }
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(request.size()));
}
BENCHMARK(BM_RequestAByteAtATime);

}  // namespace
