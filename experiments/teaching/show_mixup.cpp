// `mixgrad show-mixup --data DIR --alpha A --out grid.png`: mixup, one batch at a time, as a picture —
// each row shows x, its partner x[perm], the λ drawn from Beta(α, α), the mixed image and the mixed label.
#include <cstdio>

#include "autograd/functions.h"
#include "datasets/loader.h"
#include "datasets/registry.h"
#include "experiments/cli/commands.h"
#include "experiments/mixup.h"
#include "experiments/teaching/panels.h"

namespace mg::cli {
namespace {

std::string fmt(const char* pattern, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, pattern, v);
  return buf;
}

}  // namespace

void register_show_mixup(CLI::App& app) {
  struct Args {
    std::string dataset = "cifar10", data, out;
    double alpha = 1.0;
    int64_t pairs = 6;
    uint64_t seed = 0;
    std::string mode = "elem";
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("show-mixup", "picture of mixup: pairs, λ, mixed images and mixed labels");
  cmd->add_option("--dataset", a->dataset)->capture_default_str();
  cmd->add_option("--data", a->data, "dataset directory")->required();
  cmd->add_option("--alpha", a->alpha, "λ ~ Beta(α, α)")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--out", a->out, "PNG file")->required();
  cmd->add_option("--pairs", a->pairs, "rows")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--mode", a->mode, "elem: one λ per row (to compare several); batch: one λ for all, as in training")
      ->capture_default_str()->check(CLI::IsMember({"elem", "batch"}));
  cmd->add_option("--seed", a->seed)->capture_default_str();
  cmd->callback([a] {
    const data::Splits splits = data::load_dataset(a->dataset, a->data);
    const data::Dataset& ds = splits.train;
    data::LoaderOptions lo;
    lo.batch_size = a->pairs;
    lo.seed = a->seed;
    lo.mean.assign(ds.channels, 0.0f);
    lo.std.assign(ds.channels, 1.0f);
    const data::Batch batch = data::Loader(ds, lo).make_batch(0, 0);
    Generator gen(a->seed, stream_id(0x73686f77ull));
    const experiments::MixupPlan plan = experiments::draw_mixup(
        batch.size(), a->alpha, a->mode == "elem" ? experiments::MixupMode::Elem : experiments::MixupMode::Batch, gen);
    const Tensor mixed = experiments::mix_inputs(Variable(batch.x), plan).data();
    std::vector<std::vector<experiments::Panel>> rows;
    for (int64_t i = 0; i < batch.size(); ++i) {
      const int64_t j = plan.perm[i];
      const double lam = plan.lam_of(i);
      const std::string yi = ds.classes[batch.y[i]], yj = ds.classes[batch.y[j]];
      rows.push_back({{batch.x.select(0, i), {"x: " + yi}},
                      {batch.x.select(0, j), {"partner: " + yj}},
                      {mixed.select(0, i),
                       {fmt("lam = %.3f", lam), fmt("%.2f ", lam) + yi, fmt("+ %.2f ", 1 - lam) + yj}}});
    }
    experiments::write_panels(a->out, "mixup, alpha = " + fmt("%g", a->alpha) + ": x~ = lam x + (1-lam) partner", rows);
    std::fprintf(stderr, "wrote %s\n", a->out.c_str());
  });
}

}  // namespace mg::cli
