// `mixgrad analyze --run RUN [--data DIR] [--alpha A] [--samples N] [--draws K] [--sweep]`: the paper's
// approximation of the mixup loss for a trained model, as JSON (see experiments/approximation.h).
#include <cstdio>

#include "experiments/analyze.h"
#include "experiments/cli/commands.h"

namespace mg::cli {

void register_analyze(CLI::App& app) {
  struct Args {
    std::string run, data;
    double alpha = -1;
    int64_t samples = 128;
    int draws = 8;
    bool sweep = false;
    int threads = 0;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("analyze", "L_mix, L_std, R1, R2, R3, relative errors and eps_mix for a trained run");
  cmd->add_option("--run", a->run, "run directory written by mixgrad train")->required();
  cmd->add_option("--data", a->data, "dataset directory (default: the run's)");
  cmd->add_option("--alpha", a->alpha, "mixup α (default: the run's, or 1 for an ERM run)");
  cmd->add_option("--samples", a->samples, "training images analysed")->capture_default_str()->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--draws", a->draws, "Monte Carlo (λ, partner) draws per image")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_flag("--sweep", a->sweep, "α in {0.1, 0.2, 0.5, 1} × s in {1, 1/2, 1/4, 1/8, 1/16, 1/100, 1/1000}");
  add_threads_option(*cmd, a->threads);
  cmd->callback([a] {
    apply_threads(a->threads);
    experiments::TrainedRun run = experiments::load_trained_run(a->run, a->data);
    experiments::AnalyzeOptions o;
    o.samples = a->samples;
    o.draws = a->draws;
    o.seed = run.config.seed;
    const double alpha = a->alpha > 0 ? a->alpha : (run.config.mixup_alpha > 0 ? run.config.mixup_alpha : 1.0);
    o.alphas = {alpha};
    if (a->sweep) {
      o.alphas = experiments::kSweepAlphas;
      o.scales = experiments::kSweepScales;
    }
    std::printf("%s\n", experiments::analyze_run(run, o).dump(2).c_str());
  });
}

}  // namespace mg::cli
