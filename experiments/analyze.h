// `mixgrad analyze`: the paper's quantities for a trained model — L_mix, L_std, R1, R2, R3, the relative
// errors and ε_mix — on a fixed set of clean training images, in float64, for one α or a sweep over α and
// the segment scale s.
#pragma once
#include <nlohmann/json.hpp>
#include <vector>

#include "experiments/trained_run.h"

namespace mg::experiments {

// The sweeps' α values and segment scales s. The s = 1 … 1/16 and two smaller ones: on a trained ReLU
// convnet the segments still cross ReLU kinks at s = 1/16, and the O(s) trend shows only below that.
inline const std::vector<double> kSweepAlphas = {0.1, 0.2, 0.5, 1.0};
inline const std::vector<double> kSweepScales = {1.0, 0.5, 0.25, 0.125, 0.0625, 0.01, 0.001};

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
