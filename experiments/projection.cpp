#include "experiments/projection.h"

#include <algorithm>
#include <cmath>

#include "experiments/bench.h"

namespace mg::experiments {

Projection project_reproduce(const Preset& p, int64_t seeds, const data::Splits& splits) {
  const TrainConfig& t = p.train;
  const int64_t train_images = splits.train.size(), test_images = splits.test.size();
  BenchConfig bench{.model = t.model, .mode = BenchMode::Train, .batch_size = t.batch_size,
                    .channels = splits.train.channels, .height = splits.train.height, .width = splits.train.width,
                    .iters = 3, .warmup = 1};
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
  r.seconds = 2.0 * static_cast<double>(seeds) * (static_cast<double>(t.epochs) * per_epoch + fgsm);
  return r;
}

std::string format_duration(double seconds) {
  const long long s = std::llround(seconds);
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string((s + 30) / 60) + " min";
  const long long minutes = (s + 30) / 60;
  return std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min";
}

}  // namespace mg::experiments
