// Clean and adversarial evaluation of a classifier over a loader's batches (eval mode, no graph).
#pragma once
#include <vector>

#include "datasets/loader.h"
#include "experiments/attacks.h"
#include "nn/distributed/collective.h"

namespace mg::experiments {

struct EvalResult {
  double loss = 0.0;      // mean cross-entropy
  double accuracy = 0.0;  // share of correct top-1 predictions
  int64_t count = 0;
};

// Mean loss and accuracy of f over every batch of `loader` (epoch 0 order). The caller sets eval mode.
EvalResult evaluate(const Classifier& f, data::Loader& loader);
// The same split over the ranks of a job, whole batches each (batch b on rank b mod K), the batches'
// sums then added in batch order on every rank: bitwise the one-process result. Collective.
EvalResult evaluate(const Classifier& f, data::Loader& loader, const nn::Collective& ranks);

// The same on adversarial images made by `spec` from each batch (pixel-space batches required).
EvalResult evaluate_attacked(const Classifier& f, data::Loader& loader, const AttackSpec& spec, uint64_t seed);

}  // namespace mg::experiments
