#!/usr/bin/python3
"""The same `mixgrad reproduce` preset in float32 and in bf16 mixed precision, side by side (issue #12's accuracy
question): does bf16 keep clean accuracy within the tolerance of float32, and reach the paper's claims with
the same verdicts?

    /usr/bin/python3 scripts/compare_precisions.py --f32 docs/results/cpu/summary.json \\
        --bf16 docs/results/cpu-bf16/summary.json [--tolerance 0.5] [--out docs/results/cpu-bf16/precision.md]

Both summaries must come from the same preset with the same seeds and the same configuration apart from
--precision. Prints a markdown report (also written atomically to --out) and exits with 1 when a method's
mean clean accuracy differs by more than the tolerance (percentage points) or a claim's verdict differs.
"""
import argparse
import json
import os
import sys
import tempfile


# Fields that summaries from before they existed lack, with the value they had then (experiments/train_config.cpp
# reads them the same way).
CONFIG_DEFAULTS = {"shards": 1, "dropout": 0.0}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        sys.exit(f"{path}: cannot read a reproduce summary: {e}")


def field(summary, path, keys):
    value = summary
    for k in keys:
        if not isinstance(value, dict) or k not in value:
            sys.exit(f"{path}: no {'.'.join(keys)} (expected a summary.json of `mixgrad reproduce`)")
        value = value[k]
    return value


def claims(summary, path):
    """{claim name: verdict} over generalization, approximation and robustness at each ε."""
    c = field(summary, path, ["claims"])
    out = {"generalization (G)": c.get("generalization"), "approximation (A)": c.get("approximation")}
    for eps, verdict in sorted(field(summary, path, ["claims", "robustness"]).items(), key=lambda kv: float(kv[0])):
        out[f"robustness (R) at ε = {eps}/255"] = verdict
    return out


def verdict(v):
    return {True: "holds", False: "does not hold", None: "not judged"}.get(v, str(v))


def row(name, a, b, scale):
    """A table row: mean ± std of a (float32) and b (bf16) and their difference; percentages (scale 100) with 2
    decimals, losses with 4."""
    f = ".2f" if scale == 100 else ".4f"
    d = (b["mean"] - a["mean"]) * scale
    return (f"| {name} | {a['mean'] * scale:{f}} ± {a['std'] * scale:{f}} | {b['mean'] * scale:{f}} ± "
            f"{b['std'] * scale:{f}} | {d:+{f}} |")


def compare(a, pa, b, pb, tolerance):
    """(report lines, failures) for summary a (float32) against b (bf16)."""
    ca, cb = dict(field(a, pa, ["config"])), dict(field(b, pb, ["config"]))
    if cb.get("precision") != "bf16":
        sys.exit(f"{pb}: config.precision is {cb.get('precision')!r}, expected 'bf16'")
    if ca.get("precision", "f32") != "f32":
        sys.exit(f"{pa}: config.precision is {ca.get('precision')!r}, expected 'f32'")
    for c in (ca, cb):
        c.pop("precision", None)
        c.pop("data", None)  # where the files were read from
        for key, default in CONFIG_DEFAULTS.items():
            c.setdefault(key, default)
    if ca != cb or a.get("preset") != b.get("preset") or a.get("seeds") != b.get("seeds"):
        diff = sorted(k for k in set(ca) | set(cb) if ca.get(k) != cb.get(k))
        sys.exit(f"{pa} and {pb} are not the same experiment (preset {a.get('preset')!r} vs {b.get('preset')!r}, "
                 f"seeds {a.get('seeds')} vs {b.get('seeds')}, config fields differing: {diff})")
    failures = []
    lines = [f"# float32 vs bf16 mixed precision — preset `{a.get('preset')}`, seeds {a.get('seeds')}", "",
             f"float32: `{pa}`; bf16: `{pb}`. Means ± sample standard deviations over seeds; accuracies are "
             f"on the {a.get('data', {}).get('test', '?')} test images these runs read.", "",
             "| | float32 | bf16 | bf16 − float32 |", "|---|---|---|---|"]
    for method in ("erm", "mixup"):
        for metric, scale, unit in (("clean_acc", 100, " (%)"), ("test_loss", 1, ""), ("gap_loss", 1, "")):
            ma = field(a, pa, ["runs", method, metric])
            mb = field(b, pb, ["runs", method, metric])
            d = (mb["mean"] - ma["mean"]) * scale
            lines.append(row(f"{method} {metric.replace('_', ' ')}{unit}", ma, mb, scale))
            if metric == "clean_acc" and not abs(d) <= tolerance:
                failures.append(f"{method} clean accuracy differs by {d:+.2f} points (tolerance {tolerance:g})")
        fa, fb = a["runs"][method].get("fgsm_acc", {}), b["runs"][method].get("fgsm_acc", {})
        for eps in sorted(set(fa) & set(fb), key=float):
            lines.append(row(f"{method} FGSM acc at ε = {eps}/255 (%)", fa[eps], fb[eps], 100))
    lines += ["", "| the paper's claim | float32 | bf16 |", "|---|---|---|"]
    va, vb = claims(a, pa), claims(b, pb)
    for name in va:
        lines.append(f"| {name} | {verdict(va[name])} | {verdict(vb.get(name))} |")
        if va[name] != vb.get(name):
            failures.append(f"{name}: {verdict(va[name])} in float32, {verdict(vb.get(name))} in bf16")
    lines += ["", f"Clean accuracy within {tolerance:g} points and the same verdicts: "
              + ("**yes**." if not failures else "**no**: " + "; ".join(failures) + ".")]
    return lines, failures


def write_atomically(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".precision.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--f32", required=True, help="summary.json of the float32 run")
    p.add_argument("--bf16", required=True, help="summary.json of the bf16 run")
    p.add_argument("--tolerance", type=float, default=0.5, help="percentage points of clean accuracy (0.5)")
    p.add_argument("--out", help="also write the report here (markdown)")
    args = p.parse_args()
    lines, failures = compare(load(args.f32), args.f32, load(args.bf16), args.bf16, args.tolerance)
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        write_atomically(args.out, text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
