#include "experiments/reproduce.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "experiments/budget.h"
#include "experiments/distributed/job.h"
#include "experiments/report.h"
#include "experiments/reproduce_run.h"
#include "experiments/run_dir.h"

namespace mg::experiments {
namespace fs = std::filesystem;

nlohmann::json reproduce(const Preset& p, const ReproduceOptions& o) {
  if (!p.budgets.empty()) return reproduce_budget(p, o);
  const auto start = std::chrono::steady_clock::now();
  std::optional<RunLock> lock;  // rank 0 holds the output directory; under mpirun the others train runs in it
  if (is_root()) lock.emplace(prepare_run_dir(o.out, o.resume, o.force));
  barrier(job());
  const int64_t seeds = o.seeds > 0 ? o.seeds : p.seeds;
  const PresetStart begun = start_preset(p, seeds, o);
  const TrainConfig& base = begun.base;
  auto dir_of = [&](const std::string& method, int64_t seed) {
    return (fs::path(o.out) / "runs" / (method + "-seed" + std::to_string(seed))).string();
  };
  if (o.first_epoch_only) {
    if (!is_root()) return nullptr;
    return first_epoch(run_config(base, "erm", base.epochs, 0, o.data_dir), dir_of("erm", 0));
  }
  std::vector<PlannedRun> plan;
  std::vector<int64_t> seed_list;
  for (int64_t s = 0; s < seeds; ++s) {
    seed_list.push_back(s);
    for (const std::string method : {"erm", "mixup"})
      plan.push_back({method + ", seed " + std::to_string(s),
                      run_config(base, method, base.epochs, static_cast<uint64_t>(s), o.data_dir), dir_of(method, s)});
  }
  const std::vector<nlohmann::json> results = run_all(p, plan, o);
  if (!is_root()) return nullptr;  // rank 0 writes the summary, the report and the plots
  std::vector<nlohmann::json> erm, mixup;
  for (std::size_t i = 0; i < plan.size(); ++i) (plan[i].config.mixup_alpha > 0 ? mixup : erm).push_back(results[i]);

  // The approximation, on the first seed's final mixup model.
  const Approximation approx = approximation(p, mixup.front()["dir"], o.data_dir);
  const nlohmann::json& analysis = approx.analysis;

  nlohmann::json summary;
  summary["preset"] = p.name;
  summary["description"] = p.description;
  summary["seeds"] = seed_list;
  summary["config"] = p.train.to_json();
  // train: the images trained on; train_eval: the first of them, on which train loss and accuracy are measured.
  summary["data"] = begun.data;
  summary["data"]["train_eval"] = erm.front()["final"]["train_count"];
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
  summary["claims"] = {{"generalization", mean("mixup", "gap_loss") < mean("erm", "gap_loss")},
                       {"robustness", robust},
                       {"approximation", approx.holds}};
  summary["curves"] = {{"erm", nlohmann::json::array()}, {"mixup", nlohmann::json::array()}};
  for (const auto& r : erm) summary["curves"]["erm"].push_back(r["history"]);
  for (const auto& r : mixup) summary["curves"]["mixup"].push_back(r["history"]);
  double seconds = 0;
  for (const auto& method : {erm, mixup})
    for (const auto& r : method) seconds += training_seconds(r);
  summary["training_seconds"] = seconds;
  summary["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  write_summary(o.out, summary);
  write_report(summary, o.out);
  return summary;
}

}  // namespace mg::experiments
