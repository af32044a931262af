#include "experiments/mixup.h"

#include <numeric>

#include "autograd/functions.h"
#include "core/error.h"
#include "nn/functional.h"

namespace mg::experiments {

MixupPlan draw_mixup(int64_t n, double alpha, MixupMode mode, Generator& gen) {
  MG_CHECK(alpha >= 0.0, "mixup: alpha must be >= 0 (0 = no mixing), got ", alpha);
  MixupPlan plan;
  if (alpha == 0.0) {
    plan.perm.resize(n);
    std::iota(plan.perm.begin(), plan.perm.end(), 0);
    plan.lam = {1.0};
    return plan;
  }
  const int64_t draws = mode == MixupMode::Batch ? 1 : n;
  for (int64_t i = 0; i < draws; ++i) plan.lam.push_back(gen.beta(alpha, alpha));
  plan.perm = gen.permutation(n);
  return plan;
}

Variable mix_inputs(const Variable& x, const MixupPlan& plan) {
  if (plan.lam.size() == 1 && plan.lam[0] == 1.0) return x;
  const Variable partner = index_select(x, 0, plan.perm);
  if (plan.lam.size() == 1) return x * plan.lam[0] + partner * (1.0 - plan.lam[0]);
  Shape lam_shape(x.dim(), 1);
  lam_shape[0] = static_cast<int64_t>(plan.lam.size());
  const Variable lam(Tensor::from_vector(plan.lam, lam_shape, x.dtype()));
  return x * lam + partner * (1.0 - lam);
}

Tensor mixed_targets(const std::vector<int64_t>& y, const MixupPlan& plan, int64_t num_classes, DType dtype) {
  const int64_t n = static_cast<int64_t>(y.size());
  std::vector<double> t(n * num_classes, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const double lam = plan.lam_of(i);
    t[i * num_classes + y[i]] += lam;
    t[i * num_classes + y[plan.perm[i]]] += 1.0 - lam;
  }
  return Tensor::from_vector(t, {n, num_classes}, dtype);
}

Variable mixup_loss(const Variable& logits, const std::vector<int64_t>& y, const MixupPlan& plan) {
  MG_CHECK(static_cast<int64_t>(y.size()) == logits.size(0), "mixup_loss: ", y.size(), " labels for logits ",
           describe(logits.data()));
  return mixup_loss(logits, y, plan, 0);
}

Variable mixup_loss(const Variable& logits, const std::vector<int64_t>& y, const MixupPlan& plan, int64_t first) {
  const int64_t n = logits.size(0);
  MG_CHECK(first >= 0 && first + n <= static_cast<int64_t>(y.size()), "mixup_loss: rows [", first, ", ", first + n,
           ") of a batch of ", y.size(), " labels");
  const std::vector<int64_t> rows(y.begin() + first, y.begin() + first + n);
  if (plan.lam.size() == 1) {
    const double lam = plan.lam[0];
    if (lam == 1.0) return nn::cross_entropy(logits, rows);
    std::vector<int64_t> partner(n);
    for (int64_t i = 0; i < n; ++i) partner[i] = y[plan.perm[first + i]];
    return nn::cross_entropy(logits, rows) * lam + nn::cross_entropy(logits, partner) * (1.0 - lam);
  }
  const Tensor targets = mixed_targets(y, plan, logits.size(1), logits.dtype()).slice(0, first, first + n);
  return nn::cross_entropy(logits, Variable(targets));
}

}  // namespace mg::experiments
