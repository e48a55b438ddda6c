#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ctest where a skip is not a pass and a missing test is not either: runs ctest in BUILD_DIR
# with the given arguments, then fails
#   - if any test did not run -- skipped (GTEST_SKIP(), which gtest_discover_tests reports as
#     "Skipped"; a SKIP_RETURN_CODE) or disabled -- and lists those tests. In CI every peer a
#     test may need is installed, so a skip there means a test checked nothing;
#   - if fewer tests ran than expected: as many as `ctest -N` lists for the same selection, and
#     with --stage NAME at least the floor of that stage in tools/ci/test-floors.txt (a test
#     program whose discovery silently lists nothing lists fewer, and the floor catches it).
#
#   tools/ci/ctest-strict.sh [--stage NAME] BUILD_DIR [CTEST ARGS...]
#   e.g. tools/ci/ctest-strict.sh build --output-on-failure -j2 -L net
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: $0 [--stage NAME] BUILD_DIR [CTEST ARGS...]" >&2; exit 2; }
stage=
if [ "${1:-}" = --stage ]; then
  [ $# -ge 2 ] || usage
  stage=$2
  shift 2
fi
[ $# -ge 1 ] || usage
begin=$(date +%s)
build=$(cd "$1" && pwd)
shift

floor=0
if [ -n "$stage" ]; then
  floor=$(awk -v s="$stage" '$1 == s {print $2; exit}' "$HERE/test-floors.txt")
  [ -n "$floor" ] || { echo "ctest-strict: no floor for stage '$stage' in $HERE/test-floors.txt" >&2; exit 2; }
fi

junit=$(mktemp --suffix=.xml)
trap 'rm -f "$junit"' EXIT

# What the selection holds (ctest -N takes the same filters; the others do not matter there).
# (Arguments ctest cannot take fail the run below, with ctest's own message.)
listed=$(cd "$build" && ctest -N "$@" 2>/dev/null | sed -n 's/^Total Tests: //p' || true)
listed=${listed:-0}

echo "ctest-strict: ctest $* (in $build); any skipped test fails the run"
rc=0
(cd "$build" && ctest --no-tests=error --output-junit "$junit" "$@") || rc=$?

# ctest's JUnit report: status="run" or "fail" for tests that ran, "notrun" for skipped tests
# (and tests that could not start, which ctest already counts as failed), "disabled" for
# disabled ones.
mapfile -t notrun < <(grep -o '<testcase name="[^"]*"[^>]*status="\(notrun\|disabled\)"' "$junit" |
                      sed 's/<testcase name="\([^"]*\)".*status="\([a-z]*\)"/\1 (\2)/')
ran=$(grep -c '<testcase name="[^"]*"[^>]*status="\(run\|fail\)"' "$junit" || true)
if [ ! -s "$junit" ]; then
  echo "ctest-strict: ctest wrote no report" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
if [ ${#notrun[@]} -gt 0 ]; then
  echo "ctest-strict: FAILED: ${#notrun[@]} test(s) did not run (a skip is not a pass):" >&2
  printf '  %s\n' "${notrun[@]}" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
expected=$((listed > floor ? listed : floor))
why="ctest -N lists $listed"
[ -z "$stage" ] || why="$why; the floor of stage $stage is $floor"
echo "ctest-strict: $ran tests ran, at least $expected expected ($why)"
if [ "$ran" -lt "$expected" ]; then
  echo "ctest-strict: FAILED: fewer tests ran than expected" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
echo "ctest-strict: status $rc, took $(($(date +%s) - begin)) s"
exit "$rc"
