// bf16 convolutions with float32 accumulation, built from im2col and the bf16 product (gemm.h): the reference
// that faster bf16 convolution kernels must match bit for bit, which they do by reducing over the same
// pairs in the same order. Operands are rounded to bf16 (core/bf16.h) as they are packed; results are float32
// sums, not rounded (rounding the output is the op's business).
//   forward, weight gradient: reduction index = im2col's row (c, i, j), paired (2q, 2q + 1)
//   input gradient: reduction over output channels, paired likewise; col2im then adds in im2col's order
//   weight gradient: one product per sample, added into gw in sample order
// Threads: inside each product only (rows of the output), so results do not depend on the thread count.
#pragma once
#include "core/kernels/conv.h"

namespace mg::kernels::bf16 {

// y (N, O, H', W') = conv2d(x, w) + bias (O, or nullptr; the bias is rounded to bf16 too and added in float).
void conv2d_forward(const float* x, const float* w, const float* bias, float* y, const Conv2dShape& s);

// gx (N, C, H, W) = the gradient of dot(conv2d(x, w), gy) with respect to x.
void conv2d_input_grad(const float* gy, const float* w, float* gx, const Conv2dShape& s);

// gw (O, C, kh, kw) = the gradient of dot(conv2d(x, w), gy) with respect to w, summed over the batch.
void conv2d_weight_grad(const float* x, const float* gy, float* gw, const Conv2dShape& s);

}  // namespace mg::kernels::bf16
