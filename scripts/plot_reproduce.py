#!/usr/bin/python3
"""Plots of a `mixgrad reproduce` run, drawn from OUT/summary.json with matplotlib.

    /usr/bin/python3 scripts/plot_reproduce.py OUT

writes OUT/robust_accuracy.png, OUT/gap.png, OUT/curves.png and OUT/approximation.png; for the budget preset
(a summary with a "budget" axis) OUT/budget.png, and OUT/approximation.png once the analysis is in.
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLORS = {"erm": "tab:blue", "mixup": "tab:orange"}
LABELS = {"erm": "ERM", "mixup": "mixup (α = 1)"}


def per_epoch(curves, key):
    """mean and std over seeds of one metric, per epoch"""
    values = np.array([[row[key] for row in run] for run in curves])
    return values.mean(axis=0), values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1])


def robust_accuracy(summary, out):
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for method in ("erm", "mixup"):
        run = summary["runs"][method]
        eps = [0.0] + [float(e) for e in run["fgsm_acc"]]
        mean = [run["clean_acc"]["mean"]] + [v["mean"] for v in run["fgsm_acc"].values()]
        std = [run["clean_acc"]["std"]] + [v["std"] for v in run["fgsm_acc"].values()]
        ax.errorbar(eps, 100 * np.array(mean), yerr=100 * np.array(std), marker="o", capsize=3,
                    color=COLORS[method], label=LABELS[method])
    ax.set_xlabel("FGSM ε (× 1/255)")
    ax.set_ylabel(f"accuracy on {summary['data']['test']} test images (%)")
    ax.set_title("Robust accuracy under FGSM")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "robust_accuracy.png"), dpi=120)


def gap(summary, out):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for method in ("erm", "mixup"):
        curves = summary["curves"][method]
        epochs = [row["epoch"] for row in curves[0]]
        for ax, key, title in ((axes[0], "gap_loss", "loss gap (test − train)"),
                               (axes[1], "gap_acc", "accuracy gap (train − test)")):
            mean, std = per_epoch(curves, key)
            ax.plot(epochs, mean, color=COLORS[method], label=LABELS[method])
            ax.fill_between(epochs, mean - std, mean + std, color=COLORS[method], alpha=0.2)
            ax.set_title(title)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "gap.png"), dpi=120)


def curves(summary, out):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for method in ("erm", "mixup"):
        runs = summary["curves"][method]
        epochs = [row["epoch"] for row in runs[0]]
        for key, style in (("train_loss", "--"), ("test_loss", "-")):
            mean, _ = per_epoch(runs, key)
            axes[0].plot(epochs, mean, style, color=COLORS[method], label=f"{LABELS[method]} {key.split('_')[0]}")
        for key, style in (("train_acc", "--"), ("test_acc", "-")):
            mean, _ = per_epoch(runs, key)
            axes[1].plot(epochs, 100 * mean, style, color=COLORS[method], label=f"{LABELS[method]} {key.split('_')[0]}")
    axes[0].set_title("clean loss (dashed: train, solid: test)")
    axes[1].set_title("clean accuracy, % (dashed: train, solid: test)")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "curves.png"), dpi=120)


def approximation(summary, out):
    rows = summary["approximation"]
    alphas = sorted({r["alpha"] for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    full = [next(r for r in rows if r["alpha"] == a and r["scale"] == 1.0) for a in alphas]
    axes[0].plot(alphas, [r["l_mix"] for r in full], "o-", label="L_mix (Monte Carlo)")
    axes[0].plot(alphas, [r["l_std"] + r["r1"] + r["r2"] + r["r3"] for r in full], "s--",
                 label="L_std + R1 + R2 + R3")
    axes[0].plot(alphas, [r["l_std"] for r in full], ":", color="gray", label="L_std")
    axes[0].set_xlabel("α")
    axes[0].set_title("mixup loss vs its second-order approximation")
    axes[0].legend(fontsize=8)
    axes[0].grid(alpha=0.3)
    for a in alphas:
        sub = sorted((r for r in rows if r["alpha"] == a), key=lambda r: r["scale"])
        axes[1].loglog([r["scale"] for r in sub], [r["rel_error_reg"] for r in sub], "o-", label=f"α = {a:g}")
    scales = sorted({r["scale"] for r in rows})
    ref = max(r["rel_error_reg"] for r in rows if r["scale"] == scales[-1])
    axes[1].loglog(scales, [ref * s / scales[-1] for s in scales], "k:", label="∝ s")
    axes[1].set_xlabel("segment scale s")
    axes[1].set_title("relative error against L_mix − L_std")
    axes[1].legend(fontsize=8)
    axes[1].grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "approximation.png"), dpi=120)


def budget(summary, out):
    """clean accuracy, loss gap and FGSM accuracy at ε = 1 and 4 /255 against the training length"""
    epochs = summary["budget"]
    panels = [("clean_acc", None, "clean accuracy (%)"), ("gap_loss", None, "loss gap (test − train)")]
    for eps in ("1", "4"):
        if eps in summary["runs"]["erm"][0]["fgsm_acc"]:
            panels.append(("fgsm_acc", eps, f"FGSM accuracy at ε = {eps}/255 (%)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.4))
    for ax, (key, eps, title) in zip(axes, panels):
        for method in ("erm", "mixup"):
            stats = [run[key][eps] if eps else run[key] for run in summary["runs"][method]]
            scale = 1 if key == "gap_loss" else 100
            mean = scale * np.array([s["mean"] for s in stats])
            std = scale * np.array([s["std"] for s in stats])
            ax.errorbar(epochs, mean, yerr=std, marker="o", capsize=3, color=COLORS[method], label=LABELS[method])
        ax.set_xscale("log", base=2)
        ax.set_xticks(epochs)
        ax.set_xticklabels([str(e) for e in epochs])
        ax.set_xlabel("training length (epochs, full schedule each)")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"ERM vs mixup against the training budget (accuracies on {summary['data']['test']} test images)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "budget.png"), dpi=120)


def main():
    out = sys.argv[1]
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    if "budget" in summary:
        if summary["budget"]:
            budget(summary, out)
        if "approximation" in summary:
            approximation(summary, out)
        return
    robust_accuracy(summary, out)
    gap(summary, out)
    curves(summary, out)
    approximation(summary, out)


if __name__ == "__main__":
    main()
