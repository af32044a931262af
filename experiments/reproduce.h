// `mixgrad reproduce`: the paper's three claims on one dataset, ERM against mixup (α = 1) with identical
// settings and seeds:
//   (G) generalization: mixup's loss gap (test − train) is smaller than ERM's;
//   (R) robustness: mixup's FGSM accuracy is higher than ERM's at each ε;
//   (A) approximation: L_std + R1 + R2 + R3 approximates L_mix, with an error that vanishes as the mixing
//       segments shrink (s → 0).
// Writes OUT/summary.json, OUT/report.md, PNG plots, and one run directory per (method, seed).
// The budget preset instead compares ERM and mixup at several training lengths (experiments/budget.h).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/train.h"

namespace mg::experiments {

struct Preset {
  std::string name;
  TrainConfig train;                      // shared by ERM and mixup; mixup sets mixup_alpha = 1
  std::vector<double> eps_255 = {1, 2, 4, 8};
  int64_t seeds = 3;
  int64_t analyze_samples = 128;
  int draws = 8;
  std::string description;
  // Non-empty: a budget preset (experiments/budget.h): ERM and mixup for each seed at each of these training
  // lengths in epochs, every one a separate run with a full schedule of that length (train.epochs unused).
  std::vector<int64_t> budgets;
};

Preset preset(const std::string& name);  // "smoke", "cpu", "fashion", "svhn", "paper", "budget"; else mg::Error listing them
std::vector<std::string> preset_names();
// The budget preset at other lengths (reproduce --budgets): sorts them and rewrites the description; refuses
// another preset, and budgets that are not distinct positive numbers of epochs.
void set_budgets(Preset& preset, const std::vector<int64_t>& budgets);

struct ReproduceOptions {
  std::string data_dir, out;
  int64_t seeds = -1;  // -1: the preset's
  bool force = false;
  bool resume = false;  // reuse finished runs in OUT, continue unfinished ones
  // Print the projection, train the first run (ERM, seed 0) for one epoch and stop: a check that the preset
  // works on this machine and data. Returns {"first_epoch": its metrics}.
  bool first_epoch_only = false;
};

nlohmann::json reproduce(const Preset& preset, const ReproduceOptions& options);

}  // namespace mg::experiments
