#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CI stage: the Debian packages installed into a clean Debian 12 root.
# Builds the packages (tools/package.sh, lintian included), makes a minimal Debian 12 root with
# mmdebstrap (variant apt, from Debian's archive: the mirror this machine's apt uses, or
# DEBIAN_MIRROR; the root's tarball and the downloaded .debs are cached under $H265D_CACHE,
# default ~/.cache/h265direct, so a second run downloads only the package lists), installs the packages there with apt-get install ./*.deb, checks the system
# user and the unit's program, streams the built-in pattern with the installed program to a
# file that the host's ffprobe decodes, purges the packages and checks that every file dpkg -L
# listed is gone. Needs root (chroot, mounts) and the network to Debian's archive. Prints its
# duration; non-zero on any failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ARCH=$(dpkg --print-architecture)
CACHE=${H265D_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/h265direct}
source "$ROOT/tools/ci/lib.sh"
MIRROR=$(debian_mirror) || exit 2
SECONDS=0
step() { echo "ci/package: $* (${SECONDS}s)"; }
fail() { echo "ci/package: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (chroot and mounts)"
step "set-up (packages and the host build; a no-op when done)"
"$ROOT/tools/setup.sh"
for tool in mmdebstrap ffprobe; do
  command -v "$tool" >/dev/null || fail "$tool missing (run tools/setup.sh)"
done

step "building the packages"
OUT=$(mktemp -d)
work=
cleanup() {
  if [ -n "$work" ]; then
    for m in var/cache/apt/archives sys proc; do
      mountpoint -q "$work/root/$m" && umount "$work/root/$m"
    done
    rm -rf "$work"
  fi
  rm -rf "$OUT"
}
trap cleanup EXIT
DEB_OUT_DIR=$OUT "$ROOT/tools/package.sh"
debs=("$OUT"/*.deb)
names=()
for deb in "${debs[@]}"; do names+=("$(dpkg-deb -f "$deb" Package)"); done
step "packages: ${names[*]}"

# The Debian 12 root: a cached tarball, made again when a week old.
mkdir -p "$CACHE/archives/partial"
base=$CACHE/debian12-apt-$ARCH.tar
if [ ! -s "$base" ] || [ -n "$(find "$base" -mtime +7)" ]; then
  step "mmdebstrap: a minimal Debian 12 root (variant apt) -> $base"
  mmdebstrap --quiet --variant=apt --architectures="$ARCH" bookworm "$base.new.tar" "$MIRROR"
  mv "$base.new.tar" "$base"
fi
work=$(mktemp -d)
mkdir "$work/root"
tar -C "$work/root" -xf "$base"
r=$work/root
mount -t proc proc "$r/proc"
mount -t sysfs sysfs "$r/sys"  # x265 reads the CPUs there
mount --bind "$CACHE/archives" "$r/var/cache/apt/archives"
cp /etc/resolv.conf "$r/etc/resolv.conf"
in_root() { chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

# What the root holds before: after the purge, a path the packages listed must be gone unless
# it was there before (/usr/bin, /etc, /lib ...).
(cd "$r" && find . -xdev | sed 's/^\.//' | sort) >"$work/before"
step "apt-get install ./*.deb in the root"
mkdir "$r/debs"
cp "${debs[@]}" "$r/debs/"
in_root apt-get update -qq
in_root sh -c 'apt-get install -y -qq --no-install-recommends /debs/*.deb' >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "apt-get install"; }
for n in "${names[@]}"; do
  in_root dpkg-query -W -f='${Status}\n' "$n" | grep -qx 'install ok installed' || fail "$n not installed"
done

step "checks of the installed files"
in_root id h265direct
in_root id -nG h265direct | tr ' ' '\n' | grep -qx video || fail "h265direct is not in group video"
unit=$r/lib/systemd/system/h265direct@.service
[ -f "$unit" ] || fail "no h265direct@.service"
exe=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")
[ "$exe" = /usr/bin/h265direct ] && [ -x "$r$exe" ] || fail "the unit's ExecStart program '$exe' is not installed"
for page in h265direct h265direct-receiver; do
  [ -f "$r/usr/share/man/man1/$page.1.gz" ] || fail "no man page $page.1.gz"
done
[ -d "$r/etc/h265direct" ] || fail "no /etc/h265direct"
in_root h265direct --version

step "the installed program streams the pattern"
in_root h265direct --pattern -s 320x240 --frames 60 -q -o /tmp/out.h265
frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
  -of csv=p=0 "$r/tmp/out.h265")
[ "$frames" = 60 ] || fail "ffprobe decodes $frames frames of the installed program's 60"
echo "ci/package: ffprobe decodes all 60 frames"
# The installed receiver takes the installed program's stream over loopback.
in_root sh -c 'h265direct-receiver -l 127.0.0.1:5995 --once -q -o /tmp/rx.h265 & rx=$!
  h265direct --pattern -s 320x240 --frames 30 -q -t 127.0.0.1:5995 && wait $rx'
frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
  -of csv=p=0 "$r/tmp/rx.h265")
[ "$frames" = 30 ] || fail "the receiver wrote $frames frames of 30"
echo "ci/package: the installed receiver got all 30 frames over TCP"

step "purge, then every file dpkg -L listed must be gone"
# Each path as it really is (/lib is a link to /usr/lib in Debian 12).
in_root dpkg -L "${names[@]}" | grep -v '^$' | sort -u >"$r/tmp/listed"
in_root xargs -a /tmp/listed realpath -m -- | sort -u >"$work/files"
in_root apt-get purge -y -qq "${names[@]}" >"$work/purge.log" 2>&1 ||
  { cat "$work/purge.log"; fail "apt-get purge"; }
left=()
while IFS= read -r f; do
  case $f in "" | / | /.) continue ;; esac  # the root (dpkg -L lists it as /.)
  [ -e "$r$f" ] || [ -L "$r$f" ] || continue
  grep -qxF -- "$f" "$work/before" && continue
  # A folder the packages shared with packages that stay (/usr/lib/python3/dist-packages,
  # brought in with python3 for python3-h265direct): still owned, or still holding their
  # files. Every file of ours in it is checked on its own line.
  if [ -d "$r$f" ] && [ ! -L "$r$f" ]; then
    in_root dpkg -S "$f" >/dev/null 2>&1 && continue
    [ -n "$(ls -A "$r$f")" ] && continue
  fi
  left+=("$f")
done <"$work/files"
[ ${#left[@]} -eq 0 ] || fail "left after purge: ${left[*]}"
echo "ci/package: $(grep -c . "$work/files") paths listed, none left after purge that was not there before"
step "passed"
