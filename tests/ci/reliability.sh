#!/usr/bin/env bash
# reliability.sh — the reliability checks of p3cfg in one script (its TSan step also runs in .ci/run):
# nothing crashes, hangs, leaks, races or accepts nonsense.
#
#   1. plain build (build-reliability/): the fuzz corpora replayed (label fuzz-regress),
#      allocation-failure torture (label torture: torture, and torture_valgrind with
#      --quick under valgrind), the CLI under valgrind memcheck on every preset and bad
#      input (label valgrind), determinism across runs and thread counts (label
#      determinism), extreme but valid inputs (label extreme), concurrent handles (threads);
#   2. sanitizer build (build-reliability-asan/, -DP3CFG_SANITIZE=ON: ASan + UBSan): the
#      unit tests (Criterion children abort on any finding), the corpora, the torture
#      (LeakSanitizer proves every error path frees what it took) and the bad inputs;
#   3. ThreadSanitizer (build-reliability-tsan/, -DP3CFG_TSAN=ON): four threads loading,
#      estimating and searching at once (label tsan).
# Each build directory is its own; nothing else in the tree is touched. About 15 minutes
# on two cores. Environment: JOBS (parallel build and test jobs, default 2),
# RELIABILITY_SKIP (space-separated steps to skip: plain asan tsan), CC (compiler).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
jobs=${JOBS:-2}
skip=" ${RELIABILITY_SKIP:-} "
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
start=$SECONDS

step() { printf '\n==== reliability: %s (%ds so far)\n' "$*" $((SECONDS - start)); }

build() { # DIR [cmake options...]
  local dir=$1
  shift
  cmake -S "$root" -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > /dev/null
}

run_ctest() { # DIR LABEL-REGEX [JOBS]
  ctest --test-dir "$1" -L "$2" -j "${3:-$jobs}" --output-on-failure --timeout 1800
}

if [[ $skip != *" plain "* ]]; then
  step "plain build"
  dir=$root/build-reliability
  build "$dir"
  cmake --build "$dir" -j "$jobs"
  step "fuzz-regress, torture, determinism, extreme, threads (plain)"
  run_ctest "$dir" '^(fuzz-regress|determinism|extreme)$'
  ctest --test-dir "$dir" -R '^(torture|threads)$' --output-on-failure
  if command -v valgrind > /dev/null; then
    step "valgrind: the CLI on every preset, the torture (--quick)"
    # One test at a time: valgrind_cli runs two valgrinds itself.
    run_ctest "$dir" '^valgrind$' 1
  else
    echo "reliability: valgrind not found: the valgrind label is skipped" >&2
    exit 1
  fi
fi

if [[ $skip != *" asan "* ]]; then
  step "sanitizer build (ASan + UBSan)"
  dir=$root/build-reliability-asan
  build "$dir" -DP3CFG_SANITIZE=ON
  cmake --build "$dir" -j "$jobs"
  step "unit, fuzz-regress, torture, invalid under ASan + UBSan"
  # ASan's shadow memory is not the parser's: the bad-input runner's peak-memory limit is
  # for the plain build.
  export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  export P3CFG_INVALID_MAX_RSS_KB=$((512 * 1024))
  run_ctest "$dir" '^(unit|fuzz-regress|torture|invalid)$'
  unset ASAN_OPTIONS UBSAN_OPTIONS P3CFG_INVALID_MAX_RSS_KB
fi

if [[ $skip != *" tsan "* ]]; then
  step "ThreadSanitizer build"
  dir=$root/build-reliability-tsan
  build "$dir" -DP3CFG_TSAN=ON
  cmake --build "$dir" -j "$jobs" --target threads_tsan
  step "threads under ThreadSanitizer"
  run_ctest "$dir" '^tsan$'
fi

step "done: every reliability check passed"
