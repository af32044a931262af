#include "experiments/trained_run.h"

#include <filesystem>

#include "core/error.h"
#include "datasets/loader.h"
#include "datasets/registry.h"
#include "experiments/run_dir.h"
#include "nn/models.h"

namespace mg::experiments {

TrainedRun load_trained_run(const std::string& run_dir, const std::string& data_dir) {
  MG_CHECK(std::filesystem::is_directory(run_dir), "run directory ", run_dir, " does not exist");
  Checkpoint ckpt = load_checkpoint(checkpoint_path(run_dir));
  TrainedRun run;
  try {
    run.config = TrainConfig::from_json(ckpt.config);
    run.config.validate();
  } catch (const Error& e) {
    MG_FAIL(checkpoint_path(run_dir), ": ", e.what());
  }
  if (!data_dir.empty()) run.config.data_dir = data_dir;
  run.epochs_done = ckpt.epochs_done;
  run.data = data::load_dataset(run.config.dataset, run.config.data_dir);
  const data::Dataset& train = run.data.train;
  run.model = nn::make_model(run.config.model, run.config.seed, train.num_classes(), train.channels, train.height,
                             train.width);
  run.model->to(run.config.dtype == "f64" ? DType::F64 : DType::F32);
  try {
    run.model->load_state_dict(ckpt.model);
  } catch (const Error& e) {
    MG_FAIL("checkpoint ", checkpoint_path(run_dir), " does not match model ", run.config.model, ": ", e.what());
  }
  run.model->eval();
  run.classifier = normalized(*run.model, std::vector<double>(train.mean.begin(), train.mean.end()),
                              std::vector<double>(train.std.begin(), train.std.end()));
  return run;
}

data::LoaderOptions eval_loader_options(int64_t batch_size, int64_t channels) {
  data::LoaderOptions o;
  o.batch_size = batch_size;
  o.shuffle = false;
  o.mean.assign(channels, 0.0f);
  o.std.assign(channels, 1.0f);
  return o;
}

}  // namespace mg::experiments
