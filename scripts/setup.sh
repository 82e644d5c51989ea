#!/usr/bin/env bash
# Installs what building and testing dianoia needs (Debian 12 packages), then the default model.
#   bash scripts/setup.sh            # as root, or as a user with sudo
# Runs `apt-get update` once, and only when a package is missing. Set DIANOIA_SKIP_MODEL=1 to leave
# the default model out. The openai client for the server's tests goes into a venv
# ($DIANOIA_TEST_VENV, default $DIANOIA_HOME/venv-tests), installed only when missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

packages=(
  # toolchain
  g++ make cmake ninja-build pkg-config binutils
  # libraries
  libdnnl-dev ocl-icd-opencl-dev # oneDNN's CMake package looks for OpenCL (its GPU runtime)
  libeigen3-dev libfmt-dev libpcre2-dev doctest-dev
  # dianoia serve (HTTP, JSON bodies) and pull (SHA-256 via libssl-dev, a dependency of httplib's)
  libcpp-httplib-dev nlohmann-json3-dev
  # the server's tests: curl, a venv for the openai client, nginx in front of two replicas
  curl python3-venv nginx-light
  # sanitizers and fuzzers
  clang-14 libclang-rt-14-dev
  # ABI check against the last release (tests/abi)
  abi-compliance-checker
)
# scripts/fetch-default-model.sh downloads with pip.
if ! python3 -m pip --version >/dev/null 2>&1; then
  packages+=(python3 python3-pip)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "setup: not root and no sudo: install these packages by hand: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" </dev/null
else
  echo "setup: all ${#packages[@]} packages already installed"
fi

# The openai Python client, for the server's tests, in a venv of its own (tests find it at this path).
venv=${DIANOIA_TEST_VENV:-${DIANOIA_HOME:-$HOME/.cache/dianoia}/venv-tests}
if ! "$venv/bin/python" -c 'import openai' >/dev/null 2>&1; then
  echo "setup: installing the openai client into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check 'openai>=1.40' </dev/null
fi

# cargo for the grammar engine (llguidance, built from crates.io with the library).
bash "$here/setup-rust.sh"

# The language bindings' test runners (pytest, go, cargo clippy).
bash "$here/setup-bindings.sh"

if [[ ${DIANOIA_SKIP_MODEL:-0} != 1 ]]; then
  bash "$here/fetch-default-model.sh"
fi
