#include "experiments/reproduce.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/parallel.h"
#include "datasets/loader.h"
#include "datasets/registry.h"
#include "experiments/analyze.h"
#include "experiments/budget.h"
#include "experiments/evaluate.h"
#include "experiments/projection.h"
#include "experiments/report.h"
#include "experiments/reproduce_run.h"
#include "experiments/run_dir.h"
#include "experiments/trained_run.h"

namespace mg::experiments {
namespace fs = std::filesystem;


nlohmann::json reproduce(const Preset& p, const ReproduceOptions& o) {
  if (!p.runs.empty()) return reproduce_budget(p, o);
  const auto start = std::chrono::steady_clock::now();
  const RunLock lock = prepare_run_dir(o.out, o.resume, o.force);
  const int64_t seeds = o.seeds > 0 ? o.seeds : p.seeds;
  TrainConfig base = p.train;
  {  // measured before anything long starts, so that a user can stop a run that will not fit their day
    const data::Splits splits = data::load_dataset(p.train.dataset, o.data_dir);
    // The clean train loss is measured on the preset's number of images, or on all of a smaller split.
    if (base.eval_train_subset > splits.train.size()) base.eval_train_subset = -1;
    const Projection pr = project_reproduce(p, seeds, splits);
    std::fprintf(stderr,
                 "reproduce: projected time %s for %lld runs (training %.0f images/s, evaluation %.0f images/s, "
                 "measured now on %d threads), plus the approximation analysis\n",
                 format_duration(pr.seconds).c_str(), static_cast<long long>(2 * seeds), pr.train_images_per_s,
                 pr.eval_images_per_s, num_threads());
  }
  if (o.first_epoch_only) {
    TrainConfig c = base;
    c.data_dir = o.data_dir;
    const std::string dir = (fs::path(o.out) / "runs" / "erm-seed0").string();
    std::fprintf(stderr, "reproduce: first epoch of erm, seed 0 -> %s\n", dir.c_str());
    const nlohmann::json history = train(c, {.out = dir, .resume = false, .force = true, .stop_after_epochs = 1});
    return {{"first_epoch", history.back()}};
  }
  std::vector<nlohmann::json> erm, mixup;
  std::vector<int64_t> seed_list;
  for (int64_t s = 0; s < seeds; ++s) {
    seed_list.push_back(s);
    for (const char* method : {"erm", "mixup"}) {
      TrainConfig c = base;
      c.data_dir = o.data_dir;
      c.seed = static_cast<uint64_t>(s);
      c.mixup_alpha = std::string(method) == "mixup" ? 1.0 : 0.0;
      const std::string dir = (fs::path(o.out) / "runs" / (std::string(method) + "-seed" + std::to_string(s))).string();
      std::fprintf(stderr, "reproduce: %s, seed %lld -> %s\n", method, static_cast<long long>(s), dir.c_str());
      (std::string(method) == "mixup" ? mixup : erm).push_back(run_one(p, c, dir, o));
    }
  }

  // The approximation, on the first seed's final mixup model.
  std::fprintf(stderr, "reproduce: the mixup loss and its approximation (alpha sweep, segment scales)\n");
  TrainedRun mix_run = load_trained_run(mixup.front()["dir"], o.data_dir);
  AnalyzeOptions ao;
  ao.alphas = kSweepAlphas;
  ao.scales = kSweepScales;
  ao.samples = p.analyze_samples;
  ao.draws = p.draws;
  const nlohmann::json analysis = analyze_run(mix_run, ao);

  nlohmann::json summary;
  summary["preset"] = p.name;
  summary["description"] = p.description;
  summary["seeds"] = seed_list;
  summary["config"] = p.train.to_json();
  // train: the images trained on; train_eval: the first of them, on which train loss and accuracy are measured.
  summary["data"] = {{"train", p.train.train_subset > 0 ? p.train.train_subset : mix_run.data.train.size()},
                     {"train_eval", erm.front()["final"]["train_count"]},
                     {"test", mix_run.data.test.size()},
                     {"test_split", mix_run.data.test.name},
                     {"test_files", mix_run.data.test.files}};
  summary["runs"] = {{"erm", summarise(erm, p.eps_255)}, {"mixup", summarise(mixup, p.eps_255)}};
  summary["approximation"] = analysis["approximation"];
  summary["eps_mix"] = analysis["eps_mix"];
  summary["analysis_images"] = analysis["images"];

  // The claims, as measured.
  const auto mean = [&](const char* method, const char* key) { return summary["runs"][method][key]["mean"].get<double>(); };
  nlohmann::json robust = nlohmann::json::object();
  for (double e : p.eps_255) {
    const std::string key = eps_key(e);
    robust[key] = summary["runs"]["mixup"]["fgsm_acc"][key]["mean"].get<double>() >
                  summary["runs"]["erm"]["fgsm_acc"][key]["mean"].get<double>();
  }
  const bool approx_holds = approximation_holds(analysis, ao);
  summary["claims"] = {{"generalization", mean("mixup", "gap_loss") < mean("erm", "gap_loss")},
                       {"robustness", robust},
                       {"approximation", approx_holds}};
  summary["curves"] = {{"erm", nlohmann::json::array()}, {"mixup", nlohmann::json::array()}};
  for (const auto& r : erm) summary["curves"]["erm"].push_back(r["history"]);
  for (const auto& r : mixup) summary["curves"]["mixup"].push_back(r["history"]);
  double training_seconds = 0;
  for (const auto& method : {erm, mixup})
    for (const auto& r : method)
      for (const auto& epoch : r["history"]) training_seconds += epoch["seconds"].get<double>();
  summary["training_seconds"] = training_seconds;
  summary["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  write_file_atomic((fs::path(o.out) / "summary.json").string(), summary.dump(2) + "\n");
  write_report(summary, o.out);
  return summary;
}

}  // namespace mg::experiments
