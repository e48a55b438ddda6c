# Shared by the tools/ci/ stages that make a build folder of their own (sourced, not run).

# configure_build DIR CMAKE_ARGS...: configures DIR from the repository's top folder, through
# ccache when it is installed, printing only errors.
configure_build() {
  local dir=$1
  shift
  local launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$ROOT" -B "$dir" "$@" "${launcher[@]}" >/dev/null
}
