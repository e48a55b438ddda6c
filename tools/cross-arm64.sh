#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Cross-builds h265direct for aarch64 (Release) into ./build-arm64 (override with
# ARM64_BUILD_DIR) with cmake/aarch64-linux-gnu.cmake, then runs the test suite under user-mode
# qemu (qemu-aarch64-static) with tools/ci/ctest-strict.sh (a skip fails the run). Tests
# labelled needs-* need what user-mode qemu does not offer (tests/CMakeLists.txt): they are
# left out of this run, and each label is printed with its reason and number of tests. Needs
# the packages tools/setup.sh installs on an amd64 machine. Extra arguments go to ctest
# (e.g. -L hevc).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${ARM64_BUILD_DIR:-$ROOT/build-arm64}
SECONDS=0

for tool in aarch64-linux-gnu-g++ qemu-aarch64-static; do
  command -v "$tool" >/dev/null || { echo "cross-arm64: $tool missing (run tools/setup.sh)" >&2; exit 1; }
done
source "$ROOT/tools/ci/lib.sh"

# No benchmarks (not run here) and no VM suite (it boots an x86 VM for the host's own build).
echo "cross-arm64: configuring $BUILD_DIR (aarch64, Release)"
configure_build "$BUILD_DIR" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DH265D_BUILD_BENCH=OFF -DH265D_VM_TESTS=OFF
echo "cross-arm64: building (-j$(nproc))"
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "cross-arm64: built in ${SECONDS}s"

# The tests start the built programs (h265direct, the receiver) as child processes: the kernel
# runs those aarch64 executables through qemu when qemu-aarch64 is registered with binfmt_misc
# (qemu-user-static's /usr/lib/binfmt.d entry; systemd-binfmt does it at boot where it runs).
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/qemu-aarch64" ]; then
  [ "$(id -u)" -eq 0 ] || {
    echo "cross-arm64: qemu-aarch64 is not registered with binfmt_misc (run as root)" >&2
    exit 1
  }
  echo "cross-arm64: registering qemu-aarch64 with binfmt_misc (tests start aarch64 programs)"
  mountpoint -q "$binfmt" || mount -t binfmt_misc binfmt_misc "$binfmt"
  cat /usr/lib/binfmt.d/qemu-aarch64.conf >"$binfmt/register"
fi

echo "cross-arm64: left out under user-mode qemu:"
while IFS= read -r line; do
  label=${line%%:*}
  count=$(ctest --test-dir "$BUILD_DIR" -N -L "^$label\$" | sed -n 's/^Total Tests: //p')
  echo "  $label, ${count:-0} tests: ${line#*: }"
done <"$BUILD_DIR/tests/needs-labels.txt"

# Through ctest-strict: a skipped test fails the run, and so do fewer tests than the arm64
# stage's floor (tools/ci/test-floors.txt) when the whole selection runs.
echo "cross-arm64: running the rest under qemu-aarch64-static"
floor=()
[ $# -gt 0 ] || floor=(--stage arm64)
status=0
"$ROOT/tools/ci/ctest-strict.sh" "${floor[@]}" "$BUILD_DIR" --output-on-failure \
  -j"${CTEST_JOBS:-2}" --timeout 600 -LE '^needs-' "$@" || status=$?
echo "cross-arm64: done in ${SECONDS}s (ctest exit $status)"
exit "$status"
