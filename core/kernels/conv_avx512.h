// Float32 convolution kernels for CPUs with AVX-512: "implicit GEMM" without an im2col buffer. They run
// when cpu::kernels_enabled(cpu::Isa::avx512) (see core/cpu.h); conv.cpp dispatches to them.
//
// Every convolution pass is a matrix product C = A·B whose one operand is built on the fly, 32 columns at a
// time, straight from the NCHW tensors into a small buffer that stays in the L1 cache (the im2col matrix is
// never materialised), and multiplied by an 8x32 register-blocked AVX-512 micro-kernel:
//   forward       y (O, N·P)  = W (O, C·kh·kw)             · im2col(x)
//   input grad    stride 1:   gx (C, N·H·W) = W' (C, O·kh·kw) · im2col(gy padded by k-1-p), W' the weights
//                             flipped and transposed (a convolution of gy);
//                 otherwise:  cols (C·kh·kw, N·P) = Wᵀ · gy, scattered back into gx (col2im) per sample group
//   weight grad   gWᵀ (C·kh·kw, O) = im2col(x) · gyᵀ, the reduction over N·P split into a fixed number of
//                 sample groups whose partial sums are added in group order.
// 3x3 stride-1 convolutions (forward, and the input gradient as a convolution of gy) use Winograd
// F(2x2, 3x3) instead: 2.25 times fewer multiply-adds, by the same micro-kernel.
// Every output element is computed by one micro-kernel sequence in a fixed order, and the splits (column
// strips, sample groups, row panels) depend only on the shape, so results are bitwise identical on 1 and N
// threads. They differ in the last bits from the OpenBLAS path (conv.cpp), which machines without AVX-512
// (and float64) use.
//
// The files of conv_avx512/, one job each: simd.h (vector helpers), blocking.h (the sizes, named),
// geometry (output-column walks, prefetching), pack (operand layouts), micro_kernel.h, product.h (the
// product engine and its two B operands), winograd and its weight cache, weight_grad.cpp, and
// dispatch.cpp (which path a shape takes).
#pragma once
#include "core/kernels/conv.h"

namespace mg::kernels::avx512 {

// The ways a pass can be computed.
enum class ConvPath {
  winograd,  // Winograd F(2x2, 3x3): 3x3, stride 1, even output sizes
  in_place,  // the product with B read in place from a zero-bordered copy: stride 1, output rows % 16 == 0;
             // for the weight gradient, im2col's rows (A) read in place: every shape Winograd does not take
  packed,    // the product with B packed from im2col: every other shape
  scatter,   // input gradient only: Wᵀ · gy scattered back (col2im): stride > 1, or padding > kernel - 1
};
const char* name(ConvPath path);

// The path conv2d_forward, conv2d_input_grad and conv2d_weight_grad take for shape s.
ConvPath forward_path(const Conv2dShape& s);
ConvPath input_grad_path(const Conv2dShape& s);
ConvPath weight_grad_path(const Conv2dShape& s);  // winograd or in_place

// The same contracts as conv2d_forward / conv2d_input_grad / conv2d_weight_grad in conv.h, for float.
void conv2d_forward(const float* x, const float* w, const float* bias, float* y, const Conv2dShape& s);
void conv2d_input_grad(const float* gy, const float* w, float* gx, const Conv2dShape& s);
void conv2d_weight_grad(const float* x, const float* gy, float* gw, const Conv2dShape& s);

}  // namespace mg::kernels::avx512
