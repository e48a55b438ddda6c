#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CI stage: builds the fuzz targets of tests/fuzz (libFuzzer, clang-14, AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each from its seed corpus for a bounded time. Fails on
# any finding (a broken property, a sanitizer report, a crash, a hang, memory blow-up); the
# input that caused it is kept as <work dir>/<target>-crash-... for tests/fuzz/corpus/.
#
#   FUZZ_SECONDS   seconds per target (default 30)
#   FUZZ_RUNS      stop a target earlier after this many executions (default: no limit)
#   FUZZ_MAX_LEN   longest input libFuzzer makes, in bytes (default 4096)
#   FUZZ_TARGETS   space-separated subset, e.g. "assembler options" (default: all)
#   FUZZ_JOBS      targets run at a time (default: the number of cores)
#   FUZZ_BUILD_DIR build folder (default build-fuzz)
#   FUZZ_WORK_DIR  where the corpora grow and findings land (default <build>/fuzz-work)
set -euo pipefail
begin=$(date +%s)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
WORK=${FUZZ_WORK_DIR:-$BUILD/fuzz-work}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-30}
RUNS=${FUZZ_RUNS:--1}
MAX_LEN=${FUZZ_MAX_LEN:-4096}

if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for f in "$ROOT"/tests/fuzz/*_fuzz.cpp; do
    n=$(basename "$f" .cpp)
    targets+=("${n%_fuzz}")
  done
fi

source "$ROOT/tools/ci/lib.sh"
echo "fuzz: configuring $BUILD (clang-14, -DH265D_FUZZ=ON)"
configure_build "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DH265D_FUZZ=ON \
  -DH265D_BUILD_TESTS=OFF -DH265D_BUILD_BENCH=OFF \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14
echo "fuzz: building ${targets[*]/%/_fuzz}"
cmake --build "$BUILD" -j"$(nproc)" --target "${targets[@]/%/_fuzz}" >/dev/null
built=$(date +%s)
echo "fuzz: built in $((built - begin)) s"

export UBSAN_OPTIONS=print_stacktrace=1
# fuzz_one TARGET: runs one target; its log is <work>/TARGET.log, its outcome (ok or
# finding) <work>/TARGET.status.
fuzz_one() {
  local t=$1
  mkdir -p "$WORK/$t"
  # New inputs go to the work folder; the seed corpus in the repository is only read.
  if "$BUILD/tests/fuzz/${t}_fuzz" -max_total_time="$SECONDS_PER_TARGET" -runs="$RUNS" \
      -max_len="$MAX_LEN" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$WORK/$t-" "$WORK/$t" "$ROOT/tests/fuzz/corpus/$t" \
      >"$WORK/$t.log" 2>&1; then
    echo ok >"$WORK/$t.status"
  else
    echo finding >"$WORK/$t.status"
  fi
}

# As many targets at a time as there are cores (each libFuzzer run is one process).
parallel=${FUZZ_JOBS:-$(nproc)}
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do
    wait -n || true
  done
  rm -f "$WORK/$t.status"
  echo "fuzz: $t for up to ${SECONDS_PER_TARGET} s (seeds: tests/fuzz/corpus/$t)"
  fuzz_one "$t" &
done
wait

failed=()
for t in "${targets[@]}"; do
  log="$WORK/$t.log"
  if [ "$(cat "$WORK/$t.status" 2>/dev/null)" = ok ]; then
    runs=$(sed -n 's/^stat::number_of_executed_units: //p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz: $t: ${runs:-?} executions, $cov, no finding"
  else
    echo "fuzz: $t: FINDING (log: $log)"
    grep -E 'ERROR|property broken|SUMMARY|Test unit written' "$log" | head -20 || true
    failed+=("$t")
  fi
done

echo "fuzz: took $(($(date +%s) - begin)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran without a finding"
