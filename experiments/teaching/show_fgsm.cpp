// `mixgrad show-fgsm --run RUN --data DIR --eps E --out grid.png`: what FGSM does to test images — the clean
// image with the model's prediction, the perturbation ε·sign(∇ₓL) amplified to be visible, and the
// adversarial image with the new prediction.
#include <cstdio>

#include "autograd/functions.h"
#include "core/ops.h"
#include "datasets/loader.h"
#include "experiments/attacks.h"
#include "experiments/cli/commands.h"
#include "experiments/teaching/panels.h"
#include "experiments/trained_run.h"

namespace mg::cli {
namespace {

// "cat 87%": the top class of each row of logits and its softmax probability.
std::vector<std::string> predictions(const Tensor& logits, const std::vector<std::string>& classes) {
  const Tensor p = ops::softmax(logits.to(DType::F64), 1);
  const std::vector<int64_t> top = ops::argmax(p, 1);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < top.size(); ++i) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s %.0f%%", classes[top[i]].c_str(), 100 * p.at({static_cast<int64_t>(i), top[i]}));
    out.push_back(buf);
  }
  return out;
}

}  // namespace

void register_show_fgsm(CLI::App& app) {
  struct Args {
    std::string run, data, out;
    double eps = 8;
    int64_t count = 6;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("show-fgsm", "picture of FGSM: clean image, amplified perturbation, adversarial image");
  cmd->add_option("--run", a->run, "run directory written by mixgrad train")->required();
  cmd->add_option("--data", a->data, "dataset directory (default: the run's)");
  cmd->add_option("--eps", a->eps, "ε in 1/255 pixel units")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--count", a->count, "test images shown")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--out", a->out, "PNG file")->required();
  cmd->callback([a] {
    experiments::TrainedRun run = experiments::load_trained_run(a->run, a->data);
    const data::Batch batch =
        data::Loader(run.data.test, experiments::eval_loader_options(a->count, run.data.test.channels)).make_batch(0, 0);
    Generator gen(0, 0);
    const Tensor adv = experiments::attack(run.classifier, batch.x, batch.y, {.eps = a->eps / 255.0}, gen);
    NoGradGuard no_grad;
    const std::vector<std::string> before = predictions(run.classifier(Variable(batch.x)).data(), run.data.test.classes);
    const std::vector<std::string> after = predictions(run.classifier(Variable(adv)).data(), run.data.test.classes);
    const double half_range = std::max(a->eps / 255.0, 1e-12);
    const Tensor shown_delta = ops::add(ops::mul(ops::sub(adv, batch.x), 0.5 / half_range), 0.5);  // ±ε -> 0..1
    std::vector<std::vector<experiments::Panel>> rows;
    for (int64_t i = 0; i < batch.size(); ++i)
      rows.push_back({{batch.x.select(0, i), {"clean: " + before[i], "true: " + run.data.test.classes[batch.y[i]]}},
                      {shown_delta.select(0, i), {"perturbation", "(amplified)"}},
                      {adv.select(0, i), {"FGSM: " + after[i]}}});
    char title[128];
    std::snprintf(title, sizeof title, "FGSM, eps = %g/255: x_adv = clip(x + eps sign(grad_x loss))", a->eps);
    experiments::write_panels(a->out, title, rows);
    std::fprintf(stderr, "wrote %s\n", a->out.c_str());
  });
}

}  // namespace mg::cli
