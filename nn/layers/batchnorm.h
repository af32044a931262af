// BatchNorm2d with PyTorch semantics: weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked 0;
// in training mode it normalises with batch statistics and updates the running ones (momentum 0.1,
// unbiased variance), in eval mode it normalises with the running statistics.
#pragma once
#include "nn/module.h"

namespace mg::nn {

class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1);
  // Normalises x (N, C, H, W) per channel; in training also counts the batch in num_batches_tracked.
  Variable forward(const Variable& x) override;
  // relu(forward(x)), bitwise, fused as nn::batch_norm_relu is.
  Variable forward_relu(const Variable& x);
  Variable weight, bias;
  Tensor running_mean, running_var, num_batches_tracked;  // num_batches_tracked: 0-d f64, whole numbers
  const double eps, momentum;
};

}  // namespace mg::nn
