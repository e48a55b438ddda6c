# SPDX-License-Identifier: GPL-2.0-or-later
# Footprint of h265direct in a VM guest (either architecture; busybox sh): peak resident memory
# and thread count at 640x480 and 1280x720, from the test pattern and from vivid, a few frames
# each, to a file. Not part of the test suite (a measurement, for docs/benchmarks.md):
#
#   H265D_VM_ARCH=arm64 H265D_GUEST_BIN=$PWD/build-arm64/h265direct \
#       H265D_GUEST_RUSAGE=$PWD/build-arm64/bench/rusage_exec \
#       tests/vm/vm.sh run tests/vm/footprint.sh build/footprint-arm64
#
# (rusage_exec is the benchmarks' helper, bench/tools/rusage_exec.cpp, built for the guest's
# architecture: -DH265D_BUILD_BENCH=ON, target rusage_exec.)
#
# Settings: H265D_GUEST_FRAMES (frames per run, default 4), H265D_GUEST_SIZES (default
# "640x480 1280x720"); the guest's CPUs: H265D_VM_CPUS (vm.sh, default 2).
#
# Results: /share/footprint.txt, one line per run. maxrss_kb is the kernel's own peak, the
# ru_maxrss of the finished process from wait4() (busybox's `time -v` is no use here: it
# multiplies ru_maxrss, already in KiB, by page size / 1024); threads is the most seen in
# /proc/PID/status, read every 0.2 s while it runs (its threads live for the whole run).

. /share/guest.env
BIN=$H265D_GUEST_BIN
RUSAGE=$H265D_GUEST_RUSAGE
OUT=/tmp/share
FRAMES=${H265D_GUEST_FRAMES:-4}
SIZES=${H265D_GUEST_SIZES:-640x480 1280x720}

now() { cut -d' ' -f1 /proc/uptime; }

# measure NAME ARGS...: runs h265direct ARGS from the host root and records its footprint.
measure() {
    name=$1
    shift
    t0=$(now)
    rm -f /share/$name.rusage
    chroot /host "$RUSAGE" 3 "$BIN" "$@" 3> /share/$name.rusage \
        > /share/$name.out 2> /share/$name.err &
    tpid=$!
    threads=0
    while kill -0 $tpid 2> /dev/null; do
        p=$(awk '$1 == "pid" {print $2}' /share/$name.rusage 2> /dev/null)
        t=$(awk '/^Threads:/ {print $2}' /proc/${p:-0}/status 2> /dev/null)
        [ "${t:-0}" -gt $threads ] && threads=$t
        sleep 0.2
    done
    wait $tpid
    rc=$?
    rss=$(awk '$1 == "status" {print $8}' /share/$name.rusage)
    line="$name status=$rc maxrss_kb=$rss threads=$threads seconds=$(echo "$(now) $t0" | awk '{print $1 - $2}')"
    echo "guest: $line"
    echo "$line" >> /share/footprint.txt
}

chroot /host "$BIN" --version > /share/version.txt 2>&1
echo "$(uname -rm), $(grep -c ^processor /proc/cpuinfo) CPUs" > /share/kernel.txt
for size in $SIZES; do
    measure pattern_$size --pattern -s $size -r 5 --frames $FRAMES -q -o $OUT/pattern_$size.h265
    [ -e /dev/video0 ] &&
        measure vivid_$size -d /dev/video0 -s $size -r 5 --frames $FRAMES -q -o $OUT/vivid_$size.h265
done
exit 0
