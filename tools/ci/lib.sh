# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the scripts that configure a build folder (sourced, not run).

# configure_build DIR CMAKE_ARGS...: configures DIR from the repository's top folder, through
# ccache when it is installed, printing only errors. The cache lives outside the clone
# (ccache's own default, ~/.cache/ccache, or CCACHE_DIR), and paths are taken relative to the
# clone, so a second clone in another folder on the same machine reuses it.
configure_build() {
  local dir=$1
  shift
  local launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
    export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
    # Debug builds hash the working folder by default; a new clone would miss every time.
    export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
    export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
  fi
  cmake -S "$ROOT" -B "$dir" "$@" "${launcher[@]}" >/dev/null
}

# debian_mirror: prints the Debian archive URL this machine's apt uses (the first "deb" source
# of /etc/apt/sources.list or /etc/apt/sources.list.d/*.list / *.sources that is not the
# security archive), or DEBIAN_MIRROR when set. Fails with a one-line message when neither
# names one.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local apt=${APT_SOURCES_DIR:-/etc/apt} url
  url=$(
    {
      # One-line format: deb [options] URI suite components
      cat "$apt/sources.list" "$apt"/sources.list.d/*.list 2>/dev/null |
        sed -n -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p'
      # deb822 format: a stanza with "Types: deb" and its URIs
      cat "$apt"/sources.list.d/*.sources 2>/dev/null |
        awk 'BEGIN{RS=""; FS="\n"} {deb=0; uris=""
               for (i = 1; i <= NF; i++) {
                 if ($i ~ /^Types:.*(^|[[:space:]])deb([[:space:]]|$)/) deb=1
                 if ($i ~ /^URIs:/) { sub(/^URIs:[[:space:]]*/, "", $i); uris=$i }
               }
               if (deb) { n = split(uris, u, /[[:space:]]+/); for (j = 1; j <= n; j++) print u[j] }}'
    } | grep -v -E -- '-security/?$' | head -n 1
  )
  if [ -z "$url" ]; then
    echo "no Debian archive in $apt/sources.list or $apt/sources.list.d/ (set DEBIAN_MIRROR)" >&2
    return 1
  fi
  echo "${url%/}"
}
