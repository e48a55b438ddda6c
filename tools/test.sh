#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Set-up plus every test run CI makes, stage by stage, with a summary and the total time:
#   suite      the whole suite on x86-64 (unit, real GStreamer/FFmpeg peers, vivid in an x86 VM)
#   arm64      cross-build for aarch64, unit tests under user-mode qemu
#   vm-arm64   vivid in an arm64 VM running the arm64 build
#   asan/tsan  sanitizer builds (the whole suite; the threaded parts)
#   fuzz       each fuzz target for a bounded time
#   churn      many receivers joining, idling, resetting; RSS and fds bounded
#   package    the Debian packages built, linted, installed in a clean Debian 12 root, purged
# Every ctest run fails on a skipped test, and on fewer tests than it selects; a whole stage
# also on fewer than its floor in tools/ci/test-floors.txt. With arguments, only the x86-64 suite runs, and
# the arguments go to ctest (tools/test.sh -L hevc).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
export BUILD_DIR
t_start=$(date +%s)
"$ROOT/tools/setup.sh" || exit 1

CTEST_ARGS=(--output-on-failure -j"${CTEST_JOBS:-2}" --timeout 1200)
if [ $# -gt 0 ]; then
  exec "$ROOT/tools/ci/ctest-strict.sh" "$BUILD_DIR" "${CTEST_ARGS[@]}" "$@"
fi

summary=()
failed=0
stage() {
  local name=$1 t0 rc
  shift
  t0=$(date +%s)
  echo "=== stage $name: $*"
  "$@"
  rc=$?
  local took=$(($(date +%s) - t0))
  if [ $rc -eq 0 ]; then
    summary+=("$(printf '%-9s ok      %4d s' "$name" "$took")")
  else
    summary+=("$(printf '%-9s FAILED  %4d s (exit %d)' "$name" "$took" "$rc")")
    failed=1
  fi
}

# (vm_arm64 has a stage of its own; a build folder configured by an earlier run lists it too.)
stage suite "$ROOT/tools/ci/ctest-strict.sh" --stage suite "$BUILD_DIR" "${CTEST_ARGS[@]}" -LE '^vm_arm64$'
stage arm64 "$ROOT/tools/ci/arm64.sh"
stage vm-arm64 "$ROOT/tools/ci/vm-arm64.sh"
stage asan "$ROOT/tools/ci/asan.sh"
stage tsan "$ROOT/tools/ci/tsan.sh"
stage fuzz "$ROOT/tools/ci/fuzz.sh"
stage churn "$ROOT/tools/ci/churn.sh"
stage package "$ROOT/tools/ci/package.sh"

echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "total: $(($(date +%s) - t_start)) s (set-up included)"
exit $failed
