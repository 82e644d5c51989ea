#!/usr/bin/env bash
# Tests the language bindings against a built library: that together they cover every C function
# (scripts/check-binding-coverage.sh), then Python (pytest), Go (go vet + go test) and Rust (cargo clippy +
# cargo test), each skipped with a message when its toolchain is missing.
#   bash scripts/test-bindings.sh [BUILD_DIR]      (default: build, the release preset's)
# The library is found through DIANOIA_LIBRARY (Python), a dianoia.pc for the build tree on
# PKG_CONFIG_PATH (Go, Rust). Exit status: non-zero if any binding's tests failed.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
lib=$build/capi/libdianoia.so.1
if [[ ! -e $lib ]]; then
  echo "test-bindings: $lib is missing (build the release preset first)" >&2
  exit 1
fi
pcdir=$(mktemp -d)
trap 'rm -rf "$pcdir"' EXIT
version=$(sed -n 's/^Version: //p' "$build/dianoia.pc" 2>/dev/null || true)
cat >"$pcdir/dianoia.pc" <<PC
Name: dianoia
Description: dianoia (build tree $build)
Version: ${version:-1.0.0}
Libs: -L$build/capi -ldianoia -Wl,-rpath,$build/capi
Cflags: -I$repo/capi
PC
export PKG_CONFIG_PATH=$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export DIANOIA_LIBRARY=$lib
export LD_LIBRARY_PATH=$build/capi${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
failed=()
model=${DIANOIA_HOME:-$HOME/.cache/dianoia}/SmolLM2-135M-Instruct.Q4_1.gguf
# An example passes when it printed both channels and a summary.
example() {  # name command...
  local out
  if [[ ! -f $model ]]; then
    echo "example $1: $model is missing: skipped"
    return 0
  fi
  out=$("${@:2}" "$model" 2>&1) || { echo "$out"; echo "example $1 FAILED"; return 1; }
  if grep -q '\[thinking\] ' <<<"$out" && grep -q '\[answer\] ' <<<"$out" && grep -Eq '\[done\] [1-9][0-9]* reasoning' <<<"$out"; then
    echo "example $1: ok"
  else
    echo "$out"
    echo "example $1 FAILED: both channels expected"
    return 1
  fi
}

echo "=== bindings: coverage of the C ABI"
bash "$repo/scripts/check-binding-coverage.sh" || failed+=(coverage)

echo "=== bindings: python"
if python3 -c "import pytest" 2>/dev/null; then
  (cd "$repo/bindings/python" && python3 -m pytest -q tests &&
    example python env PYTHONPATH="$repo/bindings/python" python3 examples/reason.py) || failed+=(python)
else
  echo "pytest is not installed (scripts/setup.sh installs it): python skipped"
fi

echo "=== bindings: go"
if command -v go >/dev/null; then
  (cd "$repo/bindings/go" && go vet ./... && go test -count=1 ./... &&
    go build -o "$pcdir/reason-go" ./examples/reason && example go "$pcdir/reason-go") || failed+=(go)
else
  echo "go is not installed: go skipped"
fi

echo "=== bindings: rust"
if command -v cargo >/dev/null && [[ -f $repo/bindings/rust/Cargo.toml ]]; then
  (cd "$repo/bindings/rust" && cargo clippy --all-targets -q -- -D warnings && cargo test -q -- --test-threads=1 &&
    cargo build -q --example reason && example rust target/debug/examples/reason) || failed+=(rust)
else
  echo "cargo is not installed: rust skipped"
fi

if ((${#failed[@]})); then
  echo "bindings FAILED: ${failed[*]}"
  exit 1
fi
echo "bindings: passed"
