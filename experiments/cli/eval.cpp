// `mixgrad eval --run RUN --data DIR [--attack fgsm|fgm-l2|pgd] [--eps 0,1,2,4,8] [--precision f32|bf16]`: clean
// and robust accuracy and loss on the test split for each ε (in 1/255 pixel units); RUN/robust.csv and JSON on
// stdout.
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "datasets/loader.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/list_args.h"
#include "experiments/evaluate.h"
#include "experiments/run_dir.h"
#include "experiments/trained_run.h"
#include "nn/autocast.h"

namespace mg::cli {

void register_eval(CLI::App& app) {
  struct Args {
    std::string run, data, attack = "fgsm", eps = "0,1,2,4,8", precision;
    int64_t batch_size = 256;
    int steps = 10;
    double step_size = 0;
    int threads = 0;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("eval", "clean and adversarial accuracy of a trained run on its test split");
  cmd->add_option("--run", a->run, "run directory written by mixgrad train")->required();
  cmd->add_option("--data", a->data, "dataset directory (default: the one the run was trained on)");
  cmd->add_option("--attack", a->attack, "fgsm, fgm-l2 or pgd")->capture_default_str();
  cmd->add_option("--eps", a->eps, "comma-separated ε in 1/255 pixel units (fgm-l2: L2 radius in the same units)")->capture_default_str();
  cmd->add_option("--steps", a->steps, "pgd steps")->capture_default_str();
  cmd->add_option("--step-size", a->step_size, "pgd step in 1/255 units (0: 2.5 ε / steps)")->capture_default_str();
  cmd->add_option("--batch-size", a->batch_size)->capture_default_str()->check(CLI::PositiveNumber);
  add_precision_option(*cmd, a->precision, "f32 or bf16 (autocast, attacks included; default: the run's)");
  add_threads_option(*cmd, a->threads);
  cmd->callback([a] {
    apply_threads(a->threads);
    const experiments::AttackKind kind = experiments::parse_attack(a->attack);
    const std::vector<double> eps_list = parse_eps_list(a->eps);
    experiments::TrainedRun run = experiments::load_trained_run(a->run, a->data);
    const std::string precision = a->precision.empty() ? run.config.precision : a->precision;
    MG_CHECK(precision == "f32" || run.config.dtype == "f32", "eval: --precision ", precision,
             " autocasts a float32 model; run ", a->run, " was trained in ", run.config.dtype);
    const nn::Autocast autocast(nn::parse_precision(precision));
    data::Loader loader(run.data.test, experiments::eval_loader_options(a->batch_size, run.data.test.channels));
    nlohmann::json rows = nlohmann::json::array();
    std::string csv = "attack,eps_255,eps,accuracy,loss,count\n";
    for (double e : eps_list) {
      experiments::AttackSpec spec{.kind = kind, .eps = e / 255.0, .steps = a->steps, .step_size = a->step_size / 255.0};
      const experiments::EvalResult r = e == 0 ? experiments::evaluate(run.classifier, loader)
                                               : experiments::evaluate_attacked(run.classifier, loader, spec, run.config.seed);
      rows.push_back({{"attack", a->attack}, {"eps_255", e}, {"eps", e / 255.0}, {"accuracy", r.accuracy},
                      {"loss", r.loss}, {"count", r.count}});
      char line[256];
      std::snprintf(line, sizeof line, "%s,%g,%.10g,%.6f,%.6f,%lld\n", a->attack.c_str(), e, e / 255.0, r.accuracy, r.loss,
                    static_cast<long long>(r.count));
      csv += line;
    }
    write_file_atomic((std::filesystem::path(a->run) / "robust.csv").string(), csv);
    const nlohmann::json out = {{"run", a->run}, {"test_split", run.data.test.name},
                                {"precision", precision}, {"results", rows}};
    std::printf("%s\n", out.dump(2).c_str());
  });
}

}  // namespace mg::cli
