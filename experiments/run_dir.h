// A run directory: config.json, metrics.jsonl (one object per epoch), checkpoint.safetensors (weights,
// optimizer state, epoch, metric history, config, checksum), robust.csv, plots, report.md.
// Everything is written with mg::write_file_atomic (core/atomic_file.h), so an interrupted run never leaves a
// half-written file behind, and an earlier result is never lost.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/run_lock.h"
#include "nn/module.h"

namespace mg::experiments {

std::string read_text(const std::string& path);  // throws naming the file when unreadable

// Creates `dir` for a new run and locks it (held until the returned lock is destroyed). An existing
// non-empty directory is an error unless resume (kept) or force (its run files are removed first); a
// directory another live process holds is an error naming that process.
RunLock prepare_run_dir(const std::string& dir, bool resume, bool force);

struct Checkpoint {
  int64_t epochs_done = 0;             // completed epochs
  // A mid-epoch checkpoint (time-based or at a requested stop) also records how far epoch `epochs_done` got:
  // the batches already trained and their running objective, so a resumed run continues it exactly.
  int64_t batches_done = 0;
  double epoch_objective_sum = 0.0;    // Σ loss × batch size over those batches
  int64_t epoch_samples = 0;
  double epoch_seconds = 0.0;          // training time those batches took
  std::vector<nn::StateEntry> model;   // the model's state_dict
  std::vector<nn::StateEntry> optimizer;  // momentum buffers by parameter name
  nlohmann::json config;               // the run's configuration
  nlohmann::json history = nlohmann::json::array();  // metrics of the completed epochs
};

std::string checkpoint_path(const std::string& run_dir);           // the newest checkpoint
std::string previous_checkpoint_path(const std::string& run_dir);  // the one before it
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Throws naming the file when it is missing, corrupt (checksum), or not a mixgrad checkpoint.
Checkpoint load_checkpoint(const std::string& path);

// Replaces the run's checkpoint with `checkpoint`, never leaving the run without a good one: the current
// checkpoint is first kept as checkpoint.prev.safetensors, then the new one is written atomically (fsynced)
// and read back to verify it; a verification failure throws, the previous checkpoint still in place.
void save_run_checkpoint(const std::string& run_dir, const Checkpoint& checkpoint);
// The newest usable checkpoint of a run. When the newest is missing, fails its checksum or does not parse,
// warns on stderr with the reason and falls back to the previous one; throws naming both when neither loads.
Checkpoint load_run_checkpoint(const std::string& run_dir);

}  // namespace mg::experiments
