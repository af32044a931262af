// The bf16 convolutions on AVX-512: the same results, bit for bit, as the reference in conv.cpp (same pairs,
// same order of float32 additions), at the speed of the float32 AVX-512 kernels' blocking. Operands are packed
// into pair words as vdpbf16ps reads them; `native` picks vdpbf16ps, otherwise its emulation (simd.h).
//   forward: the float32 product engine (conv_avx512/product.h) over global columns (every sample's output
//     positions in a row), A = the weights' pair words, B = 32-column strips of im2col pairs;
//   input gradient (the shapes that are not a convolution of gy, conv.h): per group of samples, cols = Wᵀ · gy
//     through the same engine, then col2im (conv.h) in im2col's order, as the reference;
//   weight gradient: gWᵀ tiles (8 im2col rows × 32 output channels) whose running sums go on over every
//     sample's pixel pairs in order, continued from memory between blocks of pairs.
// Threads: column blocks (forward), sample groups (input gradient), row panels of gWᵀ (weight gradient); each
// output element is computed by one task in the order above, so results do not depend on the thread count.
#pragma once
#include "core/kernels/conv.h"

namespace mg::kernels::bf16 {

void conv2d_forward_avx512(bool native, const float* x, const float* w, const float* bias, float* y,
                           const Conv2dShape& s);
void conv2d_input_grad_avx512(bool native, const float* gy, const float* w, float* gx, const Conv2dShape& s);
void conv2d_weight_grad_avx512(bool native, const float* x, const float* gy, float* gw, const Conv2dShape& s);

}  // namespace mg::kernels::bf16
