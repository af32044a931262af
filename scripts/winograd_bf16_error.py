#!/usr/bin/python3
"""How much accuracy Winograd F(2x2, 3x3) would cost a bf16 convolution (issue #12's open question).

One 3x3, stride-1, padding-1 layer on ReLU-like inputs (He-initialised weights), computed three ways and
compared with float64 on the same float32 operands, as relative Frobenius errors:
  direct    autocast's contract: inputs and weights rounded to bf16, products summed in float32, output
            rounded to bf16 (what mixgrad's bf16 kernels and PyTorch's autocast do)
  winograd  the same operands rounded to bf16, then V = Bᵀ d B and U = G g Gᵀ computed exactly and rounded to
            bf16 again (vdpbf16ps takes only bf16), M = Σ_c U ⊙ V in float32, Y = Aᵀ M A, output rounded
The audit (scripts/torch_audit.py bf16) allows mixgrad's error 1.5x PyTorch's; direct is at 0.8-1.1x today.

    /usr/bin/python3 scripts/winograd_bf16_error.py [--channels 64] [--size 16] [--seed 0]
"""
import argparse

import numpy as np


def bf16(a):
    """Round to the nearest bf16 (ties to even), as float32."""
    u = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


def direct(x, w, size, dtype):
    """The 3x3 convolution of x (C, size + 2, size + 2; zero border included) with w (O, C, 3, 3)."""
    y = np.zeros((w.shape[0], size, size), dtype)
    for i in range(3):
        for j in range(3):
            y += np.einsum("oc,chw->ohw", w[:, :, i, j].astype(dtype), x[:, i:i + size, j:j + size].astype(dtype))
    return y


def winograd_bf16(x, w, size):
    bt = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float64)
    g = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]], np.float64)
    at = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float64)
    xb, wb = bf16(x).astype(np.float64), bf16(w).astype(np.float64)
    u = bf16(np.einsum("ai,ocij,bj->ocab", g, wb, g)).astype(np.float64)
    tiles = size // 2
    v = np.zeros((x.shape[0], tiles, tiles, 4, 4))
    for th in range(tiles):
        for tw in range(tiles):
            v[:, th, tw] = np.einsum("ai,cij,bj->cab", bt, xb[:, 2 * th:2 * th + 4, 2 * tw:2 * tw + 4], bt)
    v = bf16(v).astype(np.float64)
    m = np.einsum("ocab,cxyab->oxyab", u, v).astype(np.float32).astype(np.float64)
    yt = np.einsum("ia,oxyab,jb->oxyij", at, m, at)
    y = np.zeros((w.shape[0], size, size))
    for th in range(tiles):
        for tw in range(tiles):
            y[:, 2 * th:2 * th + 2, 2 * tw:2 * tw + 2] = yt[:, th, tw]
    return bf16(y)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--size", type=int, default=16, help="output height and width (even)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.size % 2:
        p.error("--size must be even (2x2 output tiles)")
    rng = np.random.default_rng(a.seed)
    c, size = a.channels, a.size
    x = np.maximum(rng.standard_normal((c, size + 2, size + 2)), 0).astype(np.float32)
    x[:, 0, :] = x[:, -1, :] = x[:, :, 0] = x[:, :, -1] = 0  # the zero padding
    w = (rng.standard_normal((c, c, 3, 3)) * np.sqrt(2 / (9 * c))).astype(np.float32)
    ref = direct(x.astype(np.float64), w.astype(np.float64), size, np.float64)

    def err(y):
        return np.linalg.norm(y - ref) / np.linalg.norm(ref)

    e_direct = err(bf16(direct(bf16(x), bf16(w), size, np.float32)))
    e_wino = err(winograd_bf16(x, w, size))
    print(f"{c} channels, {size}x{size}: relative error against float64: direct bf16 {e_direct:.3e}, "
          f"Winograd bf16 {e_wino:.3e}, ratio {e_wino / e_direct:.2f}")


if __name__ == "__main__":
    main()
