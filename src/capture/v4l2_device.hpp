// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <linux/videodev2.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "capture/camera_identity.hpp"
#include "capture/format_negotiation.hpp"

// A V4L2 device node, and the few things done with it that are not streaming. A node with
// the single-planar capture API is used through libv4l2 (so that its format emulation — e.g.
// MJPEG decoded to YU12 — is available); a node that offers only the multi-planar API
// (V4L2_CAP_VIDEO_CAPTURE_MPLANE) through the plain system calls, because libv4l2's mplane
// plugin passes on only formats whose planes share one buffer, cannot pass the multi-planar
// calls themselves, and prints on stdout (docs/camera.md).

namespace h265direct {

class V4l2Device {
public:
    V4l2Device() = default;
    ~V4l2Device() { close(); }
    V4l2Device(const V4l2Device&) = delete;
    V4l2Device& operator=(const V4l2Device&) = delete;
    V4l2Device(V4l2Device&& other) noexcept;
    V4l2Device& operator=(V4l2Device&& other) noexcept;

    // Opens non-blocking and reads the capabilities. Returns 0 or -errno (errno of the open,
    // or of VIDIOC_QUERYCAP: -ENOTTY means not a V4L2 node at all).
    int open(const std::string& path);
    void close();
    bool isOpen() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    const std::string& path() const { return path_; }

    // v4l2_ioctl (ioctl for a multi-planar node), again on EINTR. Returns 0 or -errno.
    int ioctl(unsigned long request, void* arg) const;
    // v4l2_mmap / v4l2_munmap (mmap / munmap for a multi-planar node) of a buffer's plane.
    // map() returns nullptr (errno set) on failure.
    void* map(size_t length, uint32_t offset) const;
    void unmap(void* start, size_t length) const;

    // The capabilities of this node (device_caps when the driver reports them).
    uint32_t caps() const { return caps_; }
    std::string driver() const;
    std::string card() const;
    std::string busInfo() const;
    CameraIdentity identity() const { return CameraIdentity{card(), busInfo()}; }
    bool canCapture() const {
        return (caps_ & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)) != 0;
    }
    // Only the multi-planar API: buffers of type V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, plain
    // system calls.
    bool multiplanar() const { return multiplanar_; }
    uint32_t bufferType() const {
        return multiplanar_ ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE : V4L2_BUF_TYPE_VIDEO_CAPTURE;
    }
    bool canStream() const { return (caps_ & V4L2_CAP_STREAMING) != 0; }

    // Every capture format with its sizes and frame rates, in the driver's order
    // (libv4l2's emulated formats included, flagged). For a range of sizes the rates are
    // those at wantWidth x wantHeight (when given and inside the range).
    std::vector<CameraFormatDesc> enumerateFormats(int wantWidth = 0, int wantHeight = 0) const;
    RateCaps enumerateRates(uint32_t fourcc, int width, int height) const;

private:
    int fd_ = -1;
    std::string path_;
    v4l2_capability capability_{};
    uint32_t caps_ = 0;
    bool multiplanar_ = false;
};

// The device's answer to a start-up step as a StartupError with a message the user can act
// on: missing path / permissions (kExitInput), not a capture device (kExitNotCapture),
// busy (kExitDeviceBusy). `what` names the step ("open", "VIDIOC_REQBUFS"...).
[[noreturn]] void throwDeviceError(const std::string& path, const std::string& what, int err);

// Opens `path` and checks it can capture and stream; throws StartupError otherwise.
V4l2Device openCaptureDevice(const std::string& path);

// Every /dev/videoN in `dir`, by number, with its identity: opened and asked
// VIDIOC_QUERYCAP with the plain system calls, and closed again. Nodes that cannot be opened
// or asked are left out.
std::vector<VideoNode> listVideoNodes(const std::string& dir = "/dev");

// Text for a capability mask: "video-capture streaming read-write ...".
std::string capabilityText(uint32_t caps);

}  // namespace h265direct
