#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tools/spdx.sh on a small tree of its own: --check fails and names each source file and script
# without the identifier and nothing else; adding puts the line first (after a #! line) with
# the file's own comment, keeps the mode, leaves other files alone; then --check passes and a
# second run changes nothing.
set -euo pipefail
SPDX=$1/tools/spdx.sh
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "spdx self-test: $*" >&2; exit 1; }
id="SPDX-License-Identifier: GPL-2.0-or-later"

mkdir -p "$t/src/m" "$t/tools" "$t/tests/fuzz/corpus/x" "$t/build/y"
printf '#pragma once\nint f();\n' >"$t/src/m/a.hpp"
printf '#!/bin/bash\necho hi\n' >"$t/tools/run.sh"
printf '#!/bin/sh\nexit 0\n' >"$t/tools/postinst"
chmod 755 "$t/tools/run.sh" "$t/tools/postinst"
printf 'project(x)\n' >"$t/CMakeLists.txt"
printf 'import os\n' >"$t/tools/x.py"
printf '// %s\nint g();\n' "$id" >"$t/src/m/done.cpp"
printf 'key = value\n' >"$t/tools/settings.conf"
printf '#!/bin/sh\ndata\n' >"$t/tests/fuzz/corpus/x/seed"
printf 'int h();\n' >"$t/build/y/gen.cpp"
printf 'int k();\n' >"$t/src/m/empty_start.c"
: >"$t/src/m/empty.cpp"

out=$("$SPDX" --check "$t" 2>&1) && fail "--check passed on a tree without identifiers"
want="src/m/a.hpp src/m/empty.cpp src/m/empty_start.c tools/run.sh tools/postinst CMakeLists.txt tools/x.py"
for f in $want; do
  grep -q "^spdx: $f: no" <<<"$out" || fail "--check did not name $f: $out"
done
[ "$(grep -c '^spdx: .*: no' <<<"$out")" = 7 ] || fail "--check named other files: $out"

"$SPDX" "$t"
[ "$(sed -n 1p "$t/src/m/a.hpp")" = "// $id" ] || fail "a.hpp: $(head -2 "$t/src/m/a.hpp")"
[ "$(sed -n 2p "$t/src/m/a.hpp")" = "#pragma once" ] || fail "a.hpp lost its first line"
[ "$(cat "$t/src/m/empty.cpp")" = "// $id" ] || fail "empty.cpp: $(cat "$t/src/m/empty.cpp")"
[ "$(sed -n 1p "$t/tools/run.sh")" = "#!/bin/bash" ] || fail "run.sh: the #! line moved"
[ "$(sed -n 2p "$t/tools/run.sh")" = "# $id" ] || fail "run.sh: $(head -2 "$t/tools/run.sh")"
[ "$(sed -n 2p "$t/tools/postinst")" = "# $id" ] || fail "postinst: $(head -2 "$t/tools/postinst")"
[ "$(sed -n 1p "$t/CMakeLists.txt")" = "# $id" ] || fail "CMakeLists.txt: $(head -1 "$t/CMakeLists.txt")"
[ "$(sed -n 1p "$t/tools/x.py")" = "# $id" ] || fail "x.py: $(head -1 "$t/tools/x.py")"
[ -x "$t/tools/run.sh" ] || fail "run.sh lost its mode"
[ "$(cat "$t/tools/settings.conf")" = "key = value" ] || fail "settings.conf was changed"
[ "$(cat "$t/tests/fuzz/corpus/x/seed")" = "$(printf '#!/bin/sh\ndata')" ] || fail "corpus was changed"
[ "$(cat "$t/build/y/gen.cpp")" = "int h();" ] || fail "the build folder was changed"
[ "$(grep -c SPDX "$t/src/m/done.cpp")" = 1 ] || fail "done.cpp got a second line"

"$SPDX" --check "$t" || fail "--check fails after adding"
before=$(cd "$t" && find . -type f -exec md5sum {} + | sort)
"$SPDX" "$t"
after=$(cd "$t" && find . -type f -exec md5sum {} + | sort)
[ "$before" = "$after" ] || fail "a second run changed files"
rc=0
"$SPDX" --bogus "$t" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "an unknown option gave exit code $rc, not 2"
echo "spdx self-test: passed"
