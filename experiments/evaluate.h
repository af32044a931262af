// Clean and adversarial evaluation of a classifier over a loader's batches (eval mode, no graph).
#pragma once
#include <vector>

#include "datasets/loader.h"
#include "experiments/attacks.h"

namespace mg::experiments {

struct EvalResult {
  double loss = 0.0;      // mean cross-entropy
  double accuracy = 0.0;  // share of correct top-1 predictions
  int64_t count = 0;
};

// Mean loss and accuracy of f over every batch of `loader` (epoch 0 order). The caller sets eval mode.
EvalResult evaluate(const Classifier& f, data::Loader& loader);

// The same on adversarial images made by `spec` from each batch (pixel-space batches required).
EvalResult evaluate_attacked(const Classifier& f, data::Loader& loader, const AttackSpec& spec, uint64_t seed);

}  // namespace mg::experiments
