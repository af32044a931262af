// `mixgrad bench-loader`: how many augmented (random crop + flip), normalised images per second the loader
// delivers, measured after a warm-up on the training split, with prefetching as in training.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "core/parallel.h"
#include "datasets/loader.h"
#include "datasets/registry.h"
#include "experiments/cli/commands.h"

namespace mg::cli {

namespace {

struct BenchLoaderArgs {
  std::string dataset, dir;
  int64_t batch_size = 128, batches = 1000, warmup = 20, pad = -1;
  bool no_flip = false, no_prefetch = false, json = false;
  uint64_t seed = 0;
  int threads = 0;
};

void run_bench_loader(const BenchLoaderArgs& a) {
  apply_threads(a.threads);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const std::string dir = a.dir.empty() ? data::default_data_dir(a.dataset) : a.dir;
  const data::Dataset train = data::load_dataset(a.dataset, dir).train;
  const double load_s = std::chrono::duration<double>(clock::now() - t0).count();

  data::LoaderOptions opt;
  opt.batch_size = a.batch_size;
  opt.seed = a.seed;
  opt.augment.pad = a.pad >= 0 ? a.pad : train.height / 8;  // 4 for 32×32 images, as in the CIFAR recipe
  opt.augment.flip = !a.no_flip;
  opt.prefetch = !a.no_prefetch;
  data::Loader loader(train, opt);

  int64_t epoch = 0, images = 0;
  double checksum = 0;
  data::Batch batch;
  loader.start_epoch(epoch);
  auto next = [&] {  // one batch, moving to the next epoch at the end of one
    if (!loader.next(batch)) {
      loader.start_epoch(++epoch);
      loader.next(batch);
    }
    checksum += batch.x.data<float>()[0];
  };
  for (int64_t i = 0; i < a.warmup; ++i) next();
  const auto t1 = clock::now();
  for (int64_t i = 0; i < a.batches; ++i) {
    next();
    images += batch.size();
  }
  const double s = std::chrono::duration<double>(clock::now() - t1).count();
  const double rate = images / s;
  if (a.json) {
    const nlohmann::json out = {{"dataset", a.dataset},     {"threads", num_threads()},   {"batch_size", a.batch_size},
                                {"batches", a.batches},     {"images", images},           {"seconds", s},
                                {"images_per_s", rate},     {"pad", opt.augment.pad},     {"flip", opt.augment.flip},
                                {"prefetch", opt.prefetch}, {"load_seconds", load_s},     {"checksum", checksum}};
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("bench-loader %s: %lld training images [%lld, %lld, %lld] loaded in %.2f s\n", a.dataset.c_str(),
              static_cast<long long>(train.size()), static_cast<long long>(train.channels),
              static_cast<long long>(train.height), static_cast<long long>(train.width), load_s);
  std::printf("threads %d, batch %lld, crop pad %lld, flip %s, prefetch %s, %lld warm-up + %lld timed batches\n",
              num_threads(), static_cast<long long>(a.batch_size), static_cast<long long>(opt.augment.pad),
              opt.augment.flip ? "on" : "off", opt.prefetch ? "on" : "off", static_cast<long long>(a.warmup),
              static_cast<long long>(a.batches));
  std::printf("%.0f images/s (%.3f ms per batch)\n", rate, 1e3 * s / a.batches);
}

}  // namespace

void register_bench_loader(CLI::App& app) {
  auto args = std::make_shared<BenchLoaderArgs>();
  CLI::App* cmd = app.add_subcommand("bench-loader", "images per second of the augmenting, normalising data loader");
  cmd->add_option("--dataset", args->dataset, "dataset")
      ->required()
      ->check(CLI::IsMember({"cifar10", "cifar100", "fashion-mnist", "mnist", "kmnist", "image-folder"}));
  cmd->add_option("--data", args->dir, "data directory");
  cmd->add_option("--batch-size", args->batch_size, "images per batch")->check(CLI::PositiveNumber);
  cmd->add_option("--batches", args->batches, "timed batches")->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", args->warmup, "untimed batches first")->check(CLI::NonNegativeNumber);
  cmd->add_option("--pad", args->pad, "random-crop zero padding (default: height / 8)");
  cmd->add_flag("--no-flip", args->no_flip, "no random horizontal flip");
  cmd->add_flag("--no-prefetch", args->no_prefetch, "build batches on the calling thread");
  cmd->add_option("--seed", args->seed, "shuffle and augmentation seed");
  cmd->add_flag("--json", args->json, "print the result as JSON");
  add_threads_option(*cmd, args->threads);
  cmd->callback([args] { run_bench_loader(*args); });
}

}  // namespace mg::cli
