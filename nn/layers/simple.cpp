#include "nn/layers/simple.h"

#include "autograd/functions.h"
#include "nn/distributed/micro_shards.h"
#include "nn/functional.h"

namespace mg::nn {

Variable ReLU::forward(const Variable& x) { return relu(x); }

Variable MaxPool2d::forward(const Variable& x) { return max_pool2d(x, kernel, stride); }

Variable AvgPool2d::forward(const Variable& x) { return avg_pool2d(x, kernel, stride); }

Variable Flatten::forward(const Variable& x) { return flatten(x, start, end); }

Dropout::Dropout(double p_, uint64_t seed, uint64_t stream) : p(p_), seed_(seed), stream_(stream), gen_(seed, stream) {
  MG_CHECK(p >= 0.0 && p <= 1.0, "Dropout: p = ", p, " is outside [0, 1]");
}

Variable Dropout::forward(const Variable& x) {
  const MicroShards* shards = x.dim() > 0 ? detail::micro_shards_for(x.shape()[0]) : nullptr;
  if (!shards || !is_training() || p == 0.0) return dropout(x, p, is_training(), gen_);
  Shape global = x.shape();
  global[0] = shards->batch();
  const int64_t first = shards->local_begin();
  return dropout_with_mask(x, dropout_mask(global, x.dtype(), p, gen_).slice(0, first, first + x.shape()[0]).contiguous());
}

void Dropout::restart_at(uint64_t step) { gen_ = Generator(seed_, stream_id(stream_, step)); }

void restart_dropout_at(Module& model, uint64_t step) {
  if (auto* d = dynamic_cast<Dropout*>(&model)) d->restart_at(step);
  for (const auto& [name, child] : model.children()) restart_dropout_at(*child, step);
}

}  // namespace mg::nn
