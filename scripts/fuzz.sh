#!/usr/bin/env bash
# Builds the libFuzzer targets (cmake --preset fuzz: clang-14, ASan + UBSan, build-fuzz/), makes their
# seed corpora from the shared data (plus the committed fuzz/corpus/<target>), and runs each target for a bounded time, one after the other with a
# single worker. Fails (exit 1) if any target crashes, leaks, times out on an input, runs out of memory
# or cannot start; the input that did it is saved in build-fuzz/artifacts/. Options (environment):
#   DIANOIA_FUZZ_SECONDS=60        seconds per target (serve_request: half)
#   DIANOIA_FUZZ_TARGETS="json gguf"  which targets (default: every fuzz_* built)
#   DIANOIA_DATA_DIR=../shared/data   shared data (seeds and the tokenizer target's vocabularies)
#   DIANOIA_FUZZ_ARGS="..."        extra libFuzzer arguments for every target
# The corpus in build-fuzz/corpus/<target> grows from run to run; executions per run are appended to
# build-fuzz/fuzz-stats.tsv.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
build=$root/build-fuzz
seconds=${DIANOIA_FUZZ_SECONDS:-60}
data_dir=${DIANOIA_DATA_DIR:-$root/../shared/data}
export DIANOIA_DATA_DIR=$data_dir
# shellcheck disable=SC2206 # word splitting intended
extra=(${DIANOIA_FUZZ_ARGS:-})

# Largest input per target: big enough for the shrunk seed files, small enough to keep runs fast.
max_len_for() {
  case $1 in
    gguf | tokenizer_json) echo 16384 ;;
    chat_template | safetensors) echo 8192 ;;
    *) echo 4096 ;;
  esac
}
dict_for() {
  case $1 in
    json | tokenizer_json | index_json | config_json | safetensors | serve_request | tool_calls) echo fuzz/dict/json.dict ;;
    chat_template) echo fuzz/dict/jinja.dict ;;
    gguf) echo fuzz/dict/gguf.dict ;;
  esac
}

# For scripts/fuzz_long.sh: the same limits for its long runs.
case ${1:-} in
  --print-max-len) max_len_for "$2"; exit 0 ;;
  --print-dict) dict_for "$2"; exit 0 ;;
esac

echo "=== [fuzz] configure"
cmake --preset fuzz >/dev/null
echo "=== [fuzz] build"
cmake --build --preset fuzz

echo "=== [fuzz] seed corpora"
python3 fuzz/make_corpus.py --data-dir "$data_dir" --fixtures-dir tests/fixtures --out "$build/corpus"
mkdir -p "$build/artifacts"

if [[ -n ${DIANOIA_FUZZ_TARGETS:-} ]]; then
  read -r -a targets <<<"$DIANOIA_FUZZ_TARGETS"
else
  targets=()
  for exe in "$build"/fuzz/fuzz_*; do
    [[ -x $exe && -f $exe ]] && targets+=("${exe##*/fuzz_}")
  done
fi

# Seconds per target: the server's request parser is small and shallow, half the time covers it.
seconds_for() {
  case $1 in
    serve_request) echo $(((seconds + 1) / 2)) ;;
    *) echo "$seconds" ;;
  esac
}

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
report=()
logdir=$build/logs
mkdir -p "$logdir"
for t in "${targets[@]}"; do
  exe=$build/fuzz/fuzz_$t
  corpus=$build/corpus/$t
  mkdir -p "$corpus"
  # One process, one thread (libFuzzer's default; -jobs=1 would fork a child that logs to ./fuzz-0.log).
  args=(-max_total_time="$(seconds_for "$t")" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len_for "$t")"
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-")
  dict=$(dict_for "$t")
  [[ -n $dict ]] && args+=(-dict="$dict")
  echo "=== [fuzz] $t: $(seconds_for "$t") s"
  status=0
  # The committed, minimized corpus (fuzz/corpus/<t>, from the long runs) is read, never written: the run
  # starts where the long runs got to, and its own finds go to build-fuzz/corpus/<t>.
  seeds=()
  [[ -d fuzz/corpus/$t ]] && seeds+=("fuzz/corpus/$t")
  "$exe" "${args[@]}" "${extra[@]}" "$corpus" "${seeds[@]}" >"$logdir/$t.log" 2>&1 || status=$?
  execs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$logdir/$t.log" | grep -Eo '[0-9]+$' || echo 0)
  rate=$(grep -Eo 'stat::average_exec_per_sec: +[0-9]+' "$logdir/$t.log" | grep -Eo '[0-9]+$' || echo 0)
  cov=$(grep -E 'DONE +cov: ' "$logdir/$t.log" | grep -Eo 'cov: [0-9]+ ft: [0-9]+' || echo 'cov: ?')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$(seconds_for "$t")" "$execs" "$rate" "$status" >>"$build/fuzz-stats.tsv"
  if ((status != 0)); then
    failed+=("$t")
    report+=("$t: FAILED (exit $status) after $execs executions; log $logdir/$t.log")
    # The sanitizer / libFuzzer report: what failed and where the input was saved.
    grep -E 'ERROR:|SUMMARY:|runtime error|invariant violated|Test unit written|timeout|out-of-memory' "$logdir/$t.log" | head -n 20 >&2 || true
  else
    report+=("$t: $execs executions ($rate/s), $cov, corpus $(find "$corpus" -type f | wc -l) files")
  fi
done

echo "=== [fuzz] summary"
printf '  %s\n' "${report[@]}"
if ((${#failed[@]})); then
  echo "fuzz FAILED: ${failed[*]} (inputs in $build/artifacts/)"
  exit 1
fi
