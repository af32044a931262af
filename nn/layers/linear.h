// Affine layers with PyTorch's default initialisation: Linear and Conv2d (weights kaiming_uniform_(a=sqrt(5)),
// biases U(±1/sqrt(fan_in))), drawn from the Generator passed to the constructor.
#pragma once
#include "core/rng.h"
#include "nn/module.h"

namespace mg::nn {

// y = x W^T + b; x (N, in), weight (out, in), bias (out).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias = true);
  Variable forward(const Variable& x) override;
  Variable weight, bias;  // bias undefined when built without one
};

// 2-d convolution, NCHW; weight (out, in, k, k), bias (out).
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Generator& gen, int64_t stride = 1,
         int64_t padding = 0, bool bias = true);
  Variable forward(const Variable& x) override;
  Variable weight, bias;
  const int64_t stride, padding;
};

}  // namespace mg::nn
