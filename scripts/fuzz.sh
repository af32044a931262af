#!/usr/bin/env bash
# Builds the libFuzzer targets (*/fuzz/fuzz_*.cpp) with clang++-14 and -fsanitize=fuzzer,address,undefined,
# compiling the few sources each needs directly (no CMake), then runs each for SECONDS seconds from a small
# generated seed corpus.
# Usage: scripts/fuzz.sh [SECONDS=20] [TARGET...]   SECONDS is per target.
#   dataset parsers (datasets/fuzz): cifar idx idx_gzip image svhn
#   run files (experiments/fuzz): config (config.json on --resume), checkpoint (a checkpoint's metadata),
#     cli_lists (--eps, --milestones); and the safetensors container (core/fuzz): safetensors
#   default: all of them
# svhn goes through Debian's matio (not instrumented itself); its seeds are .mat files written by python3-scipy.
# Exits non-zero when a target fails to build or finds a crash (the crashing input is kept in build-fuzz/).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cifar idx idx_gzip image svhn config checkpoint cli_lists safetensors)

cxx=${CXX_FUZZ:-clang++-14}
command -v "$cxx" > /dev/null || { echo "fuzz: $cxx not found (Debian packages clang-14 and libclang-rt-14-dev)"; exit 1; }
out=build-fuzz
mkdir -p "$out"
flags=(-std=c++20 -g -O1 -I. -I/usr/include/stb -fno-sanitize-recover=undefined)
san=(-fsanitize=fuzzer,address,undefined)

sources_for() {  # the datasets sources each target links
  case "$1" in
    cifar) echo datasets/cifar.cpp datasets/dataset.cpp datasets/file_io.cpp ;;
    idx | idx_gzip) echo datasets/idx.cpp datasets/dataset.cpp datasets/file_io.cpp ;;
    image) echo datasets/image_decode.cpp datasets/image_guard.cpp "$out/stb_impl.o" datasets/file_io.cpp ;;
    svhn) echo datasets/svhn.cpp datasets/mat5_check.cpp datasets/dataset.cpp "$(pkg-config --libs matio)" ;;
    config) echo experiments/train_config.cpp ;;
    checkpoint) echo experiments/checkpoint_metadata.cpp experiments/train_config.cpp ;;
    cli_lists) echo experiments/cli/list_args.cpp ;;
    safetensors) echo core/safetensors.cpp core/tensor.cpp core/shape.cpp core/storage.cpp core/atomic_file.cpp \
      core/parallel.cpp core/cpu.cpp -ltbb -lopenblas ;;
    *) echo "fuzz: unknown target $1" >&2; return 1 ;;
  esac
}

echo "fuzz: building seed generator"
"$cxx" "${flags[@]}" datasets/fuzz/make_seeds.cpp datasets/file_io.cpp datasets/stb_impl.cpp -lz -o "$out/make_seeds" \
  || { echo "fuzz: FAILED to build make_seeds"; exit 1; }
"$cxx" "${flags[@]}" experiments/fuzz/make_seeds.cpp experiments/checkpoint_metadata.cpp experiments/train_config.cpp \
  -o "$out/make_run_seeds" || { echo "fuzz: FAILED to build make_run_seeds"; exit 1; }
rm -rf "$out/seeds"
"$out/make_seeds" "$out/seeds" && "$out/make_run_seeds" "$out/seeds" || { echo "fuzz: FAILED to write seeds"; exit 1; }
mkdir -p "$out/seeds/safetensors"
/usr/bin/python3 - "$out/seeds/safetensors" <<'PY' || { echo "fuzz: FAILED to write safetensors seeds"; exit 1; }
import sys
import numpy as np
sys.path.insert(0, "scripts")
from safetensors_io import save
save(f"{sys.argv[1]}/f32.safetensors", {"w": np.arange(6, dtype=np.float32).reshape(2, 3)}, {"format": "x"})
save(f"{sys.argv[1]}/mixed.safetensors", {"a": np.zeros((), np.float64), "n": np.array([3], np.int64)})
PY
mkdir -p "$out/seeds/svhn"
/usr/bin/python3 - "$out/seeds/svhn" <<'PY' || { echo "fuzz: FAILED to write svhn seeds"; exit 1; }
import sys
import numpy as np
from scipy.io import savemat
for i, (n, compress) in enumerate([(1, False), (2, True), (1, True)]):
    X = (np.arange(32 * 32 * 3 * n) % 251).astype(np.uint8).reshape(32, 32, 3, n)
    y = (np.arange(n) % 10 + 1).reshape(-1, 1).astype(np.uint8 if i != 2 else np.float64)
    savemat(f"{sys.argv[1]}/seed{i}.mat", {"X": X, "y": y}, do_compression=compress)
PY

# stb_image gets ASan and UBSan's bounds, null and alignment checks, but not the arithmetic ones: on corrupt
# JPEG data it shifts by out-of-range amounts and overflows ints in its IDCT (undefined behaviour that only
# garbles pixels of a file that is broken anyway; stb 2.27 is not hardened against it). Memory errors it makes
# are still caught, and our own code keeps every check.
echo "fuzz: building stb_image"
"$cxx" "${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=shift,signed-integer-overflow \
  -c datasets/stb_impl.cpp -o "$out/stb_impl.o" || { echo "fuzz: FAILED to build stb_impl.o"; exit 1; }

# All targets are compiled first, as many at once as there are cores (each compile is one process), then run
# one after another.
failed=0
jobs_max=$(nproc)
rm -f "$out"/build_*.rc
for t in "${targets[@]}"; do
  srcs=$(sources_for "$t") || { failed=1; continue; }
  echo "fuzz: building fuzz_$t"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 0.2; done
  # shellcheck disable=SC2086
  ( "$cxx" "${flags[@]}" "${san[@]}" */fuzz/"fuzz_$t.cpp" $srcs -lz -o "$out/fuzz_$t" > "$out/build_$t.log" 2>&1
    echo $? > "$out/build_$t.rc" ) &
done
wait
for t in "${targets[@]}"; do
  [ -f "$out/build_$t.rc" ] || continue  # an unknown target, already reported
  if [ "$(cat "$out/build_$t.rc")" != 0 ]; then
    echo "fuzz: FAILED to build fuzz_$t:"
    cat "$out/build_$t.log"
    failed=1
    continue
  fi
  corpus="$out/corpus/$t"
  mkdir -p "$corpus" "$out/crashes/$t"
  echo "fuzz: running fuzz_$t for ${seconds}s"
  # Earlier crashing inputs (kept in crashes/) are read back with the corpus, as regression tests.
  if "$out/fuzz_$t" "$corpus" "$out/seeds/$t" "$out/crashes/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -max_len=8192 -print_final_stats=1 -artifact_prefix="$out/crashes/$t/" > "$out/fuzz_$t.log" 2>&1; then
    echo "fuzz: fuzz_$t OK ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz_$t.log" | grep -o '[0-9]*$') runs)"
  else
    echo "fuzz: fuzz_$t FAILED; last lines of $out/fuzz_$t.log:"
    tail -n 30 "$out/fuzz_$t.log"
    failed=1
  fi
done
[ "$failed" -eq 0 ] && echo "fuzz: all targets ran without a crash" || echo "fuzz: FAILED"
exit "$failed"
