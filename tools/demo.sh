#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Set-up plus the main job on the built-in moving test pattern (no camera needed): streams
# 10 s of 640x480 at 30 fps, 1000 kbit/s, to out.h265 and prints the per-second stats.
# Extra arguments go to h265direct (e.g. tools/demo.sh -v).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/tools/setup.sh"
exec "${BUILD_DIR:-$ROOT/build}/h265direct" --pattern --duration 10 -o out.h265 "$@"
