// Inverted dropout: y = x * mask with mask entries 0 (probability p) or 1 / (1 - p). The mask is drawn
// from the caller's generator in row-major order, so the same generator state gives the same mask on any
// number of threads. Backward: g * mask (a Variable op, differentiable again).
#include "autograd/functions.h"
#include "core/ops.h"
#include "nn/functional.h"

namespace mg::nn {

Variable dropout(const Variable& x, double p, bool training, Generator& gen) {
  MG_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got ", p);
  if (!training || p == 0.0) return x;
  return dropout_with_mask(x, dropout_mask(x.shape(), x.dtype(), p, gen));
}

Tensor dropout_mask(const Shape& shape, DType dtype, double p, Generator& gen) {
  MG_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got ", p);
  Tensor mask = Tensor::empty(shape, dtype);
  const double keep_scale = p == 1.0 ? 0.0 : 1.0 / (1.0 - p);
  visit_dtype(dtype, [&]<typename T>() {
    T* m = mask.data<T>();
    for (int64_t i = 0; i < mask.numel(); ++i) m[i] = gen.uniform() < p ? T(0) : static_cast<T>(keep_scale);
  });
  return mask;
}

Variable dropout_with_mask(const Variable& x, const Tensor& mask) {
  MG_CHECK(mask.shape() == x.shape(), "dropout: mask ", describe(mask), " does not match input ", describe(x.data()));
  MG_CHECK(mask.dtype() == x.dtype(), "dropout: dtype mismatch, mask ", describe(mask), " vs input ", describe(x.data()));
  return make_result(ops::mul(x.data(), mask), {x}, "dropout",
                     [mask](const Variable& g, const std::vector<bool>&) -> std::vector<Variable> {
                       return {g * Variable(mask)};
                     });
}

}  // namespace mg::nn
