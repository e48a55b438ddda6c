// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>
#include <cstring>
#include <limits>

#include "h265direct/annexb.hpp"
#include "hevc/au_rules.hpp"
#include "hevc/start_code.hpp"

namespace h265direct::hevc {

namespace {

constexpr uint8_t kStartCode4[4] = {0, 0, 0, 1};

}  // namespace

AccessUnitAssembler::AccessUnitAssembler(size_t maxAccessUnitBytes)
    // NalUnitInfo offsets are 32-bit.
    : maxBytes_(std::min<size_t>(maxAccessUnitBytes, std::numeric_limits<uint32_t>::max())) {}

void AccessUnitAssembler::reset() {
    firstError_ = ParseError::None;
    anyInput_ = false;
    synced_ = false;
    garbageReported_ = false;
    preSyncBytes_ = 0;
    zeroRun_ = 0;
    frameNumber_ = 0;
    startCodeSize_ = 0;
    hdrLen_ = 0;
    placed_ = false;
    nalBytes_ = 0;
    nalOffset_ = 0;
    au_ = AccessUnit{};
    auStarted_ = false;
    auHasVcl_ = false;
    auBroken_ = false;
    auVps_ = auSps_ = auPps_ = false;
}

void AccessUnitAssembler::recycle(AccessUnit&& au) {
    if (spare_.size() >= kMaxSpare || au.data.capacity() > maxBytes_) {
        return;
    }
    // Keep the buffers, forget everything else.
    std::vector<uint8_t> data = std::move(au.data);
    std::vector<NalUnitInfo> nals = std::move(au.nals);
    data.clear();
    nals.clear();
    AccessUnit& fresh = spare_.emplace_back();
    fresh.data = std::move(data);
    fresh.nals = std::move(nals);
}

void AccessUnitAssembler::fail(ParseError e) {
    ++counters_.errors;
    if (firstError_ == ParseError::None) {
        firstError_ = e;
    }
}

void AccessUnitAssembler::breakAccessUnit(ParseError e) {
    fail(e);
    auStarted_ = true;
    if (!auBroken_) {
        auBroken_ = true;
        au_.data = {};  // its bytes will never be used: give the memory back now
        au_.nals.clear();
    }
}

void AccessUnitAssembler::appendData(const uint8_t* p, size_t n) {
    if (auBroken_ || n == 0) {
        return;
    }
    if (n > maxBytes_ - au_.data.size()) {
        breakAccessUnit(ParseError::TooLarge);
        return;
    }
    au_.data.insert(au_.data.end(), p, p + n);
}

void AccessUnitAssembler::closeAccessUnit() {
    if (!auStarted_) {
        return;
    }
    if (auBroken_) {
        ++counters_.droppedAccessUnits;
    } else if (!auHasVcl_) {
        fail(ParseError::NoPicture);
        ++counters_.droppedAccessUnits;
    } else {
        au_.hasParameterSets = auVps_ && auSps_ && auPps_;
        au_.frameNumber = frameNumber_;
        // Annex-B carries no timing; in the zero-latency streams decode order is output order.
        au_.pts = static_cast<int64_t>(frameNumber_);
        ++frameNumber_;
        lastAuSize_ = au_.data.size();
        ++counters_.accessUnits;
        counters_.nalUnits += au_.nals.size();
        out_->push_back(std::move(au_));
    }
    if (!spare_.empty()) {
        au_ = std::move(spare_.back());
        spare_.pop_back();
    } else {
        au_ = AccessUnit{};
    }
    au_.data.reserve(std::min(maxBytes_, lastAuSize_ + lastAuSize_ / 4));
    auStarted_ = false;
    auHasVcl_ = false;
    auBroken_ = false;
    auVps_ = auSps_ = auPps_ = false;
}

// Decides which access unit the NAL unit being read belongs to, then writes its start code
// and the header bytes held so far. mayOpen is false when the NAL unit ended before its
// header could say (it is bad, and joins the current access unit to spoil it).
void AccessUnitAssembler::placeNal(bool mayOpen) {
    // A header with forbidden_zero_bit or temporal_id_plus1 == 0 is garbage: it never
    // opens an access unit, it spoils the current one.
    const bool known = hdrLen_ >= 2 && (hdr_[0] & 0x80) == 0 && (hdr_[1] & 0x07) != 0;
    const uint8_t type = static_cast<uint8_t>((hdr_[0] >> 1) & 0x3f);
    if (mayOpen && known) {
        const uint8_t layerId = static_cast<uint8_t>(((hdr_[0] & 1) << 5) | (hdr_[1] >> 3));
        const bool firstSlice = hdrLen_ >= 3 && (hdr_[2] & 0x80) != 0;
        if (detail::opensNewAccessUnit(type, layerId, firstSlice, auStarted_, auHasVcl_)) {
            closeAccessUnit();
        }
    }
    auStarted_ = true;
    placed_ = true;
    if (known && isVcl(type)) {
        auHasVcl_ = true;
    }
    nalOffset_ = au_.data.size() + startCodeSize_;
    appendData(kStartCode4 + (4 - startCodeSize_), startCodeSize_);
    appendData(hdr_, hdrLen_);
}

void AccessUnitAssembler::consume(const uint8_t* p, size_t n) {
    if (n == 0) {
        return;
    }
    if (!synced_) {
        preSyncBytes_ += n;
        if (!garbageReported_ && std::any_of(p, p + n, [](uint8_t b) { return b != 0; })) {
            garbageReported_ = true;
            fail(ParseError::NoStartCode);
        }
        return;
    }
    nalBytes_ += n;
    const size_t take = std::min<size_t>(3u - hdrLen_, n);
    if (take > 0) {
        std::memcpy(hdr_ + hdrLen_, p, take);
        hdrLen_ = static_cast<uint8_t>(hdrLen_ + take);
    }
    if (placed_) {
        appendData(p, n);
        return;
    }
    // A non-VCL NAL unit is placed by its header; a VCL one needs the next byte too, which
    // holds first_slice_segment_in_pic_flag.
    const bool forbidden = (hdr_[0] & 0x80) != 0;
    if (forbidden || hdrLen_ >= 3 ||
        (hdrLen_ == 2 && !isVcl(static_cast<uint8_t>((hdr_[0] >> 1) & 0x3f)))) {
        placeNal(true);
        appendData(p + take, n - take);
    }
}

void AccessUnitAssembler::endNal(uint64_t trailingZeros) {
    const uint64_t size = nalBytes_ - std::min(trailingZeros, nalBytes_);
    if (!placed_) {
        placeNal(false);
    }
    const uint8_t type = static_cast<uint8_t>((hdr_[0] >> 1) & 0x3f);
    ParseError e = ParseError::None;
    if (size == 0) {
        e = ParseError::EmptyNal;
    } else if (size < 2) {
        e = ParseError::Truncated;
    } else if ((hdr_[0] & 0x80) != 0) {
        e = ParseError::ForbiddenBit;
    } else if ((hdr_[1] & 0x07) == 0) {
        e = ParseError::BadHeader;
    } else if (isVcl(type) && size < 3) {
        e = ParseError::Truncated;
    }
    if (e != ParseError::None) {
        breakAccessUnit(e);
    } else if (!auBroken_) {
        au_.data.resize(nalOffset_ + size);
        NalUnitInfo info;
        info.offset = static_cast<uint32_t>(nalOffset_);
        info.size = static_cast<uint32_t>(size);
        info.startCodeSize = startCodeSize_;
        info.type = type;
        info.layerId = static_cast<uint8_t>(((hdr_[0] & 1) << 5) | (hdr_[1] >> 3));
        info.temporalId = static_cast<uint8_t>((hdr_[1] & 0x07) - 1);
        au_.nals.push_back(info);
        if (isVcl(type)) {
            au_.keyframe = au_.keyframe || isIrap(type);
            au_.idr = au_.idr || isIdr(type);
        } else if (!auHasVcl_) {
            auVps_ = auVps_ || type == kVps;
            auSps_ = auSps_ || type == kSps;
            auPps_ = auPps_ || type == kPps;
        }
    }
    placed_ = false;
    hdrLen_ = 0;
    nalBytes_ = 0;
}

void AccessUnitAssembler::onStartCode(uint64_t zeroRun) {
    if (!synced_) {
        synced_ = true;
        counters_.bytesSkipped += preSyncBytes_ - std::min(zeroRun, preSyncBytes_);
    } else {
        endNal(zeroRun);
    }
    startCodeSize_ = zeroRun >= 3 ? 4 : 3;
}

ParseError AccessUnitAssembler::push(std::span<const uint8_t> chunk, std::vector<AccessUnit>& out) {
    firstError_ = ParseError::None;
    if (chunk.empty()) {
        return ParseError::None;
    }
    out_ = &out;
    anyInput_ = true;
    counters_.bytesIn += chunk.size();
    const uint8_t* const p = chunk.data();
    const size_t n = chunk.size();
    size_t seg = 0;  // p[seg, ...) not yet consumed

    // Start codes whose zeros came in earlier chunks: the 01 is at index 0 or 1.
    if (p[0] == 1 && zeroRun_ >= 2) {
        onStartCode(zeroRun_);
        seg = 1;
    } else if (n >= 2 && p[0] == 0 && p[1] == 1 && zeroRun_ >= 1) {
        consume(p, 1);
        onStartCode(zeroRun_ + 1);
        seg = 2;
    }

    const detail::FindStartCodeFn find = detail::bestFindStartCode();
    for (;;) {
        const uint8_t* sc = find(p + seg, p + n);
        if (sc == p + n) {
            break;
        }
        const size_t one = static_cast<size_t>(sc - p) + 2;
        size_t firstZero = static_cast<size_t>(sc - p);
        while (firstZero > seg && p[firstZero - 1] == 0) {
            --firstZero;
        }
        uint64_t zeros = one - firstZero;
        if (firstZero == 0) {
            zeros += zeroRun_;  // the run began in an earlier chunk
        }
        consume(p + seg, one - seg);
        onStartCode(zeros);
        seg = one + 1;
    }
    consume(p + seg, n - seg);

    size_t tailZeros = 0;
    while (tailZeros < n && p[n - 1 - tailZeros] == 0) {
        ++tailZeros;
    }
    zeroRun_ = tailZeros == n ? zeroRun_ + n : tailZeros;
    out_ = nullptr;
    return firstError_;
}

ParseError AccessUnitAssembler::finish(std::vector<AccessUnit>& out) {
    firstError_ = ParseError::None;
    out_ = &out;
    ParseError result;
    if (!anyInput_) {
        result = ParseError::Empty;
    } else {
        if (!synced_) {
            counters_.bytesSkipped += preSyncBytes_;
            if (!garbageReported_) {
                fail(ParseError::NoStartCode);
            }
            firstError_ = ParseError::NoStartCode;
        } else {
            endNal(zeroRun_);
            closeAccessUnit();
        }
        result = firstError_;
    }
    out_ = nullptr;
    reset();
    return result;
}

}  // namespace h265direct::hevc
