#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CI stage: churn against h265direct's TCP outputs on loopback (tools/churn.py, about a
# minute): 300 receivers coming and going and 75 that never read against -l, a -t receiver
# that is absent, stalls and restarts. Fails unless the peak RSS stays under the limit, the
# open descriptors come back to their count before the churn, and the normal receiver got
# every frame the server sent it, none dropped, all decodable by ffprobe.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
start=$(date +%s)
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  echo "churn: $BUILD_DIR is not configured: running tools/setup.sh"
  "$ROOT/tools/setup.sh"
fi
echo "churn: building h265direct in $BUILD_DIR"
cmake --build "$BUILD_DIR" --target h265direct_cli -j"$(nproc)" >/dev/null
args=(--binary "$BUILD_DIR/h265direct" --rounds 3 --churn 100 --stalled 25 --max-rss-mb 80)
echo "churn: python3 tools/churn.py ${args[*]}"
rc=0
python3 "$ROOT/tools/churn.py" "${args[@]}" || rc=$?
echo "churn: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start)) s"
exit $rc
