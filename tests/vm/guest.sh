# SPDX-License-Identifier: GPL-2.0-or-later
# The VM suite's scenarios, run inside the guest (busybox sh) against vivid's /dev/video0 and
# /dev/video1 and an MJPEG camera (v4l2loopback, /dev/video4, fed /share/mjpeg_source.mjpeg).
# Host-built programs run from the read-only host root with chroot; results go to /share,
# one set of files per scenario: NAME.out, NAME.err, NAME.rc (+ the streams it wrote).
# The host side (vm_results_test.cpp) decodes and checks them; this script only runs things.
#
# Settings (guest.env, from the host): H265D_GUEST_BIN (h265direct), H265D_GUEST_PROBE
# (capture_probe).

. /share/guest.env
BIN=$H265D_GUEST_BIN
PROBE=$H265D_GUEST_PROBE
DEV=/dev/video0
MP=/dev/video1            # vivid's multi-planar instance
OUT=/tmp/share            # /share as seen from inside the chroot
SMALL="-s 320x180"

log() { echo "guest: $*"; echo "$*" >> /share/progress.txt; }
now() { cut -d' ' -f1 /proc/uptime; }

# run NAME PROGRAM ARGS...: runs a host program in the chroot, keeps its output and status.
run() {
    name=$1
    shift
    t0=$(now)
    chroot /host "$@" > /share/$name.out 2> /share/$name.err
    rc=$?
    echo $rc > /share/$name.rc
    log "$name: status $rc after $(echo "$(now) - $t0" | awk '{print $1 - $3}') s"
}
v4l2() { chroot /host /usr/bin/v4l2-ctl -d $DEV "$@"; }

# wait_for FILE TEXT COUNT: until FILE has COUNT lines containing TEXT (gives up after 60 s).
# Used to act on a running h265direct only once it is really streaming: starting a program
# from the 9p root under software emulation takes seconds, so fixed sleeps would race.
wait_for() {
    i=0
    while :; do
        n=$(grep -c "$2" "$1" 2>/dev/null)
        [ "${n:-0}" -ge "$3" ] && return 0
        i=$((i + 1))
        [ $i -ge 600 ] && return 1
        sleep 0.1
    done
}

[ -e $DEV ] || { echo "no $DEV" > /share/setup.err; exit 3; }
chroot /host "$BIN" --version > /share/version.txt 2>&1
uname -r > /share/kernel.txt
log "start at $(now) s"

# The MJPEG camera's feeder (used at the end) starts now: loading ffmpeg's 200-odd libraries
# from the 9p root takes half a minute under emulation, which it spends here beside the
# first scenarios. Until its FIFO is written it waits, without opening the camera. It is
# not a child of this shell, so that the scenarios' `wait`s do not wait for it.
mkfifo /host/tmp/mjpeg.fifo
(chroot /host /usr/bin/ffmpeg -nostdin -loglevel error -re -f mjpeg -framerate 15 \
    -i /tmp/mjpeg.fifo -c:v copy -f v4l2 /dev/video4 2> /share/mjpeg_feed.err &
 echo $! > /tmp/mjpeg_feeder.pid)

# --list-formats on the real driver.
run list_formats "$BIN" -d $DEV --list-formats

# Every common camera format end to end, at a small size (software emulation is slow).
for f in YUYV UYVY VYUY NV12 YU12 RGB3; do
    run fmt_$f "$BIN" -d $DEV --pixel-format $f $SMALL -r 15 --frames 12 -o $OUT/fmt_$f.h265
done

# The still picture: vivid without its text overlay gives the same colour bars every frame.
# The driver's own frame (v4l2-ctl) is the reference for the decoded one.
v4l2 --set-ctrl=osd_text_mode=2
v4l2 --set-fmt-video=width=320,height=180,pixelformat=YUYV --set-parm=15 \
    --stream-mmap --stream-count=3 --stream-to=$OUT/still_ref.yuyv > /dev/null 2>&1
run still "$BIN" -d $DEV --pixel-format YUYV $SMALL -r 15 --frames 8 -b 3000 \
    -o $OUT/still.h265
# The same picture captured as VYUY (chroma bytes in the other order) must decode to it too.
run still_vyuy "$BIN" -d $DEV --pixel-format VYUY $SMALL -r 15 --frames 8 -b 3000 \
    -o $OUT/still_vyuy.h265

# Frames from h265direct's camera source, raw, against v4l2-ctl's in the same formats.
for f in YUYV UYVY VYUY NV12 YU12 RGB3; do
    v4l2 --set-fmt-video=width=320,height=180,pixelformat=$f --set-parm=15 \
        --stream-mmap --stream-count=2 --stream-to=$OUT/raw_ref_$f.raw > /dev/null 2>&1
    run raw_$f "$PROBE" $DEV $f 320x180 15 2 $OUT/raw_$f.raw
done
v4l2 --set-ctrl=osd_text_mode=0

