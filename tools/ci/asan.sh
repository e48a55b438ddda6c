#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CI stage: an AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer) build of the
# programs and tests, running the whole suite -- the VM suite included: the guest runs the
# sanitized h265direct from the host root (chroot), runtime libraries and all, and the
# sanitizer settings are built into every program (tools/sanitizers/). Any sanitizer report
# ends the program with a failure status, so the test that ran it fails. A skip fails too,
# and so do fewer tests than the stage's floor (tools/ci/test-floors.txt).
#
# The Python tests run too, on the sanitized module: Debian's python3 is not instrumented, so
# the interpreter runs with the compiler's libasan preloaded, UBSan stopping at its first
# finding, and leak detection off for the interpreter only (CPython leaves its own objects
# allocated at exit, and a suppression for them would hide the module's leaks as well; the
# library's are checked by the C++ tests). The programs those tests start keep their own
# settings, leak detection included (tests/python/CMakeLists.txt, conftest.py).
#
#   ASAN_BUILD_DIR  build folder (default build-asan)
#   CTEST_JOBS      parallel tests (default 2)
#   Extra arguments go to ctest (e.g. -L hevc, -LE vm).
set -euo pipefail
begin=$(date +%s)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${ASAN_BUILD_DIR:-$ROOT/build-asan}

source "$ROOT/tools/ci/lib.sh"
echo "asan: configuring $BUILD (-DH265D_SANITIZE=address,undefined, the Python module too)"
configure_build "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DH265D_SANITIZE=address,undefined -DH265D_BUILD_BENCH=OFF -DH265D_PYTHON=ON
echo "asan: building"
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
built=$(date +%s)
echo "asan: built in $((built - begin)) s"

# Two tests cannot run in a sanitized build and say so by skipping there; they run in the
# ordinary suite: allocation counting (the sanitizer owns malloc) and a plain client program
# of the installed library (a sanitized libh265direct.so needs the runtime in its client).
not_here='^(NoAllocation\.NotCountedUnderSanitizers|Library\.InstalledLibraryCallbackGetsEveryAccessUnitInOrder)$'
echo "asan: running the suite except: $not_here"
floor=()
[ $# -gt 0 ] || floor=(--stage asan)  # (tools/ci/test-floors.txt)
rc=0
"$ROOT/tools/ci/ctest-strict.sh" "${floor[@]}" "$BUILD" --output-on-failure -j"${CTEST_JOBS:-2}" \
  --timeout 1200 -E "$not_here" "$@" || rc=$?
echo "asan: took $(($(date +%s) - begin)) s (build $((built - begin)) s)"
exit "$rc"
