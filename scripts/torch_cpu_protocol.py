#!/usr/bin/python3
"""The `cpu` protocol of `mixgrad reproduce` in PyTorch, for comparing accuracies.

smallcnn-bn on CIFAR-10 (binary version), batch 128, SGD with nesterov momentum 0.9, weight decay 5e-4,
OneCycleLR(max_lr=0.05, pct_start=0.25) stepped per batch with PyTorch's defaults, random crop (padding 4)
and horizontal flip, normalisation with mean (0.4914, 0.4822, 0.4465) and std (0.2023, 0.1994, 0.2010),
mixup with alpha = 1 (one lambda per batch, a random permutation as partners) against ERM; clean accuracy
on the test split (with ../shared/data: the first 1017 official test images).

    /usr/bin/python3 scripts/torch_cpu_protocol.py --data DIR [--epochs 15] [--seeds 3] [--threads 2]
        [--train-subset N] [--bf16] [--methods erm,mixup] [--out results.json]

--bf16: the forward passes (training and evaluation) under torch.autocast("cpu", dtype=torch.bfloat16), as
`mixgrad reproduce --precision bf16` runs them. --methods: only these methods (a later call with the same
--out can add the others).

Prints and writes {"erm": {"clean_acc": {"mean", "std", "values"}}, "mixup": {...}, "settings": {...},
"finished": {"erm": {seed: acc}, ...}}. With --out, every finished run is written at once, and a later call
with the same --out and settings skips the runs already there (so the 6 runs can span several sittings).
"""
import argparse
import contextlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import MODELS  # noqa: E402

MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.2023, 0.1994, 0.2010], dtype=np.float32).reshape(1, 3, 1, 1)


def read_cifar(path):
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 3073:
        raise SystemExit(f"{path}: {raw.size} bytes is not a whole number of 3073-byte records")
    records = raw.reshape(-1, 3073)
    return records[:, 1:].reshape(-1, 3, 32, 32), records[:, 0].astype(np.int64)


def load(data):
    parts = [read_cifar(os.path.join(data, f"data_batch_{i}.bin")) for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = read_cifar(os.path.join(data, "test_batch.bin"))
    return x_train, y_train, x_test, y_test


def normalise(images):
    return torch.from_numpy((images.astype(np.float32) / 255.0 - MEAN) / STD)


def augment(images, rng):
    """random 32x32 crop of the zero-padded (4 pixels) image, then a horizontal flip with probability 1/2"""
    n = images.shape[0]
    padded = np.zeros((n, 3, 40, 40), dtype=images.dtype)
    padded[:, :, 4:36, 4:36] = images
    out = np.empty_like(images)
    dy = rng.integers(0, 9, n)
    dx = rng.integers(0, 9, n)
    flip = rng.random(n) < 0.5
    for i in range(n):
        crop = padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
        out[i] = crop[:, :, ::-1] if flip[i] else crop
    return out


def autocast(bf16):
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def accuracy(model, images, labels, bf16, batch=512):
    model.eval()
    correct = 0
    with torch.no_grad(), autocast(bf16):
        for start in range(0, len(labels), batch):
            logits = model(normalise(images[start:start + batch]))
            correct += (logits.argmax(1).numpy() == labels[start:start + batch]).sum()
    return float(correct) / len(labels)


def train_one(x_train, y_train, x_test, y_test, alpha, seed, epochs, batch_size, bf16):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = MODELS["smallcnn-bn"]()
    steps_per_epoch = (len(y_train) + batch_size - 1) // batch_size
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, pct_start=0.25,
                                                   total_steps=epochs * steps_per_epoch)
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(y_train))
        start = time.time()
        for b in range(steps_per_epoch):
            idx = order[b * batch_size:(b + 1) * batch_size]
            x = normalise(augment(x_train[idx], rng))
            y = torch.from_numpy(y_train[idx])
            if alpha > 0:
                lam = float(rng.beta(alpha, alpha))
                perm = torch.from_numpy(rng.permutation(len(idx)))
                with autocast(bf16):
                    logits = model(lam * x + (1 - lam) * x[perm]).float()
                loss = lam * F.cross_entropy(logits, y) + (1 - lam) * F.cross_entropy(logits, y[perm])
            else:
                with autocast(bf16):
                    logits = model(x).float()
                loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"  alpha {alpha} seed {seed} epoch {epoch + 1}/{epochs}: {time.time() - start:.0f}s, "
              f"test acc {accuracy(model, x_test, y_test, bf16):.4f}", file=sys.stderr)
    return accuracy(model, x_test, y_test, bf16)


def stat(values):
    values = np.array(values)
    return {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "values": values.tolist()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--train-subset", type=int, default=-1)
    parser.add_argument("--bf16", action="store_true", help="forward passes under CPU autocast to bfloat16")
    parser.add_argument("--methods", default="erm,mixup", help="comma-separated, from erm, mixup")
    parser.add_argument("--out")
    args = parser.parse_args()
    methods = args.methods.split(",")
    if not methods or any(m not in ("erm", "mixup") for m in methods):
        parser.error(f"--methods {args.methods!r}: expected a comma-separated list of erm, mixup")
    torch.set_num_threads(args.threads)
    x_train, y_train, x_test, y_test = load(args.data)
    if args.train_subset > 0:
        x_train, y_train = x_train[:args.train_subset], y_train[:args.train_subset]
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "threads", "seeds", "data", "methods")}
    if not args.bf16:
        del settings["bf16"]  # as float32 results written before --bf16 existed have it
    result = {"settings": settings, "test_images": int(len(y_test)), "finished": {"erm": {}, "mixup": {}}}
    if args.out and os.path.exists(args.out):  # resume: keep the runs an earlier, interrupted call finished
        with open(args.out) as f:
            previous = json.load(f)
        if previous.get("settings") != settings:
            raise SystemExit(f"{args.out}: written with settings {previous.get('settings')}, not {settings}; "
                             "use another --out")
        result["finished"] = previous["finished"]
    for seed in range(args.seeds):  # seed by seed, so that an interrupted call leaves both methods balanced
        for name, alpha in (("erm", 0.0), ("mixup", 1.0)):
            if name not in methods:
                continue
            if str(seed) in result["finished"][name]:
                print(f"  {name} seed {seed}: already in {args.out}", file=sys.stderr)
                continue
            acc = train_one(x_train, y_train, x_test, y_test, alpha, seed, args.epochs, args.batch_size, args.bf16)
            result["finished"][name][str(seed)] = acc
            for method in ("erm", "mixup"):
                accs = [result["finished"][method][k] for k in sorted(result["finished"][method], key=int)]
                result[method] = {"clean_acc": stat(accs)} if accs else {}
            write_atomic(args.out, result)
    text = json.dumps(result, indent=2)
    print(text)


def write_atomic(path, result):
    if not path:
        return
    with open(path + ".tmp", "w") as f:
        f.write(json.dumps(result, indent=2) + "\n")
    os.replace(path + ".tmp", path)

if __name__ == "__main__":
    main()
