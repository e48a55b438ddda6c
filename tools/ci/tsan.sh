#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CI stage: a ThreadSanitizer build of the threaded parts -- the engine (capture, conversion
# thread, encoder, sinks) and the network outputs (io_uring TCP client and server, the RTSP
# server, peer queues, the publishers, the receiver) -- running their tests (labels engine
# and net). A data race makes the program exit with status 66, so the test that ran it
# fails; a skip fails too, and so do fewer tests than the stage's floor
# (tools/ci/test-floors.txt).
#
#   TSAN_BUILD_DIR  build folder (default build-tsan)
#   CTEST_JOBS      parallel tests (default 2)
#   Extra arguments go to ctest.
set -euo pipefail
begin=$(date +%s)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${TSAN_BUILD_DIR:-$ROOT/build-tsan}

source "$ROOT/tools/ci/lib.sh"
echo "tsan: configuring $BUILD (-DH265D_SANITIZE=thread)"
configure_build "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DH265D_SANITIZE=thread \
  -DH265D_BUILD_BENCH=OFF -DH265D_VM_TESTS=OFF
echo "tsan: building test_engine, test_net, test_publish, test_rtsp and the programs they run"
cmake --build "$BUILD" -j"$(nproc)" --target test_engine test_net test_publish test_rtsp \
  h265direct_cli h265direct-receiver >/dev/null
built=$(date +%s)
echo "tsan: built in $((built - begin)) s"

export TSAN_OPTIONS="second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
floor=()
[ $# -gt 0 ] || floor=(--stage tsan)  # (tools/ci/test-floors.txt)
rc=0
"$ROOT/tools/ci/ctest-strict.sh" "${floor[@]}" "$BUILD" --output-on-failure -j"${CTEST_JOBS:-2}" \
  --timeout 1200 -L '^(engine|net)$' "$@" || rc=$?
echo "tsan: took $(($(date +%s) - begin)) s (build $((built - begin)) s)"
exit "$rc"
