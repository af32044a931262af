// Writes small valid inputs for the experiments' fuzz targets (their seed corpora): a run's config.json (the
// defaults, a multistep bf16 one), checkpoint metadata as a JSON object of strings (a fresh and a mid-epoch
// position), and --eps / --milestones values. Usage: make_seeds OUT_DIR (creates OUT_DIR/<target>/).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "experiments/checkpoint_metadata.h"
#include "experiments/train.h"

namespace fs = std::filesystem;
using mg::experiments::CheckpointPosition;
using mg::experiments::TrainConfig;

namespace {

bool write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* t : {"config", "checkpoint", "cli_lists"}) fs::create_directories(out / t);
  TrainConfig multistep;
  multistep.schedule = "multistep";
  multistep.milestones = {2, 4};
  multistep.precision = "bf16";
  multistep.mixup_alpha = 1.0;
  CheckpointPosition fresh{.config = TrainConfig().to_json()};
  CheckpointPosition mid{.epochs_done = 1, .batches_done = 3, .epoch_objective_sum = 12.5, .epoch_samples = 24,
                         .epoch_seconds = 0.75, .config = multistep.to_json(),
                         .history = nlohmann::json::array({{{"epoch", 1}, {"test_acc", 0.5}}})};
  bool ok = write(out / "config/default.json", TrainConfig().to_json().dump(2)) &&
            write(out / "config/multistep.json", multistep.to_json().dump()) &&
            write(out / "checkpoint/fresh.json", nlohmann::json(checkpoint_metadata(fresh)).dump()) &&
            write(out / "checkpoint/mid_epoch.json", nlohmann::json(checkpoint_metadata(mid)).dump()) &&
            write(out / "cli_lists/eps", "0,1,2,4,8") && write(out / "cli_lists/milestones", "80,120") &&
            write(out / "cli_lists/fraction", "0.5,1e-3");
  if (!ok) {
    std::fprintf(stderr, "make_seeds: could not write the seeds in %s\n", out.c_str());
    return 1;
  }
  return 0;
}
