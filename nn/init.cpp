#include "nn/init.h"

#include <cmath>

namespace mg::nn::init {

int64_t fan_in(const Shape& weight_shape) {
  MG_CHECK(weight_shape.size() >= 2, "fan_in: weight shape ", to_string(weight_shape), " has fewer than 2 axes");
  int64_t f = 1;
  for (std::size_t i = 1; i < weight_shape.size(); ++i) f *= weight_shape[i];
  return f;
}

int64_t fan_out(const Shape& weight_shape) {
  MG_CHECK(weight_shape.size() >= 2, "fan_out: weight shape ", to_string(weight_shape), " has fewer than 2 axes");
  int64_t f = weight_shape[0];
  for (std::size_t i = 2; i < weight_shape.size(); ++i) f *= weight_shape[i];
  return f;
}

Tensor kaiming_normal_fan_out(const Shape& shape, Generator& gen, DType dtype) {
  return rand_normal(shape, gen, 0.0, std::sqrt(2.0 / static_cast<double>(fan_out(shape))), dtype);
}

Tensor uniform(const Shape& shape, Generator& gen, double lo, double hi, DType dtype) {
  return rand_uniform(shape, gen, lo, hi, dtype);
}

Tensor kaiming_uniform(const Shape& shape, Generator& gen, double a, DType dtype) {
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fan_in(shape)));
  return uniform(shape, gen, -bound, bound, dtype);
}

Tensor default_bias(int64_t out_features, int64_t fan_in, Generator& gen, DType dtype) {
  const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
  return uniform({out_features}, gen, -bound, bound, dtype);
}

}  // namespace mg::nn::init
