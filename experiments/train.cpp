#include "experiments/train.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "autograd/functions.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "datasets/registry.h"
#include "experiments/distributed/job.h"
#include "experiments/evaluate.h"
#include "experiments/run_dir.h"
#include "experiments/stop_signals.h"
#include "nn/autocast.h"
#include "nn/distributed/micro_shards.h"
#include "nn/models.h"
#include "nn/optim/schedule.h"
#include "nn/optim/sgd.h"

namespace mg::experiments {
namespace {

constexpr uint64_t kMixupPurpose = 0x6d672d6d69787570ull;  // "mg-mixup"

using Clock = std::chrono::steady_clock;

std::unique_ptr<nn::Schedule> make_schedule(const TrainConfig& c, int64_t batches_per_epoch) {
  MG_CHECK(c.warmup_epochs >= 0, "--warmup-epochs must be >= 0, got ", c.warmup_epochs);
  if (c.schedule == "onecycle") {
    MG_CHECK(c.warmup_epochs == 0, "--warmup-epochs ", c.warmup_epochs,
             " does not apply to onecycle, which warms up by itself (--pct-start)");
    try {
      return std::make_unique<nn::OneCycleLR>(nn::OneCycleOptions{
          .max_lr = c.lr, .total_steps = c.epochs * batches_per_epoch, .pct_start = c.pct_start});
    } catch (const Error& e) {
      MG_FAIL("onecycle over ", c.epochs, " epoch(s) x ", batches_per_epoch, " batches = ", c.epochs * batches_per_epoch,
              " steps: ", e.what());
    }
  }
  std::unique_ptr<nn::Schedule> base;
  if (c.schedule == "constant") base = std::make_unique<nn::ConstantLR>(c.lr);
  else if (c.schedule == "multistep") base = std::make_unique<nn::MultiStepLR>(c.lr, c.milestones, c.gamma);
  else if (c.schedule == "cosine") base = std::make_unique<nn::CosineAnnealingLR>(c.lr, c.epochs);
  else MG_FAIL("unknown schedule '", c.schedule, "'; expected constant, multistep, cosine or onecycle");
  if (c.warmup_epochs > 0) return std::make_unique<nn::LinearWarmup>(std::move(base), c.warmup_epochs);
  return base;
}

bool per_batch_schedule(const TrainConfig& c) { return c.schedule == "onecycle"; }

// One line of progress: "\r" on a terminal, a plain line every tenth of an epoch otherwise.
class Progress {
 public:
  Progress(bool quiet, int64_t epochs) : quiet_(quiet), tty_(isatty(STDERR_FILENO)), epochs_(epochs) {}
  void batch(int64_t epoch, int64_t b, int64_t nb, double objective, double images_per_s) {
    if (quiet_) return;
    if (tty_) {
      const int width = 24, filled = static_cast<int>(width * (b + 1) / nb);
      std::fprintf(stderr, "\repoch %lld/%lld [%.*s%*s] %lld/%lld  loss %.4f  %.0f img/s ", static_cast<long long>(epoch + 1),
                   static_cast<long long>(epochs_), filled, "########################", width - filled, "",
                   static_cast<long long>(b + 1), static_cast<long long>(nb), objective, images_per_s);
    } else if ((b + 1) % std::max<int64_t>(1, nb / 10) == 0 || b + 1 == nb) {
      std::fprintf(stderr, "epoch %lld/%lld batch %lld/%lld loss %.4f %.0f img/s\n", static_cast<long long>(epoch + 1),
                   static_cast<long long>(epochs_), static_cast<long long>(b + 1), static_cast<long long>(nb), objective,
                   images_per_s);
    }
  }
  const char* line_break() const { return tty_ && !quiet_ ? "\n" : ""; }  // ends a "\r" progress line
  void epoch_done(const nlohmann::json& m) {
    if (quiet_) return;
    std::fprintf(stderr, "%sepoch %lld: train loss %.4f acc %.4f | test loss %.4f acc %.4f | gap %.4f | %.1fs\n",
                 tty_ ? "\r" : "", static_cast<long long>(m["epoch"].get<int64_t>()), m["train_loss"].get<double>(),
                 m["train_acc"].get<double>(), m["test_loss"].get<double>(), m["test_acc"].get<double>(),
                 m["gap_loss"].get<double>(), m["seconds"].get<double>());
  }

