#include "nn/layers/linear.h"

#include <cmath>

#include "nn/functional.h"
#include "nn/init.h"

namespace mg::nn {

Linear::Linear(int64_t in_features, int64_t out_features, Generator& gen, bool with_bias) {
  register_parameter("weight", weight, init::kaiming_uniform({out_features, in_features}, gen, std::sqrt(5.0)));
  if (with_bias) register_parameter("bias", bias, init::default_bias(out_features, in_features, gen));
}

Variable Linear::forward(const Variable& x) { return linear(x, weight, bias); }

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Generator& gen, int64_t stride_,
               int64_t padding_, bool with_bias)
    : stride(stride_), padding(padding_) {
  const Shape shape{out_channels, in_channels, kernel_size, kernel_size};
  register_parameter("weight", weight, init::kaiming_uniform(shape, gen, std::sqrt(5.0)));
  if (with_bias) register_parameter("bias", bias, init::default_bias(out_channels, init::fan_in(shape), gen));
}

Variable Conv2d::forward(const Variable& x) { return conv2d(x, weight, bias, stride, padding); }

}  // namespace mg::nn
