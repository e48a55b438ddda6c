#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs every Debian package that building, testing and benchmarking h265direct need
# (apt-get, as root, non-interactive; skipped when all are present), then configures and
# builds the Release type into ./build (override with BUILD_DIR).
#
# Works on any Debian architecture, natively. On amd64 it also installs the aarch64 cross
# toolchain, the :arm64 libraries (multiarch, beside the amd64 ones) and user-mode qemu for
# tools/cross-arm64.sh, and the x86 VM suite's packages. Elsewhere (e.g. arm64 on a Raspberry
# Pi) the suite that boots an x86 VM is turned off: it boots an amd64 kernel that runs this
# machine's own build, which only an amd64 machine has.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
ARCH=$(dpkg --print-architecture)

PACKAGES=(
  # build
  build-essential cmake pkg-config git clang-format help2man
  # every build (host, aarch64, sanitizers, fuzz) goes through ccache, kept outside the clone
  ccache
  libx265-dev libswscale-dev libavutil-dev libavformat-dev libavcodec-dev liburing-dev libv4l-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  # the RTSP server's authentication (MD5, SHA-256, HMAC)
  nettle-dev
  # test references: real decoders and receivers
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  ffmpeg x265 python3 python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
  # an SRT listener for the passphrase tests (srt-live-transmit)
  srt-tools
  gir1.2-gst-rtsp-server-1.0
  v4l-utils
  # a network namespace of a test's own with a small loopback MTU (the RTSP server's UDP
  # segmentation refused by the kernel): unshare (util-linux) and ip
  iproute2
  # the Python module and its tests
  pybind11-dev python3-dev python3-pytest
  # the systemd unit's check (systemd-analyze); the Debian packages (tools/package.sh:
  # CPack's dpkg-shlibdeps, lintian) and their install test in a Debian root (tools/ci/package.sh)
  systemd dpkg-dev fakeroot lintian mmdebstrap
  # benchmarks
  time
  # fuzz targets (libFuzzer) and the sanitizer builds (tools/ci/)
  clang-14 libclang-rt-14-dev
)
CMAKE_ARGS=(-DCMAKE_BUILD_TYPE=Release -DH265D_PYTHON=ON)  # a missing pybind11 fails
FOREIGN_ARCH=
if [ "$ARCH" = amd64 ]; then
  PACKAGES+=(
    # the real V4L2 driver (vivid) in an x86 VM; libelf1 for the kernel's build tools, which
    # build v4l2loopback (the VM's MJPEG camera) against the VM kernel's headers
    qemu-system-x86 busybox-static cpio kmod bc libelf1
    # aarch64: cross-build (tools/cross-arm64.sh), its unit tests under user-mode qemu, and
    # the system emulator. The :arm64 libraries must be the same versions as the amd64 ones,
    # so they are installed in the same apt-get run, after an update.
    crossbuild-essential-arm64 qemu-user-static qemu-system-arm
    libx265-dev:arm64 libswscale-dev:arm64 libavutil-dev:arm64 libavformat-dev:arm64
    libavcodec-dev:arm64 liburing-dev:arm64 nettle-dev:arm64
    libv4l-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64 libbenchmark-dev:arm64
  )
  FOREIGN_ARCH=arm64
else
  echo "setup: $ARCH machine: the x86 VM suite is off (-DH265D_VM_TESTS=OFF)"
  CMAKE_ARGS+=(-DH265D_VM_TESTS=OFF)
fi

SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ -n "$FOREIGN_ARCH" ] && ! dpkg --print-foreign-architectures | grep -qx "$FOREIGN_ARCH"; then
  echo "setup: adding the $FOREIGN_ARCH architecture to dpkg (multiarch)"
  $SUDO dpkg --add-architecture "$FOREIGN_ARCH"
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

. "$ROOT/tools/ci/lib.sh"
configure_build "$BUILD_DIR" "${CMAKE_ARGS[@]}"
cmake --build "$BUILD_DIR" -j"$(nproc)"
