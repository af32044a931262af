#include "experiments/projection.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/parallel.h"
#include "experiments/bench.h"

namespace mg::experiments {

Projection project_reproduce(const Preset& p, int64_t seeds, const data::Splits& splits) {
  const TrainConfig& t = p.train;
  const int64_t train_images = splits.train.size(), test_images = splits.test.size();
  BenchConfig bench{.model = t.model, .mode = BenchMode::Train, .batch_size = t.batch_size,
                    .channels = splits.train.channels, .height = splits.train.height, .width = splits.train.width,
                    .iters = 3, .warmup = 1,
                    .ranks = &nn::single_process()};  // measured on the calling rank alone
  Projection r;
  r.train_images_per_s = run_bench(bench).images_per_s;
  bench.mode = BenchMode::Eval;
  bench.batch_size = 256;  // the evaluation loaders' batch
  r.eval_images_per_s = run_bench(bench).images_per_s;

  const double trained = static_cast<double>(t.train_subset > 0 ? std::min(t.train_subset, train_images) : train_images);
  const double train_eval = t.eval_train_subset > 0 ? std::min<double>(t.eval_train_subset, trained) : trained;
  const double per_epoch = trained / r.train_images_per_s + (train_eval + test_images) / r.eval_images_per_s;
  // An FGSM evaluation costs about one training step per image (forward, input gradient, forward).
  const double fgsm = static_cast<double>(p.eps_255.size() * test_images) / r.train_images_per_s;
  r.epoch_seconds = per_epoch;
  r.fgsm_seconds = fgsm;
  const std::vector<int64_t> lengths = p.budgets.empty() ? std::vector<int64_t>{t.epochs} : p.budgets;
  for (int64_t e : lengths) {
    r.runs += 2 * seeds;
    r.epochs += 2 * seeds * e;
  }
  r.seconds = static_cast<double>(r.epochs) * per_epoch + static_cast<double>(r.runs) * fgsm;
  return r;
}

void print_projection(const Projection& pr, int ranks) {
  std::fprintf(stderr,
               "reproduce: projected time %s for %lld runs, %lld epochs in all (training %.0f images/s, evaluation "
               "%.0f images/s, measured now on %d threads), plus the approximation analysis\n",
               format_duration(pr.seconds).c_str(), static_cast<long long>(pr.runs), static_cast<long long>(pr.epochs),
               pr.train_images_per_s, pr.eval_images_per_s, num_threads());
  if (ranks > 1 && pr.runs > 1) {
    // Whole runs per rank, run i on rank i mod K: about ceil(runs / K) runs' time, the runs taken as equal.
    const int64_t busiest = (pr.runs + ranks - 1) / ranks, used = std::min<int64_t>(ranks, pr.runs);
    std::fprintf(stderr, "reproduce: on %d ranks (%lld of them with runs, each measured as this one): about %s\n", ranks,
                 static_cast<long long>(used),
                 format_duration(pr.seconds * static_cast<double>(busiest) / static_cast<double>(pr.runs)).c_str());
  }
}

std::string format_duration(double seconds) {
  const long long s = std::llround(seconds);
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string((s + 30) / 60) + " min";
  const long long minutes = (s + 30) / 60;
  return std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min";
}

}  // namespace mg::experiments
