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
