// A run directory: config.json, metrics.jsonl (one object per epoch), checkpoint.safetensors (weights,
// optimizer state, epoch, metric history, config, checksum), robust.csv, plots, report.md.
// Everything is written with mg::write_file_atomic (core/atomic_file.h), so an interrupted run never leaves a
// half-written file behind, and an earlier result is never lost.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/checkpoint_metadata.h"
#include "experiments/run_lock.h"
#include "nn/module.h"

namespace mg::experiments {

std::string read_text(const std::string& path);  // throws naming the file when unreadable

// Creates `dir` for a new run and locks it (held until the returned lock is destroyed). An existing
// non-empty directory is an error unless resume (kept) or force (its run files are removed first); a
// directory another live process holds is an error naming that process.
RunLock prepare_run_dir(const std::string& dir, bool resume, bool force);

// A checkpoint: its position, config and history (checkpoint_metadata.h) and the tensors.
struct Checkpoint : CheckpointPosition {
  std::vector<nn::StateEntry> model;      // the model's state_dict
  std::vector<nn::StateEntry> optimizer;  // momentum buffers by parameter name
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
