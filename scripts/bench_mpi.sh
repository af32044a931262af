#!/usr/bin/env bash
# Data-parallel throughput on this machine: K ranks x T/K threads under mpirun against one process with T
# threads, the same training step on the same global batch, run alternately ROUNDS times (the machines are
# shared and noisy; the medians are compared). Usage: bash scripts/bench_mpi.sh [MODEL...]
# Env: RANKS (2), THREADS (2, in all), BATCH (128), ITERS (10), ROUNDS (3). Prints one line per model.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./build/mixgrad
ranks=${RANKS:-2} threads=${THREADS:-2} batch=${BATCH:-128} iters=${ITERS:-10} rounds=${ROUNDS:-3}
models=("$@")
((${#models[@]})) || models=(smallcnn-bn preact-resnet18)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --mca btl self,vader --mca oob_tcp_if_include lo -np "$ranks")
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read())['$1'])"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for model in "${models[@]}"; do
  one=() many=() comm=() core=""
  for ((r = 0; r < rounds; r++)); do
    out=$($bin bench --model "$model" --mode train --batch-size "$batch" --iters "$iters" --threads "$threads" --json)
    one+=("$(field images_per_s <<<"$out")"); core=$(field blas_core <<<"$out")
    out=$("${mpi[@]}" $bin bench --model "$model" --mode train --batch-size "$batch" --iters "$iters" \
            --threads $((threads / ranks)) --json)
    many+=("$(field images_per_s <<<"$out")"); comm+=("$(field comm_seconds_per_step <<<"$out")")
    bytes=$(field comm_bytes_per_step <<<"$out")
  done
  m1=$(median "${one[@]}") mk=$(median "${many[@]}") mc=$(median "${comm[@]}")
  python3 -c "print(f'$model train, batch $batch, BLAS core $core: 1 process x $threads threads {float($m1):.1f} img/s; ' \
f'$ranks ranks x $((threads / ranks)) thread(s) {float($mk):.1f} img/s = {float($mk)/float($m1):.2f}x; ' \
f'collectives {1e3*float($mc):.1f} ms/step, {float($bytes)/1e6:.1f} MB received per step per rank')"
done
