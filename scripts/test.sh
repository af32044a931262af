#!/usr/bin/env bash
# Builds mixgrad and runs the whole test suite with CTest. Needs no data outside the repository.
# Usage: scripts/test.sh [extra ctest args, e.g. -R NAME]
#   MIXGRAD_SANITIZE=address,undefined  the whole suite under ASan + UBSan, built into build-asan
#   MIXGRAD_SANITIZE=thread             the threading tests (parallel_for, the loader's prefetch, the
#                                       1-vs-2-thread determinism tests) under TSan, built into build-tsan
#   MIXGRAD_TEST_LAYERS="core;autograd"  only those tests/<layer> folders (with a sanitizer: .ci/run's selection)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
dir=build
selection=()
case "${MIXGRAD_SANITIZE:-}" in
  "") ;;
  thread)
    dir=build-tsan
    selection=(-R "threads|prefetch|loader|parallel")
    export TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}"
    ;;
  *)
    dir=build-asan
    # Any report fails its test: UBSan aborts (-fno-sanitize-recover), ASan stops at the first error.
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1 ${ASAN_OPTIONS:-}"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1 ${UBSAN_OPTIONS:-}"
    ;;
esac
[ -n "${MIXGRAD_TEST_LAYERS:-}" ] && dir+="-${MIXGRAD_TEST_LAYERS//;/-}"
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" "${selection[@]}" "$@"
