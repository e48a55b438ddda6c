// SPDX-License-Identifier: GPL-2.0-or-later
// Throughput of the Annex-B parser on a real HEVC stream: the whole-buffer splitter, each
// start-code search on its own, and the access-unit assembler fed in network-sized chunks.
//
// The stream is made once at start-up by FFmpeg (libx265, 1280x720, 60 frames at 6 Mbit/s:
// ~25 KB access units, like a camera stream). Without FFmpeg, a synthetic stream of the
// same shape is used instead.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "h265direct/annexb.hpp"
#include "hevc/start_code.hpp"

namespace {

using h265direct::AccessUnit;
using h265direct::NalUnitInfo;
namespace hevc = h265direct::hevc;

std::vector<uint8_t> encodeWithFfmpeg() {
    char path[] = "/tmp/h265d_bench_XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) {
        return {};
    }
    close(fd);
    const std::string cmd =
        std::string(
            "ffmpeg -v error -nostdin -y -f lavfi -i testsrc2=size=1280x720:rate=30 "
            "-frames:v 60 -pix_fmt yuv420p -c:v libx265 -preset ultrafast -tune "
            "zerolatency -b:v 6M -x265-params keyint=30:log-level=error -f hevc ") +
        path + " 2>/dev/null";
    std::vector<uint8_t> data;
    if (std::system(cmd.c_str()) == 0) {
        std::ifstream in(path, std::ios::binary);
        data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::remove(path);
    return data;
}

// Keyframes of ~80 KB, other pictures of ~20 KB, random (escaped) payload.
std::vector<uint8_t> syntheticStream() {
    std::mt19937 rng(1);
    std::vector<uint8_t> s;
    auto nal = [&](uint8_t type, size_t size, bool firstSlice) {
        s.insert(s.end(), {0, 0, 0, 1, static_cast<uint8_t>(type << 1), 1});
        s.push_back(firstSlice ? 0xc0 : 0x40);
        size_t zeros = 0;
        for (size_t i = 0; i < size; ++i) {
            auto b = static_cast<uint8_t>(rng());
            if (zeros >= 2 && b <= 3) {
                s.push_back(3);
                zeros = 0;
            }
            s.push_back(b);
            zeros = b == 0 ? zeros + 1 : 0;
        }
        s.push_back(0x80);
    };
    for (int f = 0; f < 60; ++f) {
        if (f % 30 == 0) {
            nal(hevc::kVps, 20, false);
            nal(hevc::kSps, 40, false);
            nal(hevc::kPps, 8, false);
            nal(hevc::kIdrWRadl, 80000, true);
        } else {
            nal(hevc::kTrailR, 20000, true);
        }
    }
    return s;
}

struct Stream {
    std::vector<uint8_t> bytes;
    const char* label;
};

const Stream& stream() {
    static const Stream s = [] {
        std::vector<uint8_t> d = encodeWithFfmpeg();
        if (!d.empty()) {
            return Stream{std::move(d), "ffmpeg libx265 720p"};
        }
        return Stream{syntheticStream(), "synthetic (no ffmpeg)"};
    }();
    return s;
}

void setThroughput(benchmark::State& state, const Stream& s) {
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(s.bytes.size()));
    state.SetLabel(s.label);
}

void BM_SplitNalUnits(benchmark::State& state) {
    const Stream& s = stream();
    std::vector<NalUnitInfo> nals;
    for (auto _ : state) {
        const hevc::ParseError e = hevc::splitNalUnits(s.bytes, nals);
        benchmark::DoNotOptimize(e);
        benchmark::DoNotOptimize(nals.data());
    }
    setThroughput(state, s);
    state.counters["nals"] = static_cast<double>(nals.size());
}
BENCHMARK(BM_SplitNalUnits);

