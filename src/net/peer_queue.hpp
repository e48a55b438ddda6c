// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <vector>

#include "h265direct/access_unit.hpp"
#include "h265direct/config.hpp"
#include "net/framing.hpp"

namespace h265direct::net {

// Where a receiver may start decoding: an IRAP picture with VPS/SPS/PPS before it.
inline bool isStartPoint(const AccessUnit& au) {
    return au.keyframe && au.hasParameterSets;
}

// The bytes of one send: iovecs over shared access units (held until the kernel is done with
// them, which for zero-copy is the notification) and framing headers owned here, so that
// nothing the kernel may still read is freed under it.
struct SendBatch {
    std::vector<iovec> iov;
    std::vector<std::array<uint8_t, kLengthHeaderSize>> headers;
    std::vector<AccessUnitPtr> refs;
    // Per-packet headers a UnitWriter makes (a deque: growing it moves no element the iovecs
    // point into).
    std::deque<std::array<uint8_t, 20>> packetHeaders;
    size_t bytes = 0;
    msghdr msg{};

    void clear();
};

// Puts a unit on the wire in a form other than the framing (RTP packets): one per receiver,
// as it keeps that receiver's packet numbering.
class UnitWriter {
public:
    virtual ~UnitWriter() = default;
    // Bytes the unit takes on the wire (the same every call for the same unit).
    virtual size_t wireSize(const AccessUnit& au) const = 0;
    // Called once per unit, when its first bytes are prepared: numbers its packets and
    // returns what append() needs to write them again the same way (a partial send).
    virtual uint64_t begin(const AccessUnit& au) = 0;
    // Appends the unit's wire bytes from `offset` on, as at most maxIov iovecs (header bytes
    // into batch.packetHeaders); returns the bytes appended.
    virtual size_t append(SendBatch& batch, const AccessUnit& au, uint64_t tag, size_t offset,
                          size_t maxIov) const = 0;
};

// One receiver's bounded queue of access units and its drop policy.
//
// Limits count every queued unit (with its framing header). When a unit does not fit, it is
// dropped together with every queued unit whose sending has not begun (they are stale by
// now), and the queue waits for the next start point: a receiver is only ever given whole
// access units, and after a gap, nothing until a keyframe with parameter sets. A unit that
// is being sent (some of its bytes are in the kernel) is never dropped.
class PeerQueue {
public:
    enum class Offer {
        Queued,
        Dropped,     // dropped; the queue was already waiting for a start point
        GapStarted,  // dropped, and the queue now waits for a start point: ask for a keyframe
    };

    PeerQueue(size_t maxBytes, size_t maxFrames, Framing framing)
        : maxBytes_(maxBytes), maxFrames_(maxFrames < 1 ? 1 : maxFrames), framing_(framing) {}

    Offer offer(const AccessUnitPtr& au);
    // Units go on the wire through `writer` (kept by the caller) instead of the framing.
    void setWriter(UnitWriter* writer) { writer_ = writer; }
    // Skips everything up to the next start point (a receiver that just joined).
    void waitForStartPoint() { waiting_ = true; }
    bool waitingForStartPoint() const { return waiting_; }

    bool empty() const { return units_.empty(); }
    // Bytes not yet sent remain, and none of them is in a send already.
    bool readyToSend() const { return !units_.empty() && inFlight_ == 0; }
    // Part of the head unit is in the kernel or in a send: nothing else may go between.
    bool midUnit() const { return inFlight_ > 0 || (!units_.empty() && units_.front().sent > 0); }
    size_t frames() const { return units_.size(); }
    size_t bytes() const { return bytes_; }
    // Units lost to a full queue (and the gap after it, up to the next start point).
    uint64_t drops() const { return drops_; }
    // Units passed over before the first start point (a receiver joining mid-stream).
    uint64_t skipped() const { return skipped_; }
    // What the queue held when the last unit did not fit, before the drop emptied it.
    struct Overflow {
        size_t frames = 0;
        size_t bytes = 0;
    };
    Overflow lastOverflow() const { return overflow_; }
    size_t maxFrames() const { return maxFrames_; }
    size_t maxBytes() const { return maxBytes_; }

    // Fills batch with the unsent bytes of up to maxUnits units from the head. The units stay
    // queued (and undroppable) until complete() is called.
    void prepare(SendBatch& batch, size_t maxUnits);
    // The send of the prepared batch took `sent` bytes (0 <= sent <= batch.bytes). Calls
    // done(au) for every unit whose last byte went out, in order.
    template <typename Done>
    void complete(size_t sent, Done&& done);
    // Drops every queued unit that is not being sent; returns how many (not counted as drops:
    // the caller knows why).
    size_t clearUnsent();

private:
    struct Unit {
        AccessUnitPtr au;
        size_t size = 0;  // with framing
        size_t sent = 0;
        uint64_t tag = kNoTag;  // the writer's, once begun
    };
    static constexpr uint64_t kNoTag = std::numeric_limits<uint64_t>::max();
    size_t dropUnstarted();

    size_t maxBytes_;
    size_t maxFrames_;
    Framing framing_;
    UnitWriter* writer_ = nullptr;
    std::deque<Unit> units_;
    size_t bytes_ = 0;
    size_t inFlight_ = 0;  // units at the head covered by the prepared batch
    bool waiting_ = false;
    uint64_t drops_ = 0;
    uint64_t skipped_ = 0;
    bool started_ = false;  // a unit was queued once
    Overflow overflow_;
};

template <typename Done>
void PeerQueue::complete(size_t sent, Done&& done) {
    inFlight_ = 0;
    while (sent > 0 && !units_.empty()) {
        Unit& u = units_.front();
        const size_t take = std::min(sent, u.size - u.sent);
        u.sent += take;
        sent -= take;
        if (u.sent < u.size) {
            break;
        }
        bytes_ -= u.size;
        AccessUnitPtr au = std::move(u.au);
        units_.pop_front();
        done(au);
    }
}

}  // namespace h265direct::net
