// Differentiable neural-network ops (PyTorch's torch.nn.functional semantics). Each op's forward and
// backward live together in nn/functional/<op>.cpp; the heavy loops live in core/kernels/<op>.cpp as plain
// functions over pointers and sizes. Layouts are NCHW; weights are (out, in, kh, kw) as in PyTorch.
#pragma once
#include <vector>

#include "autograd/variable.h"
#include "core/rng.h"

namespace mg::nn {

// x (N, C, H, W), weight (O, C, k, k), bias (O) or undefined. Output (N, O, H', W') with
// H' = (H + 2 padding - k) / stride + 1.
Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias, int64_t stride, int64_t padding);

// The two halves of conv2d's backward, as differentiable ops so that gradients of gradients work
// (create_graph); their own backward rules are written with conv2d and each other.
// Returns the gradient of dot(conv2d(x, weight), gy) with respect to x, for x of shape x_shape.
Variable conv2d_input_grad(const Variable& gy, const Variable& weight, const Shape& x_shape, int64_t stride,
                           int64_t padding);
// Returns the gradient of dot(conv2d(x, weight), gy) with respect to weight, for weight of shape weight_shape.
Variable conv2d_weight_grad(const Variable& x, const Variable& gy, const Shape& weight_shape, int64_t stride,
                            int64_t padding);

// x (N, in), weight (out, in), bias (out) or undefined: x W^T + b.
Variable linear(const Variable& x, const Variable& weight, const Variable& bias);

// Batch normalisation over (N, H, W) per channel of x (N, C, H, W). training: normalise with the batch
// mean and biased variance, and update running_mean/var in place (momentum, unbiased variance);
// otherwise normalise with the running statistics. gamma/beta (C) may be undefined (affine=false).
Variable batch_norm(const Variable& x, const Variable& gamma, const Variable& beta, Tensor& running_mean,
                    Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);
// relu(batch_norm(...)), bitwise (values, running statistics and gradients). In training, one pass forward
// and relu's mask folded into batch_norm's backward kernels (first-order backward only, as batch_norm's);
// in eval mode one pass when no gradient is recorded, else the composition (differentiable again).
Variable batch_norm_relu(const Variable& x, const Variable& gamma, const Variable& beta, Tensor& running_mean,
                         Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);

Variable max_pool2d(const Variable& x, int64_t kernel, int64_t stride);  // no padding, floor mode
Variable avg_pool2d(const Variable& x, int64_t kernel, int64_t stride);  // no padding, floor mode

// Mean over the batch of -log softmax(logits)[target]; logits (N, K), targets in [0, K).
Variable cross_entropy(const Variable& logits, const std::vector<int64_t>& targets);
// Mean over the batch of -sum_k p_k log softmax(logits)_k; probs (N, K), rows summing to 1 (soft labels).
Variable cross_entropy(const Variable& logits, const Variable& probs);

// Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1-p).
Variable dropout(const Variable& x, double p, bool training, Generator& gen);
// The mask dropout draws: each element 0 with probability p, else 1/(1-p), drawn in row-major order.
Tensor dropout_mask(const Shape& shape, DType dtype, double p, Generator& gen);
// The same with a given mask (already holding 0 or 1/(1-p)): x * mask. Used by gradcheck and audits.
Variable dropout_with_mask(const Variable& x, const Tensor& mask);

// Counts the multiply-adds of the conv2d and linear forward calls made while it is alive (the benchmark's
// FLOP count). One counter at a time; calls from any thread are counted.
class MacCounter {
 public:
  MacCounter();
  ~MacCounter();
  MacCounter(const MacCounter&) = delete;
  MacCounter& operator=(const MacCounter&) = delete;
  int64_t macs() const;
};
namespace detail {
void count_macs(int64_t macs);  // adds to the live MacCounter, if any
}

}  // namespace mg::nn
