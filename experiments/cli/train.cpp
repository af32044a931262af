// `mixgrad train`: ERM or mixup training into a run directory (see experiments/train.h).
#include <cstdio>

#include "datasets/registry.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/list_args.h"
#include "experiments/distributed/job.h"
#include "experiments/train.h"
#include "nn/models.h"

namespace mg::cli {

void register_train(CLI::App& app) {
  struct Args {
    experiments::TrainConfig config;
    experiments::TrainOptions options;
    int threads = 0;
    int64_t shards = 0;  // 0: 1 for one process, the number of ranks under mpirun
  };
  auto a = std::make_shared<Args>();
  experiments::TrainConfig& c = a->config;
  CLI::App* cmd = app.add_subcommand("train", "train a model with ERM or mixup; writes RUN/config.json, metrics.jsonl, checkpoints");
  cmd->add_option("--dataset", c.dataset, "cifar10, cifar100, fashion-mnist, mnist, kmnist, svhn or image-folder")->capture_default_str();
  cmd->add_option("--data", c.data_dir, "dataset directory");
  cmd->add_option("--model", c.model, "smallcnn, smallcnn-bn, preact-resnet18, wrn-16-8 or wrn-28-10")->capture_default_str();
  cmd->add_option("--epochs", c.epochs)->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", c.batch_size)->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--lr", c.lr, "learning rate (the peak for onecycle)")->capture_default_str();
  cmd->add_option("--momentum", c.momentum)->capture_default_str();
  cmd->add_option("--nesterov", c.nesterov, "true or false")->capture_default_str();
  cmd->add_option("--weight-decay", c.weight_decay)->capture_default_str();
  cmd->add_option("--schedule", c.schedule, "constant, multistep, cosine or onecycle")
      ->capture_default_str()->check(CLI::IsMember({"constant", "multistep", "cosine", "onecycle"}));
  add_milestones_option(*cmd, c.milestones);
  cmd->add_option("--gamma", c.gamma)->capture_default_str();
  cmd->add_option("--pct-start", c.pct_start, "onecycle: share of steps spent warming up")->capture_default_str();
  cmd->add_option("--warmup-epochs", c.warmup_epochs)->capture_default_str();
  cmd->add_option("--mixup-alpha", c.mixup_alpha, "Beta(α, α) for λ; 0 = ERM")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--mixup-mode", c.mixup_mode, "batch (one λ per batch) or elem (one per sample)")
      ->capture_default_str()->check(CLI::IsMember({"batch", "elem"}));
  cmd->add_option("--augment", c.augment, "random crop (padding 4) and flip: true or false")->capture_default_str();
  cmd->add_option("--train-subset", c.train_subset, "train on the first N images (-1 = all)")->capture_default_str();
  cmd->add_option("--dropout", c.dropout,
                  "wrn-16-8 and wrn-28-10: dropout probability between each block's convolutions (the WRN paper: 0.3)")
      ->capture_default_str();
  cmd->add_option("--seed", c.seed)->capture_default_str();
  cmd->add_option("--dtype", c.dtype)->capture_default_str()->check(CLI::IsMember({"f32", "f64"}));
  add_precision_option(*cmd, c.precision,
                       "f32, or bf16: conv2d and linear in bfloat16 with float32 accumulation, as PyTorch's CPU "
                       "autocast (needs --dtype f32)")
      ->capture_default_str();
  add_threads_option(*cmd, a->threads);
  cmd->add_option("--shards", a->shards,
                  "cut every batch into M micro-shards (a power of two): the same bits on any number of ranks "
                  "dividing M, one process included (default: 1, or the number of ranks under mpirun)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--out", a->options.out, "run directory")->required();
  cmd->add_flag("--resume", a->options.resume, "continue the run in --out from its last checkpoint");
  cmd->add_flag("--force", a->options.force, "overwrite an existing run in --out");
  cmd->add_flag("--quiet", a->options.quiet, "no progress output");
  cmd->add_option("--stop-after", a->options.stop_after_epochs, "stop after this many epochs (to resume later)");
  cmd->add_option("--checkpoint-every", a->options.checkpoint_every_minutes,
                  "also checkpoint mid-epoch every MINUTES (fractions allowed; 0 = only at epoch ends)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->callback([a] {
    apply_threads(a->threads);
    const int ranks = experiments::job().size();
    a->config.shards = a->shards > 0 ? a->shards : ranks;
    if (a->shards == 0 && ranks > 1 && experiments::is_root() && !a->options.resume)
      std::fprintf(stderr, "mixgrad: %d ranks, --shards %d: a one-process run with --shards %d gives the same bits\n",
                   ranks, ranks, ranks);
    experiments::train(a->config, a->options);
  });
}

}  // namespace mg::cli
