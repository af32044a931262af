// bf16 convolutions with float32 accumulation. The functions below run the AVX-512 kernels (conv_avx512.h)
// where the CPU has AVX-512, else the *_reference versions, built from im2col and the bf16 product (gemm.h):
// the reference that the faster kernels match bit for bit, which they do by reducing over the same
// pairs in the same order. Operands are rounded to bf16 (core/bf16.h) as they are packed; results are float32
// sums, not rounded (rounding the output is the op's business).
//   forward, weight gradient: reduction index = im2col's row (c, i, j), paired (2q, 2q + 1)
//   input gradient, stride 1 with a square kernel and padding below its size: the forward convolution of gy
//     with the flipped, transposed weights (W'[c][(o, i, j)] = w[o][c][kh-1-i][kw-1-j]) and padding k - 1 - p,
//     so paired along (o, i, j); other shapes: reduction over output channels, paired likewise, then col2im
//     adds in im2col's order
//   weight gradient: pairs along each sample's pixels, one running sum over the samples in order
// Threads: every output element is computed by one task in that order, so results do not depend on the thread
// count.
#pragma once
#include "core/kernels/conv.h"

namespace mg::kernels::bf16 {

// y (N, O, H', W') = conv2d(x, w) + bias (O, or nullptr; the bias is rounded to bf16 too and added in float).
void conv2d_forward(const float* x, const float* w, const float* bias, float* y, const Conv2dShape& s);

// gx (N, C, H, W) = the gradient of dot(conv2d(x, w), gy) with respect to x.
void conv2d_input_grad(const float* gy, const float* w, float* gx, const Conv2dShape& s);

// gw (O, C, kh, kw) = the gradient of dot(conv2d(x, w), gy) with respect to w, summed over the batch.
void conv2d_weight_grad(const float* x, const float* gy, float* gw, const Conv2dShape& s);

// The reference versions (what the tests compare the fast kernels with).
void conv2d_forward_reference(const float* x, const float* w, const float* bias, float* y, const Conv2dShape& s);
void conv2d_input_grad_reference(const float* gy, const float* w, float* gx, const Conv2dShape& s);
void conv2d_weight_grad_reference(const float* x, const float* gy, float* gw, const Conv2dShape& s);

}  // namespace mg::kernels::bf16
