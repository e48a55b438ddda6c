#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A throw-away test machine with a real V4L2 capture device: Debian's own kernel booted under
# qemu with the `vivid` virtual video driver, for x86-64 (amd64) or aarch64 (arm64). The guest
# sees the host's root file system read-only (9p, at /host), so host-built programs run
# unchanged with `chroot /host` (for arm64, the cross-built ones, through the host's multiarch
# arm64 libraries), and a read-write share for results. The guest's /tmp there is a tmpfs of
# its own; programs built under the host's /tmp (H265D_GUEST_* paths) are bound into it.
#
#   vm.sh prepare                     packages, kernel, initramfs (idempotent)
#   vm.sh run GUEST_SCRIPT SHARE_DIR [FILE...]
#                                     boot, run GUEST_SCRIPT (busybox sh) in the guest with
#                                     SHARE_DIR mounted at /share (FILEs copied there first);
#                                     exits with the script's status
#
# Environment:
#   H265D_VM_ARCH    amd64 (default) or arm64: the guest's architecture
#   H265D_VM_CACHE   kernel + initramfs cache (default ${XDG_CACHE_HOME:-~/.cache}/h265direct-vm),
#                    one folder per architecture
#   H265D_VM_TIMEOUT seconds before qemu is killed (default 900)
#   H265D_VM_ACCEL   tcg (default) or kvm (only where the host has the guest's architecture)
#   H265D_VM_CPUS    the guest's CPUs (default 2)
#   H265D_VM_VIVID   vivid module parameters (default: two webcam-like capture nodes,
#                    /dev/video0 single-planar and /dev/video1 multi-planar, error
#                    injection controls enabled)
#   H265D_GUEST_*    passed to the guest script in /share/guest.env (source it)
#
# amd64 only: a second kind of camera, an MJPEG one. Debian's v4l2loopback (the source of
# v4l2loopback-dkms, only downloaded) is built against the guest kernel's own headers
# (linux-headers-KVER, also only downloaded and unpacked) into the cache, once per kernel and
# v4l2loopback version, and put in the initramfs as /modules/extra/v4l2loopback.ko; the
# guest script loads it (insmod) with the options it wants and feeds it with ffmpeg.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ARCH=${H265D_VM_ARCH:-amd64}
CACHE=${H265D_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/h265direct-vm}/$ARCH
# Two instances, each one webcam-like capture node: /dev/video0 single-planar, /dev/video1
# multi-planar only (the API of SoC capture blocks).
VIVID_OPTS=${H265D_VM_VIVID:-n_devs=2 node_types=0x1,0x1 num_inputs=1,1 input_types=0x0,0x0 multiplanar=1,2}
# What differs between the architectures: qemu, its machine, the serial console, and where
# the guest's busybox comes from. The amd64 guest runs the host's own busybox-static; the
# arm64 one needs busybox-static:arm64, which cannot be installed beside the amd64 package
# (they conflict), so it is only downloaded and unpacked into the cache.
case $ARCH in
    amd64)
        # build-essential (gcc-12, make) and libelf1 (kbuild's objtool) build v4l2loopback.
        PACKAGES=(qemu-system-x86 busybox-static v4l-utils cpio kmod build-essential libelf1)
        QEMU=qemu-system-x86_64
        MACHINE=()
        TCG_CPU=max
        CONSOLE=ttyS0
        ;;
    arm64)
        PACKAGES=(qemu-system-arm cpio kmod)
        QEMU=qemu-system-aarch64
        MACHINE=(-M virt)
        TCG_CPU=cortex-a72
        CONSOLE=ttyAMA0
        ;;
    *)
        echo "vm: unknown H265D_VM_ARCH '$ARCH' (amd64 or arm64)" >&2
        exit 1
        ;;
esac
# Kernel modules the guest loads: the V4L2 stack through vivid, and 9p over virtio for the
# shares. Their dependencies are resolved from the kernel's own modules.dep.
MODULES=(vivid virtio_pci 9pnet_virtio 9p)

say() { echo "vm: $*" >&2; }
die() { say "$*"; exit 1; }

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "need root to install: ${missing[*]}"
        sudo=sudo
    fi
    say "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        command -v sudo >/dev/null || die "need root for: $*"
        sudo "$@"
    fi
}

# Packages of another architecture can only be downloaded once dpkg knows it.
enable_architecture() {
    [ "$ARCH" = "$(dpkg --print-architecture)" ] && return 0
    dpkg --print-foreign-architectures | grep -qx "$ARCH" && return 0
    say "adding the $ARCH package architecture (for downloads only)"
    as_root dpkg --add-architecture "$ARCH"
    as_root apt-get update -qq
}

