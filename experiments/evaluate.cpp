#include "experiments/evaluate.h"

#include "autograd/functions.h"
#include "core/ops.h"
#include "nn/functional.h"

namespace mg::experiments {
namespace {

// One batch's summed loss, number of correct predictions and size.
struct BatchScore {
  double loss = 0, correct = 0, count = 0;
};

BatchScore score(const Variable& logits, const std::vector<int64_t>& y) {
  const int64_t n = static_cast<int64_t>(y.size());
  BatchScore s{nn::cross_entropy(logits, y).item() * static_cast<double>(n), 0, static_cast<double>(n)};
  const std::vector<int64_t> pred = ops::argmax(logits.data(), 1);
  for (int64_t i = 0; i < n; ++i) s.correct += pred[i] == y[i] ? 1.0 : 0.0;
  return s;
}

void accumulate(EvalResult& acc, const BatchScore& s) {
  acc.loss += s.loss;
  acc.accuracy += s.correct;  // whole numbers: exact in any order
  acc.count += static_cast<int64_t>(s.count);
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
  while (loader.next(batch)) accumulate(acc, score(f(Variable(batch.x)), batch.y));
  return finish(acc);
}

EvalResult evaluate(const Classifier& f, data::Loader& loader, const nn::Collective& ranks) {
  if (ranks.size() == 1) return evaluate(f, loader);
  NoGradGuard no_grad;
  const int64_t nb = loader.num_batches(), k = ranks.size();
  std::vector<double> mine(3 * nb, 0.0);  // (loss, correct, count) of the batches this rank scores
  for (int64_t b = ranks.rank(); b < nb; b += k) {
    const data::Batch batch = loader.make_batch(0, b);
    const BatchScore s = score(f(Variable(batch.x)), batch.y);
    mine[3 * b] = s.loss;
    mine[3 * b + 1] = s.correct;
    mine[3 * b + 2] = s.count;
  }
  const std::vector<double> all = ranks.all_gather(mine);
  EvalResult acc;
  for (int64_t b = 0; b < nb; ++b) {
    const double* s = all.data() + (b % k) * 3 * nb + 3 * b;
    accumulate(acc, BatchScore{s[0], s[1], s[2]});
  }
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
    accumulate(acc, score(f(Variable(adv)), batch.y));
  }
  return finish(acc);
}

}  // namespace mg::experiments
