#include "experiments/evaluate.h"

#include "autograd/functions.h"
#include "core/ops.h"
#include "nn/functional.h"

namespace mg::experiments {
namespace {

// Adds one batch's summed loss and correct count to `acc`.
void accumulate(EvalResult& acc, const Variable& logits, const std::vector<int64_t>& y) {
  const int64_t n = static_cast<int64_t>(y.size());
  acc.loss += nn::cross_entropy(logits, y).item() * static_cast<double>(n);
  const std::vector<int64_t> pred = ops::argmax(logits.data(), 1);
  for (int64_t i = 0; i < n; ++i) acc.accuracy += pred[i] == y[i] ? 1.0 : 0.0;
  acc.count += n;
}

EvalResult finish(EvalResult acc) {
  if (acc.count > 0) {
    acc.loss /= static_cast<double>(acc.count);
    acc.accuracy /= static_cast<double>(acc.count);
  }
  return acc;
}

}  // namespace

EvalResult evaluate(const Classifier& f, data::Loader& loader) {
  NoGradGuard no_grad;
  EvalResult acc;
  loader.start_epoch(0);
  data::Batch batch;
  while (loader.next(batch)) accumulate(acc, f(Variable(batch.x)), batch.y);
  return finish(acc);
}

EvalResult evaluate_attacked(const Classifier& f, data::Loader& loader, const AttackSpec& spec, uint64_t seed) {
  EvalResult acc;
  loader.start_epoch(0);
  data::Batch batch;
  int64_t index = 0;
  while (loader.next(batch)) {
    Generator gen(seed, stream_id(0x6d672d61747461ull, index++));  // PGD random starts, per batch
    const Tensor adv = attack(f, batch.x, batch.y, spec, gen);
    NoGradGuard no_grad;
    accumulate(acc, f(Variable(adv)), batch.y);
  }
  return finish(acc);
}

}  // namespace mg::experiments
