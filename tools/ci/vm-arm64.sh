#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CI stage: the arm64 VM suite. Given an arm64 build (default ./build-arm64, made with
# cmake/aarch64-linux-gnu.cmake; override with ARM64_BUILD_DIR) holding h265direct and
# h265direct-receiver, configures the host build (default ./build, override with BUILD_DIR)
# with H265D_ARM64_BUILD_DIR, builds the host-side checks and runs the tests labelled
# vm_arm64: Debian's arm64 kernel boots under qemu-system-aarch64 with vivid, runs the arm64
# programs, and the host decodes their streams. Needs the packages of tools/setup.sh and
# network access to Debian's archive on the first run (kernel and busybox-static:arm64 are
# downloaded into ~/.cache/h265direct-vm/arm64).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
ARM64_BUILD_DIR=${ARM64_BUILD_DIR:-$ROOT/build-arm64}
start=$(date +%s)

say() { echo "vm-arm64: $*"; }
finish() {
    local rc=$?
    say "finished with status $rc after $(($(date +%s) - start)) s"
}
trap finish EXIT

for program in h265direct tools/receiver/h265direct-receiver; do
    if [ ! -x "$ARM64_BUILD_DIR/$program" ]; then
        say "error: $ARM64_BUILD_DIR/$program is missing; cross-build the targets" \
            "h265direct_cli and h265direct-receiver for arm64 there first"
        exit 2
    fi
done
ARM64_BUILD_DIR=$(cd "$ARM64_BUILD_DIR" && pwd)

say "configuring $BUILD_DIR with H265D_ARM64_BUILD_DIR=$ARM64_BUILD_DIR"
cmake -S "$ROOT" -B "$BUILD_DIR" -DH265D_ARM64_BUILD_DIR="$ARM64_BUILD_DIR" >/dev/null
say "building test_vm_arm64"
cmake --build "$BUILD_DIR" -j"$(nproc)" --target test_vm_arm64
say "running ctest -L '^vm_arm64\$' (tools/ci/ctest-strict.sh: a skip fails, and fewer tests than the floor)"
"$ROOT/tools/ci/ctest-strict.sh" --stage vm-arm64 "$BUILD_DIR" -L '^vm_arm64$' --output-on-failure
