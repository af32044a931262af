// `mixgrad reproduce --preset budget`: when does mixup start to win? ERM and mixup (α = 1) at several training
// lengths, each a full schedule of that length, one run per (method, epochs, seed) in OUT/runs/METHOD-eEPOCHS-seedS.
// Runs go shortest first; summary.json and report.md are rewritten after every finished run (marked
// "complete": false until all are done), so an interrupted preset leaves the budgets it finished, and
// --resume skips finished runs and continues an unfinished one from its checkpoint. At the end, the
// approximation analysis on the longest mixup run. summary.json: "budget" (the epochs axis) and, per method,
// "runs"[method][i] for budget[i]; "claims"."per_budget"[i] and "claims"."crossover" (see budget.cpp).
#pragma once
#include <nlohmann/json.hpp>

#include "experiments/reproduce.h"

namespace mg::experiments {

nlohmann::json reproduce_budget(const Preset& preset, const ReproduceOptions& options);

// The run directory name of one budget run: "erm-e4-seed0".
std::string budget_run_name(const PresetRun& run);

}  // namespace mg::experiments
