// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <optional>
#include <string>
#include <vector>

// Finding a camera again by what identifies it when it returns under another node (a USB
// camera unplugged and plugged in again may come back as /dev/video2 instead of
// /dev/video0): the card name and bus info VIDIOC_QUERYCAP gives. Pure code; listing the
// device nodes is V4l2Device's (listVideoNodes in v4l2_device.hpp).

namespace h265direct {

struct CameraIdentity {
    std::string card;     // "HD Pro Webcam C920", "vivid"
    std::string busInfo;  // "usb-0000:00:14.0-1", "platform:vivid-000"
    // Whether the bus info says enough to look elsewhere: a driver that leaves it empty
    // gives nothing to tell two cameras of the same model apart.
    bool searchable() const { return !busInfo.empty(); }
    bool operator==(const CameraIdentity&) const = default;
};

// One device node as found: its path and what VIDIOC_QUERYCAP said of it.
struct VideoNode {
    std::string path;
    CameraIdentity identity;
    bool canCapture = false;  // video capture (single- or multi-planar) with streaming
};

// The node among `nodes` that is the camera `wanted`: same card and bus info, and a capture
// node (a UVC camera's metadata node has the same identity). The first such node in the
// order given; nullopt when there is none or the identity is not searchable.
std::optional<std::string> findCamera(const CameraIdentity& wanted,
                                      const std::vector<VideoNode>& nodes);

// The number in "/dev/video12" (for ordering), -1 for other names.
int videoNodeNumber(const std::string& path);

}  // namespace h265direct