// Every start code of the stream with one search variant.
void scanAll(benchmark::State& state, hevc::detail::FindStartCodeFn find) {
    const Stream& s = stream();
    const uint8_t* const end = s.bytes.data() + s.bytes.size();
    size_t found = 0;
    for (auto _ : state) {
        found = 0;
        for (const uint8_t* p = find(s.bytes.data(), end); p != end; p = find(p + 3, end)) {
            ++found;
        }
        benchmark::DoNotOptimize(found);
    }
    setThroughput(state, s);
    state.counters["startcodes"] = static_cast<double>(found);
}
void BM_FindStartCodeScalar(benchmark::State& state) {
    scanAll(state, hevc::detail::findStartCodeScalar);
}
void BM_FindStartCodeMemchr(benchmark::State& state) {
    scanAll(state, hevc::detail::findStartCodeMemchr);
}
BENCHMARK(BM_FindStartCodeScalar);
BENCHMARK(BM_FindStartCodeMemchr);
#if defined(__x86_64__) || defined(__i386__)
void BM_FindStartCodeSse2(benchmark::State& state) {
    scanAll(state, hevc::detail::findStartCodeSse2);
}
void BM_FindStartCodeAvx2(benchmark::State& state) {
    if (!hevc::detail::haveAvx2()) {
        state.SkipWithError("no AVX2 on this CPU");
        return;
    }
    scanAll(state, hevc::detail::findStartCodeAvx2);
}
BENCHMARK(BM_FindStartCodeSse2);
BENCHMARK(BM_FindStartCodeAvx2);
#endif
#if defined(__aarch64__)
void BM_FindStartCodeNeon(benchmark::State& state) {
    scanAll(state, hevc::detail::findStartCodeNeon);
}
BENCHMARK(BM_FindStartCodeNeon);
#endif

// The assembler as a receiver uses it: chunks of range(0) bytes (0 = the whole stream).
void BM_AccessUnitAssembler(benchmark::State& state) {
    const Stream& s = stream();
    const size_t chunk = state.range(0) == 0 ? s.bytes.size() : static_cast<size_t>(state.range(0));
    hevc::AccessUnitAssembler assembler;
    std::vector<AccessUnit> aus;
    aus.reserve(128);
    for (auto _ : state) {
        aus.clear();
        for (size_t pos = 0; pos < s.bytes.size(); pos += chunk) {
            const size_t n = std::min(chunk, s.bytes.size() - pos);
            assembler.push(std::span<const uint8_t>(s.bytes).subspan(pos, n), aus);
        }
        assembler.finish(aus);
        benchmark::DoNotOptimize(aus.data());
    }
    setThroughput(state, s);
    state.counters["aus"] = static_cast<double>(aus.size());
    if (assembler.counters().errors != 0) {
        state.SkipWithError("the stream did not parse cleanly");
    }
}
BENCHMARK(BM_AccessUnitAssembler)->Arg(0)->Arg(65536)->Arg(1448);

// A receiver loop: each access unit is handled as soon as it is out, then given back.
void BM_AccessUnitAssemblerRecycled(benchmark::State& state) {
    const Stream& s = stream();
    const auto chunk = static_cast<size_t>(state.range(0));
    hevc::AccessUnitAssembler assembler;
    std::vector<AccessUnit> aus;
    uint64_t count = 0;
    auto drain = [&] {
        for (AccessUnit& au : aus) {
            benchmark::DoNotOptimize(au.data.data());
            ++count;
            assembler.recycle(std::move(au));
        }
        aus.clear();
    };
    for (auto _ : state) {
        for (size_t pos = 0; pos < s.bytes.size(); pos += chunk) {
            const size_t n = std::min(chunk, s.bytes.size() - pos);
            assembler.push(std::span<const uint8_t>(s.bytes).subspan(pos, n), aus);
            drain();
        }
        assembler.finish(aus);
        drain();
    }
    setThroughput(state, s);
    state.counters["aus"] = static_cast<double>(count) / static_cast<double>(state.iterations());
    if (assembler.counters().errors != 0) {
        state.SkipWithError("the stream did not parse cleanly");
    }
}
BENCHMARK(BM_AccessUnitAssemblerRecycled)->Arg(65536)->Arg(1448);

}  // namespace
