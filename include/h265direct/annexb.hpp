#pragma once

// The project's own H.265 Annex-B parser: start codes, NAL headers, access units.
// Pure code, no I/O.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "h265direct/access_unit.hpp"

namespace h265direct::hevc {

// nal_unit_type values (ITU-T H.265 table 7-1) that the project names.
enum NalType : uint8_t {
    kTrailN = 0,
    kTrailR = 1,
    kRaslR = 9,
    kBlaWLp = 16,
    kBlaWRadl = 17,
    kBlaNLp = 18,
    kIdrWRadl = 19,
    kIdrNLp = 20,
    kCraNut = 21,
    kRsvIrap23 = 23,
    kVps = 32,
    kSps = 33,
    kPps = 34,
    kAud = 35,
    kEos = 36,
    kEob = 37,
    kFd = 38,
    kPrefixSei = 39,
    kSuffixSei = 40,
};

inline bool isVcl(uint8_t type) { return type < 32; }
inline bool isIrap(uint8_t type) { return type >= kBlaWLp && type <= kRsvIrap23; }
inline bool isIdr(uint8_t type) { return type == kIdrWRadl || type == kIdrNLp; }
const char* nalTypeName(uint8_t type);

enum class ParseError {
    None,
    Empty,             // no bytes
    NoStartCode,       // bytes before the first start code, or none at all
    ForbiddenBit,      // forbidden_zero_bit set
    BadHeader,         // nuh_temporal_id_plus1 == 0, or a header cut short
    Truncated,         // the input ends inside a NAL unit header / slice header
    EmptyNal,          // a start code followed directly by another
};
const char* toString(ParseError e);

// Splits a buffer holding whole NAL units in Annex-B form into NAL units (3- and 4-byte
// start codes; trailing zero bytes belong to no NAL). Appends to out (cleared first).
// Returns the first error found; out then holds the NAL units before it.
ParseError splitNalUnits(std::span<const uint8_t> data, std::vector<NalUnitInfo>& out);

}  // namespace h265direct::hevc
