// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The project's own H.265 Annex-B parser: start codes, NAL headers, access units,
// parameter sets. Pure code, no I/O, no exceptions: every failure is a ParseError.

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

inline bool isVcl(uint8_t type) {
    return type < 32;
}
inline bool isIrap(uint8_t type) {
    return type >= kBlaWLp && type <= kRsvIrap23;
}
inline bool isIdr(uint8_t type) {
    return type == kIdrWRadl || type == kIdrNLp;
}
// NAL types that open a new access unit when they follow the current one's picture
// (H.265 7.4.2.4.4): VPS, SPS, PPS, prefix SEI, 41..44 and 48..55. (AUD always opens one.)
inline bool opensAccessUnit(uint8_t type) {
    return (type >= kVps && type <= kPps) || type == kPrefixSei || (type >= 41 && type <= 44) ||
           (type >= 48 && type <= 55);
}
const char* nalTypeName(uint8_t type);

enum class ParseError {
    None,
    Empty,             // no bytes
    NoStartCode,       // non-zero bytes before the first start code, or no start code at all
    ForbiddenBit,      // forbidden_zero_bit set
    BadHeader,         // nuh_temporal_id_plus1 == 0
    Truncated,         // a NAL unit shorter than its header (2 bytes; 3 for a VCL NAL unit,
                       // whose first slice-segment byte decides the access unit), or a
                       // parameter set that ends early
    EmptyNal,          // a start code followed directly by another (or by the end)
    TooLarge,          // an access unit (or a whole buffer) over the size limit
    NoPicture,         // an access unit without any VCL NAL unit
    BadSyntax,         // a field outside its allowed range (e.g. in an SPS)
    NotOneAccessUnit,  // a buffer meant to hold one access unit starts a second one
};
const char* toString(ParseError e);

// The 2-byte NAL unit header.
struct NalHeader {
    uint8_t type = 0;
    uint8_t layerId = 0;
    uint8_t temporalId = 0;
};
// Reads the header at the start of a NAL unit (start code excluded).
ParseError parseNalHeader(std::span<const uint8_t> nal, NalHeader& out);

// first_slice_segment_in_pic_flag of a VCL NAL unit (start code excluded): the first bit
// after the NAL header. False when the NAL unit is too short.
inline bool firstSliceSegmentInPic(std::span<const uint8_t> nal) {
    return nal.size() >= 3 && (nal[2] & 0x80) != 0;
}

// Splits a buffer holding whole NAL units in Annex-B form into NAL units (3- and 4-byte
// start codes; zero bytes before a start code belong to no NAL unit, and zero bytes before
// the first start code are allowed as leading_zero_8bits). Appends to out (cleared
// first). Returns the first error found; out then holds the NAL units before it.
// Buffers of 4 GiB or more are refused (TooLarge): NalUnitInfo holds 32-bit offsets.
ParseError splitNalUnits(std::span<const uint8_t> data, std::vector<NalUnitInfo>& out);

// Fills in au.nals, keyframe, idr and hasParameterSets from au.data, which must hold
// exactly one access unit (as an encoder hands out). Errors as splitNalUnits, plus
// NotOneAccessUnit (a NAL unit in it would open a new access unit) and NoPicture.
ParseError describeAccessUnit(AccessUnit& au);

// Groups an Annex-B byte stream, fed in chunks cut anywhere (even inside a start code),
// into complete access units (H.265 7.4.2.4.4). An access unit opens at an AUD; at a VPS,
// SPS, PPS, prefix SEI or NAL type 41..44/48..55 that follows a VCL NAL unit of the
// current one; or at a VCL NAL unit with first_slice_segment_in_pic_flag = 1 that follows
// one. Only nuh_layer_id 0 pictures open access units.
//
// An access unit that holds a bad NAL unit, goes over the size limit or has no picture is
// dropped, never emitted: the call reports the error and the assembler carries on with the
// next access unit. Memory stays within the size limit (plus the buffers handed back with
// recycle(), at most four).
//
// Emitted access units carry frameNumber = pts = 0, 1, 2... in stream order (Annex-B has no
// timing; the zero-latency streams have no reordering); the clock fields stay 0.
class AccessUnitAssembler {
public:
    static constexpr size_t kDefaultMaxAccessUnitBytes = size_t{32} << 20;

    struct Counters {
        uint64_t bytesIn = 0;             // every byte pushed
        uint64_t bytesSkipped = 0;        // bytes before the first start code's zeros
        uint64_t nalUnits = 0;            // NAL units placed in emitted access units
        uint64_t accessUnits = 0;         // access units emitted
        uint64_t droppedAccessUnits = 0;  // access units refused (see errors)
        uint64_t errors = 0;              // errors found (each is returned once)
    };

    explicit AccessUnitAssembler(size_t maxAccessUnitBytes = kDefaultMaxAccessUnitBytes);

    // Consumes a chunk; appends each access unit completed by it to out. An access unit is
    // complete once the first NAL unit of the next one shows up. Returns the first error
    // met in this chunk (None if none); later data is still processed.
    ParseError push(std::span<const uint8_t> chunk, std::vector<AccessUnit>& out);

