// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <linux/videodev2.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "capture/format_negotiation.hpp"
#include "capture/v4l2_device.hpp"

// One open of a V4L2 capture node for streaming: the device (its fd), the format and rate
// set on it, and the mmap buffers shared with the driver, in either API (single-planar
// through libv4l2, multi-planar with the plain system calls). Everything is undone by
// close() or the destructor. What to do when a step fails (give up, retry later) is the
// caller's: V4l2Camera in v4l2_camera.cpp.

namespace h265direct {

// What VIDIOC_S_FMT / S_PARM settled on.
struct AppliedFormat {
    uint32_t fourcc = 0;
    int width = 0;
    int height = 0;
    int buffers = 1;  // memory planes of a frame (the multi-planar API's num_planes)
    std::array<uint32_t, 3> bytesPerLine{};
    std::array<uint32_t, 3> sizeImage{};
    FrameRate rate;
    bool rateSettable = false;
};

// A set-up step that failed: its name (an ioctl, "mmap") and -errno; err 0: none did.
struct StepFailure {
    const char* step = "";
    int err = 0;
    explicit operator bool() const { return err < 0; }
};

// A buffer the driver handed back.
struct DequeuedBuffer {
    uint32_t index = 0;
    uint32_t sequence = 0;
    uint32_t flags = 0;
    timeval timestamp{};
    int planes = 1;
    std::array<uint32_t, 3> bytesUsed{};   // of each memory plane, data offset included
    std::array<uint32_t, 3> dataOffset{};  // where the data starts in each memory plane
};

class V4l2Session {
public:
    V4l2Session() = default;
    ~V4l2Session() { close(); }
    V4l2Session(const V4l2Session&) = delete;
    V4l2Session& operator=(const V4l2Session&) = delete;

    // Takes an opened device (openCaptureDevice), or opens `path`: 0 or -errno.
    void adopt(V4l2Device dev);
    int open(const std::string& path);
    // Stops streaming, unmaps, closes.
    void close();
    bool isOpen() const { return dev_.isOpen(); }
    const V4l2Device& device() const { return dev_; }

    // Sets format and rate.
    StepFailure apply(uint32_t fourcc, int width, int height, FrameRate rate,
                      AppliedFormat& applied) const;
    // Asks for `count` buffers (the driver may give 2..maxCount), maps each memory plane
    // (each at least minBytes[plane]), queues them all and starts streaming.
    StepFailure start(uint32_t count, uint32_t maxCount, int planes,
                      const std::array<size_t, 3>& minBytes);
    // Ends streaming and frees the buffers (the device stays open).
    void stop();
    bool streaming() const { return streaming_; }
    size_t bufferCount() const { return buffers_.size(); }
    bool queued(uint32_t index) const { return index < buffers_.size() && buffers_[index].queued; }
    // Where memory plane `plane` of buffer `index` is mapped.
    const uint8_t* data(uint32_t index, int plane) const {
        return static_cast<const uint8_t*>(
            buffers_[index].planes[static_cast<size_t>(plane)].start);
    }
    size_t mappedBytes(uint32_t index, int plane) const {
        return buffers_[index].planes[static_cast<size_t>(plane)].length;
    }

    // VIDIOC_QBUF / VIDIOC_DQBUF: 0 or -errno (-EAGAIN: nothing ready).
    int queue(uint32_t index);
    int dequeue(DequeuedBuffer& out);

private:
    struct Mapping {
        void* start = nullptr;
        size_t length = 0;
    };
    struct Buffer {
        std::array<Mapping, 3> planes{};
        bool queued = false;
    };
    void unmapAll();

    V4l2Device dev_;
    std::vector<Buffer> buffers_;
    int planes_ = 1;
    bool streaming_ = false;
};

}  // namespace h265direct
