// PyTorch's default parameter initialisation, drawn from an explicit seeded Generator in row-major order.
#pragma once
#include "core/rng.h"

namespace mg::nn::init {

// fan_in of a weight of shape (out, in, k...) : in * prod(k...).
int64_t fan_in(const Shape& weight_shape);

// A tensor of `shape` drawn from U(lo, hi).
Tensor uniform(const Shape& shape, Generator& gen, double lo, double hi, DType dtype = DType::F32);

// torch.nn.init.kaiming_uniform_(w, a): U(-b, b) with b = sqrt(6 / ((1 + a^2) fan_in)); Linear and Conv2d
// use a = sqrt(5), i.e. b = 1 / sqrt(fan_in).
Tensor kaiming_uniform(const Shape& shape, Generator& gen, double a, DType dtype = DType::F32);

// fan_out of a weight of shape (out, in, k...) : out * prod(k...).
int64_t fan_out(const Shape& weight_shape);

// torch.nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"): N(0, 2 / fan_out) (the WRN init).
Tensor kaiming_normal_fan_out(const Shape& shape, Generator& gen, DType dtype = DType::F32);

// Linear/Conv2d's default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in from the weight's shape.
Tensor default_bias(int64_t out_features, int64_t fan_in, Generator& gen, DType dtype = DType::F32);

}  // namespace mg::nn::init
