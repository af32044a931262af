#!/usr/bin/env bash
# A short real-data run for CI: mixup training on 1,280 CIFAR-10 images, the FGSM sweep, the analysis and
# the teaching pictures. Checks that each step succeeds and writes what it should, not how well it learns.
# Usage: scripts/ci_real_training.sh MIXGRAD_BINARY CIFAR10_DIR
set -euo pipefail
bin=$1
data=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" train --data "$data" --out "$out/run" --epochs 2 --train-subset 1280 --mixup-alpha 1 --threads 2
test "$(wc -l < "$out/run/metrics.jsonl")" -eq 2
"$bin" eval --run "$out/run" --eps 0,2,8 > "$out/eval.json"
grep -q '"count": 1017' "$out/eval.json"
test -s "$out/run/robust.csv"
"$bin" analyze --run "$out/run" --samples 16 --draws 2 > "$out/analysis.json"
grep -q '"rel_error_reg"' "$out/analysis.json"
"$bin" show-mixup --data "$data" --alpha 1 --out "$out/mixup.png"
"$bin" show-fgsm --run "$out/run" --eps 8 --out "$out/fgsm.png"
test -s "$out/mixup.png" && test -s "$out/fgsm.png"
echo "ci_real_training: ok"
