// A run directory: config.json, metrics.jsonl (one object per epoch), checkpoint.safetensors (weights,
// optimizer state, epoch, metric history, config, checksum), robust.csv, plots, report.md.
// Everything is written atomically (temporary file, fsync, rename), so an interrupted run never leaves a
// half-written file behind, and an earlier result is never lost.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/module.h"

namespace mg::experiments {

void write_text_atomic(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);  // throws naming the file when unreadable

// Creates `dir` for a new run. An existing non-empty directory is an error unless resume (kept) or force
// (its run files are removed first).
void prepare_run_dir(const std::string& dir, bool resume, bool force);

struct Checkpoint {
  int64_t epochs_done = 0;             // completed epochs
  std::vector<nn::StateEntry> model;   // the model's state_dict
  std::vector<nn::StateEntry> optimizer;  // momentum buffers by parameter name
  nlohmann::json config;               // the run's configuration
  nlohmann::json history = nlohmann::json::array();  // metrics of the completed epochs
};

std::string checkpoint_path(const std::string& run_dir);
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Throws naming the file when it is missing, corrupt (checksum), or not a mixgrad checkpoint.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace mg::experiments
