#!/usr/bin/env bash
# A long run of one fuzz target, outside CI (see fuzz/RESULTS.md): the already built build-fuzz/fuzz/fuzz_<t>
# at the lowest CPU priority, from the committed seeds (fuzz/corpus/<t>) plus the generated ones, until
# RUNS executions or SECONDS seconds, whichever comes first. Appends one line of figures to
# build-fuzz/long-runs.tsv: date, commit (HEAD when the run ended; the binary may be older: its build time
# is the last column), target, executions, seconds, exec/s, corpus files, corpus bytes, cov, ft, exit
# status, binary build time. The grown corpus stays in build-fuzz/long-corpus/<t> (scripts/fuzz_minimize.sh
# distills it into fuzz/corpus/<t>).
#   usage: scripts/fuzz_long.sh <target> [RUNS=10000000] [SECONDS=3600]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
t=$1
runs=${2:-10000000}
seconds=${3:-3600}
build=$root/build-fuzz
exe=$build/fuzz/fuzz_$t
data_dir=${DIANOIA_DATA_DIR:-$root/../shared/data}
export DIANOIA_DATA_DIR=$data_dir
[[ -x $exe ]] || { echo "build $exe first (cmake --preset fuzz && cmake --build build-fuzz --target fuzz_$t)" >&2; exit 2; }

corpus=$build/long-corpus/$t
mkdir -p "$corpus" "$build/artifacts" "$build/logs"
python3 fuzz/make_corpus.py --data-dir "$data_dir" --fixtures-dir tests/fixtures --out "$build/seeds" >/dev/null
max_len=$(bash scripts/fuzz.sh --print-max-len "$t")
dict=$(bash scripts/fuzz.sh --print-dict "$t")
# FUZZ_TIMEOUT: on a machine whose other work may pause this run (SIGSTOP while a benchmark runs), a
# per-input limit of 10 s would report the pause as a hang.
args=(-runs="$runs" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -max_len="$max_len"
      -print_final_stats=1 -artifact_prefix="$build/artifacts/long-$t-")
[[ -n $dict ]] && args+=(-dict="$dict")
# Targets whose seeds are all committed (tool_calls) have no generated directory.
seeds=()
[[ -d $build/seeds/$t ]] && seeds+=("$build/seeds/$t")
[[ -d fuzz/corpus/$t ]] && seeds+=("fuzz/corpus/$t")
log=$build/logs/long-$t.log
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
start=$SECONDS
nice -n 19 "$exe" "${args[@]}" "$corpus" "${seeds[@]}" >"$log" 2>&1 || status=$?
elapsed=$((SECONDS - start))
# -a: a target that prints the bytes of an input makes the log "binary" to grep.
execs=$(grep -aEo 'stat::number_of_executed_units: [0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
rate=$(grep -aEo 'stat::average_exec_per_sec: +[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
cov=$(grep -aEo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || echo 'cov: ? ft: ?')
files=$(find "$corpus" -type f | wc -l)
bytes=$(du -sb "$corpus" | cut -f1)
line=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$(date -u +%FT%TZ)" "$(git rev-parse --short HEAD)" "$t" \
  "$execs" "$elapsed" "$rate" "$files" "$bytes" "$cov" "$status")$'\t'$(date -u -r "$exe" +%FT%TZ)
echo "$line" >>"$build/long-runs.tsv"
echo "$line"
exit "$status"
