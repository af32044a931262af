// The text half of a mixgrad checkpoint: its safetensors "__metadata__" (string -> string), holding the format
// tag, how far the run got, its configuration and the metrics of its completed epochs. The tensors and their
// checksum are run_dir.cpp's; this part is separate so that it can be checked, and fuzzed, on its own.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace mg::experiments {

inline constexpr const char* kCheckpointFormat = "mixgrad-checkpoint-1";

struct CheckpointPosition {
  int64_t epochs_done = 0;  // completed epochs
  // A mid-epoch checkpoint (time-based or at a requested stop) also records how far epoch `epochs_done` got:
  // the batches already trained and their running objective, so a resumed run continues it exactly.
  int64_t batches_done = 0;
  double epoch_objective_sum = 0.0;  // Σ loss × batch size over those batches
  int64_t epoch_samples = 0;
  double epoch_seconds = 0.0;        // training time those batches took
  nlohmann::json config;             // the run's configuration (TrainConfig::to_json)
  nlohmann::json history = nlohmann::json::array();  // metrics of the completed epochs, one object each
};

// The metadata entries for `position` (without the checksum, which the caller adds). Doubles are written as
// hex-float text, so they read back to the same bits.
std::map<std::string, std::string> checkpoint_metadata(const CheckpointPosition& position);

// Reads the metadata of the checkpoint `path` back. Throws mg::Error naming `path` and the entry when the
// format is not kCheckpointFormat, an entry is missing (those from before mid-epoch checkpoints read as 0) or
// is not a well-formed number or JSON text, a count is negative, the config is not an object, or the history
// is not an array of epochs_done objects.
CheckpointPosition parse_checkpoint_metadata(const std::string& path, const std::map<std::string, std::string>& metadata);

}  // namespace mg::experiments
