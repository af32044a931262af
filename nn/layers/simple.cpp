#include "nn/layers/simple.h"

#include "autograd/functions.h"
#include "nn/functional.h"

namespace mg::nn {

Variable ReLU::forward(const Variable& x) { return relu(x); }

Variable MaxPool2d::forward(const Variable& x) { return max_pool2d(x, kernel, stride); }

Variable AvgPool2d::forward(const Variable& x) { return avg_pool2d(x, kernel, stride); }

Variable Flatten::forward(const Variable& x) { return flatten(x, start, end); }

Dropout::Dropout(double p_, uint64_t seed, uint64_t stream) : p(p_), gen_(seed, stream) {
  MG_CHECK(p >= 0.0 && p <= 1.0, "Dropout: p = ", p, " is outside [0, 1]");
}

Variable Dropout::forward(const Variable& x) { return dropout(x, p, is_training(), gen_); }

}  // namespace mg::nn
