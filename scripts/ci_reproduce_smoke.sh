#!/usr/bin/env bash
# CI check of the main job: `reproduce --preset smoke` on real CIFAR-10 prints its projected time first, and
# writes summary.json in the documented shape, report.md (stating which of the paper's claims hold on the run)
# and the plots. Says nothing about how well it learns.
# Usage: scripts/ci_reproduce_smoke.sh MIXGRAD_BINARY CIFAR10_DIR
set -euo pipefail
bin=$1
data=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" reproduce --preset smoke --data "$data" --out "$out/r" --threads 2 2> "$out/log"
head -n 3 "$out/log" | grep -q "projected time" || { echo "no projected time before the first run:"; head -n 5 "$out/log"; exit 1; }
for f in summary.json report.md; do test -s "$out/r/$f"; done
test "$(ls "$out/r"/*.png | wc -l)" -ge 4
# The report states which of the paper's claims hold on this run: (G), (R) at every ε, (A).
for claim in "## The paper's claims on this run" "(G) Generalization" "(R) Robustness" "(A) Approximation"; do
  grep -qF "$claim" "$out/r/report.md" || { echo "report.md does not state: $claim"; exit 1; }
done
test "$(grep -cE '^- ε = [0-9.]+/255: .*mixup more robust: \*\*(holds|does not hold on this run)\*\*' "$out/r/report.md")" -eq 4
/usr/bin/python3 - "$out/r/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for key in ("preset", "seeds", "data", "runs", "approximation", "claims"):
    assert key in s, key
assert s["data"]["test"] == 1017 and s["data"]["train"] >= s["data"]["train_eval"] > 0
def stat(x):
    assert set(x) >= {"mean", "std", "values"} and len(x["values"]) == len(s["seeds"]), x
for method in ("erm", "mixup"):
    r = s["runs"][method]
    for key in ("clean_acc", "test_loss", "train_loss", "gap_loss", "gap_acc"):
        stat(r[key])
    assert sorted(r["fgsm_acc"]) == ["1", "2", "4", "8"], r["fgsm_acc"].keys()
    for v in r["fgsm_acc"].values():
        stat(v)
for row in s["approximation"]:
    for key in ("alpha", "scale", "l_mix", "l_std", "r1", "r2", "r3", "rel_error", "rel_error_reg"):
        assert key in row, key
assert {row["alpha"] for row in s["approximation"]} == {0.1, 0.2, 0.5, 1.0}
c = s["claims"]
assert isinstance(c["generalization"], bool) and isinstance(c["approximation"], bool)
assert sorted(c["robustness"]) == ["1", "2", "4", "8"]
print("summary.json: documented shape")
PY
echo "ci_reproduce_smoke: ok"
