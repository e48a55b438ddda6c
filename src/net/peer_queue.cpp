// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/peer_queue.hpp"

namespace h265direct::net {

void SendBatch::clear() {
    iov.clear();
    headers.clear();
    refs.clear();
    packetHeaders.clear();
    bytes = 0;
    msg = msghdr{};
}

size_t PeerQueue::dropUnstarted() {
    // Keep the head while any of it is in the kernel or in the prepared batch.
    size_t keep = inFlight_;
    if (keep == 0 && !units_.empty() && units_.front().sent > 0) {
        keep = 1;
    }
    size_t dropped = 0;
    while (units_.size() > keep) {
        bytes_ -= units_.back().size;
        units_.pop_back();
        ++dropped;
    }
    return dropped;
}

size_t PeerQueue::clearUnsent() {
    return dropUnstarted();
}

PeerQueue::Offer PeerQueue::offer(const AccessUnitPtr& au) {
    if (au->data.empty()) {
        return Offer::Queued;  // nothing to send
    }
    const bool start = isStartPoint(*au);
    if (waiting_ && !start) {
        ++(started_ ? drops_ : skipped_);
        return Offer::Dropped;
    }
    const size_t size =
        writer_ != nullptr ? writer_->wireSize(*au) : au->data.size() + framingOverhead(framing_);
    const auto fits = [&] { return units_.size() < maxFrames_ && bytes_ + size <= maxBytes_; };
    if (!fits()) {
        overflow_ = Overflow{units_.size(), bytes_};
        // Whatever has not started is older than this unit and would only add delay.
        drops_ += dropUnstarted();
        if (!start || !fits()) {
            ++drops_;
            const bool gap = !waiting_;
            waiting_ = true;
            return gap ? Offer::GapStarted : Offer::Dropped;
        }
    }
    waiting_ = false;
    started_ = true;
    units_.push_back(Unit{au, size, 0, kNoTag});
    bytes_ += size;
    return Offer::Queued;
}

void PeerQueue::prepare(SendBatch& batch, size_t maxUnits) {
    batch.clear();
    const size_t n = std::min(maxUnits, units_.size());
    // Pointers into headers are handed to the kernel: no reallocation after this.
    batch.headers.reserve(n);
    batch.iov.reserve(2 * n);
    batch.refs.reserve(n);
    const size_t overhead = framingOverhead(framing_);
    if (writer_ != nullptr) {
        // An RTP unit is many packets: iovecs, not units, bound the batch (IOV_MAX is 1024).
        constexpr size_t kMaxIov = 1000;
        size_t i = 0;
        for (; i < n && batch.iov.size() < kMaxIov; ++i) {
            Unit& u = units_[i];
            if (u.tag == kNoTag) {
                u.tag = writer_->begin(*u.au);
            }
            batch.bytes += writer_->append(batch, *u.au, u.tag, u.sent, kMaxIov - batch.iov.size());
            batch.refs.push_back(u.au);
        }
        batch.msg.msg_iov = batch.iov.data();
        batch.msg.msg_iovlen = batch.iov.size();
        inFlight_ = i;
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        const Unit& u = units_[i];
        size_t offset = u.sent;
        if (overhead > 0) {
            batch.headers.push_back(lengthHeader(u.au->data.size()));
            if (offset < overhead) {
                batch.iov.push_back(iovec{batch.headers.back().data() + offset, overhead - offset});
                offset = overhead;
            }
        }
        const size_t dataOffset = offset - overhead;
        batch.iov.push_back(iovec{const_cast<uint8_t*>(u.au->data.data()) + dataOffset,
                                  u.au->data.size() - dataOffset});
        batch.bytes += u.size - u.sent;
        batch.refs.push_back(u.au);
    }
    batch.msg.msg_iov = batch.iov.data();
    batch.msg.msg_iovlen = batch.iov.size();
    inFlight_ = n;
}

}  // namespace h265direct::net
