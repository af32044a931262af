#!/usr/bin/python3
"""PyTorch side of `mixgrad audit`: make random weights and batches, compute the reference one-step dump, and
compare two dumps tensor by tensor. Run with Debian's python3 (python3-torch, python3-numpy).

  torch_audit.py gen --model M --seed S --out DIR [--mixup] [--batch N]
      writes DIR/W.safetensors (every parameter and buffer, random non-default values, F64; num_batches_tracked
      I64) and DIR/B.safetensors (x F64 (N,3,32,32), y I64 (N); with --mixup also lam F64 scalar, perm I64 (N)).
  torch_audit.py ref --model M --weights W --batch B --out G [--dtype f32|f64] [--bf16] [--eval]
                     [--sgd-lr LR --sgd-momentum M --sgd-weight-decay WD [--sgd-nesterov]]
      the same outputs as `mixgrad audit`, computed by PyTorch.
  torch_audit.py compare A B --tol T
      per-tensor relative error |a - b| / |b| (B is the reference; |b| floored at 1% of the largest |b| of the
      same kind, grad.* / param.* / buffer.*, for tensors that are zero in exact arithmetic); exits 1 on any
      error above T or on missing or extra tensors.
  torch_audit.py check --mixgrad BIN --model M --dir DIR [--seed S] [--batch N]
      all of the above for one model: train/eval x plain/mixup x f64 (tol 1e-10)/f32 (tol 1e-4), with an SGD step
      in train mode; one line per configuration, exit status 1 if any fails. Seeds at which PyTorch's own f32
      result is more than tol/10 from its f64 result (a ReLU input within float32 rounding of 0) are skipped.
  torch_audit.py bf16 --mixgrad BIN --model M --dir DIR [--seed S] [--batch N] [--factor F]
      `mixgrad audit --precision bf16` against PyTorch's CPU autocast to bfloat16, both judged by their error
      from PyTorch's float64 result: mixgrad's may be at most F (1.5) times PyTorch's, pooled per group (output,
      grad, buffer, param) and for the worst tensor; train/eval x plain/mixup.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


def make_weights(model_name, seed):
    """Every parameter and buffer of a fresh model, perturbed to non-default values (BN gamma != 1, beta != 0,
    non-trivial running statistics, num_batches_tracked > 0): {name: F64 array, num_batches_tracked I64}."""
    import torch
    from torch_models import make_model
    torch.manual_seed(seed)
    model = make_model(model_name)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.normal_(0.0, 0.2, generator=g)
                m.running_mean.normal_(0.0, 0.2, generator=g)
                m.running_var.uniform_(0.5, 2.0, generator=g)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
    return {k: v.double().numpy() if v.is_floating_point() else v.numpy() for k, v in model.state_dict().items()}


def make_batch(seed, n, mixup):
    """x F64 (n, 3, 32, 32), y I64 (n); with mixup also lam (F64 scalar in [0.2, 0.8]) and perm (I64, no fixed
    point when n > 1)."""
    import torch
    g = torch.Generator().manual_seed(seed + 2)
    batch = {"x": torch.randn(n, 3, 32, 32, generator=g, dtype=torch.float64).numpy(),
             "y": torch.randint(0, 10, (n,), generator=g).numpy()}
    if mixup:
        batch["lam"] = np.array(0.2 + 0.6 * float(torch.rand(1, generator=g)), dtype=np.float64)
        shift = int(torch.randint(1, max(n, 2), (1,), generator=g))
        batch["perm"] = ((np.arange(n) + shift) % n).astype(np.int64)
    return batch


def gen(args):
    """Writes DIR/W.safetensors and DIR/B.safetensors."""
    os.makedirs(args.out, exist_ok=True)
    safetensors_io.save(os.path.join(args.out, "W.safetensors"), make_weights(args.model, args.seed),
                        {"model": args.model, "seed": args.seed})
    safetensors_io.save(os.path.join(args.out, "B.safetensors"), make_batch(args.seed, args.batch, args.mixup))


def reference(model_name, weights_path, batch_path, out_path, dtype_name, eval_mode, sgd=None, bf16=False,
              adapt=None):
    """One forward/backward (and, with sgd = dict(lr, momentum, weight_decay, nesterov), one SGD step) in
    PyTorch: returns {name: array} with mixgrad audit's names, and writes it to out_path unless that is None.
    bf16: the model's forward under torch.autocast("cpu", torch.bfloat16) on a float32 model (`mixgrad audit
    --precision bf16`); the loss is taken in float32 of the bf16 logits. adapt: called with the model once its
    weights are loaded (scripts/winograd_bf16_error.py swaps its convolutions)."""
    import contextlib
    import torch
    import torch.nn.functional as F
    from torch_models import make_model
    assert not bf16 or dtype_name == "f32", "bf16 autocast runs a float32 model"
    dtype = {"f32": torch.float32, "f64": torch.float64}[dtype_name]
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    torch.set_num_threads(1)
    weights, batch = safetensors_io.load(weights_path), safetensors_io.load(batch_path)
    model = make_model(model_name).to(dtype)  # before loading, so f64 weights are not rounded through f32
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()}, strict=True)
    if adapt is not None:
        adapt(model)
    model.train(not eval_mode)
    x = torch.from_numpy(batch["x"].copy()).to(dtype).requires_grad_(True)
    y = torch.from_numpy(batch["y"].copy())
    if "lam" in batch:
        lam, perm = float(batch["lam"]), torch.from_numpy(batch["perm"].copy())
        with autocast:
            logits = model(lam * x + (1 - lam) * x[perm]).to(dtype)
        loss = lam * F.cross_entropy(logits, y) + (1 - lam) * F.cross_entropy(logits, y[perm])
    else:
        with autocast:
            logits = model(x).to(dtype)
        loss = F.cross_entropy(logits, y)
    loss.backward()
    out = {"loss": loss.detach(), "logits": logits.detach()}
    params = dict(model.named_parameters())
    out.update({f"grad.{k}": p.grad for k, p in params.items()})
    out["grad.x"] = x.grad
    out.update({f"buffer.{k}": b.clone() for k, b in model.named_buffers()})
    if sgd is not None:
        torch.optim.SGD(model.parameters(), **sgd).step()
        out.update({f"param.{k}": p.detach() for k, p in params.items()})
    out = {k: v.numpy() for k, v in out.items()}
    if out_path is not None:
        safetensors_io.save(out_path, out)
    return out


def sgd_settings(args):
    """The SGD settings from --sgd-* flags, or None without --sgd-lr."""
    if args.sgd_lr is None:
        return None
    return {"lr": args.sgd_lr, "momentum": args.sgd_momentum, "weight_decay": args.sgd_weight_decay,
            "nesterov": args.sgd_nesterov}


def ref(args):
    reference(args.model, args.weights, args.batch, args.out, "f32" if args.bf16 else args.dtype, args.eval,
              sgd_settings(args), args.bf16)


def kind(name):
    """The group a tensor's noise floor is taken from: grad, param, buffer, or the tensor itself."""
    prefix = name.split(".", 1)[0]
    return prefix if prefix in ("grad", "param", "buffer") else name


def load_dump(path):
    """A dump as {name: array}: path is a safetensors file or already such a dict."""
    return path if isinstance(path, dict) else safetensors_io.load(path)


def relative_errors(a, b):
    """{name: (error, floored)} for every tensor of the reference b that a has with the same shape:
    |a - b| / max(|b|, 1% of the largest |b| of the same kind); floored says the floor was the denominator."""
    norms = {k: float(np.linalg.norm(v.astype(np.float64))) for k, v in b.items()}
    floor = {}
    for k, n in norms.items():
        floor[kind(k)] = max(floor.get(kind(k), 0.0), 0.01 * n)
    errors = {}
    for k in b:
        if k not in a or a[k].shape != b[k].shape:
            continue
        diff = float(np.linalg.norm(a[k].astype(np.float64) - b[k].astype(np.float64)))
        denom = max(norms[k], floor[kind(k)])
        err = diff / denom if denom > 0 else diff
        errors[k] = (err if np.isfinite(err) else float("inf"), denom > norms[k])
    return errors


def compare_files(path_a, path_b, tol):
    """Relative error of every tensor of path_a against the reference path_b (each a file or a {name: array}
    dict), as in relative_errors. Returns (report lines, failure lines, (worst error, its tensor))."""
    a, b = load_dump(path_a), load_dump(path_b)
    path_a = path_a if isinstance(path_a, str) else "mixgrad's dump"
    bad = [f"missing in {path_a}: {k}" for k in b if k not in a] + [f"extra in {path_a}: {k}" for k in a if k not in b]
    bad += [f"{k}: shape {a[k].shape} vs {b[k].shape}" for k in b if k in a and a[k].shape != b[k].shape]
    worst, lines = (0.0, ""), [f"{'tensor':48s} {'shape':>18s} {'rel_err':>10s}"]
    for k, (err, floored) in relative_errors(a, b).items():
        note = " (floored)" if floored else ""
        flag = "  FAIL" if not err <= tol else ""
        lines.append(f"{k:48s} {str(tuple(b[k].shape)):>18s} {err:10.3e}{note}{flag}")
        worst = max(worst, (err, k))
        if flag:
            bad.append(f"{k}: relative error {err:.3e} > {tol:g}")
    lines.append(f"max relative error {worst[0]:.3e} ({worst[1]}) over {len(b)} tensors, tol {tol:g}")
    return lines, bad, worst


def compare(args):
    """Prints the per-tensor report; exit status 1 on any failure."""
    lines, bad, _ = compare_files(args.a, args.b, args.tol)
    print("\n".join(lines + [f"FAIL {line}" for line in bad]))
    return 1 if bad else 0


CHECK_SGD = {"lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4}


def configurations(args, seed):
    """Yields (mode, loss, batch file, sgd) for train and eval mode, each with a plain and a mixup batch written
    to args.dir; train mode takes an SGD step (nesterov with mixup), eval mode none."""
    for mode in ("train", "eval"):
        for loss in ("plain", "mixup"):
            batch = os.path.join(args.dir, f"B_{loss}.safetensors")
            safetensors_io.save(batch, make_batch(seed, args.batch, loss == "mixup"))
            yield mode, loss, batch, (dict(CHECK_SGD, nesterov=loss == "mixup") if mode == "train" else None)


def run_mixgrad(args, weights, batch, out, dtype, eval_mode, sgd, precision="f32"):
    """Runs `mixgrad audit`; returns (exit status, output, seconds)."""
    import subprocess
    import time
    cmd = [args.mixgrad, "audit", "--model", args.model, "--weights", weights, "--batch", batch, "--out", out,
           "--dtype", dtype, "--precision", precision] + (["--eval"] if eval_mode else [])
    if sgd:
        cmd += ["--sgd-lr", repr(sgd["lr"]), "--sgd-momentum", repr(sgd["momentum"]),
                "--sgd-weight-decay", repr(sgd["weight_decay"])] + (["--sgd-nesterov"] if sgd["nesterov"] else [])
    start = time.time()
    run = subprocess.run(cmd, capture_output=True, text=True)
    return run.returncode, " ".join(cmd) + "\n" + run.stdout + run.stderr, time.time() - start


def check_seed(args, seed):
    """All configurations at one seed. Returns the number of failed configurations, or None when the point is
    ill-conditioned for float32: PyTorch's own f32 result is further than tol/10 from its f64 result, which
    happens when a ReLU input lies within float32 rounding of 0 and flips side (its gradient then jumps)."""
    weights = os.path.join(args.dir, "W.safetensors")
    safetensors_io.save(weights, make_weights(args.model, seed), {"model": args.model, "seed": seed})
    failed = 0
    for mode, loss, batch, sgd in configurations(args, seed):
        ref = {dtype: reference(args.model, weights, batch, None, dtype, mode == "eval", sgd)
               for dtype in ("f64", "f32")}
        _, _, (self_err, self_where) = compare_files(ref["f32"], ref["f64"], args.tol_f32)
        if not self_err <= args.tol_f32 / 10:
            print(f"seed {seed}: PyTorch's f32 result is {self_err:.1e} from its f64 result ({mode} {loss}, "
                  f"{self_where}): a ReLU input within float32 rounding of 0; choosing the next seed", flush=True)
            return None
        for dtype, tol in (("f64", args.tol_f64), ("f32", args.tol_f32)):
            name = f"{args.model} {mode} {loss} {dtype}" + (
                (" sgd-nesterov" if sgd["nesterov"] else " sgd") if sgd else "")
            out = os.path.join(args.dir, "G_mixgrad.safetensors")
            status, output, seconds = run_mixgrad(args, weights, batch, out, dtype, mode == "eval", sgd)
            if status != 0:
                print(f"FAIL {name}: mixgrad audit exited {status}\n{output}", flush=True)
                failed += 1
                continue
            lines, bad, worst = compare_files(out, ref[dtype], tol)
            extra = ""
            if dtype == "f32":
                _, _, (truth_err, _) = compare_files(out, ref["f64"], 1.0)
                extra = f", {truth_err:.1e} from PyTorch f64"
            print(f"{'ok' if not bad else 'FAIL':4s} {name:44s} max rel err {worst[0]:9.3e} ({worst[1]}) "
                  f"tol {tol:g}{extra}  [mixgrad {seconds:.1f}s]", flush=True)
            if bad:
                failed += 1
                print("\n".join(["  " + line for line in lines + bad]), flush=True)
    return failed


def check(args):
    """The whole cross-check for one model: random weights, a plain and a mixup batch, then for train and eval
    mode, f64 and f32: `mixgrad audit` against PyTorch (train mode also takes an SGD step, nesterov with
    mixup). Seeds where float32 is ill-conditioned are skipped (see check_seed). One line per configuration;
    exit status 1 if any configuration fails."""
    os.makedirs(args.dir, exist_ok=True)
    for seed in range(args.seed, args.seed + args.tries):
        failed = check_seed(args, seed)
        if failed is None:
            continue
        print(f"{args.model} (seed {seed}): " + (f"{failed} configuration(s) failed" if failed else
                                                 "all configurations agree"))
        return 1 if failed else 0
    print(f"FAIL {args.model}: no seed in [{args.seed}, {args.seed + args.tries}) is well-conditioned for float32")
    return 1


def group_of(name):
    """The group a tensor's error is pooled in for the bf16 check: output (loss and logits), grad, buffer, param."""
    k = kind(name)
    return "output" if k in ("loss", "logits") else k


def group_errors(a, b):
    """{group: |a - b| / |b|} with both norms pooled over the group's tensors (see group_of), so that a tensor
    whose error happens to cancel in one of the two runs (a scalar loss, a small bias) does not decide alone."""
    diff, norm = {}, {}
    for k, v in b.items():
        g = group_of(k)
        d = a[k].astype(np.float64) - v.astype(np.float64)
        diff[g] = diff.get(g, 0.0) + float(np.sum(d * d))
        norm[g] = norm.get(g, 0.0) + float(np.sum(v.astype(np.float64) ** 2))
    return {g: (np.sqrt(diff[g] / norm[g]) if norm[g] > 0 else np.sqrt(diff[g])) for g in diff}


BF16_FLOOR = 1e-6  # far above float32 rounding (6e-8), far below bf16's (4e-3): groups bf16 does not touch
BF16_ENGAGED = 1e-4  # a PyTorch error above this is bf16's; mixgrad's must then be at least a tenth of it


def bf16(args):
    """mixgrad's bf16 autocast against PyTorch's: for train and eval mode, with and without mixup (an SGD step in
    train mode), the error of `mixgrad audit --precision bf16` from PyTorch's float64 result must be within
    --factor of PyTorch autocast's own error from the same float64 result, per group (group_errors, plus
    BF16_FLOOR) and for the worst single tensor (relative_errors); and at least a tenth of it where PyTorch's is
    bf16-sized (BF16_ENGAGED), so a run that silently stayed in float32 fails. One line per configuration; exit
    status 1 if any fails."""
    os.makedirs(args.dir, exist_ok=True)
    weights = os.path.join(args.dir, "W.safetensors")
    safetensors_io.save(weights, make_weights(args.model, args.seed), {"model": args.model, "seed": args.seed})
    failed = 0
    for mode, loss, batch, sgd in configurations(args, args.seed):
        truth = reference(args.model, weights, batch, None, "f64", mode == "eval", sgd)
        torch_bf16 = reference(args.model, weights, batch, None, "f32", mode == "eval", sgd, bf16=True)
        out = os.path.join(args.dir, "G_mixgrad.safetensors")
        status, output, _ = run_mixgrad(args, weights, batch, out, "f32", mode == "eval", sgd, "bf16")
        name = f"{args.model} {mode} {loss} bf16"
        if status != 0:
            print(f"FAIL {name}: mixgrad audit exited {status}\n{output}", flush=True)
            failed += 1
            continue
        ours_dump = safetensors_io.load(out)
        missing = sorted(set(truth) ^ set(ours_dump))
        if missing:
            print(f"FAIL {name}: tensors missing or extra in mixgrad's dump: {missing}", flush=True)
            failed += 1
            continue
        ours, theirs = group_errors(ours_dump, truth), group_errors(torch_bf16, truth)
        worst_ours = max((e, k) for k, (e, _) in relative_errors(ours_dump, truth).items())
        worst_theirs = max((e, k) for k, (e, _) in relative_errors(torch_bf16, truth).items())
        bad = [g for g in ours if not ours[g] <= args.factor * theirs[g] + BF16_FLOOR]
        bad += [f"{g} as precise as float32: bf16 did not run" for g in ours
                if theirs[g] > BF16_ENGAGED and not ours[g] >= theirs[g] / 10]
        if not worst_ours[0] <= args.factor * worst_theirs[0] + BF16_FLOOR:
            bad.append(f"worst tensor {worst_ours[1]}")
        groups = "  ".join(f"{g} {ours[g]:.2e}/{theirs[g]:.2e}" for g in sorted(ours))
        print(f"{'ok' if not bad else 'FAIL':4s} {name:36s} error vs f64, mixgrad/PyTorch: {groups}  worst "
              f"{worst_ours[0]:.2e} ({worst_ours[1]})/{worst_theirs[0]:.2e} ({worst_theirs[1]}), factor "
              f"{args.factor:g}" + (f"  FAILED: {', '.join(bad)}" if bad else ""), flush=True)
        failed += bool(bad)
    print(f"{args.model} bf16 (seed {args.seed}): " + (f"{failed} configuration(s) failed" if failed else
                                                      "mixgrad's bf16 error is within PyTorch autocast's"))
    return 1 if failed else 0


def add_run_arguments(p):
    """The arguments of the subcommands that run mixgrad against PyTorch (check, bf16)."""
    p.add_argument("--mixgrad", required=True, help="the mixgrad binary")
    p.add_argument("--model", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--dir", required=True, help="scratch directory for the weight, batch and dump files")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("gen")
    p.add_argument("--model", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--mixup", action="store_true")
    p.add_argument("--batch", type=int, default=4)
    p = sub.add_parser("ref")
    p.add_argument("--model", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--batch", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--dtype", choices=["f32", "f64"], default="f64")
    p.add_argument("--bf16", action="store_true", help="forward under bf16 autocast (implies --dtype f32)")
    p.add_argument("--eval", action="store_true")
    p.add_argument("--sgd-lr", type=float)
    p.add_argument("--sgd-momentum", type=float, default=0.0)
    p.add_argument("--sgd-weight-decay", type=float, default=0.0)
    p.add_argument("--sgd-nesterov", action="store_true")
    p = sub.add_parser("compare")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--tol", type=float, required=True)
    p = sub.add_parser("check")
    add_run_arguments(p)
    p.add_argument("--tol-f64", type=float, default=1e-10)
    p.add_argument("--tol-f32", type=float, default=1e-4)
    p.add_argument("--tries", type=int, default=5, help="seeds to try for a point well-conditioned in float32")
    p = sub.add_parser("bf16")
    add_run_arguments(p)
    p.add_argument("--factor", type=float, default=1.5)
    args = parser.parse_args()
    commands = {"gen": gen, "ref": ref, "compare": compare, "check": check, "bf16": bf16}
    sys.exit(commands[args.command](args) or 0)


if __name__ == "__main__":
    main()