    // The stream has ended: emits the last access unit (if whole) and resets for a new
    // stream. A stream that ends right after a start code, or inside a NAL unit header,
    // loses its last access unit (Truncated/EmptyNal). Empty if nothing was ever pushed.
    ParseError finish(std::vector<AccessUnit>& out);

    // Forgets all state except the counters.
    void reset();

    // Hands back an access unit the caller is done with: its buffers are reused for the
    // next ones instead of fresh allocations (a receiver loop that processes each access
    // unit and gives it back allocates nothing in the steady state).
    void recycle(AccessUnit&& au);

    const Counters& counters() const { return counters_; }
    size_t maxAccessUnitBytes() const { return maxBytes_; }

private:
    void consume(const uint8_t* p, size_t n);
    void onStartCode(uint64_t zeroRun);
    void endNal(uint64_t trailingZeros);
    void placeNal(bool mayOpen);
    void closeAccessUnit();
    void fail(ParseError e);
    void breakAccessUnit(ParseError e);
    void appendData(const uint8_t* p, size_t n);

    size_t maxBytes_;
    Counters counters_;
    std::vector<AccessUnit>* out_ = nullptr;
    ParseError firstError_ = ParseError::None;

    // Stream state.
    bool anyInput_ = false;
    bool synced_ = false;  // a start code has been seen
    bool garbageReported_ = false;
    uint64_t preSyncBytes_ = 0;
    uint64_t zeroRun_ = 0;  // zero bytes at the end of what was consumed
    uint64_t frameNumber_ = 0;

    // The NAL unit being read (after its start code).
    uint8_t startCodeSize_ = 0;
    uint8_t hdr_[3] = {};
    uint8_t hdrLen_ = 0;
    bool placed_ = false;    // its access unit is decided (and its start code written)
    uint64_t nalBytes_ = 0;  // bytes so far, maybe including trailing zeros
    size_t nalOffset_ = 0;   // where its bytes start in au_.data

    // The access unit being built.
    AccessUnit au_;
    bool auStarted_ = false;  // at least one NAL unit (even a bad one) belongs to it
    bool auHasVcl_ = false;
    // It will be dropped: its bytes are no longer stored.
    bool auBroken_ = false;
    // Parameter sets seen before its first VCL NAL unit.
    bool auVps_ = false, auSps_ = false, auPps_ = false;
    size_t lastAuSize_ = 0;
    std::vector<AccessUnit> spare_;  // recycled buffers, at most kMaxSpare
    static constexpr size_t kMaxSpare = 4;
};

// The latest VPS, SPS and PPS seen (one of each: the project's streams use id 0 only).
class ParameterSetCache {
public:
    // Looks at one NAL unit (start code excluded); keeps it if it is a parameter set.
    // Returns true if that changed a stored parameter set.
    bool update(std::span<const uint8_t> nal);
    // Every NAL unit of an access unit. Returns true if any parameter set changed.
    bool update(const AccessUnit& au);

    bool complete() const { return !vps_.empty() && !sps_.empty() && !pps_.empty(); }
    std::span<const uint8_t> vps() const { return vps_; }
    std::span<const uint8_t> sps() const { return sps_; }
    std::span<const uint8_t> pps() const { return pps_; }
    // VPS, SPS, PPS as Annex-B with 4-byte start codes (empty until complete()): what a
    // late receiver needs before a keyframe that lacks them.
    std::vector<uint8_t> annexB() const;
    void clear();

private:
    std::vector<uint8_t> vps_, sps_, pps_;
};

// The fields of a sequence parameter set that tools and tests need.
struct SpsInfo {
    uint8_t vpsId = 0;
    uint8_t maxSubLayers = 0;  // sps_max_sub_layers_minus1 + 1
    uint8_t profileSpace = 0;
    bool tierFlag = false;              // general_tier_flag (true: High tier)
    uint8_t profileIdc = 0;             // general_profile_idc (1 Main, 2 Main 10, 4 RExt, ...)
    uint32_t profileCompatibility = 0;  // general_profile_compatibility_flag[0..31], [0] = MSB
    uint8_t levelIdc = 0;               // general_level_idc (30 x level, e.g. 93 = 3.1)
    uint32_t spsId = 0;
    uint32_t chromaFormatIdc = 0;  // 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4
    bool separateColourPlane = false;
    uint32_t width = 0;   // pic_width_in_luma_samples
    uint32_t height = 0;  // pic_height_in_luma_samples
    uint32_t confLeft = 0, confRight = 0, confTop = 0, confBottom = 0;  // in chroma units
    uint32_t displayWidth = 0;  // width after the conformance window
    uint32_t displayHeight = 0;
    uint8_t bitDepthLuma = 0;
    uint8_t bitDepthChroma = 0;
};

// Reads an SPS NAL unit (2-byte header included, start code excluded, emulation
// prevention bytes still in).
ParseError parseSps(std::span<const uint8_t> nal, SpsInfo& out);

// Removes emulation-prevention bytes (the 03 of 00 00 03): NAL payload -> RBSP.
void unescapeRbsp(std::span<const uint8_t> nal, std::vector<uint8_t>& out);

}  // namespace h265direct::hevc