# Controls: listed, set (vivid's brightness moves its picture's luma), and refused.
run list_controls "$BIN" -d $DEV --list-controls
run ctrl_base "$BIN" -d $DEV --pixel-format YUYV $SMALL -r 15 --frames 4 \
    --ctrl brightness=128 -o $OUT/ctrl_base.h265
run ctrl_bright "$BIN" -d $DEV --pixel-format YUYV $SMALL -r 15 --frames 4 \
    --ctrl brightness=220,contrast=128 -o $OUT/ctrl_bright.h265
run ctrl_unknown "$BIN" -d $DEV $SMALL -r 15 --frames 2 --ctrl no_such_control=1 \
    -o $OUT/ctrl_unknown.h265
run ctrl_range "$BIN" -d $DEV $SMALL -r 15 --frames 2 --ctrl brightness=256 \
    -o $OUT/ctrl_range.h265
ro=$(grep -m1 'read-only' /share/list_controls.out | awk '{print $1}')
echo "$ro" > /share/ctrl_read_only_name.txt
run ctrl_read_only "$BIN" -d $DEV $SMALL -r 15 --frames 2 --ctrl "${ro:-none}=1" \
    -o $OUT/ctrl_read_only.h265

# vivid tops out at 25 fps at 640x480: asking 30 is answered with 25, and said so.
run rate "$BIN" -d $DEV -s 640x480 -r 30 --frames 4 -o $OUT/rate.h265

# A size vivid does not have: an error naming the sizes it has.
run bad_size "$BIN" -d $DEV -s 800x600 -r 15 --frames 4 -o $OUT/bad_size.h265

# Frames further apart than the frame timeout: reported, the run goes on.
# (vivid's lowest rate, 1 fps, and the shortest timeout: a frame period is 900 ms longer than
# the timeout, so even an emulated guest on a loaded host waits that long between frames.)
run timeout "$BIN" -d $DEV $SMALL -r 1 --frame-timeout 100 --frames 6 -o $OUT/timeout.h265

# The device goes away (vivid's error-injection "disconnect" control) and comes back when its
# last user closes it; h265direct keeps going and resumes with a keyframe.
# Pulled once two stats lines show frames flowing.
# It comes back under another node while another device has taken its old one: before the
# disconnect, /dev/video0 is renamed /dev/video5 (vivid re-registers under the same number,
# so the guest's devtmpfs node is moved, as a USB camera would return as another number) and
# /dev/video0 is made the multi-planar instance's node (same card name "vivid", other bus
# info). h265direct must find the camera by its identity at /dev/video5, not take the other
# device at /dev/video0.
rm -f /share/loss.err /share/loss_exit.err
(wait_for /share/loss.err kbps 2
 mv $DEV /dev/video5 && mknod $DEV c $((0x$(stat -c %t $MP))) $((0x$(stat -c %T $MP)))
 chroot /host /usr/bin/v4l2-ctl -d /dev/video5 --set-ctrl=disconnect=1
 echo "disconnect status $?" > /share/loss_trigger.txt) &
run loss "$BIN" -d $DEV $SMALL -r 15 --frames 75 --keyint 1000 --ctrl brightness=220 \
    -o $OUT/loss.h265
wait
rm -f $DEV
mv /dev/video5 $DEV
(wait_for /share/loss_exit.err kbps 2; v4l2 --set-ctrl=disconnect=1) &
run loss_exit "$BIN" -d $DEV $SMALL -r 15 --frames 300 --exit-on-device-loss -o $OUT/loss_exit.h265
wait

# Stream errors (vivid's error injection): one frame flagged damaged (dropped, counted),
# then a fatal streaming error (the stream is restarted like a returning device).
rm -f /share/stream_error.err
(wait_for /share/stream_error.err kbps 2; v4l2 --set-ctrl=inject_v4l2_buf_flag_error=1
 wait_for /share/stream_error.err kbps 3; v4l2 --set-ctrl=inject_fatal_streaming_error=1) &
run stream_error "$BIN" -d $DEV $SMALL -r 15 --frames 60 --keyint 1000 --stats-json \
    -o $OUT/stream_error.h265
wait

# Encoding slower than the camera: the newest frame is taken, older ones counted as skipped.
# 80 frames: several stats intervals with frames also when the emulated machine is quick
# (some 60 ms a frame there once warm: five seconds)
run slow "$BIN" -d $DEV $SMALL -r 60 --preset medium --frames 80 --stats-json \
    -o $OUT/slow.h265
run slow_probe "$PROBE" $DEV YUYV 320x180 60 10 $OUT/slow_probe.raw --hold-ms 200 --buffers 16

