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

With --model, the same question for a whole training step, as the audit asks it (scripts/torch_audit.py bf16:
train/eval x plain/mixup, one SGD step in train mode): PyTorch's autocast as it is (direct bf16
convolutions), and the same autocast with every 3x3, stride-1 convolution replaced by Winograd-bf16 in its
forward, its input gradient (Winograd of gy with the flipped, transposed weights) and its weight gradient
(gw = Gᵀ [Σ_tiles bf16(Bᵀ d B) ⊙ bf16(A gy Aᵀ)] G), both judged by their error from PyTorch's float64 result,
pooled per group (output, grad, buffer, param) as the audit pools them; the ratio is what Winograd would
multiply mixgrad's audit error by.

    /usr/bin/python3 scripts/winograd_bf16_error.py --model preact-resnet18 [--seed 0] [--batch 4]
"""
import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


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


BT = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
G = [[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]]
AT = [[1, 1, 1, 0], [0, 1, -1, -1]]


def torch_winograd():
    """The autograd function of a Winograd-bf16 3x3, stride-1, padding-1 convolution on bf16 tensors: transforms
    exact (float64) and rounded to bf16, the products summed in float32, results returned in bf16."""
    import torch
    import torch.nn.functional as F
    bt, g, at = (torch.tensor(m, dtype=torch.float64) for m in (BT, G, AT))

    def rounded(t):
        return t.to(torch.bfloat16).to(torch.float32)

    def input_tiles(x):  # (N, C, TH, TW, 4, 4): bf16(Bᵀ d B) of the zero-bordered input's 4x4 tiles, step 2
        d = F.pad(x.double(), (1, 1, 1, 1)).unfold(2, 4, 2).unfold(3, 4, 2)
        return rounded(torch.einsum("ai,nchwij,bj->nchwab", bt, d, bt))

    def conv(x, w):
        u = rounded(torch.einsum("ai,ocij,bj->ocab", g, w.double(), g))
        m = torch.einsum("ocab,nchwab->nohwab", u, input_tiles(x))
        y = torch.einsum("ia,nohwab,jb->nohwij", at.float(), m, at.float())  # (N, O, TH, TW, 2, 2)
        n, o, th, tw = y.shape[:4]
        return y.permute(0, 1, 2, 4, 3, 5).reshape(n, o, 2 * th, 2 * tw)

    class WinogradBf16(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            ctx.has_bias = b is not None
            y = conv(x, w)
            return (y if b is None else y + b.float().view(1, -1, 1, 1)).to(torch.bfloat16)

        @staticmethod
        def backward(ctx, gy):
            x, w = ctx.saved_tensors
            gy = gy.to(torch.bfloat16)
            gx = conv(gy, w.flip(2, 3).transpose(0, 1))
            n, o, oh, ow = gy.shape
            tiles = gy.double().view(n, o, oh // 2, 2, ow // 2, 2).permute(0, 1, 2, 4, 3, 5)
            gyt = rounded(torch.einsum("ai,nohwij,bj->nohwab", at.t(), tiles, at.t()))
            s = torch.einsum("nchwab,nohwab->ocab", input_tiles(x), gyt)
            gw = torch.einsum("ai,ocab,bj->ocij", g.float(), s, g.float())
            gb = gy.float().sum((0, 2, 3)).to(torch.bfloat16) if ctx.has_bias else None
            return gx.to(torch.bfloat16), gw.to(torch.bfloat16), gb

    return WinogradBf16


def use_winograd(model):
    """Replaces the forward of every 3x3, stride-1, padding-1 convolution of model with WinogradBf16 (under
    autocast, as autocast would run it: bf16 operands, bf16 result)."""
    import torch
    fn = torch_winograd()
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) and m.stride == (1, 1) and m.padding == (1, 1):
            def forward(x, m=m):
                b = None if m.bias is None else m.bias.to(torch.bfloat16)
                return fn.apply(x.to(torch.bfloat16), m.weight.to(torch.bfloat16), b)
            m.forward = forward


def check_torch_winograd():
    """The Winograd function without its roundings' effect on exactness: against conv2d on bf16-valued inputs."""
    import torch
    import torch.nn.functional as F
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 5, 6, 8, generator=gen).to(torch.bfloat16)
    w = (torch.randn(4, 5, 3, 3, generator=gen) / 6).to(torch.bfloat16)
    x.requires_grad_(True)
    w.requires_grad_(True)
    y = torch_winograd().apply(x, w, None)
    gy = torch.randn(y.shape, generator=gen).to(torch.bfloat16)
    y.backward(gy)
    xd, wd = x.detach().double().requires_grad_(True), w.detach().double().requires_grad_(True)
    yd = F.conv2d(xd, wd, padding=1)
    yd.backward(gy.double())
    for name, a, b in (("y", y, yd), ("gx", x.grad, xd.grad), ("gw", w.grad, wd.grad)):
        err = float((a.double() - b).norm() / b.norm())
        assert err < 2e-2, f"Winograd-bf16 {name} is {err:.2e} from conv2d: the transforms are wrong"


def network(a):
    import torch_audit
    check_torch_winograd()
    with tempfile.TemporaryDirectory() as tmp:
        a.dir = tmp
        weights = os.path.join(tmp, "W.safetensors")
        torch_audit.safetensors_io.save(weights, torch_audit.make_weights(a.model, a.seed))
        worst = 0.0
        for mode, loss, batch, sgd in torch_audit.configurations(a, a.seed):
            ev = mode == "eval"
            truth = torch_audit.reference(a.model, weights, batch, None, "f64", ev, sgd)
            direct = torch_audit.reference(a.model, weights, batch, None, "f32", ev, sgd, bf16=True)
            wino = torch_audit.reference(a.model, weights, batch, None, "f32", ev, sgd, bf16=True, adapt=use_winograd)
            e_direct, e_wino = torch_audit.group_errors(direct, truth), torch_audit.group_errors(wino, truth)
            ratios = {k: e_wino[k] / e_direct[k] for k in e_direct if e_direct[k] > torch_audit.BF16_ENGAGED}
            worst = max([worst] + list(ratios.values()))
            groups = "  ".join(f"{k} {e_wino[k]:.2e}/{e_direct[k]:.2e} = {ratios[k]:.2f}" for k in sorted(ratios))
            print(f"{a.model} {mode} {loss}: error vs f64, Winograd-bf16/direct bf16: {groups}", flush=True)
        print(f"{a.model} (seed {a.seed}): the largest ratio is {worst:.2f} (the audit allows mixgrad 1.5x PyTorch)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--size", type=int, default=16, help="output height and width (even)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", help="a whole training step of this model instead of one layer")
    p.add_argument("--batch", type=int, default=4, help="with --model: images per batch")
    a = p.parse_args()
    if a.model:
        return network(a)
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
