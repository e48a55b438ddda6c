# SPDX-License-Identifier: GPL-2.0-or-later
# The arm64 VM suite's scenarios, run inside an aarch64 guest (busybox sh) against vivid's
# /dev/video0, with the cross-built programs run from the read-only host root by chroot (the
# host's multiarch arm64 libraries serve them). Whole-system emulation is 30-100x slower than
# the host, so sizes are small and frames few. Results go to /share as NAME.out, NAME.err,
# NAME.rc (+ the streams); vm_arm64_test.cpp decodes and checks them on the host, since the
# host's decoders cannot run here.
#
# Settings (guest.env, from the host): H265D_GUEST_BIN (h265direct for arm64),
# H265D_GUEST_RECEIVER (h265direct-receiver for arm64).

. /share/guest.env
BIN=$H265D_GUEST_BIN
RECEIVER=$H265D_GUEST_RECEIVER
DEV=/dev/video0
OUT=/tmp/share            # /share as seen from inside the chroot
CAM="-d $DEV -s 320x180 -r 15 --frames 10"

log() { echo "guest: $*"; echo "$*" >> /share/progress.txt; }
now() { cut -d' ' -f1 /proc/uptime; }

# run NAME PROGRAM ARGS...: runs a host-root program in the chroot, keeps its output and status.
# A run still going after 300 s is stuck (a healthy one takes well under a minute): it is
# killed, so that the other scenarios still run and report.
run() {
    name=$1
    shift
    t0=$(now)
    timeout -s KILL 300 chroot /host "$@" > /share/$name.out 2> /share/$name.err
    rc=$?
    echo $rc > /share/$name.rc
    log "$name: status $rc after $(echo "$(now) - $t0" | awk '{print $1 - $3}') s"
}

[ -e $DEV ] || { echo "no $DEV" > /share/setup.err; exit 3; }
chroot /host "$BIN" --version > /share/version.txt 2>&1
uname -rm > /share/kernel.txt
log "start at $(now) s"

# Camera -> encoder -> file, in a packed and a semi-planar format.
for f in YUYV NV12; do
    run fmt_$f "$BIN" $CAM --pixel-format $f -o $OUT/fmt_$f.h265
done

# TCP client (-t) over io_uring, Annex-B framing, to busybox nc listening in the guest. nc hands
# the connection to a script that only stores it. h265direct retries until nc listens, and
# encodes only once connected, so every frame arrives.
printf '#!/bin/sh\nexec cat > /share/tcp_client.h265\n' > /share/store.sh
chmod +x /share/store.sh
nc -l -p 5600 -e /share/store.sh &
nc_pid=$!
run tcp_client "$BIN" $CAM --pixel-format YUYV -t 127.0.0.1:5600 --framing annexb
# (a sender that failed before connecting leaves nc waiting: it is ended)
[ "$(cat /share/tcp_client.rc)" = 0 ] || kill $nc_pid 2>/dev/null
wait $nc_pid
echo $? > /share/tcp_client_nc.rc

# TCP server (-l) over io_uring, length framing, read by h265direct-receiver, which checks every
# access unit. The receiver retries while the server is still starting (refused: status 8).
rm -f /share/tcp_server.rc
(
    i=0
    while :; do
        chroot /host "$RECEIVER" -c 127.0.0.1:5601 -q -o $OUT/tcp_server.h265 \
            > /share/tcp_server_receiver.out 2> /share/tcp_server_receiver.err
        rc=$?
        i=$((i + 1))
        [ $rc -ne 8 ] || [ $i -ge 300 ] && break
        sleep 0.2
    done
    echo $rc > /share/tcp_server_receiver.rc
) &
receiver_pid=$!
run tcp_server "$BIN" $CAM --pixel-format NV12 -l 127.0.0.1:5601
wait $receiver_pid

log "done at $(now) s"
exit 0
