#!/bin/bash
# Installs every Debian package that building, testing and benchmarking h265direct need
# (apt-get, as root, non-interactive; skipped when all are present), then configures and
# builds into ./build (override with BUILD_DIR).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}

PACKAGES=(
  # build
  build-essential cmake pkg-config git clang-format
  libx265-dev libswscale-dev libavutil-dev liburing-dev libv4l-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  # test references: real decoders and receivers
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  ffmpeg x265 python3 python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
  # the real V4L2 driver (vivid) in a VM
  qemu-system-x86 busybox-static v4l-utils cpio kmod bc
  # the arm64 build on a real arm64 kernel (vivid) in a VM
  qemu-system-arm
  # benchmarks
  time
  # fuzz targets (libFuzzer) and the sanitizer builds (tools/ci/)
  clang-14 libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
