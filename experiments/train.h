// Training a classifier with ERM or mixup, one epoch at a time, writing the run directory:
// config.json, metrics.jsonl (one object per epoch), and a checkpoint after every epoch, every
// --checkpoint-every minutes mid-epoch, and when SIGINT/SIGTERM asks it to stop (see stop_signals.h).
// The run directory is locked while training (run_lock.h).
//
// Every random choice derives from (seed, epoch, batch or sample index): the shuffle and augmentation
// in the loader, λ and the pairing of mixup here. A run therefore resumes exactly from any checkpoint,
// mid-epoch ones included, and gives the same bits on any thread count.
//
// Under mpirun (experiments/distributed/job.h) the ranks train one model together. A step: every rank
// loads and mixes the whole global batch, takes its share (shard), runs forward and backward on it, with
// the batch sums reduced over the ranks in a fixed order as they arise (SyncBatchNorm's statistics in the
// forward, the weight gradients in the backward), then every rank applies the same update. Rank 0 alone
// writes the run directory; evaluation is split over the ranks by batches.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/mixup.h"
#include "nn/distributed/collective.h"

namespace mg::experiments {

struct TrainConfig {
  std::string dataset = "cifar10";
  std::string data_dir;
  std::string model = "smallcnn-bn";
  int64_t epochs = 15;
  int64_t batch_size = 128;
  double lr = 0.05;  // the peak lr for one-cycle
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 5e-4;
  std::string schedule = "onecycle";  // constant | multistep | cosine | onecycle
  std::vector<int64_t> milestones;    // multistep, in epochs
  double gamma = 0.1;                 // multistep factor
  double pct_start = 0.25;            // onecycle
  int64_t warmup_epochs = 0;          // linear warm-up before the schedule (constant/multistep/cosine)
  double mixup_alpha = 0.0;           // 0 = ERM
  std::string mixup_mode = "batch";   // batch | elem
  bool augment = true;                // random crop (padding 4) + horizontal flip
  int64_t train_subset = -1;          // -1 = the whole training split
  int64_t eval_train_subset = -1;     // images of the clean train-loss measurement (-1 = as trained)
  uint64_t seed = 0;
  std::string dtype = "f32";
  std::string precision = "f32";  // f32 | bf16: conv2d and linear under nn::Autocast (PyTorch's CPU autocast)
  // Micro-shards of every batch (a power of two; nn/distributed/micro_shards.h). 1: the plain step. M > 1
  // gives the same bits on any number of ranks dividing M (mpirun -np K), one process included.
  int64_t shards = 1;
  double dropout = 0.0;  // wrn-16-8 / wrn-28-10: dropout between each block's convolutions (the WRN paper's 0.3)

  nlohmann::json to_json() const;
  static TrainConfig from_json(const nlohmann::json& j);  // throws naming a bad key or value
  // Throws naming the first field outside what train() accepts (the CLI's checks, repeated for a config
  // read back from a checkpoint on --resume); the dataset and model names are checked where they are used.
  void validate() const;
};

struct TrainOptions {
  std::string out;      // run directory
  bool resume = false;  // continue from out/checkpoint.safetensors
  bool force = false;   // overwrite an existing run
  bool quiet = false;   // no progress output
  int64_t stop_after_epochs = -1;  // stop early (to test resume); -1 = run to the end
  double checkpoint_every_minutes = 10;  // also checkpoint mid-epoch this often; 0 = only at epoch ends
  // The ranks that train this run together; nullptr: the whole job (experiments/distributed/job.h). A
  // distributed sweep passes nn::single_process() to train whole runs on each rank.
  const nn::Collective* ranks = nullptr;
};

// Trains and returns the metrics of every epoch (also written to out/metrics.jsonl).
nlohmann::json train(const TrainConfig& config, const TrainOptions& options);

}  // namespace mg::experiments
