#!/usr/bin/env bash
# Builds the consumer programs with nothing but pkg-config and runs them:
#   PKG_CONFIG_PATH=<prefix>/lib/pkgconfig tests/consumer/pkgconfig/build-and-run.sh <workdir> <stories260K.gguf>
# 1. consumer.c   with `cc  $(pkg-config --cflags --libs dianoia)`          (shared library)
# 2. consumer.c   linked with libdianoia.a and `pkg-config --static --libs`  (static library)
# 3. consumer.cpp with `c++ $(pkg-config --cflags --libs dianoia)`          (shared library)
# CC, CXX, CFLAGS, CXXFLAGS and LDFLAGS are honoured (e.g. for sanitizer builds). The shared programs
# are run with LD_LIBRARY_PATH pointing at pkg-config's libdir.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 <workdir> <path/to/stories260K.gguf>" >&2
  exit 2
fi
work=$1
model=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(dirname "$here")
CC=${CC:-cc}
CXX=${CXX:-c++}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

mkdir -p "$work"
cd "$work"

"$PKG_CONFIG" --exists --print-errors dianoia
echo "dianoia $("$PKG_CONFIG" --modversion dianoia) from $("$PKG_CONFIG" --variable=prefix dianoia)"
cflags=$("$PKG_CONFIG" --cflags dianoia)
libs=$("$PKG_CONFIG" --libs dianoia)
libdir=$("$PKG_CONFIG" --variable=libdir dianoia)
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

run() {
  echo "+ $*"
  "$@"
}
failed=()

# 1. C, shared library.
c_shared() {
  # shellcheck disable=SC2086 # word splitting of pkg-config output is intended
  run "$CC" -std=c99 -Wall -Wextra -Werror -pedantic ${CFLAGS:-} $cflags "$src/c/consumer.c" -o consumer_c_pc \
    ${LDFLAGS:-} $libs || return
  run ./consumer_c_pc "$model"
}

# 2. C, static library: the archive by name, then what Libs.private says it needs.
c_static() {
  local static_libs
  static_libs=$("$PKG_CONFIG" --static --libs dianoia)
  # -ldianoia as a whole word (Libs.private may name -ldianoia_llguidance, the grammar engine's archive).
  static_libs=$(sed -E 's/(^| )-ldianoia( |$)/\1-l:libdianoia.a\2/' <<<"$static_libs")
  # shellcheck disable=SC2086
  run "$CC" -std=c99 -Wall -Wextra -Werror -pedantic ${CFLAGS:-} $cflags -c "$src/c/consumer.c" -o consumer_static.o || return
  # shellcheck disable=SC2086
  run "$CXX" ${CXXFLAGS:-} consumer_static.o -o consumer_c_static ${LDFLAGS:-} $static_libs || return
  if readelf -d consumer_c_static | grep -q 'NEEDED.*libdianoia'; then
    echo "consumer_c_static depends on libdianoia.so: the static link did not take libdianoia.a" >&2
    return 1
  fi
  run ./consumer_c_static "$model"
}

# 3. C++17, shared library, through <dianoia/dianoia.hpp> (which must compile warning-free with -I).
cpp_shared() {
  # shellcheck disable=SC2086
  run "$CXX" -std=c++17 -Wall -Wextra -Werror -pedantic ${CXXFLAGS:-} $cflags "$src/cpp/consumer.cpp" \
    -o consumer_cpp_pc ${LDFLAGS:-} $libs || return
  run ./consumer_cpp_pc "$model"
}

for step in c_shared c_static cpp_shared; do
  echo "=== $step"
  # (set -e does not act inside a condition: each step returns on its first failure itself.)
  if ! "$step"; then
    echo "=== $step FAILED"
    failed+=("$step")
  fi
done

if ((${#failed[@]})); then
  echo "pkg-config consumers: FAILED: ${failed[*]}"
  exit 1
fi
echo "pkg-config consumers: PASS"
