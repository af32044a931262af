// `mixgrad bench --model M --mode train|eval|fgsm --batch-size B --threads T [--iters N] [--warmup W]
// [--precision f32|bf16] [--shards M] [--json]`, also under mpirun (data-parallel train steps), or
// `mixgrad bench --peak [--threads T] [--json]`: the machine's measured f32 FMA and bf16 peaks (core/kernels/peak.h).
// images per second of one training step, eval forward pass or FGSM step on synthetic seeded inputs
// (experiments/bench.h says what each mode runs and how FLOPs are counted). scripts/bench_vs_torch.py runs
// it side by side with PyTorch. A tool, not a test: nothing is asserted about speed.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/kernels/peak.h"
#include "core/parallel.h"
#include "experiments/bench.h"
#include "experiments/cli/commands.h"
#include "experiments/distributed/job.h"
#include "nn/models.h"

namespace mg::cli {
namespace {

struct BenchArgs {
  std::string model = "smallcnn", mode = "train", precision = "f32";
  int64_t batch_size = 128, iters = 10, warmup = 2;
  uint64_t seed = 0;
  int threads = 0;
  int64_t shards = 0;
  bool json = false, verbose = false, peak = false;
};

void run_peak(const BenchArgs& a) {
  apply_threads(a.threads);
  const kernels::Peak p = kernels::measure_peak();
  if (a.json) {
    std::printf("%s\n", nlohmann::json{{"threads", num_threads()}, {"f32_gflops", p.f32_gflops}, {"bf16_gflops", p.bf16_gflops}}
                             .dump()
                             .c_str());
    return;
  }
  std::printf("peak on %d threads: f32 FMA %.1f GFLOP/s, bf16 (vdpbf16ps) %.1f GFLOP/s (0: no such instruction)\n",
              num_threads(), p.f32_gflops, p.bf16_gflops);
}

void run_bench(const BenchArgs& a) {
  apply_threads(a.threads);
  experiments::BenchConfig c{.model = a.model,
                             .mode = experiments::parse_bench_mode(a.mode),
                             .batch_size = a.batch_size,
                             .iters = a.iters,
                             .warmup = a.warmup,
                             .seed = a.seed,
                             .precision = nn::parse_precision(a.precision),
                             .verbose = a.verbose,
                             .shards = a.shards};
  const experiments::BenchResult r = experiments::run_bench(c);
  if (!experiments::is_root()) return;  // under mpirun, rank 0 reports
  if (a.json) {
    const nlohmann::json out = {{"model", a.model},
                                {"mode", a.mode},
                                {"precision", a.precision},
                                {"batch_size", a.batch_size},
                                {"threads", r.threads},
                                {"iters", a.iters},
                                {"warmup", a.warmup},
                                {"images_per_s", r.images_per_s},
                                {"images_per_s_min", r.images_per_s_min},
                                {"images_per_s_max", r.images_per_s_max},
                                {"gflops", r.gflops},
                                {"flops_per_iter", r.flops_per_iter},
                                {"peak_rss_mb", r.peak_rss_mb},
                                {"blas_core", r.blas_core},
                                {"checksum", r.checksum},
                                {"ranks", r.ranks},
                                {"comm_seconds_per_step", r.comm_seconds},
                                {"comm_bytes_per_step", r.comm_bytes}};
    std::printf("%s\n", out.dump().c_str());
    return;
  }
  std::printf("bench %s %s %s: batch %lld, %d threads, BLAS core %s, %lld warm-up + %lld timed iterations\n",
              a.model.c_str(), a.mode.c_str(), a.precision.c_str(), static_cast<long long>(a.batch_size), r.threads, r.blas_core.c_str(),
              static_cast<long long>(a.warmup), static_cast<long long>(a.iters));
  std::printf("%.1f images/s (median; min %.1f, max %.1f), %.1f GFLOP/s achieved (%.2f GFLOP per iteration), "
              "peak RSS %.0f MiB\n",
              r.images_per_s, r.images_per_s_min, r.images_per_s_max, r.gflops, r.flops_per_iter / 1e9,
              r.peak_rss_mb);
  if (r.ranks > 1)
    std::printf("%d ranks (mpirun): %.1f ms per step in collectives (waits included), %.1f MB received per step by "
                "rank 0\n", r.ranks, 1e3 * r.comm_seconds, r.comm_bytes / 1e6);
}

}  // namespace

void register_bench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "images/s of a training step, eval pass or FGSM step on synthetic inputs (compare: "
               "scripts/bench_vs_torch.py)");
  cmd->add_option("--model", args->model, "smallcnn, smallcnn-bn, preact-resnet18, wrn-16-8 or wrn-28-10")->check(CLI::IsMember(nn::model_names()));
  cmd->add_option("--mode", args->mode, "train, eval or fgsm")->check(CLI::IsMember({"train", "eval", "fgsm"}));
  cmd->add_option("--batch-size", args->batch_size, "images per step")->check(CLI::PositiveNumber);
  cmd->add_option("--iters", args->iters, "timed iterations")->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", args->warmup, "untimed iterations first")->check(CLI::NonNegativeNumber);
  add_precision_option(*cmd, args->precision, "f32, or bf16 (conv2d and linear under autocast)");
  cmd->add_option("--seed", args->seed, "seed of the weights and the synthetic batch");
  add_threads_option(*cmd, args->threads);
  cmd->add_option("--shards", args->shards,
                  "train: micro-shards of the batch (default: the number of ranks under mpirun, else the plain step)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", args->json, "one JSON object on stdout");
  cmd->add_flag("--verbose", args->verbose, "each iteration's time on stderr");
  cmd->add_flag("--peak", args->peak, "measure the machine's f32 FMA and bf16 multiply-add peaks instead (GFLOP/s)");
  cmd->callback([args] { args->peak ? run_peak(*args) : run_bench(*args); });
}

}  // namespace mg::cli
