// One run of `reproduce` and the summaries built from runs, shared by the seed presets (reproduce.cpp) and the
// budget preset (budget.cpp).
#pragma once
#include <functional>
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

// The start of every preset: loads its data, prints the projected time of its `seeds` seeds before anything
// long starts (so that a user can stop a preset that will not fit their day), and returns the configuration
// the runs share (the clean train loss measured on the preset's number of images, or on all of a smaller
// split) and summary.json's "data" ({"train", "test", "test_split", "test_files"}).
struct PresetStart {
  TrainConfig base;
  nlohmann::json data;
};
PresetStart start_preset(const Preset& p, int64_t seeds, const ReproduceOptions& o);

// One run's configuration: `base` with this method ("erm", or "mixup" with α = 1), length and seed.
TrainConfig run_config(const TrainConfig& base, const std::string& method, int64_t epochs, uint64_t seed,
                       const std::string& data_dir);

// --first-epoch: trains `config` for one epoch into `dir` (overwriting it) and returns {"first_epoch": its metrics}.
nlohmann::json first_epoch(const TrainConfig& config, const std::string& dir);

// Trains (or, with o.resume and a finished checkpoint in `dir`, reuses) one run and measures it:
// {"final": last epoch's metrics, "fgsm_acc": {ε key: accuracy}, "history", "dir"}; writes dir/robust.csv.
// The FGSM sweep runs in the run's precision (under nn::Autocast for bf16), as `mixgrad eval` does.
// With o.resume, a run directory trained with another configuration (say another preset's, or another
// --precision) is an error naming both, never silently reused. `ranks` train the run together (data-parallel;
// one process by default); their rank 0 measures it and returns the result, the others return null.
nlohmann::json run_one(const Preset& p, const TrainConfig& config, const std::string& dir, const ReproduceOptions& o,
                       const nn::Collective& ranks = nn::single_process());

// The approximation analysis (the α sweep over kSweepAlphas and segment scales kSweepScales on the preset's
// analyze_samples images and draws) of the final model in `run_dir`, and claim (A) on it.
struct Approximation {
  nlohmann::json analysis;  // analyze_run's result
  bool holds = false;       // approximation_holds
};
Approximation approximation(const Preset& p, const std::string& run_dir, const std::string& data_dir);

// One run of a sweep: what run_one trains and measures, and where.
struct PlannedRun {
  std::string label;  // for the progress line, e.g. "erm, seed 0"
  TrainConfig config;
  std::string dir;
};

// run_one on every planned run, spread over the job's K ranks (experiments/distributed/job.h): with K <= runs,
// run i on rank i mod K, trained by that rank alone; with more ranks than runs, groups of G ranks (G a power of two dividing every run's --shards) train one run each, data-parallel.
// Either way each run has the bits of a one-process sweep. Each run's owner writes its result to
// dir/result.json and every rank returns all results, read back in plan order, once all are done. One process runs them in order and calls on_done(i, result) after each (a progressive
// summary); under mpirun, on_done is called on rank 0 for every run at the end.
std::vector<nlohmann::json> run_all(const Preset& p, const std::vector<PlannedRun>& runs, const ReproduceOptions& o,
                                    const std::function<void(std::size_t, const nlohmann::json&)>& on_done = {});

// The per-method summary of runs: every number as {"mean", "std", "values"} over them.
nlohmann::json summarise(const std::vector<nlohmann::json>& runs, const std::vector<double>& eps);

// The seconds one run (run_one's result) spent training: its epochs' times, evaluation included.
double training_seconds(const nlohmann::json& run);

// Writes `summary` as <out>/summary.json, atomically.
void write_summary(const std::string& out, const nlohmann::json& summary);

// Claim (A) on an analysis: for every α, rel_error_reg at the smallest segment scale is under a tenth of its
// value at s = 1.
bool approximation_holds(const nlohmann::json& analysis, const AnalyzeOptions& ao);

}  // namespace mg::experiments
