// mixup (Zhang, Cisse, Dauphin, Lopez-Paz, ICLR 2018), as in facebookresearch/mixup-cifar10:
//   λ ~ Beta(α, α) once per batch (or once per sample), partner = a seeded permutation of the batch,
//   x̃ = λ x + (1 − λ) x[perm], loss = λ CE(f(x̃), y) + (1 − λ) CE(f(x̃), y[perm]).
// The loss equals cross-entropy against the mixed soft label λ onehot(y) + (1 − λ) onehot(y[perm]).
// α = 0 means ERM: λ = 1 and nothing is mixed.
#pragma once
#include <vector>

#include "autograd/variable.h"
#include "core/rng.h"

namespace mg::experiments {

enum class MixupMode {
  Batch,  // one λ for the whole batch (the reference recipe)
  Elem,   // one λ per sample
};

struct MixupPlan {
  std::vector<int64_t> perm;  // partner of sample i is perm[i]
  std::vector<double> lam;    // one value (Batch) or one per sample (Elem)
  double lam_of(int64_t i) const { return lam.size() == 1 ? lam[0] : lam[i]; }
};

// Draws λ and the pairing for a batch of n samples. With α = 0: λ = 1, perm = identity.
MixupPlan draw_mixup(int64_t n, double alpha, MixupMode mode, Generator& gen);

// x̃ = λ x + (1 − λ) x[perm], differentiable in x (gradients reach the unmixed input).
Variable mix_inputs(const Variable& x, const MixupPlan& plan);

// The mixup loss: λ CE(logits, y) + (1 − λ) CE(logits, y[perm]) (per-sample λ in Elem mode), mean over the batch.
Variable mixup_loss(const Variable& logits, const std::vector<int64_t>& y, const MixupPlan& plan);
// The same for rows [first, first + logits.size(0)) of the batch (one rank's share in data-parallel
// training): y and plan are the whole batch's.
Variable mixup_loss(const Variable& logits, const std::vector<int64_t>& y, const MixupPlan& plan, int64_t first);

// The mixed soft targets λ onehot(y) + (1 − λ) onehot(y[perm]) as an (n, num_classes) tensor of `dtype`.
Tensor mixed_targets(const std::vector<int64_t>& y, const MixupPlan& plan, int64_t num_classes, DType dtype);

}  // namespace mg::experiments
