// SPDX-License-Identifier: GPL-2.0-or-later
// The access-unit assembler, fed any bytes: the same access units, errors and counters
// whether the stream comes in one piece or cut into chunks anywhere (even inside start
// codes), at several size limits; every access unit it emits is whole and well-formed (the
// splitter and describeAccessUnit agree with it) and within the limit.
//
// Input: 1 byte choosing the size limit, 1 byte seeding the chunk sizes, then the stream.

#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "h265direct/annexb.hpp"

using namespace h265direct;
using namespace h265direct::hevc;

namespace {

struct Result {
    std::vector<AccessUnit> aus;
    AccessUnitAssembler::Counters counters;
    ParseError firstError = ParseError::None;
};

// Chunk sizes cycle through `cuts` (0 means the whole rest).
Result assemble(std::span<const uint8_t> s, size_t limit, std::span<const uint8_t> cuts,
                bool recycle) {
    Result r;
    AccessUnitAssembler a(limit);
    std::vector<AccessUnit> out;
    auto take = [&](ParseError e) {
        if (r.firstError == ParseError::None) {
            r.firstError = e;
        }
        for (AccessUnit& au : out) {
            r.aus.push_back(au);
            if (recycle) {
                a.recycle(std::move(au));
            }
        }
        out.clear();
    };
    size_t pos = 0;
    size_t k = 0;
    while (pos < s.size()) {
        size_t n = s.size() - pos;
        if (!cuts.empty() && cuts[k++ % cuts.size()] != 0) {
            n = std::min<size_t>(n, cuts[(k - 1) % cuts.size()]);
        }
        take(a.push(s.subspan(pos, n), out));
        pos += n;
    }
    take(a.finish(out));
    r.counters = a.counters();
    return r;
}

bool sameNal(const NalUnitInfo& a, const NalUnitInfo& b) {
    return a.offset == b.offset && a.size == b.size && a.startCodeSize == b.startCodeSize &&
           a.type == b.type && a.layerId == b.layerId && a.temporalId == b.temporalId;
}

void checkSame(const Result& a, const Result& b) {
    FUZZ_CHECK(a.aus.size() == b.aus.size());
    for (size_t i = 0; i < a.aus.size(); ++i) {
        const AccessUnit& x = a.aus[i];
        const AccessUnit& y = b.aus[i];
        FUZZ_CHECK(x.data == y.data);
        FUZZ_CHECK(x.nals.size() == y.nals.size());
        for (size_t k = 0; k < x.nals.size(); ++k) {
            FUZZ_CHECK(sameNal(x.nals[k], y.nals[k]));
        }
        FUZZ_CHECK(x.keyframe == y.keyframe && x.idr == y.idr);
        FUZZ_CHECK(x.hasParameterSets == y.hasParameterSets);
        FUZZ_CHECK(x.frameNumber == y.frameNumber && x.pts == y.pts);
    }
    FUZZ_CHECK(a.firstError == b.firstError);
    FUZZ_CHECK(a.counters.bytesIn == b.counters.bytesIn);
    FUZZ_CHECK(a.counters.bytesSkipped == b.counters.bytesSkipped);
    FUZZ_CHECK(a.counters.nalUnits == b.counters.nalUnits);
    FUZZ_CHECK(a.counters.accessUnits == b.counters.accessUnits);
    FUZZ_CHECK(a.counters.droppedAccessUnits == b.counters.droppedAccessUnits);
    FUZZ_CHECK(a.counters.errors == b.counters.errors);
}

void checkAccessUnit(const AccessUnit& au, size_t limit, uint64_t index) {
    FUZZ_CHECK(!au.nals.empty());
    FUZZ_CHECK(au.data.size() <= limit);
    FUZZ_CHECK(au.frameNumber == index);
    size_t expectOffset = 0;
    for (const NalUnitInfo& n : au.nals) {
        FUZZ_CHECK(n.startCodeSize == 3 || n.startCodeSize == 4);
        FUZZ_CHECK(n.offset == expectOffset + n.startCodeSize);
        FUZZ_CHECK(size_t{n.offset} + n.size <= au.data.size());
        FUZZ_CHECK(n.size >= 2 && au.data[n.offset + n.size - 1] != 0);
        expectOffset = n.offset + n.size;
    }
    FUZZ_CHECK(expectOffset == au.data.size());
    // The project's other reader of one access unit sees exactly the same.
    AccessUnit again;
    again.data = au.data;
    FUZZ_CHECK(describeAccessUnit(again) == ParseError::None);
    FUZZ_CHECK(again.nals.size() == au.nals.size());
    for (size_t i = 0; i < au.nals.size(); ++i) {
        FUZZ_CHECK(sameNal(again.nals[i], au.nals[i]));
    }
    FUZZ_CHECK(again.keyframe == au.keyframe && again.idr == au.idr);
    FUZZ_CHECK(again.hasParameterSets == au.hasParameterSets);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) {
        return 0;
    }
    const uint8_t limitChoice = data[0];
    const uint8_t cutSeed = data[1];
    const std::vector<uint8_t> stream(data + 2, data + size);

    // The default limit, one that only large inputs reach, and one most access units reach.
    const size_t limits[] = {AccessUnitAssembler::kDefaultMaxAccessUnitBytes,
                             size_t{256} + size_t{limitChoice} * 16, size_t{16} + limitChoice};
    // Chunkings: byte by byte, small irregular pieces, larger pieces.
    const uint8_t oneByte[] = {1};
    const uint8_t small[] = {static_cast<uint8_t>(1 + cutSeed % 7), 3, 1, 2,
                             static_cast<uint8_t>(1 + cutSeed % 5)};
    const uint8_t large[] = {static_cast<uint8_t>(cutSeed | 1), 200, 17};
    for (const size_t limit : limits) {
        const Result whole = assemble(stream, limit, {}, false);
        for (size_t i = 0; i < whole.aus.size(); ++i) {
            checkAccessUnit(whole.aus[i], limit, i);
        }
        FUZZ_CHECK(whole.counters.bytesIn == stream.size());
        FUZZ_CHECK(whole.counters.accessUnits == whole.aus.size());
        // Nothing is dropped without an error saying so.
        FUZZ_CHECK(whole.counters.droppedAccessUnits == 0 || whole.counters.errors > 0);
        if (stream.empty()) {
            FUZZ_CHECK(whole.firstError == ParseError::Empty && whole.counters.errors == 0);
        } else {
            FUZZ_CHECK((whole.firstError == ParseError::None) == (whole.counters.errors == 0));
        }
        if (limit == limits[0]) {  // byte by byte is slow: once is enough
            checkSame(assemble(stream, limit, oneByte, false), whole);
        }
        checkSame(assemble(stream, limit, small, true), whole);
        checkSame(assemble(stream, limit, large, true), whole);
    }
    return 0;
}
