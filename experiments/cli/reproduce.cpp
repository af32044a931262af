// `mixgrad reproduce --preset smoke|cpu|fashion|svhn|paper|budget [--budgets 4,8,16,32] [--data DIR] [--first-epoch] --out DIR [--seeds N] [--threads T] [--shards M]`:
// ERM vs mixup with identical settings and seeds, FGSM sweep, gap curves, the approximation; summary.json,
// report.md and plots in OUT (see experiments/reproduce.h).
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "datasets/registry.h"
#include "experiments/cli/commands.h"
#include "experiments/distributed/job.h"
#include "experiments/reproduce.h"

namespace mg::cli {

void register_reproduce(CLI::App& app) {
  struct Args {
    std::string preset = "smoke", precision = "f32";
    std::vector<int64_t> budgets;
    experiments::ReproduceOptions options;
    int threads = 0;
    int64_t shards = 1;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("reproduce", "the paper's claims: ERM vs mixup, FGSM, gap, approximation; writes a report");
  cmd->add_option("--preset", a->preset,
                  "smoke (minutes), cpu (a CPU afternoon), fashion (Fashion-MNIST, under an hour), svhn (WRN-16-8, "
                  "the paper's Fig. 1a), paper (PreAct ResNet-18, 200 epochs) or budget (ERM vs mixup at 4, 8, 16, 32 "
                  "epochs, about 90 minutes: when does mixup start to win?)")
      ->capture_default_str();
  cmd->add_option("--data", a->options.data_dir,
                  "the preset's dataset directory (CIFAR-10: cifar-10-batches-bin; default: the dataset's Debian "
                  "package, for fashion /usr/share/datasets/fashion-mnist)");
  cmd->add_option("--out", a->options.out, "output directory")->required();
  cmd->add_option("--budgets", a->budgets,
                  "--preset budget only: the training lengths in epochs, e.g. 4,8,16,32 (each a full schedule; with "
                  "--resume, runs of lengths already in --out are reused)")
      ->delimiter(',');
  cmd->add_option("--seeds", a->options.seeds, "number of seeds (default: the preset's)")->check(CLI::PositiveNumber);
  cmd->add_flag("--resume", a->options.resume, "reuse finished runs in --out and continue unfinished ones");
  cmd->add_flag("--force", a->options.force, "overwrite an existing output directory");
  cmd->add_flag("--first-epoch", a->options.first_epoch_only,
                "print the projection, train the first run for one epoch and stop (a check of the set-up)");
  add_precision_option(*cmd, a->precision,
                       "f32, or bf16: every run trains with conv2d and linear under autocast (the "
                       "approximation's second derivatives stay f32)")
      ->capture_default_str();
  add_threads_option(*cmd, a->threads);
  cmd->add_option("--shards", a->shards,
                  "every run's batches as M micro-shards (a power of two, train's --shards): under mpirun with more "
                  "ranks than runs, groups of ranks dividing M share each run, with the bits of one process")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([a] {
    apply_threads(a->threads);
    experiments::Preset p = experiments::preset(a->preset);
    p.train.precision = a->precision;  // each run's config.json and summary.json's "config" record it
    p.train.shards = a->shards;
    p.train.validate();  // a bad --shards is refused before anything runs
    if (!a->budgets.empty()) experiments::set_budgets(p, a->budgets);
    if (a->options.data_dir.empty()) a->options.data_dir = data::default_data_dir(p.train.dataset);
    MG_CHECK(!a->options.data_dir.empty(), "reproduce --preset ", p.name, " needs --data: the directory of ",
             p.train.dataset);
    if (experiments::is_root())
      std::fprintf(stderr, "reproduce: preset %s — %s\n", p.name.c_str(), p.description.c_str());
    const nlohmann::json summary = experiments::reproduce(p, a->options);
    if (!experiments::is_root()) return;  // under mpirun rank 0 reports for the job
    if (a->options.first_epoch_only) {
      std::printf("%s\n", summary["first_epoch"].dump().c_str());
      return;
    }
    std::fprintf(stderr, "reproduce: wrote %s/summary.json, report.md and plots in %.1f minutes\n", a->options.out.c_str(),
                 summary["seconds"].get<double>() / 60.0);
    std::printf("%s\n", summary["claims"].dump().c_str());
  });
}

}  // namespace mg::cli
