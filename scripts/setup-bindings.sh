#!/usr/bin/env bash
# What the binding tests need (scripts/test-bindings.sh): pytest for Python, a Go toolchain (>= 1.19),
# cargo + clippy (Rust >= 1.63). Installs only what is missing: an existing toolchain (rustup, a Go
# download) is used as it is; otherwise Debian's golang-go, cargo and rust-clippy. Idempotent.
set -euo pipefail

apt_missing=()
if ! command -v go >/dev/null; then apt_missing+=(golang-go); fi
if ! command -v cargo >/dev/null; then
  apt_missing+=(cargo rustc rust-clippy)
elif ! cargo clippy --version >/dev/null 2>&1; then
  if command -v rustup >/dev/null; then rustup component add clippy; else apt_missing+=(rust-clippy); fi
fi
if ! python3 -c "import pytest" 2>/dev/null; then
  # pip for the interpreter the tests run with; Debian's package when pip may not install.
  python3 -m pip install --quiet pytest 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages pytest 2>/dev/null ||
    apt_missing+=(python3-pytest)
fi
if ((${#apt_missing[@]})); then
  echo "setup-bindings: installing ${apt_missing[*]}"
  as_root=()
  [[ $(id -u) -eq 0 ]] || as_root=(sudo)
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${apt_missing[@]}" </dev/null
else
  echo "setup-bindings: pytest, go and cargo clippy present"
fi
