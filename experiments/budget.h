// `mixgrad reproduce --preset budget`: when does mixup start to win? ERM and mixup (α = 1) at several training
// lengths (Preset::budgets), each a full schedule of that length, one run per (method, epochs, seed) in
// OUT/runs/METHOD-eEPOCHS-seedS, trained and measured by the machinery every preset shares
// (experiments/reproduce_run.h). Runs go shortest first; summary.json and report.md are rewritten after every
// finished run (marked "complete": false until all are done), so an interrupted preset leaves the budgets it
// finished, and --resume reuses finished runs and continues an unfinished one from its checkpoint. At the end,
// the approximation analysis on the longest mixup run of seed 0.
//
// summary.json: "budget" (the epochs axis, budgets whose runs all finished) and, per method, "runs"[method][i]
// (summarise() over seeds) for budget[i]; "claims" = budget_claims(...) plus "approximation".
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/reproduce.h"

namespace mg::experiments {

struct BudgetRun {
  std::string method;  // "erm" or "mixup"
  int64_t epochs = 0;
  uint64_t seed = 0;
};

// The run directory name of one budget run: "erm-e4-seed0".
std::string budget_run_name(const BudgetRun& run);

// Every run of the preset with seeds 0 .. seeds − 1, shortest budget first (then seed, then ERM before mixup).
std::vector<BudgetRun> budget_plan(const Preset& preset, int64_t seeds);

// The paper's claims at each budget and where mixup overtakes ERM, from the numbers: `runs` is
// {"erm": [...], "mixup": [...]}, one summarise() result per entry of `budgets` (ascending).
//   "per_budget"[i]: {"epochs", "clean_accuracy" (mixup's mean clean accuracy higher), "generalization" (G: its
//     loss gap smaller), "robustness" {ε key: (R) its FGSM accuracy higher}, "difference" {"clean_acc",
//     "gap_loss", "fgsm_acc" {ε key}: mixup's mean − ERM's}};
//   "crossover": per measure (clean_accuracy, generalization, robustness per ε), the smallest budget from which
//     mixup is ahead at that budget and every larger one run, or null when it is not ahead at the largest.
nlohmann::json budget_claims(const std::vector<int64_t>& budgets, const nlohmann::json& runs,
                             const std::vector<double>& eps_255);

nlohmann::json reproduce_budget(const Preset& preset, const ReproduceOptions& options);

}  // namespace mg::experiments
