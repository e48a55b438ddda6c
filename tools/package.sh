#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the Debian packages of h265direct (cmake/packaging.cmake, CPack's DEB generator) and
# runs lintian on them:
#   tools/package.sh [ARCH]     ARCH: the machine's own (default) or arm64 (cross build, with
#                               cmake/aarch64-linux-gnu.cmake, from an amd64 machine)
# Release build with Debian's hardening flags (dpkg-buildflags) and /usr, /etc, /lib/systemd
# as installed paths, in ./build-deb-ARCH (DEB_BUILD_DIR); the .deb files land in
# ./build-deb-ARCH/packages (DEB_OUT_DIR), named name_version_arch.deb. Prints the lintian
# findings (docs/install.md explains those left) and fails on a lintian error or warning unless
# LINTIAN=0. Needs the packages tools/setup.sh installs (lintian, and for arm64 the cross set).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOST_ARCH=$(dpkg --print-architecture)
ARCH=${1:-$HOST_ARCH}
BUILD_DIR=${DEB_BUILD_DIR:-$ROOT/build-deb-$ARCH}
OUT_DIR=${DEB_OUT_DIR:-$BUILD_DIR/packages}
SECONDS=0

# Libraries in Debian's multiarch folder (GNUInstallDirs picks it only when not cross-building).
multiarch=$(dpkg-architecture -a"$ARCH" -qDEB_HOST_MULTIARCH 2>/dev/null)
args=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_SYSCONFDIR=/etc
      -DCMAKE_INSTALL_LIBDIR="lib/$multiarch"
      -DH265D_SYSTEMD_UNIT_DIR=/lib/systemd/system -DH265D_SYSUSERS_DIR=/usr/lib/sysusers.d
      -DH265D_BUILD_TESTS=OFF -DH265D_BUILD_BENCH=OFF -DCPACK_DEBIAN_PACKAGE_ARCHITECTURE="$ARCH")
if [ "$ARCH" != "$HOST_ARCH" ]; then
  [ "$ARCH" = arm64 ] || { echo "package: cannot build for $ARCH (only arm64 on amd64)" >&2; exit 2; }
  args+=(-DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/aarch64-linux-gnu.cmake")
  # dpkg-shlibdeps (run by CPack) reads the target's objdump and library paths from these.
  export DEB_HOST_ARCH=$ARCH DEB_HOST_GNU_TYPE=aarch64-linux-gnu DEB_HOST_MULTIARCH=aarch64-linux-gnu
fi
# Debian's hardening and reproducibility flags (-D_FORTIFY_SOURCE, -fstack-protector-strong,
# relro, -ffile-prefix-map) under the Release type's -O3.
eval "$(DEB_HOST_ARCH=$ARCH dpkg-buildflags --export=sh)"
# Man page dates (help2man) from the last commit, not the build day.
SOURCE_DATE_EPOCH=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

echo "package: configuring $BUILD_DIR ($ARCH)"
source "$ROOT/tools/ci/lib.sh"
configure_build "$BUILD_DIR" "${args[@]}"
echo "package: building (-j${JOBS:-$(nproc)})"
cmake --build "$BUILD_DIR" -j"${JOBS:-$(nproc)}"
rm -rf "$OUT_DIR"
echo "package: cpack -> $OUT_DIR"
(cd "$BUILD_DIR" && cpack -B "$OUT_DIR" >/dev/null)
rm -rf "$OUT_DIR/_CPack_Packages"
debs=("$OUT_DIR"/*.deb)
for deb in "${debs[@]}"; do
  echo "package: $(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
done
# Findings left on purpose, each explained in docs/install.md (Lintian findings):
#   maintscript-calls-ldconfig CPack's own postinst/postrm of the library call ldconfig
#                              (the package also has the ldconfig trigger lintian wants)
explained=maintscript-calls-ldconfig
status=0
if [ "${LINTIAN:-1}" != 0 ]; then
  echo "package: lintian (left out, see docs/install.md: $explained)"
  lintian --tag-display-limit 0 --suppress-tags "$explained" --fail-on error,warning \
    "${debs[@]}" || status=$?
fi
echo "package: done in ${SECONDS}s"
exit "$status"