# The versioned kernel package behind Debian's linux-image-ARCH meta package. The version
# moves with point releases, so it is looked up, never written down.
resolve_kernel_package() {
    local meta=linux-image-$ARCH:$ARCH pkg
    pkg=$(apt-cache depends "$meta" 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    if [ -z "$pkg" ]; then
        as_root apt-get update -qq >&2
        pkg=$(apt-cache depends "$meta" 2>/dev/null |
            awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    fi
    [ -n "$pkg" ] || die "cannot resolve the kernel package behind $meta"
    echo "$pkg"
}

# Downloads one package (as root: as root, since apt's download user cannot write into
# root's cache) into the folder given and unpacks it there, into root/.
download_unpack() {
    local pkg=$1 dir=$2
    local sandbox=()
    [ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
    (cd "$dir" && apt-get download -q "${sandbox[@]}" "$pkg" >&2)
    dpkg-deb -x "$dir"/"${pkg%%:*}"_*.deb "$dir/root"
    rm -f "$dir"/*.deb
}

# The guest's busybox: the host's for amd64, an unpacked busybox-static:arm64 for arm64.
fetch_busybox() {
    if [ "$ARCH" = amd64 ]; then
        BUSYBOX=/usr/bin/busybox
        return 0
    fi
    BUSYBOX=$CACHE/busybox/root/bin/busybox
    [ -x "$BUSYBOX" ] && return 0
    say "fetching busybox-static:$ARCH"
    rm -rf "$CACHE/busybox.tmp"
    mkdir -p "$CACHE/busybox.tmp"
    download_unpack "busybox-static:$ARCH" "$CACHE/busybox.tmp"
    rm -rf "$CACHE/busybox"
    mv "$CACHE/busybox.tmp" "$CACHE/busybox"
    [ -x "$BUSYBOX" ] || die "busybox-static:$ARCH has no bin/busybox"
}

# The kernel is only unpacked into the cache (never installed on the host).
fetch_kernel() {
    if [ -f "$CACHE/kernel/version" ] && [ -d "$CACHE/kernel/root/lib/modules" ]; then
        return 0
    fi
    local pkg kver tmp
    pkg=$(resolve_kernel_package)
    kver=${pkg%%:*}
    kver=${kver#linux-image-}
    say "fetching $pkg"
    tmp=$CACHE/kernel.tmp
    rm -rf "$tmp"
    mkdir -p "$tmp"
    download_unpack "$pkg" "$tmp"
    depmod -b "$tmp/root" "$kver"
    echo "$kver" >"$tmp/version"
    rm -rf "$CACHE/kernel"
    mv "$tmp" "$CACHE/kernel"
}

# The candidate version of a package (what `apt-get download` fetches).
package_version() {
    apt-cache show --no-all-versions "$1" 2>/dev/null | awk '/^Version:/ {print $2; exit}'
}

# v4l2loopback.ko for the guest kernel (amd64 only): LOOPBACK_KO, empty for other guests.
# The headers' Makefile includes its -common part by absolute path (/usr/src/...); the
# unpacked copy is pointed at its own folder instead.
build_v4l2loopback() {
    LOOPBACK_KO=
    [ "$ARCH" = amd64 ] || return 0
    local kver lbver key dir tmp hdr src t0
    kver=$(cat "$CACHE/kernel/version")
    lbver=$(package_version v4l2loopback-dkms)
    if [ -z "$lbver" ]; then
        as_root apt-get update -qq >&2
        lbver=$(package_version v4l2loopback-dkms)
    fi
    [ -n "$lbver" ] || die "no v4l2loopback-dkms package known to apt"
    key="$kver $lbver"
    dir=$CACHE/v4l2loopback
    LOOPBACK_KO=$dir/v4l2loopback.ko
    if [ -f "$LOOPBACK_KO" ] && [ "$(cat "$dir/key" 2>/dev/null)" = "$key" ]; then
        return 0
    fi
    t0=$(date +%s)
    say "building v4l2loopback $lbver for $kver"
    tmp=$CACHE/v4l2loopback.tmp
    rm -rf "$tmp"
    mkdir -p "$tmp"
    local pkg
    for pkg in "linux-headers-$kver" "linux-headers-${kver%-*}-common" \
        "linux-kbuild-$(echo "$kver" | cut -d. -f1,2)" v4l2loopback-dkms; do
        download_unpack "$pkg" "$tmp"
    done
    hdr=$tmp/root/usr/src/linux-headers-$kver
    sed -i "s|^include /usr/src/|include $tmp/root/usr/src/|" "$hdr/Makefile"
    src=$(echo "$tmp"/root/usr/src/v4l2loopback-*)
    [ -f "$src/v4l2loopback.c" ] || die "v4l2loopback-dkms has no v4l2loopback.c"
    make -s -C "$hdr" M="$src" modules >&2 || die "building v4l2loopback failed"
    strip --strip-debug -o "$tmp/v4l2loopback.ko" "$src/v4l2loopback.ko"
    local magic
    magic=$(modinfo -F vermagic "$tmp/v4l2loopback.ko")
    case $magic in "$kver "*) ;; *) die "v4l2loopback.ko is for '$magic', not $kver" ;; esac
    rm -rf "$dir"
    mkdir -p "$dir"
    mv "$tmp/v4l2loopback.ko" "$LOOPBACK_KO"
    echo "$key" >"$dir/key"
    rm -rf "$tmp"
    say "v4l2loopback built in $(($(date +%s) - t0)) s"
}

build_initramfs() {
    local kver root stamp
    kver=$(cat "$CACHE/kernel/version")
    stamp="$kver $(md5sum <"$HERE/init") $(md5sum <"$BUSYBOX") $VIVID_OPTS"
    [ -z "$LOOPBACK_KO" ] || stamp="$stamp $(md5sum <"$LOOPBACK_KO")"
    if [ -f "$CACHE/initrd.gz" ] && [ "$(cat "$CACHE/initrd.stamp" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    say "building the initramfs"
    root=$CACHE/initrd.root
    rm -rf "$root"
    mkdir -p "$root"/{bin,dev,proc,sys,tmp,share,host,modules}
    cp "$BUSYBOX" "$root/bin/busybox"
    local m ko name
    for m in "${MODULES[@]}"; do
        modprobe -d "$CACHE/kernel/root" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
    done | awk '!seen[$0]++' | while read -r ko; do
        name=$(basename "$ko")
        name=${name%.xz}
        name=${name%.zst}
        case $ko in
            *.xz) xz -dc "$ko" >"$root/modules/$name" ;;
            *.zst) zstd -qdc "$ko" >"$root/modules/$name" ;;
            *) cp "$ko" "$root/modules/$name" ;;
        esac
        echo "$name"
    done >"$root/modules/order"
    [ -s "$root/modules/order" ] || die "no kernel modules found for ${MODULES[*]}"
    if [ -n "$LOOPBACK_KO" ]; then
        mkdir -p "$root/modules/extra"
        cp "$LOOPBACK_KO" "$root/modules/extra/"
    fi
    install -m755 "$HERE/init" "$root/init"
    printf '%s\n' "$VIVID_OPTS" >"$root/vivid.options"
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$CACHE/initrd.gz.tmp"
    mv "$CACHE/initrd.gz.tmp" "$CACHE/initrd.gz"
    echo "$stamp" >"$CACHE/initrd.stamp"
    rm -rf "$root"
}

prepare() {
    mkdir -p "$CACHE"
    install_packages
    enable_architecture
    fetch_kernel
    fetch_busybox
    build_v4l2loopback
    build_initramfs
}

run_guest() {
    local script=$1 share=$2
    shift 2
    [ -f "$script" ] || die "no guest script $script"
    prepare
    local kver accel cpu
    kver=$(cat "$CACHE/kernel/version")
    rm -rf "$share"
    mkdir -p "$share"
    share=$(cd "$share" && pwd)
    cp "$script" "$share/guest.sh"
    # Settings for the guest script: every H265D_GUEST_* variable, as a file it sources.
    local var
    for var in $(compgen -v H265D_GUEST_ || true); do
        printf "%s=%q\n" "$var" "${!var}"
    done >"$share/guest.env"
    # The guest's /tmp under the host root is a tmpfs of its own (init): programs of a build
    # under the host's /tmp are reached through their entries there, bound in by init.
    local name
    for var in $(compgen -v H265D_GUEST_ || true); do
        case ${!var} in
            /tmp/?*)
                name=${!var#/tmp/}
                name=${name%%/*}
                [ "$name" != share ] || die "$var: /tmp/share is the guest's results folder"
                echo "$name"
                ;;
        esac
    done | sort -u >"$share/host-tmp"
    local f
    for f in "$@"; do cp "$f" "$share/"; done
    accel=${H265D_VM_ACCEL:-tcg}
    cpu=$TCG_CPU
    [ "$accel" = kvm ] && cpu=host
    local t0 t1 qrc=0
    t0=$(date +%s)
    # qemu ignores SIGTERM from an outer `timeout` while the guest runs; this one is
    # qemu's own process, so it is the one that reliably ends a stuck guest.
    timeout -s KILL "${H265D_VM_TIMEOUT:-900}" "$QEMU" "${MACHINE[@]}" \
        -accel "$accel" -cpu "$cpu" -smp "${H265D_VM_CPUS:-2}" -m 1G -nographic -no-reboot -nic none \
        -kernel "$CACHE/kernel/root/boot/vmlinuz-$kver" -initrd "$CACHE/initrd.gz" \
        -append "console=$CONSOLE panic=-1 quiet" \
        -virtfs "local,path=$share,mount_tag=share,security_model=none,id=share" \
        -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=hostroot" \
        </dev/null >"$share/console.log" 2>&1 || qrc=$?
    t1=$(date +%s)
    say "$ARCH guest finished after $((t1 - t0)) s (qemu status $qrc); console log: $share/console.log"
    if [ ! -f "$share/rc" ]; then
        tail -n 30 "$share/console.log" >&2 || true
        die "the guest did not report a result"
    fi
    return "$(cat "$share/rc")"
}

case ${1:-} in
    prepare) prepare ;;
    run)
        [ $# -ge 3 ] || die "usage: vm.sh run GUEST_SCRIPT SHARE_DIR [FILE...]"
        shift
        run_guest "$@"
        ;;
    *) die "usage: vm.sh prepare | vm.sh run GUEST_SCRIPT SHARE_DIR [FILE...]" ;;
esac
