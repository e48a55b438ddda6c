#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Where h265direct spends more than the encoder alone, measured without timing noise:
#
#   bench/e2e/profile.sh [INPUT] [FRAMES]      (INPUT: motion480 (default), motion720, ...)
#
# 1. Instructions (valgrind callgrind): h265direct on the raw YUYV clip vs x265_floor on the
#    same frames in I420, both to nowhere; prints the totals and the biggest entries outside
#    libx265. Instruction counts do not depend on what else the machine runs.
# 2. Memory (/proc/PID/smaps): resident kilobytes per mapping (anonymous memory, heap, each
#    shared library) of both programs while they run, paced at 30 fps.
# Needs bench/e2e/compare.py to have made the inputs (build/bench-e2e/INPUT-300.*).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build}
input=${1:-motion480}
frames=${2:-30}
work=$build/bench-e2e
case $input in
*480) size=640x480 w=640 h=480 kbps=1000 ;;
*720) size=1280x720 w=1280 h=720 kbps=2000 ;;
*) echo "unknown input $input" >&2; exit 2 ;;
esac
yuyv=$work/$input-300.yuyv
i420=$work/$input-300.i420
[ -f "$yuyv" ] && [ -f "$i420" ] || { echo "run bench/e2e/compare.py first (inputs)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c $((w * h * 2 * frames)) "$yuyv" > "$tmp/in.yuyv"
head -c $((w * h * 3 / 2 * frames)) "$i420" > "$tmp/in.i420"

echo "== instructions, $frames frames of $input (callgrind)"
valgrind -q --tool=callgrind --callgrind-out-file="$tmp/cg.h265direct" \
    "$build/h265direct" --input "$tmp/in.yuyv" --pixel-format YUYV -s $size -r 30 --no-pace \
    -b $kbps --keyint 60 -q -o /dev/null
valgrind -q --tool=callgrind --callgrind-out-file="$tmp/cg.floor" \
    "$build/bench/x265_floor" -s $size -r 30 -b $kbps --keyint 60 < "$tmp/in.i420" 2>/dev/null
for p in h265direct floor; do
    total=$(callgrind_annotate "$tmp/cg.$p" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    echo "$p: $total instructions, $((total / frames)) per frame"
    callgrind_annotate "$tmp/cg.$p" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | grep -v libx265 |
        grep -v 'PROGRAM TOTALS' | head -6 | sed 's/^/    /' | cut -c1-140
done

echo "== resident memory by mapping (kB, while running paced)"
for p in h265direct floor; do
    if [ $p = h265direct ]; then
        "$build/h265direct" --input "$yuyv" --pixel-format YUYV -s $size -r 30 -b $kbps \
            --keyint 60 -q -o /dev/null --frames 90 &
    else
        # Paced like the other: one I420 frame every 1/30 s from a slow reader of the file.
        (i=0; while [ $i -lt 90 ]; do
            dd if="$i420" bs=$((w * h * 3 / 2)) skip=$i count=1 status=none; sleep 0.033
            i=$((i + 1)); done) |
            "$build/bench/x265_floor" -s $size -r 30 -b $kbps --keyint 60 2>/dev/null &
    fi
    pid=$!
    sleep 2
    echo "$p: $(grep VmHWM /proc/$pid/status)"
    awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6; if (name == "") name = "[anon]"; sub(".*/", "", name) }
         /^Rss:/ { rss[name] += $2 }
         END { for (n in rss) if (rss[n] > 0) print rss[n], n }' /proc/$pid/smaps |
        sort -rn | awk '{ printf "%s %s; ", $1, $2 } END { print "" }' | sed 's/^/    /'
    wait $pid
done
