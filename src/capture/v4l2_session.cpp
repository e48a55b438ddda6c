// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture/v4l2_session.hpp"

#include <algorithm>
#include <cerrno>
#include <utility>

namespace h265direct {

namespace {

// A v4l2_buffer for one of the device's mmap buffers, with room for the plane descriptions
// of the multi-planar API (`planeCount` of them; it points at its own array, so it stays put).
struct MmapBuffer {
    v4l2_buffer buffer{};
    v4l2_plane planes[VIDEO_MAX_PLANES]{};

    MmapBuffer(const V4l2Device& dev, uint32_t index, uint32_t planeCount) {
        buffer.type = dev.bufferType();
        buffer.memory = V4L2_MEMORY_MMAP;
        buffer.index = index;
        if (dev.multiplanar()) {
            buffer.m.planes = planes;
            buffer.length = planeCount;
        }
    }
    MmapBuffer(const MmapBuffer&) = delete;
    MmapBuffer& operator=(const MmapBuffer&) = delete;
};

}  // namespace

void V4l2Session::adopt(V4l2Device dev) {
    close();
    dev_ = std::move(dev);
}

int V4l2Session::open(const std::string& path) {
    close();
    return dev_.open(path);
}

void V4l2Session::close() {
    stop();
    dev_.close();
}

StepFailure V4l2Session::apply(uint32_t fourcc, int width, int height, FrameRate rate,
                               AppliedFormat& applied) const {
    v4l2_format fmt{};
    fmt.type = dev_.bufferType();
    if (dev_.multiplanar()) {
        fmt.fmt.pix_mp.width = static_cast<uint32_t>(width);
        fmt.fmt.pix_mp.height = static_cast<uint32_t>(height);
        fmt.fmt.pix_mp.pixelformat = fourcc;
        fmt.fmt.pix_mp.field = V4L2_FIELD_ANY;
    } else {
        fmt.fmt.pix.width = static_cast<uint32_t>(width);
        fmt.fmt.pix.height = static_cast<uint32_t>(height);
        fmt.fmt.pix.pixelformat = fourcc;
        fmt.fmt.pix.field = V4L2_FIELD_ANY;
    }
    if (const int rc = dev_.ioctl(VIDIOC_S_FMT, &fmt); rc < 0) {
        return {"VIDIOC_S_FMT", rc};
    }
    if (dev_.multiplanar()) {
        const v4l2_pix_format_mplane& mp = fmt.fmt.pix_mp;
        if (mp.num_planes < 1 || mp.num_planes > 3) {
            return {"VIDIOC_S_FMT", -EINVAL};  // no format of the table has more
        }
        applied.fourcc = mp.pixelformat;
        applied.width = static_cast<int>(mp.width);
        applied.height = static_cast<int>(mp.height);
        applied.buffers = mp.num_planes;
        for (size_t p = 0; p < mp.num_planes; ++p) {
            applied.bytesPerLine[p] = mp.plane_fmt[p].bytesperline;
            applied.sizeImage[p] = mp.plane_fmt[p].sizeimage;
        }
    } else {
        applied.fourcc = fmt.fmt.pix.pixelformat;
        applied.width = static_cast<int>(fmt.fmt.pix.width);
        applied.height = static_cast<int>(fmt.fmt.pix.height);
        applied.buffers = 1;
        applied.bytesPerLine[0] = fmt.fmt.pix.bytesperline;
        applied.sizeImage[0] = fmt.fmt.pix.sizeimage;
    }

    v4l2_streamparm parm{};
    parm.type = dev_.bufferType();
    if (dev_.ioctl(VIDIOC_G_PARM, &parm) == 0) {
        applied.rateSettable = (parm.parm.capture.capability & V4L2_CAP_TIMEPERFRAME) != 0;
    }
    if (applied.rateSettable) {
        // Time per frame is the inverse of the rate.
        parm.parm.capture.timeperframe.numerator = static_cast<uint32_t>(rate.den);
        parm.parm.capture.timeperframe.denominator = static_cast<uint32_t>(rate.num);
        if (const int rc = dev_.ioctl(VIDIOC_S_PARM, &parm); rc < 0) {
            return {"VIDIOC_S_PARM", rc};
        }
    }
    const v4l2_fract& tpf = parm.parm.capture.timeperframe;
    applied.rate = FrameRate{static_cast<int>(tpf.denominator), static_cast<int>(tpf.numerator)};
    return {};
}

StepFailure V4l2Session::start(uint32_t count, uint32_t maxCount, int planes,
                               const std::array<size_t, 3>& minBytes) {
    stop();
    v4l2_requestbuffers req{};
    req.count = count;
    req.type = dev_.bufferType();
    req.memory = V4L2_MEMORY_MMAP;
    if (const int rc = dev_.ioctl(VIDIOC_REQBUFS, &req); rc < 0) {
        return {"VIDIOC_REQBUFS", rc};
    }
    planes_ = dev_.multiplanar() ? planes : 1;
    buffers_.assign(req.count, Buffer{});
    if (req.count < 2 || req.count > maxCount) {
        return {"VIDIOC_REQBUFS", -ENOMEM};
    }
    for (uint32_t i = 0; i < req.count; ++i) {
        MmapBuffer query(dev_, i, VIDEO_MAX_PLANES);
        v4l2_buffer& b = query.buffer;
        if (const int rc = dev_.ioctl(VIDIOC_QUERYBUF, &b); rc < 0) {
            return {"VIDIOC_QUERYBUF", rc};
        }
        if (dev_.multiplanar() && static_cast<int>(b.length) != planes_) {
            return {"VIDIOC_QUERYBUF", -EINVAL};
        }
        for (int p = 0; p < planes_; ++p) {
            const size_t length = dev_.multiplanar() ? query.planes[p].length : b.length;
            const uint32_t offset = dev_.multiplanar() ? query.planes[p].m.mem_offset : b.m.offset;
            void* start = dev_.map(length, offset);
            if (start == nullptr) {
                return {"mmap", -errno};
            }
            buffers_[i].planes[static_cast<size_t>(p)] = Mapping{start, length};
            if (length < minBytes[static_cast<size_t>(p)]) {
                return {"mmap", -EINVAL};  // a buffer too small for its plane of a frame
            }
        }
    }
    for (uint32_t i = 0; i < req.count; ++i) {
        if (const int rc = queue(i); rc < 0) {
            return {"VIDIOC_QBUF", rc};
        }
    }
    v4l2_buf_type type = static_cast<v4l2_buf_type>(dev_.bufferType());
    if (const int rc = dev_.ioctl(VIDIOC_STREAMON, &type); rc < 0) {
        return {"VIDIOC_STREAMON", rc};
    }
    streaming_ = true;
    return {};
}

void V4l2Session::unmapAll() {
    for (Buffer& b : buffers_) {
        for (Mapping& m : b.planes) {
            if (m.start != nullptr) {
                dev_.unmap(m.start, m.length);
            }
            m = Mapping{};
        }
    }
}

void V4l2Session::stop() {
    if (!dev_.isOpen()) {
        buffers_.clear();
        streaming_ = false;
        return;
    }
    if (streaming_) {
        v4l2_buf_type type = static_cast<v4l2_buf_type>(dev_.bufferType());
        dev_.ioctl(VIDIOC_STREAMOFF, &type);
        streaming_ = false;
    }
    unmapAll();
    if (!buffers_.empty()) {
        v4l2_requestbuffers req{};
        req.count = 0;
        req.type = dev_.bufferType();
        req.memory = V4L2_MEMORY_MMAP;
        dev_.ioctl(VIDIOC_REQBUFS, &req);
    }
    buffers_.clear();
}

int V4l2Session::queue(uint32_t index) {
    MmapBuffer b(dev_, index, static_cast<uint32_t>(planes_));
    const int rc = dev_.ioctl(VIDIOC_QBUF, &b.buffer);
    if (rc == 0) {
        buffers_[index].queued = true;
    }
    return rc;
}

int V4l2Session::dequeue(DequeuedBuffer& out) {
    MmapBuffer dequeued(dev_, 0, static_cast<uint32_t>(planes_));
    v4l2_buffer& b = dequeued.buffer;
    if (const int rc = dev_.ioctl(VIDIOC_DQBUF, &b); rc < 0) {
        return rc;
    }
    out = DequeuedBuffer{};
    out.index = b.index;
    out.sequence = b.sequence;
    out.flags = b.flags;
    out.timestamp = b.timestamp;
    if (dev_.multiplanar()) {
        out.planes = planes_;
        for (int p = 0; p < planes_; ++p) {
            out.bytesUsed[static_cast<size_t>(p)] = dequeued.planes[p].bytesused;
            out.dataOffset[static_cast<size_t>(p)] = dequeued.planes[p].data_offset;
        }
    } else {
        out.bytesUsed[0] = b.bytesused;
    }
    if (b.index < buffers_.size()) {
        buffers_[b.index].queued = false;
    }
    return 0;
}

}  // namespace h265direct
