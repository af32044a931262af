#!/usr/bin/env bash
# The main job: `mixgrad reproduce --preset smoke` (ERM vs mixup, FGSM sweep, gap, approximation, report).
# Usage: scripts/main_job.sh [CIFAR10_DIR] [OUT]   (defaults: ../shared/data/cifar-10-batches-bin, runs/smoke-<time>)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/cifar-10-batches-bin}
out=${2:-runs/smoke-$(date +%Y%m%d-%H%M%S)}
if [ ! -f "$data/data_batch_1.bin" ] && [ ! -f "$data/cifar-10-batches-bin/data_batch_1.bin" ]; then
  echo "main_job: no CIFAR-10 binary files in $data." >&2
  echo "  Download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (md5 c32a1d4ab5d03f1284b67883e8d87530)" >&2
  echo "  and unpack it, e.g.:  bash scripts/fetch_cifar.sh cifar10 data   then:  bash scripts/main_job.sh data" >&2
  exit 1
fi
./build/mixgrad reproduce --preset smoke --data "$data" --out "$out"
echo "main_job: open $out/report.md"
