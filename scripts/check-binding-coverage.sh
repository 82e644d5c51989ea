#!/usr/bin/env bash
# Fails when a function of the C ABI (every `DIANOIA_API ... dianoia_*(` in capi/dianoia.h) is missing
# from the public surface of one of the bindings: referenced by the Python package outside its ctypes
# declarations (_ffi.py), by the safe Rust crate (not dianoia-sys, which declares everything), or by the
# Go package's non-test sources (cgo shims in their preambles count: Go calls them).
#   bash scripts/check-binding-coverage.sh          (scripts/test-bindings.sh runs it first)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Functions a binding does not need, as "binding:function", each with its reason. Keep this short: a
# function belongs here only when the language itself provides what it does.
allowed=(
)

mapfile -t functions < <(grep -oE '^DIANOIA_API[^(]*[^a-z0-9_](dianoia_[a-z0-9_]+)\(' "$repo/capi/dianoia.h" |
  grep -oE 'dianoia_[a-z0-9_]+\($' | tr -d '(' | sort -u)
if ((${#functions[@]} < 10)); then
  echo "check-binding-coverage: found only ${#functions[@]} functions in capi/dianoia.h (parser broken?)" >&2
  exit 1
fi

declare -A sources=(
  [python]="$(find "$repo/bindings/python/dianoia" -name '*.py' ! -name '_ffi.py' | sort)"
  [rust]="$(find "$repo/bindings/rust/dianoia/src" -name '*.rs' | sort)"
  [go]="$(find "$repo/bindings/go" -maxdepth 1 -name '*.go' ! -name '*_test.go' | sort)"
)
missing=0
for binding in python rust go; do
  # shellcheck disable=SC2086 # the file lists hold no spaces
  files=(${sources[$binding]})
  for f in "${functions[@]}"; do
    if printf '%s\n' "${allowed[@]}" | grep -qx "$binding:$f"; then continue; fi
    if ! grep -qw "$f" "${files[@]}"; then
      echo "bindings/$binding does not cover $f"
      missing=$((missing + 1))
    fi
  done
done
if ((missing)); then
  echo "check-binding-coverage: $missing gaps (add the wrappers, or an allow-list entry with its reason)" >&2
  exit 1
fi
echo "check-binding-coverage: python, rust and go cover all ${#functions[@]} functions of capi/dianoia.h"
