#!/bin/bash
# ctest where a skip is not a pass: runs ctest in BUILD_DIR with the given arguments, then
# fails if any test did not run -- skipped (GTEST_SKIP(), which gtest_discover_tests reports
# as "Skipped"; a SKIP_RETURN_CODE) or disabled -- and lists those tests. In CI every peer a
# test may need is installed, so a skip there means a test checked nothing.
#
#   tools/ci/ctest-strict.sh BUILD_DIR [CTEST ARGS...]
#   e.g. tools/ci/ctest-strict.sh build --output-on-failure -j2 -L net
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [CTEST ARGS...]" >&2; exit 2; }
begin=$(date +%s)
build=$(cd "$1" && pwd)
shift
junit=$(mktemp --suffix=.xml)
trap 'rm -f "$junit"' EXIT

echo "ctest-strict: ctest $* (in $build); any skipped test fails the run"
rc=0
(cd "$build" && ctest --no-tests=error --output-junit "$junit" "$@") || rc=$?

# ctest's JUnit report: status="notrun" for skipped tests (and tests that could not start,
# which ctest already counts as failed), status="disabled" for disabled ones.
mapfile -t notrun < <(grep -o '<testcase name="[^"]*"[^>]*status="\(notrun\|disabled\)"' "$junit" |
                      sed 's/<testcase name="\([^"]*\)".*status="\([a-z]*\)"/\1 (\2)/')
if [ ! -s "$junit" ]; then
  echo "ctest-strict: ctest wrote no report" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
if [ ${#notrun[@]} -gt 0 ]; then
  echo "ctest-strict: FAILED: ${#notrun[@]} test(s) did not run (a skip is not a pass):" >&2
  printf '  %s\n' "${notrun[@]}" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
echo "ctest-strict: status $rc, took $(($(date +%s) - begin)) s"
exit "$rc"
