#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The licence identifier of every source file and script (the project is GPL-2.0-or-later,
# LICENSE):
#   tools/spdx.sh [FOLDER]          adds "SPDX-License-Identifier: GPL-2.0-or-later" as the first
#                                   line (after a #! line) of each file under FOLDER (default:
#                                   the repository) that has none; a second run changes nothing
#   tools/spdx.sh --check [FOLDER]  changes nothing: lists each file without one, exit 1 if any
# Which files and which comment: C and C++ (.c .cc .cpp .h .hpp) take "//"; Python (.py .pyi),
# shell (.sh), CMake (.cmake, CMakeLists.txt) and every file whose #! line runs sh, bash or
# python take "#". Build folders (build*), the top's hidden folders (.git ...) and the test
# data (tests/fuzz/corpus, tests/*/data) are left out. Exit 2 on a bad argument.
set -euo pipefail
readonly ID="SPDX-License-Identifier: GPL-2.0-or-later"
check=0
if [ "${1:-}" = --check ]; then
  check=1
  shift
fi
case ${1:-} in -*) echo "spdx: unknown option $1 (usage: tools/spdx.sh [--check] [FOLDER])" >&2; exit 2 ;; esac
[ $# -le 1 ] || { echo "spdx: one folder at most (usage: tools/spdx.sh [--check] [FOLDER])" >&2; exit 2; }
TOP=${1:-$(cd "$(dirname "$0")/.." && pwd)}
[ -d "$TOP" ] || { echo "spdx: $TOP is not a folder" >&2; exit 2; }

# The comment that starts a line of `file`, or nothing when the file is not source or script.
comment_of() {
  local file=$1 first
  case $file in
    *.c | *.cc | *.cpp | *.h | *.hpp) echo "//"; return ;;
    *.py | *.pyi | *.sh | *.cmake | */CMakeLists.txt) echo "#"; return ;;
  esac
  IFS= read -r first <"$file" 2>/dev/null || true
  if [[ $first =~ ^\#!.*(/|[[:space:]])(sh|bash|python3?)([[:space:]]|$) ]]; then
    echo "#"
  fi
}

# Whether one of the first three lines carries an identifier (any licence: a file under
# another licence keeps its own).
has_id() {
  head -n 3 "$1" | grep -q "SPDX-License-Identifier:"
}

missing=0
while IFS= read -r -d '' file; do
  c=$(comment_of "$file")
  [ -n "$c" ] || continue
  has_id "$file" && continue
  if [ "$check" = 1 ]; then
    echo "spdx: ${file#"$TOP"/}: no \"$c $ID\" line"
    missing=$((missing + 1))
  elif [ ! -s "$file" ]; then
    printf '%s %s\n' "$c" "$ID" >"$file"
  elif head -c 2 "$file" | grep -q '^#!'; then
    sed -i "1a\\$c $ID" "$file"
  else
    sed -i "1i\\$c $ID" "$file"
  fi
done < <(find "$TOP" \( -path "$TOP/.*" -o -path "$TOP/build*" -o -path "$TOP/tests/fuzz/corpus" \
                        -o -path "$TOP/tests/*/data" -o -name __pycache__ \) -prune \
                     -o -type f -print0 | sort -z)
if [ "$missing" -gt 0 ]; then
  echo "spdx: $missing files without the licence identifier (tools/spdx.sh adds it)" >&2
  exit 1
fi