# A multi-planar-only device (vivid's second instance, multiplanar=2), named through a
# /dev/v4l/by-path link as udev would make it: the single-buffer formats and those with a
# buffer per plane (one of each layout: two planes, three, three of 4:2:2), raw frames against
# v4l2-ctl's; YM12 encoded (it goes to the encoder as it is, from its three buffers). v4l2-ctl cannot set this device's rate (--set-parm asks single-planar).
mkdir -p /dev/v4l/by-path
ln -s ../../video1 /dev/v4l/by-path/platform-vivid.1-video-index0
run mp_list_formats "$BIN" -d $MP --list-formats
chroot /host /usr/bin/v4l2-ctl -d $MP --set-ctrl=osd_text_mode=2
for f in YUYV NV12 NM12 YM12 YM16 YM61 YM24 YM42 NM16 NM61; do
    chroot /host /usr/bin/v4l2-ctl -d $MP --set-fmt-video=width=320,height=180,pixelformat=$f \
        --stream-mmap --stream-count=2 --stream-to=$OUT/mp_raw_ref_$f.raw > /dev/null 2>&1
    run mp_raw_$f "$PROBE" $MP $f 320x180 15 2 $OUT/mp_raw_$f.raw
done
run mp_fmt_YM12 "$BIN" -d /dev/v4l/by-path/platform-vivid.1-video-index0 --pixel-format YM12 \
    $SMALL -r 15 --frames 6 -o $OUT/mp_fmt_YM12.h265
# The single-buffer formats through the multi-planar API, and 4:4:4 (libswscale), encoded too.
for f in YUYV NV12 YM24; do
    run mp_fmt_$f "$BIN" -d $MP --pixel-format $f $SMALL -r 15 --frames 6 -o $OUT/mp_fmt_$f.h265
done
chroot /host /usr/bin/v4l2-ctl -d $MP --set-ctrl=osd_text_mode=0

# Bad devices: in use by another program, not a video device, missing.
# The holder streams until killed; the device counts as busy once a format change is refused.
chroot /host /usr/bin/v4l2-ctl -d $DEV --set-fmt-video=width=320,height=180,pixelformat=YUYV \
    --set-parm=10 --stream-mmap --stream-count=100000 > /dev/null 2>&1 &
holder=$!
i=0
until v4l2 --set-fmt-video=width=320,height=180,pixelformat=YUYV 2>&1 | grep -q -i busy; do
    i=$((i + 1))
    [ $i -ge 100 ] && break
    sleep 0.2
done
run busy "$BIN" -d $DEV $SMALL -r 15 --frames 4 -o $OUT/busy.h265
kill $holder
wait
run not_video "$BIN" -d /dev/null $SMALL --frames 4 -o $OUT/not_video.h265
run missing "$BIN" -d /dev/video9 $SMALL --frames 4 -o $OUT/missing.h265
run directory "$BIN" -d /dev $SMALL --frames 4 -o $OUT/directory.h265

# An MJPEG camera: v4l2loopback (built for this kernel by vm.sh) fed MJPEG frames by ffmpeg
# (started above), copied from a file made on the host (mjpeg_source.mjpeg: 320x240 JPEGs,
# sent round and round at 15 fps), as a USB webcam sends them. The device only offers MJPG;
# libv4l2 decodes it into the formats it emulates. The rate is the device's (v4l2loopback's
# sysfs "format" attribute, as v4l2loopback-ctl sets it); ffmpeg -re writes at 15 fps.
# exclusive_caps: a capture device only once a writer is there, as h265direct expects of a
# camera.
LB=/dev/video4
tm=$(now)
insmod /modules/extra/v4l2loopback.ko video_nr=4 card_label="MJPEG loopback" exclusive_caps=1 \
    2> /share/mjpeg_insmod.err
echo "insmod status $?" > /share/mjpeg_insmod.txt
echo @15 > /sys/class/video4linux/video4/format
(while :; do cat /share/mjpeg_source.mjpeg || exit; done > /host/tmp/mjpeg.fifo) &
source_loop=$!
i=0
until grep -q MJPG /sys/class/video4linux/video4/format 2>/dev/null; do
    i=$((i + 1))
    [ $i -ge 600 ] && break
    sleep 0.1
done
cat /sys/class/video4linux/video4/format > /share/mjpeg_device_format.txt 2>&1
log "mjpeg: loopback fed after $(echo "$(now) - $tm" | awk '{print $1 - $3}') s"
run mjpeg_list_formats "$BIN" -d $LB -s 320x240 -r 15 --list-formats
# The camera source's own frames (libv4l2's decoding, no encoder), with their sequence
# numbers and capture times, for the rate; then h265direct end to end.
run mjpeg_probe "$PROBE" $LB auto 320x240 15 45 $OUT/mjpeg_probe.yuv
run mjpeg "$BIN" -d $LB -s 320x240 -r 15 --frames 8 -b 3000 --stats-json -o $OUT/mjpeg.h265
kill $source_loop $(cat /tmp/mjpeg_feeder.pid)
wait $source_loop
log "mjpeg: all after $(echo "$(now) - $tm" | awk '{print $1 - $3}') s"

log "done at $(now) s"
exit 0
