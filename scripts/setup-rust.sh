#!/usr/bin/env bash
# The Rust toolchain the build needs for llguidance (cmake/llguidance.cmake: cargo, Rust >= 1.87).
# Uses what is there (rustup's ~/.cargo/bin or Debian's); otherwise, or when it is older, installs
# Debian's rustc-web/cargo-web (1.96 in bookworm's updates). Idempotent; fetches the crates once
# (`cargo fetch`), so that the build itself finds them in cargo's registry cache.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"

rust_ok() {
  command -v cargo >/dev/null 2>&1 || return 1
  local v
  v=$(cargo --version 2>/dev/null | sed -n 's/^cargo \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  [[ -n $v ]] || return 1
  read -r major minor <<<"$v"
  ((major > 1 || (major == 1 && minor >= 87)))
}

if ! rust_ok; then
  echo "setup-rust: cargo >= 1.87 missing ($(cargo --version 2>/dev/null || echo none)): installing rustc-web cargo-web"
  as_root=()
  [[ $(id -u) -eq 0 ]] || as_root=(sudo)
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    rustc-web cargo-web </dev/null
fi
rust_ok || { echo "setup-rust: no cargo >= 1.87 after installing" >&2; exit 1; }
cargo fetch --locked --manifest-path "$here/../third_party/llguidance-sys/Cargo.toml" -q
echo "setup-rust: $(cargo --version)"
