#!/usr/bin/env bash
# Distills the corpus a long run grew (build-fuzz/long-corpus/<t>, see scripts/fuzz_long.sh) into the
# committed seed corpus fuzz/corpus/<t>: libFuzzer's -merge=1 keeps the smallest inputs that together
# reach every feature the corpus reached; then, if they are over the per-target byte budget, the
# smallest of them are kept up to it (the generated seeds of make_corpus.py still cover the big files).
#   usage: scripts/fuzz_minimize.sh <target> [BUDGET_BYTES=32768]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
t=$1
budget=${2:-32768}
build=$PWD/build-fuzz
exe=$build/fuzz/fuzz_$t
src=$build/long-corpus/$t
[[ -x $exe && -d $src ]] || { echo "need $exe and $src (run scripts/fuzz_long.sh $t first)" >&2; exit 2; }
export DIANOIA_DATA_DIR=${DIANOIA_DATA_DIR:-$PWD/../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/merged"
inputs=("$src")
[[ -d fuzz/corpus/$t ]] && inputs+=("fuzz/corpus/$t")
max_len=$(bash scripts/fuzz.sh --print-max-len "$t")
nice -n 19 "$exe" -merge=1 -max_len="$max_len" -rss_limit_mb=2048 -timeout=10 "$tmp/merged" "${inputs[@]}" \
  >"$build/logs/merge-$t.log" 2>&1
rm -rf "fuzz/corpus/$t"
mkdir -p "fuzz/corpus/$t"
total=0
kept=0
while read -r size file; do
  ((total + size > budget)) && break
  cp "$file" "fuzz/corpus/$t/"
  total=$((total + size))
  kept=$((kept + 1))
done < <(find "$tmp/merged" -type f -printf '%s %p\n' | sort -n)
echo "$t: merged $(find "$tmp/merged" -type f | wc -l) inputs ($(du -sb "$tmp/merged" | cut -f1) bytes); kept $kept ($total bytes)"
