#!/bin/bash
# A throw-away test machine with a real V4L2 capture device: Debian's own kernel booted under
# qemu with the `vivid` virtual video driver. The guest sees the host's root file system
# read-only (9p, at /host), so host-built programs run unchanged with `chroot /host`, and a
# read-write share for results.
#
#   vm.sh prepare                     packages, kernel, initramfs (idempotent)
#   vm.sh run GUEST_SCRIPT SHARE_DIR [FILE...]
#                                     boot, run GUEST_SCRIPT (busybox sh) in the guest with
#                                     SHARE_DIR mounted at /share (FILEs copied there first);
#                                     exits with the script's status
#
# Environment:
#   H265D_VM_CACHE   kernel + initramfs cache (default ${XDG_CACHE_HOME:-~/.cache}/h265direct-vm)
#   H265D_VM_TIMEOUT seconds before qemu is killed (default 900)
#   H265D_VM_ACCEL   tcg (default) or kvm
#   H265D_VM_VIVID   vivid module parameters (default: one webcam-like capture node, error
#                    injection controls enabled)
#   H265D_GUEST_*    passed to the guest script in /share/guest.env (source it)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${H265D_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/h265direct-vm}
VIVID_OPTS=${H265D_VM_VIVID:-n_devs=1 node_types=0x1 num_inputs=1 input_types=0x0}
PACKAGES=(qemu-system-x86 busybox-static v4l-utils cpio kmod)
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

# The versioned kernel package behind Debian's linux-image-amd64 meta package. The version
# moves with point releases, so it is looked up, never written down.
resolve_kernel_package() {
    local pkg
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    if [ -z "$pkg" ]; then
        local sudo=
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update -qq >&2
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
            awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    fi
    [ -n "$pkg" ] || die "cannot resolve the kernel package behind linux-image-amd64"
    echo "$pkg"
}

# The kernel is only unpacked into the cache (never installed on the host).
fetch_kernel() {
    if [ -f "$CACHE/kernel/version" ] && [ -d "$CACHE/kernel/root/lib/modules" ]; then
        return 0
    fi
    local pkg kver tmp
    pkg=$(resolve_kernel_package)
    kver=${pkg#linux-image-}
    say "fetching $pkg"
    tmp=$CACHE/kernel.tmp
    rm -rf "$tmp"
    mkdir -p "$tmp"
    # apt's download user cannot write into root's cache; as root, download as root.
    local sandbox=()
    [ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
    (cd "$tmp" && apt-get download -q "${sandbox[@]}" "$pkg" >&2)
    dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root"
    rm -f "$tmp"/*.deb
    depmod -b "$tmp/root" "$kver"
    echo "$kver" >"$tmp/version"
    rm -rf "$CACHE/kernel"
    mv "$tmp" "$CACHE/kernel"
}

build_initramfs() {
    local kver root stamp
    kver=$(cat "$CACHE/kernel/version")
    stamp="$kver $(md5sum <"$HERE/init") $VIVID_OPTS"
    if [ -f "$CACHE/initrd.gz" ] && [ "$(cat "$CACHE/initrd.stamp" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    say "building the initramfs"
    root=$CACHE/initrd.root
    rm -rf "$root"
    mkdir -p "$root"/{bin,dev,proc,sys,tmp,share,host,modules}
    cp /usr/bin/busybox "$root/bin/busybox"
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
    fetch_kernel
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
    local f
    for f in "$@"; do cp "$f" "$share/"; done
    accel=${H265D_VM_ACCEL:-tcg}
    cpu=max
    [ "$accel" = kvm ] && cpu=host
    local t0 t1 qrc=0
    t0=$(date +%s)
    # qemu ignores SIGTERM from an outer `timeout` while the guest runs; this one is
    # qemu's own process, so it is the one that reliably ends a stuck guest.
    timeout -s KILL "${H265D_VM_TIMEOUT:-900}" qemu-system-x86_64 \
        -accel "$accel" -cpu "$cpu" -smp 2 -m 1G -nographic -no-reboot -nic none \
        -kernel "$CACHE/kernel/root/boot/vmlinuz-$kver" -initrd "$CACHE/initrd.gz" \
        -append "console=ttyS0 panic=-1 quiet" \
        -virtfs "local,path=$share,mount_tag=share,security_model=none,id=share" \
        -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=hostroot" \
        </dev/null >"$share/console.log" 2>&1 || qrc=$?
    t1=$(date +%s)
    say "guest finished after $((t1 - t0)) s (qemu status $qrc); console log: $share/console.log"
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