 private:
  bool quiet_, tty_;
  int64_t epochs_;
};

data::LoaderOptions pixel_loader(const TrainConfig& c, bool training, int64_t subset, int64_t channels) {
  data::LoaderOptions o;
  o.batch_size = c.batch_size;
  o.shuffle = training;
  o.seed = c.seed;
  o.subset = subset;
  o.mean.assign(channels, 0.0f);  // pixel space: normalisation happens inside the classifier (attacks need [0, 1])
  o.std.assign(channels, 1.0f);
  if (training && c.augment) o.augment = {4, true};
  return o;
}

// How far the current epoch has got: what its metrics need, and what a mid-epoch checkpoint records.
struct EpochRunning {
  int64_t batches = 0;
  double objective_sum = 0.0;  // Σ loss × batch size
  int64_t samples = 0;
  double seconds = 0.0;        // training time, carried across a resume
};

// Whether the time-based checkpoint is due: every `minutes` (0 = never) since the last checkpoint.
class CheckpointTimer {
 public:
  explicit CheckpointTimer(double minutes) : seconds_(minutes * 60.0) {}
  bool due() const { return seconds_ > 0 && std::chrono::duration<double>(Clock::now() - last_).count() >= seconds_; }
  void reset() { last_ = Clock::now(); }

 private:
  double seconds_;
  Clock::time_point last_ = Clock::now();
};

// A hash of a dataset's images and labels: ranks compare it to be sure they read the same files.
uint64_t dataset_hash(const data::Dataset& ds) {
  uint64_t h = fnv1a(ds.images.data(), ds.images.size());
  return fnv1a(ds.labels.data(), ds.labels.size() * sizeof(int64_t), h);
}

// What every rank does after a step, agreed in one all-gather so that all stop or save at the same step: the
// signal that stopped any rank (0: none), and whether to checkpoint (a stop, or any rank's timer due).
struct AfterStep {
  int signal = 0;
  bool checkpoint = false;
};

AfterStep agree_after_step(const nn::Collective& ranks, int signal, bool timer_due) {
  AfterStep a{signal, timer_due};
  if (ranks.size() > 1) {
    const std::vector<double> all =
        ranks.all_gather(std::vector<double>{static_cast<double>(signal), timer_due ? 1.0 : 0.0});
    for (std::size_t r = 0; r < all.size(); r += 2) {
      a.signal = std::max(a.signal, static_cast<int>(all[r]));
      a.checkpoint = a.checkpoint || all[r + 1] != 0;
    }
  }
  a.checkpoint = a.checkpoint || a.signal != 0;
  return a;
}

}  // namespace

nlohmann::json train(const TrainConfig& config_in, const TrainOptions& opt) {
  MG_CHECK(opt.checkpoint_every_minutes >= 0, "--checkpoint-every must be >= 0 minutes (0 = only at epoch ends), got ",
           opt.checkpoint_every_minutes);
  const nn::Collective& ranks = opt.ranks ? *opt.ranks : job();
  const bool root = ranks.rank() == 0;
  std::optional<RunLock> lock;  // rank 0 holds the run directory; the others only read it
  if (root) lock.emplace(prepare_run_dir(opt.out, opt.resume, opt.force));
  barrier(ranks);
  const StopSignals stop;
  TrainConfig c = config_in;
  Checkpoint checkpoint;
  if (opt.resume) {
    checkpoint = load_run_checkpoint(opt.out);
    const std::string data_dir = c.data_dir;
    c = TrainConfig::from_json(checkpoint.config);
    if (!data_dir.empty()) c.data_dir = data_dir;
  }
  try {
    c.validate();
  } catch (const Error& e) {
    if (!opt.resume) throw;
    MG_FAIL(checkpoint_path(opt.out), ": ", e.what());
  }
  const std::string settings = c.to_json().dump() + opt.out + (opt.resume ? " resume" : "");
  require_same_on_every_rank(ranks, "training configuration (flags, or the checkpoint resumed)",
                             fnv1a(settings.data(), settings.size()));
  const bool sharded = c.shards > 1 || ranks.size() > 1;
  if (sharded) nn::MicroShards(c.batch_size, c.shards, ranks);  // refuses a split that cannot work, now
  const DType dtype = c.dtype == "f64" ? DType::F64 : DType::F32;
  const nn::Precision precision = nn::parse_precision(c.precision);
  const MixupMode mode = c.mixup_mode == "elem" ? MixupMode::Elem : MixupMode::Batch;

  const data::Splits splits = data::load_dataset(c.dataset, c.data_dir);
  const data::Dataset& train_set = splits.train;
  const data::Dataset& test_set = splits.test;
  MG_CHECK(test_set.size() > 0, "dataset ", c.dataset, " in ", c.data_dir, " has no test split");
  if (ranks.size() > 1) {
    const std::array<uint64_t, 2> hashes{dataset_hash(train_set), dataset_hash(test_set)};
    require_same_on_every_rank(ranks, "dataset (" + c.dataset + " in " + c.data_dir + ")", fnv1a(hashes.data(), sizeof hashes));
  }
  const std::vector<double> mean(train_set.mean.begin(), train_set.mean.end());
  const std::vector<double> stdev(train_set.std.begin(), train_set.std.end());

  auto model = nn::make_model(c.model, c.seed, train_set.num_classes(), train_set.channels, train_set.height,
                              train_set.width, c.dropout);
  model->to(dtype);
  nn::SGD sgd(model->named_parameters(), {.lr = c.lr, .momentum = c.momentum, .weight_decay = c.weight_decay,
                                          .nesterov = c.nesterov});
  nlohmann::json history = nlohmann::json::array();
  int64_t first_epoch = 0;
  EpochRunning resumed;
  if (opt.resume) {
    model->load_state_dict(checkpoint.model);
    sgd.load_state_dict(checkpoint.optimizer);
    history = checkpoint.history;
    first_epoch = checkpoint.epochs_done;
    resumed = {checkpoint.batches_done, checkpoint.epoch_objective_sum, checkpoint.epoch_samples,
               checkpoint.epoch_seconds};
  }

  data::Loader train_loader(train_set, pixel_loader(c, true, c.train_subset, train_set.channels));
  const int64_t clean_subset = c.eval_train_subset > 0 ? c.eval_train_subset : c.train_subset;
  data::Loader train_eval(train_set, pixel_loader(c, false, clean_subset, train_set.channels));
  data::Loader test_eval(test_set, pixel_loader(c, false, -1, train_set.channels));
  const int64_t nb = train_loader.num_batches();
  MG_CHECK(resumed.batches <= nb, checkpoint_path(opt.out), ": the checkpoint is at batch ", resumed.batches,
           " of an epoch that has only ", nb, " batches");
  const auto schedule = make_schedule(c, nb);
  // after everything that can refuse the config, so a refused run leaves its directory empty
  if (root) write_file_atomic((std::filesystem::path(opt.out) / "config.json").string(), c.to_json().dump(2) + "\n");
  const Classifier f = normalized(*model, mean, stdev);
  const nn::Autocast autocast(precision);  // training steps and evaluation alike, as under torch.autocast
  Progress progress(opt.quiet || !root, c.epochs);
  CheckpointTimer timer(opt.checkpoint_every_minutes);
  bool saved_once = false;  // whether this run has a good checkpoint to point at

  // A checkpoint after `running.batches` batches of epoch `epoch` (all of them and evaluated: epoch + 1, 0).
  auto save = [&](int64_t epochs_done, const EpochRunning& running) {
    if (root)
      save_run_checkpoint(opt.out, {{epochs_done, running.batches, running.objective_sum, running.samples,
                                     running.seconds, c.to_json(), history},
                                    model->state_dict(),
                                    sgd.state_dict()});
    saved_once = true;
    timer.reset();
  };
  auto stop_by = [&](int signal, int64_t epoch, int64_t batches) {
    if (root)
      std::fprintf(stderr, "%smixgrad: stopped by %s at epoch %lld, batch %lld of %lld; checkpoint written to %s\n"
                   "resume with: mixgrad train --out %s --resume\n", progress.line_break(),
                   signal == SIGINT ? "SIGINT" : "SIGTERM", static_cast<long long>(epoch + 1),
                   static_cast<long long>(batches), static_cast<long long>(nb), checkpoint_path(opt.out).c_str(),
                   opt.out.c_str());
    throw Interrupted{signal};
  };

  const int64_t last_epoch = opt.stop_after_epochs > 0 ? std::min(c.epochs, first_epoch + opt.stop_after_epochs) : c.epochs;
  for (int64_t epoch = first_epoch; epoch < last_epoch; ++epoch) {
    EpochRunning running = epoch == first_epoch ? resumed : EpochRunning{};
    const auto start = Clock::now() - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(running.seconds));
    model->train();
    train_loader.start_epoch(epoch, running.batches);
    data::Batch batch;
    while (train_loader.next(batch)) {
      // One step: learning rate, mixup plan, forward, backward, update.
      const int64_t b = running.batches;
      schedule->apply(sgd, per_batch_schedule(c) ? epoch * nb + b : epoch);
      nn::restart_dropout_at(*model, static_cast<uint64_t>(epoch * nb + b));  // masks keyed by the step: exact resume
      Generator gen(c.seed, stream_id(kMixupPurpose, static_cast<uint64_t>(epoch), static_cast<uint64_t>(b)));
      const MixupPlan plan = draw_mixup(batch.size(), c.mixup_alpha, mode, gen);
      const Variable x = in_model_dtype(Variable(batch.x), *model);  // mixed in the model's precision
      const Variable mixed = mix_inputs(x, plan);
      sgd.zero_grad();
      double value = 0;
      auto forward_backward = [&](const Variable& share, int64_t first) {
        const Variable loss = mixup_loss(f(share), batch.y, plan, first);
        value = loss.item();
        MG_CHECK(std::isfinite(value), "training diverged: the loss is ", value, " at epoch ", epoch + 1, ", batch ",
                 b + 1, " (step ", epoch * nb + b + 1, "); the last good checkpoint (",
                 saved_once || opt.resume ? checkpoint_path(opt.out) : "none", ") is kept");
        loss.backward();
      };
      if (!sharded) {
        forward_backward(mixed, 0);
      } else {  // this rank's share of the micro-shards; the batch sums are reduced over the ranks in order
        const nn::MicroShards shards(batch.size(), c.shards, ranks);
        const nn::MicroShardScope scope(shards);
        const int64_t first = shards.local_begin();
        forward_backward(Variable(mixed.data().slice(0, first, first + shards.local_size())), first);
      }
      sgd.step();

      running.batches = b + 1;
      running.objective_sum += value * static_cast<double>(batch.size());
      running.samples += batch.size();
      running.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      progress.batch(epoch, b, nb, running.objective_sum / static_cast<double>(running.samples),
                     static_cast<double>(running.samples) / running.seconds);
      if (const AfterStep after = agree_after_step(ranks, stop.requested(), timer.due()); after.checkpoint) {
        save(epoch, running);
        if (after.signal) stop_by(after.signal, epoch, running.batches);
      }
    }
    model->eval();
    const EvalResult tr = evaluate(f, train_eval, ranks), te = evaluate(f, test_eval, ranks);
    nlohmann::json m = {{"epoch", epoch + 1},
                        {"lr", sgd.lr()},
                        {"train_objective", running.objective_sum / static_cast<double>(running.samples)},
                        {"train_loss", tr.loss},
                        {"train_acc", tr.accuracy},
                        {"test_loss", te.loss},
                        {"test_acc", te.accuracy},
                        {"gap_loss", te.loss - tr.loss},
                        {"gap_acc", tr.accuracy - te.accuracy},
                        {"train_count", tr.count},
                        {"test_count", te.count},
                        {"seconds", std::chrono::duration<double>(Clock::now() - start).count()},
                        {"images_per_s", static_cast<double>(running.samples) / running.seconds}};
    history.push_back(m);
    progress.epoch_done(m);
    save(epoch + 1, EpochRunning{});
    std::string lines;
    for (const auto& row : history) lines += row.dump() + "\n";
    if (root) write_file_atomic((std::filesystem::path(opt.out) / "metrics.jsonl").string(), lines);
    if (const int signal = agree_after_step(ranks, stop.requested(), false).signal) stop_by(signal, epoch + 1, 0);
  }
  return history;
}

}  // namespace mg::experiments
