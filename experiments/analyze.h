// `mixgrad analyze`: the paper's quantities for a trained model — L_mix, L_std, R1, R2, R3, the relative
// errors and ε_mix — on a fixed set of clean training images, in float64, for one α or a sweep over α and
// the segment scale s.
#pragma once
#include <nlohmann/json.hpp>
#include <vector>

#include "experiments/trained_run.h"

namespace mg::experiments {

struct AnalyzeOptions {
  std::vector<double> alphas = {1.0};
  std::vector<double> scales = {1.0};
  int64_t samples = 128;  // the first N training images (unaugmented)
  int draws = 8;          // Monte Carlo (λ, partner) draws per image
  uint64_t seed = 0;
};

// One row per (α, s): {"alpha","scale","l_mix","l_std","r1","r2","r3","rel_error","rel_error_reg"}, plus
// "eps_mix" details per α. The run's model is converted to float64 for the analysis.
nlohmann::json analyze_run(TrainedRun& run, const AnalyzeOptions& options);

}  // namespace mg::experiments
