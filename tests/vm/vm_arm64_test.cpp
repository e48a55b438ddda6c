// SPDX-License-Identifier: GPL-2.0-or-later
// Judges what guest_arm64.sh left in the results folder: the arm64 build of h265direct run in
// an aarch64 guest (Debian's arm64 kernel under qemu-system-aarch64) against the real vivid
// driver, to a file and over TCP (io_uring) as client and as server. The streams are decoded
// here, on the host, by GStreamer and FFmpeg.

#include <gtest/gtest.h>

#include <string>

#include "vm_checks.hpp"

namespace h265direct {
namespace {

using namespace vmtest;

constexpr int kFrames = 10;

using VmArm64 = Vm;

TEST_F(VmArm64, GuestRanEveryScenario) {
    expectGuestRan("aarch64");
    EXPECT_CONTAINS(text("kernel.txt"), "arm64");
    // The program that ran is the cross-built one, not the host's: it started and said so.
    EXPECT_CONTAINS(text("version.txt"), "h265direct");
}

class VmArm64Format : public VmArm64, public ::testing::WithParamInterface<const char*> {};

TEST_P(VmArm64Format, CapturedEncodedAndDecoded) {
    const std::string f = GetParam();
    expectCaptured("fmt_" + f, f, kFrames);
}

INSTANTIATE_TEST_SUITE_P(Formats, VmArm64Format, ::testing::Values("YUYV", "NV12"));

// -t: the guest's busybox nc received the Annex-B stream; with only a TCP output, encoding
// waits for the connection, so every frame is in it.
TEST_F(VmArm64, TcpClientToAReceiverInTheGuest) {
    expectCaptured("tcp_client", "YUYV", kFrames);
    EXPECT_EQ(status("tcp_client_nc"), 0);
}

// -l: the arm64 h265direct-receiver connected, checked every access unit of the length-framed
// stream and wrote it out; it joined before the first frame, so it has all of them.
TEST_F(VmArm64, TcpServerToAReceiverInTheGuest) {
    expectCaptured("tcp_server", "NV12", kFrames);
    EXPECT_EQ(status("tcp_server_receiver"), 0) << text("tcp_server_receiver.err");
}

}  // namespace
}  // namespace h265direct
