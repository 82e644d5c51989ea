#!/usr/bin/env bash
# Builds and tests dianoia three times, as CI does:
#   1. Release                      in build/       (cmake --preset release)
#   2. ASan + UBSan, RelWithDebInfo in build-asan/  (cmake --preset asan)
#   3. ThreadSanitizer              in build-tsan/  (cmake --preset tsan: the threads test only,
#                                                    tests/tsan/README.md)
# Each: configure, build with 2 jobs, ctest --output-on-failure. The settings live in CMakePresets.json.
# A test failure in the first run does not stop the second; the exit status is non-zero if anything
# failed. Options (environment):
#   DIANOIA_TEST_PRESETS="release asan tsan"  which runs to do, in order
#   DIANOIA_CTEST_ARGS="..."              extra ctest arguments for every run (e.g. "-R gguf")
#   DIANOIA_TEST_BINDINGS=1               then the Python/Go/Rust bindings' tests on build/ (0: skip)
#   DIANOIA_FUZZ_SECONDS=30               then scripts/fuzz.sh: each fuzz target for this long (0: skip;
#                                         the committed corpora make short runs start deep; long runs:
#                                         scripts/fuzz_long.sh, figures in fuzz/RESULTS.md)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

presets=${DIANOIA_TEST_PRESETS:-release asan tsan}
# shellcheck disable=SC2206 # word splitting intended
ctest_args=(${DIANOIA_CTEST_ARGS:-})
failed=()
summary=()
n_pass=0
n_fail=0
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
t_all=$SECONDS

for preset in $presets; do
  t0=$SECONDS
  echo "=== [$preset] configure"
  cmake --preset "$preset"
  echo "=== [$preset] build"
  if ! cmake --build --preset "$preset"; then
    echo "=== [$preset] build FAILED" >&2
    failed+=("$preset:build")
    summary+=("$preset: build failed after $((SECONDS - t0)) s")
    continue
  fi
  t_build=$((SECONDS - t0))
  echo "=== [$preset] test (built in ${t_build} s)"
  t1=$SECONDS
  if ctest --preset "$preset" "${ctest_args[@]}" 2>&1 | tee "$logdir/$preset.log"; then
    summary+=("$preset: build ${t_build} s, tests $((SECONDS - t1)) s, passed")
  else
    failed+=("$preset:test")
    summary+=("$preset: build ${t_build} s, tests $((SECONDS - t1)) s, FAILED")
  fi
  # "97% tests passed, 1 tests failed out of 30"
  if counts=$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$logdir/$preset.log" | tail -n1); then
    read -r f _ _ _ _ total <<<"$counts"
    n_fail=$((n_fail + f))
    n_pass=$((n_pass + total - f))
  fi
done

# The Python, Go and Rust bindings against the release build (scripts/test-bindings.sh).
if [[ " $presets " == *" release "* && ${DIANOIA_TEST_BINDINGS:-1} != 0 ]]; then
  t0=$SECONDS
  if bash scripts/test-bindings.sh build; then
    summary+=("bindings: $((SECONDS - t0)) s, passed")
  else
    failed+=("bindings")
    summary+=("bindings: $((SECONDS - t0)) s, FAILED")
  fi
fi

fuzz_seconds=${DIANOIA_FUZZ_SECONDS:-30}
if [[ $fuzz_seconds != 0 ]]; then
  t0=$SECONDS
  if DIANOIA_FUZZ_SECONDS=$fuzz_seconds bash scripts/fuzz.sh; then
    summary+=("fuzz: ${fuzz_seconds} s per target, $((SECONDS - t0)) s in all, passed")
  else
    failed+=("fuzz")
    summary+=("fuzz: ${fuzz_seconds} s per target, $((SECONDS - t0)) s in all, FAILED (build-fuzz/artifacts)")
  fi
fi

echo "=== summary (total $((SECONDS - t_all)) s)"
printf '  %s\n' "${summary[@]}"
status=0
if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]}"
  status=1
fi
echo "tests: $n_pass passed, $n_fail failed"
exit $status
