#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CI stage: the aarch64 cross-build and its unit tests under user-mode qemu
# (tools/cross-arm64.sh), after tools/setup.sh has installed the cross packages (a no-op when
# tools/test.sh ran before on the same machine). Prints its duration; non-zero on any failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS=0
echo "ci/arm64: set-up (packages and the host build)"
"$ROOT/tools/setup.sh"
echo "ci/arm64: set-up took ${SECONDS}s"
status=0
"$ROOT/tools/cross-arm64.sh" || status=$?
echo "ci/arm64: $([ "$status" -eq 0 ] && echo passed || echo "FAILED (exit $status)") in ${SECONDS}s"
exit "$status"
