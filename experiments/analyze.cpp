#include "experiments/analyze.h"

#include <numeric>

#include "core/error.h"
#include "datasets/loader.h"
#include "experiments/approximation.h"

namespace mg::experiments {

nlohmann::json analyze_run(TrainedRun& run, const AnalyzeOptions& o) {
  MG_CHECK(o.samples > 1, "analyze: need at least 2 samples, got ", o.samples);
  run.model->to(DType::F64);
  run.model->eval();
  data::LoaderOptions lo = eval_loader_options(o.samples, run.data.train.channels);
  lo.subset = std::min<int64_t>(o.samples, run.data.train.size());
  data::Loader loader(run.data.train, lo);
  const data::Batch batch = loader.make_batch(0, 0);
  const Tensor x = batch.x.to(DType::F64);
  const int64_t k = run.data.train.num_classes();

  nlohmann::json rows = nlohmann::json::array(), radii = nlohmann::json::array();
  for (double alpha : o.alphas) {
    const EpsMix e = eps_mix(run.classifier, x, batch.y, alpha);
    radii.push_back({{"alpha", alpha}, {"eps_mix", e.eps_mix}, {"min_cos", e.min_cos}, {"c_x", e.c_x},
                     {"mean_one_minus_lambda", e.mean_one_minus_lambda}});
    for (double s : o.scales) {
      const ApproxResult r = mixup_approximation(run.classifier, x, batch.y, k,
                                                 {.alpha = alpha, .scale = s, .draws = o.draws, .seed = o.seed});
      rows.push_back({{"alpha", alpha}, {"scale", s}, {"l_mix", r.l_mix}, {"l_std", r.l_std}, {"r1", r.r1},
                      {"r2", r.r2}, {"r3", r.r3}, {"rel_error", r.rel_error}, {"rel_error_reg", r.rel_error_reg}, {"rel_error_second", r.rel_error_second},
                      {"samples", r.samples}, {"pairs", r.pairs}});
    }
  }
  return {{"approximation", rows}, {"eps_mix", radii}, {"samples", x.size(0)}, {"draws", o.draws},
          {"images", "the first " + std::to_string(x.size(0)) + " training images, unaugmented"}};
}

}  // namespace mg::experiments
