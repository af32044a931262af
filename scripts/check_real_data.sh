#!/usr/bin/env bash
# Checks `mixgrad data` on the real datasets (issue 4, "Done means"):
#   CIFAR-10 in SHARED/cifar-10-batches-bin: 50,000 training images, 5,000 per class; 1,017 test images whose
#   class counts equal those of the first 1,017 bytes of test_labels_all_10000.u8; test records 0 and 1 are
#   class 3 (cat) and 8 (ship); training per-channel means within 0.02 of (0.4914, 0.4822, 0.4465).
#   Fashion-MNIST in /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist): 60,000 / 10,000 images,
#   6,000 / 1,000 per class.
# Usage: scripts/check_real_data.sh [MIXGRAD_BINARY] [SHARED_DATA_DIR]   (defaults: build/mixgrad ../shared/data)
# Prints one PASS/FAIL line per check; exits non-zero when any check fails.
set -uo pipefail
bin=${1:-build/mixgrad}
shared=${2:-../shared/data}
fmnist=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

[ -x "$bin" ] || { echo "FAIL: mixgrad binary $bin not found or not executable"; exit 1; }
[ -x "$py" ] || { echo "FAIL: $py not found (needed to read the JSON summary)"; exit 1; }

# verify NAME JSON_FILE PYTHON_CHECK: prints PASS/FAIL lines from a small Python check over the summary `s`.
verify() {
  local name=$1 json=$2 code=$3
  "$py" - "$json" "$name" <<PYEOF || failed=1
import json, sys
s = json.load(open(sys.argv[1]))
name = sys.argv[2]
bad = 0
def check(what, ok, got):
    global bad
    print(("PASS" if ok else "FAIL") + f": {name}: {what} (got {got})")
    bad += 0 if ok else 1
$code
sys.exit(1 if bad else 0)
PYEOF
}

cifar="$shared/cifar-10-batches-bin"
if "$bin" data --dataset cifar10 --data "$cifar" --json > "$tmp/cifar.json" 2> "$tmp/cifar.err"; then
  verify cifar10 "$tmp/cifar.json" "
tr, te = s['train'], s['test']
labels = open('$cifar/test_labels_all_10000.u8', 'rb').read()[:1017]
want = [labels.count(bytes([c])) for c in range(10)]
check('50000 training images', tr['count'] == 50000, tr['count'])
check('5000 training images per class', tr['class_counts'] == [5000] * 10, tr['class_counts'])
check('1017 test images', te['count'] == 1017, te['count'])
check('test class counts match the first 1017 of test_labels_all_10000.u8 ' + str(want), te['class_counts'] == want, te['class_counts'])
train_first = list(open('$cifar/train_labels_all_50000.u8', 'rb').read()[:10])
check('first training labels match train_labels_all_50000.u8', tr['first_labels'] == train_first, tr['first_labels'])
check('test record 0 is class 3 (cat), record 1 class 8 (ship)', te['first_labels'][:2] == [3, 8], te['first_labels'][:2])
ref = [0.4914, 0.4822, 0.4465]
check('training means within 0.02 of ' + str(ref), all(abs(a - b) <= 0.02 for a, b in zip(tr['mean'], ref)) and len(tr['mean']) == 3,
      [round(m, 4) for m in tr['mean']])
"
else
  echo "FAIL: cifar10: mixgrad data exited non-zero: $(cat "$tmp/cifar.err")"
  failed=1
fi

if "$bin" data --dataset fashion-mnist --data "$fmnist" --json > "$tmp/fm.json" 2> "$tmp/fm.err"; then
  verify fashion-mnist "$tmp/fm.json" "
tr, te = s['train'], s['test']
check('60000 training images', tr['count'] == 60000, tr['count'])
check('6000 training images per class', tr['class_counts'] == [6000] * 10, tr['class_counts'])
check('10000 test images', te['count'] == 10000, te['count'])
check('1000 test images per class', te['class_counts'] == [1000] * 10, te['class_counts'])
check('shape [1, 28, 28]', tr['shape'] == [1, 28, 28], tr['shape'])
"
else
  echo "FAIL: fashion-mnist: mixgrad data exited non-zero: $(cat "$tmp/fm.err")"
  failed=1
fi

if [ "$failed" -eq 0 ]; then echo "check_real_data: all checks passed"; else echo "check_real_data: FAILED"; fi
exit "$failed"
