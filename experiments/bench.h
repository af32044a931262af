// The throughput benchmark behind `mixgrad bench`: one model, one mode, synthetic seeded inputs, timed
// per iteration after a warm-up. scripts/bench_vs_torch.py runs the same step in PyTorch side by side.
//   train  forward (train mode) + cross-entropy + backward + SGD step (momentum 0.9, nesterov, wd 5e-4); under
//          mpirun a data-parallel step of the global batch, with the time spent in collectives measured
//   eval   forward in eval mode under no-grad
//   fgsm   eval mode: ∇ₓ of the cross-entropy of model(normalize(x)) (grad() with respect to x only, no
//          parameter gradient is computed), x_adv = clip[0,1](x + ε sign ∇ₓ), then a no-grad forward on x_adv
// FLOPs are counted, not estimated from a table: one forward pass is run with nn::MacCounter active, which
// sums the multiply-adds of every conv2d and linear; forward FLOPs = 2 MACs. A training step and an FGSM
// step are each counted as 3 forward passes (train: forward, input gradient, weight gradient; fgsm:
// forward, input gradient, forward). Elementwise work (batch norm, ReLU, pooling, the loss) is not counted.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nn/autocast.h"
#include "nn/distributed/collective.h"

namespace mg::experiments {

enum class BenchMode { Train, Eval, Fgsm };
BenchMode parse_bench_mode(const std::string& name);  // "train", "eval", "fgsm"; else mg::Error
const char* bench_mode_name(BenchMode mode);

struct BenchConfig {
  std::string model = "smallcnn";
  BenchMode mode = BenchMode::Train;
  int64_t batch_size = 128;
  int64_t channels = 3, height = 32, width = 32;  // the synthetic images' shape (CIFAR's by default)
  int64_t iters = 10;   // timed iterations
  int64_t warmup = 2;   // untimed iterations before them
  uint64_t seed = 0;    // weights, inputs and labels
  nn::Precision precision = nn::Precision::f32;  // bf16: the timed steps run under nn::Autocast
  bool verbose = false; // prints each iteration's time to stderr
  // train only: micro-shards of the batch (nn/distributed/micro_shards.h); 0: the plain step for one
  // process, the number of ranks under mpirun (data-parallel: the batch is global, each rank steps its share).
  int64_t shards = 0;
  // The ranks the train steps run over; nullptr: the whole job (every rank must call run_bench then).
  const nn::Collective* ranks = nullptr;
};

struct BenchResult {
  BenchConfig config;
  int threads = 1;
  std::vector<double> seconds;  // per timed iteration
  double images_per_s = 0, images_per_s_min = 0, images_per_s_max = 0;  // median, min, max over iterations
  double forward_flops = 0;     // 2 * conv/linear MACs of one forward pass over the batch
  double flops_per_iter = 0;    // forward_flops times 1 (eval) or 3 (train, fgsm)
  double gflops = 0;            // flops_per_iter at the median rate
  double peak_rss_mb = 0;       // the process's peak resident set size
  std::string blas_core;        // OpenBLAS's kernel family
  double checksum = 0;          // a value from the last iteration, so no work can be skipped
  int ranks = 1;                // processes stepping together (mpirun -np)
  double comm_seconds = 0;      // per timed iteration: time inside the ranks' collectives (waits included)
  double comm_bytes = 0;        // per timed iteration: bytes this rank receives from the collectives
};

BenchResult run_bench(const BenchConfig& config);

// The process's peak resident set size in MiB (VmHWM).
double peak_rss_mb();

}  // namespace mg::experiments
