// SPDX-License-Identifier: GPL-2.0-or-later
// Finding a camera again by its identity (card name and bus info from VIDIOC_QUERYCAP) when
// it returns under another node. The node lists are as a machine with two USB webcams of the
// same model shows them (v4l2-ctl --list-devices / --info): each camera has a capture node
// and a metadata node with the same identity; the bus info is the USB port.

#include <gtest/gtest.h>

#include "capture/camera_identity.hpp"
#include "capture/v4l2_device.hpp"
#include "common/test_util.hpp"

namespace h265direct {
namespace {

const CameraIdentity kLeft{"HD Pro Webcam C920", "usb-0000:00:14.0-1"};
const CameraIdentity kRight{"HD Pro Webcam C920", "usb-0000:00:14.0-2"};

VideoNode node(const char* path, const CameraIdentity& id, bool capture) {
    return VideoNode{path, id, capture};
}

TEST(CameraIdentity, FoundUnderANewNumber) {
    // The left camera was /dev/video0 and /dev/video1; unplugged and back, it is video4/5.
    const std::vector<VideoNode> nodes = {
        node("/dev/video2", kRight, true),
        node("/dev/video3", kRight, false),
        node("/dev/video4", kLeft, true),
        node("/dev/video5", kLeft, false),
    };
    EXPECT_EQ(findCamera(kLeft, nodes), "/dev/video4");
    EXPECT_EQ(findCamera(kRight, nodes), "/dev/video2");
}

TEST(CameraIdentity, TheMetadataNodeIsNotTheCamera) {
    // Only the metadata node of the camera is there (the capture node not yet registered).
    const std::vector<VideoNode> nodes = {node("/dev/video1", kLeft, false)};
    EXPECT_EQ(findCamera(kLeft, nodes), std::nullopt);
}

TEST(CameraIdentity, TheSameModelOnAnotherPortIsAnotherCamera) {
    // The right camera took /dev/video0 while the left one is away.
    const std::vector<VideoNode> nodes = {node("/dev/video0", kRight, true),
                                          node("/dev/video1", kRight, false)};
    EXPECT_EQ(findCamera(kLeft, nodes), std::nullopt);
}

TEST(CameraIdentity, AnotherModelOnTheSamePortIsAnotherCamera) {
    const CameraIdentity other{"USB 2.0 Camera", "usb-0000:00:14.0-1"};
    EXPECT_EQ(findCamera(kLeft, {node("/dev/video0", other, true)}), std::nullopt);
}

TEST(CameraIdentity, NoBusInfoNoSearch) {
    // A driver that leaves the bus info empty: two cameras of the model cannot be told
    // apart, so only the path given is used.
    const CameraIdentity anonymous{"Camera", ""};
    EXPECT_FALSE(anonymous.searchable());
    EXPECT_EQ(findCamera(anonymous, {node("/dev/video0", anonymous, true)}), std::nullopt);
}

TEST(CameraIdentity, VividInstances) {
    // vivid (the VM suite): every instance is card "vivid", told apart by the bus info.
    const CameraIdentity vivid0{"vivid", "platform:vivid-000"};
    const CameraIdentity vivid1{"vivid", "platform:vivid-001"};
    const std::vector<VideoNode> nodes = {node("/dev/video0", vivid1, true),
                                          node("/dev/video1", vivid1, true),
                                          node("/dev/video5", vivid0, true)};
    EXPECT_EQ(findCamera(vivid0, nodes), "/dev/video5");
}

TEST(CameraIdentity, NodeNumbers) {
    EXPECT_EQ(videoNodeNumber("/dev/video0"), 0);
    EXPECT_EQ(videoNodeNumber("/dev/video12"), 12);
    EXPECT_EQ(videoNodeNumber("video3"), 3);
    EXPECT_EQ(videoNodeNumber("/dev/video"), -1);
    EXPECT_EQ(videoNodeNumber("/dev/video1a"), -1);
    EXPECT_EQ(videoNodeNumber("/dev/vbi0"), -1);
    EXPECT_EQ(videoNodeNumber("/dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920-video-index0"), -1);
}

TEST(CameraIdentity, ListingLeavesOutWhatIsNotAV4l2Node) {
    // Files named like nodes that are not devices: opened, refused by VIDIOC_QUERYCAP, left
    // out; other names are not looked at.
    test::TempDir dir;
    for (const char* name : {"video0", "video7", "videoX", "media0"}) {
        test::writeText(dir.file(name), "not a device");
    }
    EXPECT_TRUE(listVideoNodes(dir.path()).empty());
    EXPECT_TRUE(listVideoNodes(dir.file("missing")).empty());
}

}  // namespace
}  // namespace h265direct
