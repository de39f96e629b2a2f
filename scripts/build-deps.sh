# Sourced by scripts/test, scripts/demo and .ci/run: installs what the build needs on a
# fresh Debian machine. librocksdb-sys generates its bindings with bindgen, which loads
# libclang at run time, and compiles RocksDB's C++ with clang or gcc. The dashboard's
# browser tests run Debian's headless Chromium (docs/decisions/0016-dashboard.md).
need_apt=()
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || need_apt+=(libclang-dev)
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "installing build and test dependencies: ${need_apt[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq "${need_apt[@]}"
fi
