#!/usr/bin/python3
"""mixgrad vs PyTorch on the CPU, side by side: images/s of the same step, same models, threads and batch.

For every model and mode it runs the PyTorch step (a fresh worker process of this script) and `mixgrad bench`
alternately, A B A B ... for --rounds rounds, and reports the ratio mixgrad / PyTorch of images/s (median of
the per-round ratios, with their min-max), the images/s of both, mixgrad's achieved GFLOP/s as a share of
the machine's peak (measured first with `mixgrad bench --peak`: FMAs held in registers on every thread), the peak resident memory of both processes and OpenBLAS's core. Alternating makes the
ratio robust to a machine whose load drifts; each run reports the median of its timed iterations.

The steps (experiments/bench.h has mixgrad's side):
  train  forward in train mode + cross-entropy + backward + SGD (lr 0.01, momentum 0.9, nesterov, wd 5e-4)
  eval   forward in eval mode under no-grad
  fgsm   eval mode; the input gradient only (torch.autograd.grad w.r.t. x), x_adv = clamp(x + 8/255 sign g,
         0, 1), then a no-grad forward on x_adv; the model sees (x - mean) / std (CIFAR-10 statistics)

--precisions f32,bf16 adds bf16 rows: mixgrad `bench --precision bf16` against PyTorch's forward (and loss)
under torch.autocast("cpu", dtype=torch.bfloat16), backward outside it as autocast's recipe says; their GFLOP/s
is shown against the measured vdpbf16ps peak.

PyTorch runs with torch.set_num_threads(T) and glibc malloc tuned so it is not penalised by page faults
(MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_). Needs Debian's python3-torch:

    /usr/bin/python3 scripts/bench_vs_torch.py --mixgrad build/mixgrad            # all models and modes
    /usr/bin/python3 scripts/bench_vs_torch.py --models smallcnn --modes train,fgsm --rounds 7
    /usr/bin/python3 scripts/bench_vs_torch.py --models preact-resnet18 --modes train --precisions f32,bf16
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

MODELS = ["smallcnn", "smallcnn-bn", "preact-resnet18", "wrn-16-8", "wrn-28-10"]
DEFAULT_MODELS = MODELS[:4]  # wrn-28-10 takes about 4 times wrn-16-8's time: ask for it by name
MODES = ["train", "eval", "fgsm"]
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "17179869184",
              "MALLOC_TOP_PAD_": "1073741824"}
PRECISIONS = ["f32", "bf16"]
MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
HERE = os.path.dirname(os.path.abspath(__file__))


def default_iters(model, mode):
    """(timed iterations, warm-up iterations) so that one run takes a few seconds."""
    if model.startswith("wrn-"):
        return {"train": (3, 1), "eval": (4, 1), "fgsm": (3, 1)}[mode]
    if model == "preact-resnet18":
        return {"train": (5, 2), "eval": (8, 2), "fgsm": (5, 2)}[mode]
    return {"train": (20, 3), "eval": (30, 3), "fgsm": (20, 3)}[mode]


# ---- the PyTorch worker (a separate process, so that its peak memory is its own) ----------------------------
def torch_worker(args):
    import resource
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, HERE)
    from torch_models import make_model

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = make_model(args.model)
    n = args.batch_size
    x = torch.rand(n, 3, 32, 32) if args.mode == "fgsm" else torch.randn(n, 3, 32, 32)
    y = torch.randint(0, 10, (n,))
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    inv_std = 1.0 / torch.tensor(STD).view(1, 3, 1, 1)

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16")

    if args.mode == "train":
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=True)

        def step():
            with autocast():
                loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss.item()
    elif args.mode == "eval":
        model.eval()

        def step():
            with torch.no_grad(), autocast():
                return model(x)[0, 0].item()
    else:
        model.eval()

        def step():
            xr = x.clone().requires_grad_(True)
            with autocast():
                loss = F.cross_entropy(model((xr - mean) * inv_std), y)
            (g,) = torch.autograd.grad(loss, [xr])
            adv = (x + (8.0 / 255.0) * g.sign()).clamp_(0.0, 1.0)
            with torch.no_grad(), autocast():
                return model((adv - mean) * inv_std)[0, 0].item()

    for _ in range(args.warmup):
        step()
    rates = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        step()
        rates.append(n / (time.perf_counter() - t0))
    print(json.dumps({"framework": "pytorch", "model": args.model, "mode": args.mode, "precision": args.precision,
                      "batch_size": n,
                      "threads": torch.get_num_threads(), "images_per_s": statistics.median(rates),
                      "images_per_s_min": min(rates), "images_per_s_max": max(rates),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                      "torch": torch.__version__}))


# ---- the driver -------------------------------------------------------------------------------------------
def run_json(cmd, env):
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    for line in proc.stderr.splitlines():  # e.g. mixgrad's note about the OpenBLAS core
        print(f"    [stderr] {line}", file=sys.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def find_mixgrad(path):
    candidates = [path] if path else [os.path.join(HERE, "..", d, "mixgrad") for d in ("build", "build-perf")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return os.path.abspath(c)
    sys.exit(f"mixgrad binary not found (tried {', '.join(candidates)}); build it or pass --mixgrad PATH")


def fmt_range(values, digits=2):
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated, from " + ", ".join(MODELS))
    p.add_argument("--modes", default=",".join(MODES), help="comma-separated, from " + ", ".join(MODES))
    p.add_argument("--precisions", default="f32", help="comma-separated, from f32, bf16 (PyTorch: CPU autocast)")
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds per model and mode (>= 1)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--iters", type=int, default=0, help="timed iterations per run (0: a default per model)")
    p.add_argument("--warmup", type=int, default=-1, help="warm-up iterations per run (-1: a default per model)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mixgrad", default="", help="the mixgrad binary (default: build/mixgrad or build-perf/mixgrad)")
    p.add_argument("--json-out", default="", help="also write every run and the summary to this JSON file")
    p.add_argument("--markdown", action="store_true", help="print the summary as a Markdown table too")
    p.add_argument("--worker", choices=["torch"], help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--mode", help=argparse.SUPPRESS)
    p.add_argument("--precision", default="f32", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return torch_worker(args)

    models = [m for m in args.models.split(",") if m]
    modes = [m for m in args.modes.split(",") if m]
    for m in models:
        if m not in MODELS:
            sys.exit(f"unknown model {m!r}; known: {', '.join(MODELS)}")
    for m in modes:
        if m not in MODES:
            sys.exit(f"unknown mode {m!r}; known: {', '.join(MODES)}")
    precisions = [q for q in args.precisions.split(",") if q]
    for q in precisions:
        if q not in PRECISIONS:
            sys.exit(f"unknown precision {q!r}; known: {', '.join(PRECISIONS)}")
    if args.rounds < 1:
        sys.exit("--rounds must be >= 1")
    mixgrad = find_mixgrad(args.mixgrad)
    torch_env = dict(os.environ, **MALLOC_ENV, OMP_NUM_THREADS=str(args.threads))
    mg_env = dict(os.environ)

    # The peaks the GFLOP/s are shown against: measured here (mixgrad bench --peak), the best of 3 probes.
    probes = [run_json([mixgrad, "bench", "--peak", "--json", "--threads", str(args.threads)], mg_env) for _ in range(3)]
    peaks = {"f32": max(p["f32_gflops"] for p in probes), "bf16": max(p["bf16_gflops"] for p in probes)}
    print(f"mixgrad: {mixgrad}\nthreads {args.threads}, batch {args.batch_size}, {args.rounds} alternating rounds "
          f"(PyTorch, mixgrad, PyTorch, ...)\nmeasured peak on {args.threads} threads (mixgrad bench --peak): "
          f"f32 FMA {peaks['f32']:.0f} GFLOP/s, bf16 vdpbf16ps {peaks['bf16']:.0f} GFLOP/s", flush=True)

    def share(g, precision):
        return f"{100 * g / peaks[precision]:3.0f}%" if peaks[precision] > 0 else "  -"

    runs, summary = [], []
    started = time.time()
    for model, mode, precision in ((m, d, q) for m in models for d in modes for q in precisions):
        iters, warmup = default_iters(model, mode)
        iters = args.iters or iters
        warmup = warmup if args.warmup < 0 else args.warmup
        common = ["--model", model, "--mode", mode, "--batch-size", str(args.batch_size),
                  "--threads", str(args.threads), "--iters", str(iters), "--warmup", str(warmup),
                  "--seed", str(args.seed), "--precision", precision]
        torch_cmd = [sys.executable, os.path.abspath(__file__), "--worker", "torch"] + common
        mg_cmd = [mixgrad, "bench"] + common + ["--json"]
        pt, mg = [], []
        for r in range(args.rounds):
            pt.append(run_json(torch_cmd, torch_env))
            mg.append(run_json(mg_cmd, mg_env))
            print(f"  {model:16s} {mode:5s} {precision:4s} round {r + 1}: PyTorch {pt[-1]['images_per_s']:8.1f}  mixgrad "
                  f"{mg[-1]['images_per_s']:8.1f} images/s  ratio {mg[-1]['images_per_s'] / pt[-1]['images_per_s']:.2f}",
                  flush=True)
        ratios = [b["images_per_s"] / a["images_per_s"] for a, b in zip(pt, mg)]
        row = {"model": model, "mode": mode, "precision": precision, "batch_size": args.batch_size, "threads": args.threads,
               "rounds": args.rounds, "iters": iters, "warmup": warmup,
               "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
               "pytorch_images_per_s": [a["images_per_s"] for a in pt],
               "mixgrad_images_per_s": [b["images_per_s"] for b in mg],
               "mixgrad_gflops": [b["gflops"] for b in mg],
               "pytorch_peak_rss_mb": max(a["peak_rss_mb"] for a in pt),
               "mixgrad_peak_rss_mb": max(b["peak_rss_mb"] for b in mg),
               "blas_core": mg[-1]["blas_core"]}
        summary.append(row)
        runs.extend([dict(a, round=i) for i, a in enumerate(pt)] + [dict(b, framework="mixgrad", round=i)
                                                                      for i, b in enumerate(mg)])

    print(f"\nmixgrad / PyTorch, {args.threads} threads, batch {args.batch_size}, median of {args.rounds} "
          f"alternating rounds (min-max); {time.time() - started:.0f} s")
    head = (f"{'model':16s} {'mode':5s} {'prec':4s} {'ratio':>17s} {'PyTorch img/s':>22s} {'mixgrad img/s':>22s} "
            f"{'mixgrad GFLOP/s':>16s} {'peak MiB pt/mg':>15s}  BLAS core")
    print(head)
    print("-" * len(head))
    for row in summary:
        g = statistics.median(row["mixgrad_gflops"])
        print(f"{row['model']:16s} {row['mode']:5s} {row['precision']:4s} {fmt_range([row['ratio'], row['ratio_min'], row['ratio_max']]):>17s} "
              f"{fmt_range(row['pytorch_images_per_s'], 0):>22s} {fmt_range(row['mixgrad_images_per_s'], 0):>22s} "
              f"{g:7.0f} ({share(g, row['precision'])}) "
              f"{row['pytorch_peak_rss_mb']:6.0f}/{row['mixgrad_peak_rss_mb']:<6.0f}  {row['blas_core']}")
    if args.markdown:
        print("\n| model | mode | precision | mixgrad / PyTorch (min–max) | PyTorch images/s | mixgrad images/s | "
              f"mixgrad GFLOP/s (share of the measured peak: {peaks['f32']:.0f} f32, {peaks['bf16']:.0f} bf16) | "
              "peak RSS PyTorch / mixgrad (MiB) |")
        print("|---|---|---|---|---|---|---|---|")
        for row in summary:
            g = statistics.median(row["mixgrad_gflops"])
            print(f"| {row['model']} | {row['mode']} | {row['precision']} | **{row['ratio']:.2f}** ({row['ratio_min']:.2f}–{row['ratio_max']:.2f}) "
                  f"| {statistics.median(row['pytorch_images_per_s']):.0f} | {statistics.median(row['mixgrad_images_per_s']):.0f} "
                  f"| {g:.0f} ({share(g, row['precision']).strip()}) | {row['pytorch_peak_rss_mb']:.0f} / {row['mixgrad_peak_rss_mb']:.0f} |")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"peaks_gflops": peaks, "summary": summary, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
