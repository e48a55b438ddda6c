#!/bin/bash
# Set-up plus the whole test suite (unit, integration with real GStreamer/FFmpeg peers,
# and the real V4L2 driver in a VM). ctest prints its summary last.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/tools/setup.sh"
cd "${BUILD_DIR:-$ROOT/build}"
exec ctest --output-on-failure -j"${CTEST_JOBS:-2}" --timeout 1200 "$@"
