// The bf16 (autocast) versions of conv2d and linear, which conv2d and linear hand over to inside an
// Autocast(Precision::bf16) scope for float32 tensors (nn/autocast.h). Shapes are checked by the callers.
#pragma once
#include "autograd/variable.h"
#include "core/kernels/conv.h"

namespace mg::nn::detail {

// True when conv2d / linear on x must run in bf16.
bool runs_in_bf16(const Tensor& x);

Variable conv2d_bf16(const Variable& x, const Variable& weight, const Variable& bias, const kernels::Conv2dShape& s);
Variable linear_bf16(const Variable& x, const Variable& weight, const Variable& bias);

}  // namespace mg::nn::detail
