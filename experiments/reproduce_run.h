// One run of `reproduce` and the summaries built from runs, shared by the seed presets (reproduce.cpp) and the
// budget preset (budget.cpp).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/analyze.h"
#include "experiments/reproduce.h"

namespace mg::experiments {

// {"mean", "std" (sample, n − 1), "values"} of a list of numbers.
nlohmann::json stat(const std::vector<double>& v);

// The summary's key of an ε given in 1/255 units: "1", "2", "0.5" (not "1.0").
std::string eps_key(double eps_255);

// Trains (or, with o.resume and a finished checkpoint in `dir`, reuses) one run and measures it:
// {"final": last epoch's metrics, "fgsm_acc": {ε key: accuracy}, "history", "dir"}; writes dir/robust.csv.
nlohmann::json run_one(const Preset& p, const TrainConfig& config, const std::string& dir, const ReproduceOptions& o);

// The per-method summary of runs: every number as {"mean", "std", "values"} over them.
nlohmann::json summarise(const std::vector<nlohmann::json>& runs, const std::vector<double>& eps);

// Claim (A) on an analysis: for every α, rel_error_reg at the smallest segment scale is under a tenth of its
// value at s = 1.
bool approximation_holds(const nlohmann::json& analysis, const AnalyzeOptions& ao);

}  // namespace mg::experiments
