// Reopening a finished (or interrupted) run: its config, its data, and its model with the last checkpoint's
// weights, in eval mode, wrapped with the dataset's normalisation so it takes [0, 1] pixel images.
#pragma once
#include <memory>
#include <string>

#include "datasets/dataset.h"
#include "datasets/loader.h"
#include "experiments/attacks.h"
#include "experiments/train.h"
#include "nn/module.h"

namespace mg::experiments {

struct TrainedRun {
  TrainConfig config;
  int64_t epochs_done = 0;
  std::shared_ptr<nn::Module> model;
  data::Splits data;
  Classifier classifier;  // normalisation + model, pixel-space input
};

// data_dir overrides the directory stored in the run's config when not empty.
TrainedRun load_trained_run(const std::string& run_dir, const std::string& data_dir);

// A loader over a split in pixel space (no augmentation, dataset order).
data::LoaderOptions eval_loader_options(int64_t batch_size, int64_t channels);

}  // namespace mg::experiments
