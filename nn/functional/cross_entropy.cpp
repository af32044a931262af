// cross_entropy from logits, mean over the batch (PyTorch's F.cross_entropy, reduction='mean'), with integer
// class targets or with probability (soft) targets. Forward: the row kernels of core/kernels/cross_entropy.h.
// In a data-parallel step the mean is over the global batch (nn/distributed/micro_shards.h). Backward rules
// use softmax/log_softmax Variable ops, so they are differentiable again (create_graph):
//   hard: d/dz = (softmax(z) - onehot(t)) * g / N
//   soft: d/dz = (softmax(z) * sum_j p_j - p) * g / N,   d/dp = -log_softmax(z) * g / N
#include "autograd/functions.h"
#include "core/kernels/cross_entropy.h"
#include "nn/distributed/micro_shards.h"
#include "nn/functional.h"

namespace mg::nn {
namespace {

using Grads = std::vector<Variable>;

void check_logits(const Tensor& z) {
  MG_CHECK(z.dim() == 2, "cross_entropy: logits must be 2-d (N, classes), got ", describe(z));
  MG_CHECK(z.size(0) > 0 && z.size(1) > 0, "cross_entropy: logits ", describe(z), " are empty");
}

// The number of samples the mean is over: n, or in a data-parallel step the global batch.
int64_t mean_count(int64_t n) {
  const MicroShards* shards = detail::micro_shards_for(n);
  return shards ? shards->batch() : n;
}

// The mean of n per-row losses, summed in row order in double; in a data-parallel step, the mean over the
// global batch: per micro-shard sums in row order, added over the job in the fixed tree.
template <typename T>
Tensor mean_of_rows(const T* loss, int64_t n) {
  const auto rows_sum = [loss](int64_t begin, int64_t end) {
    double total = 0;
    for (int64_t i = begin; i < end; ++i) total += static_cast<double>(loss[i]);
    return total;
  };
  const MicroShards* shards = detail::micro_shards_for(n);
  if (!shards) return Tensor::scalar(rows_sum(0, n) / static_cast<double>(n), dtype_of<T>());
  std::vector<std::vector<double>> parts;
  for (int64_t i = 0; i < shards->local_count(); ++i)
    parts.push_back({rows_sum(shards->offset(i), shards->offset(i) + shards->length(i))});
  return Tensor::scalar(shards->sum(std::move(parts))[0] / static_cast<double>(shards->batch()), dtype_of<T>());
}

}  // namespace

Variable cross_entropy(const Variable& logits, const std::vector<int64_t>& targets) {
  check_logits(logits.data());
  const int64_t n = logits.size(0), k = logits.size(1);
  MG_CHECK(static_cast<int64_t>(targets.size()) == n, "cross_entropy: ", targets.size(),
           " targets for logits ", describe(logits.data()), " (expected ", n, ")");
  for (int64_t i = 0; i < n; ++i)
    MG_CHECK(targets[i] >= 0 && targets[i] < k, "cross_entropy: target ", targets[i], " at index ", i,
             " is out of range for ", k, " classes (logits ", describe(logits.data()), ")");
  const Tensor zc = logits.data().contiguous();
  Tensor loss;
  visit_dtype(zc.dtype(), [&]<typename T>() {
    Tensor rows = Tensor::empty({n}, zc.dtype());
    kernels::cross_entropy_hard_rows<T>(zc.data<T>(), targets.data(), n, k, rows.data<T>());
    loss = mean_of_rows(rows.data<T>(), n);
  });
  const SavedVariable sz(logits, "cross_entropy");
  const int64_t count = mean_count(n);
  return make_result(loss, {logits}, "cross_entropy", [sz, targets, count](const Variable& g, const std::vector<bool>&) -> Grads {
    const Variable& z = sz.unpack();
    const int64_t n = z.size(0), k = z.size(1);
    Tensor onehot = Tensor::zeros(z.shape(), z.dtype());
    visit_dtype(z.dtype(), [&]<typename T>() {
      for (int64_t i = 0; i < n; ++i) onehot.data<T>()[i * k + targets[i]] = T(1);
    });
    return {(softmax(z, 1) - Variable(onehot)) * (g * (1.0 / static_cast<double>(count)))};
  });
}

Variable cross_entropy(const Variable& logits, const Variable& probs) {
  check_logits(logits.data());
  MG_CHECK(probs.shape() == logits.shape(), "cross_entropy: soft targets ", describe(probs.data()),
           " do not match logits ", describe(logits.data()));
  MG_CHECK(probs.dtype() == logits.dtype(), "cross_entropy: dtype mismatch, logits ", describe(logits.data()),
           " vs targets ", describe(probs.data()));
  const int64_t n = logits.size(0), k = logits.size(1);
  const Tensor zc = logits.data().contiguous(), pc = probs.data().contiguous();
  Tensor loss;
  visit_dtype(zc.dtype(), [&]<typename T>() {
    Tensor rows = Tensor::empty({n}, zc.dtype());
    kernels::cross_entropy_soft_rows<T>(zc.data<T>(), pc.data<T>(), n, k, rows.data<T>());
    loss = mean_of_rows(rows.data<T>(), n);
  });
  const SavedVariable sz(logits, "cross_entropy"), sp(probs, "cross_entropy");
  const int64_t count = mean_count(n);
  return make_result(loss, {logits, probs}, "cross_entropy", [sz, sp, count](const Variable& g, const std::vector<bool>& need) -> Grads {
    const Variable &z = sz.unpack(), &p = sp.unpack();
    const Variable scale = g * (1.0 / static_cast<double>(count));
    return {need[0] ? (softmax(z, 1) * sum(p, {1}, true) - p) * scale : Variable(),
            need[1] ? -(log_softmax(z, 1) * scale) : Variable()};
  });
}

}  // namespace mg::nn
