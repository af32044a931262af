#!/usr/bin/env python3
"""Kill soak: SIGKILLs a small training run at random moments (mid-step, mid-checkpoint-write) N times,
resuming after each kill, then checks that the final checkpoint's tensors and the metrics are byte for byte
those of an uninterrupted run. Checkpoints are written every few steps (--checkpoint-every 0.002 minutes)
so that kills land inside checkpoint writes too.

Usage: scripts/kill_soak.py MIXGRAD_BINARY CIFAR10_DIR [--kills N] [--seed S]
Exits 0 when the bits match, 1 with a message otherwise."""
import argparse
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time


def tensors_of(path):
    """(header without __metadata__, data bytes) of a safetensors file: equal iff every tensor is equal."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        header.pop("__metadata__", None)
        return header, f.read()


def metrics_of(run):
    rows = []
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            row.pop("seconds"), row.pop("images_per_s")  # timing differs; nothing else may
            rows.append(row)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("data")
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--max-delay", type=float, default=1.5, help="seconds; kills land uniformly in [0.05, this]")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="mixgrad-soak-")
    train = [a.binary, "train", "--data", a.data, "--model", "smallcnn", "--epochs", "3", "--train-subset", "512",
             "--batch-size", "32", "--mixup-alpha", "1", "--threads", "2", "--quiet", "--checkpoint-every", "0.002"]
    try:
        straight = os.path.join(work, "straight")
        subprocess.run(train + ["--out", straight], check=True)
        run = os.path.join(work, "killed")
        kills = restarts = 0
        while True:
            has_checkpoint = any(os.path.exists(os.path.join(run, f))
                                 for f in ("checkpoint.safetensors", "checkpoint.prev.safetensors"))
            cmd = [a.binary, "train", "--out", run, "--resume", "--quiet"] if has_checkpoint else train + [
                "--out", run, "--force"]
            proc = subprocess.Popen(cmd)
            restarts += 1
            if kills < a.kills:
                try:
                    proc.wait(timeout=rng.uniform(0.05, a.max_delay))
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    kills += 1
                    continue
            else:
                proc.wait()
            if proc.returncode != 0:
                print(f"kill_soak: FAILED: {' '.join(cmd)} exited with {proc.returncode}")
                return 1
            break
        same_tensors = tensors_of(os.path.join(straight, "checkpoint.safetensors")) == tensors_of(
            os.path.join(run, "checkpoint.safetensors"))
        same_metrics = metrics_of(straight) == metrics_of(run)
        print(f"kill_soak: {kills} SIGKILLs, {restarts} starts (seed {a.seed}): final tensors "
              f"{'identical' if same_tensors else 'DIFFER'}, metrics {'identical' if same_metrics else 'DIFFER'}")
        return 0 if same_tensors and same_metrics else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
