#include "nn/layers/batchnorm.h"

#include "nn/functional.h"

namespace mg::nn {

BatchNorm2d::BatchNorm2d(int64_t num_features, double eps_, double momentum_) : eps(eps_), momentum(momentum_) {
  register_parameter("weight", weight, Tensor::ones({num_features}));
  register_parameter("bias", bias, Tensor::zeros({num_features}));
  register_buffer("running_mean", running_mean, Tensor::zeros({num_features}));
  register_buffer("running_var", running_var, Tensor::ones({num_features}));
  register_buffer("num_batches_tracked", num_batches_tracked, Tensor::scalar(0.0, DType::F64), true);
}

Variable BatchNorm2d::forward(const Variable& x) {
  if (is_training()) num_batches_tracked.fill_(num_batches_tracked.item() + 1.0);
  return batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
}

Variable BatchNorm2d::forward_relu(const Variable& x) {
  if (is_training()) num_batches_tracked.fill_(num_batches_tracked.item() + 1.0);
  return batch_norm_relu(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
}

}  // namespace mg::nn
