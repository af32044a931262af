#!/usr/bin/env python3
"""Mean clean accuracy of mixgrad's `reproduce --preset cpu` against the same protocol in PyTorch.

    python3 scripts/compare_accuracy.py --mixgrad R/summary.json --torch torch.json [--tolerance 1.5]

--mixgrad: the summary.json that `mixgrad reproduce` wrote; --torch: the JSON of
scripts/torch_cpu_protocol.py. Prints one line per method (ERM, mixup) and exits with 1 when a mean differs by
more than the tolerance (in percentage points), or when either side lacks a method or has other seeds.
"""
import argparse
import json
import sys


def load(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        sys.exit(f"{path}: cannot read {what}: {e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixgrad", required=True)
    parser.add_argument("--torch", required=True)
    parser.add_argument("--tolerance", type=float, default=1.5, help="percentage points (default 1.5)")
    args = parser.parse_args()
    ours, theirs = load(args.mixgrad, "mixgrad's summary"), load(args.torch, "the PyTorch protocol's results")
    ok = True
    print(f"clean accuracy on {theirs.get('test_images', '?')} test images, mean ± std over seeds (%)")
    for method in ("erm", "mixup"):
        try:
            mg = ours["runs"][method]["clean_acc"]
            pt = theirs[method]["clean_acc"]
        except KeyError:
            sys.exit(f"{method}: missing from {args.mixgrad} or {args.torch} (expected runs.{method}.clean_acc and "
                     f"{method}.clean_acc)")
        if len(mg["values"]) != len(pt["values"]):
            sys.exit(f"{method}: {len(mg['values'])} mixgrad runs against {len(pt['values'])} PyTorch runs")
        diff = 100 * (mg["mean"] - pt["mean"])
        within = abs(diff) <= args.tolerance
        ok &= within
        print(f"  {method:6s} mixgrad {100 * mg['mean']:6.2f} ± {100 * mg['std']:4.2f}   "
              f"PyTorch {100 * pt['mean']:6.2f} ± {100 * pt['std']:4.2f}   difference {diff:+5.2f}   "
              f"{'within' if within else 'OUTSIDE'} ±{args.tolerance}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
