#include "experiments/budget.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "core/error.h"
#include "experiments/distributed/job.h"
#include "experiments/report.h"
#include "experiments/reproduce_run.h"
#include "experiments/run_dir.h"

namespace mg::experiments {
namespace fs = std::filesystem;

std::string budget_run_name(const BudgetRun& r) {
  return r.method + "-e" + std::to_string(r.epochs) + "-seed" + std::to_string(r.seed);
}

std::vector<BudgetRun> budget_plan(const Preset& p, int64_t seeds) {
  std::vector<int64_t> budgets = p.budgets;
  std::sort(budgets.begin(), budgets.end());
  MG_CHECK(!budgets.empty() && budgets.front() > 0 && std::adjacent_find(budgets.begin(), budgets.end()) == budgets.end(),
           "preset ", p.name, ": the budgets must be distinct positive numbers of epochs");
  std::vector<BudgetRun> plan;
  for (int64_t e : budgets)
    for (int64_t s = 0; s < seeds; ++s)
      for (const char* method : {"erm", "mixup"}) plan.push_back({method, e, static_cast<uint64_t>(s)});
  return plan;
}

namespace {

// The smallest budget from which mixup is ahead at that budget and at every larger one; null when it is not
// ahead at the largest.
nlohmann::json crossover(const std::vector<int64_t>& budgets, const std::vector<bool>& mixup_ahead) {
  nlohmann::json from = nullptr;
  for (size_t i = budgets.size(); i-- > 0;) {
    if (!mixup_ahead[i]) break;
    from = budgets[i];
  }
  return from;
}

double mean(const nlohmann::json& stat) { return stat["mean"].get<double>(); }

}  // namespace

nlohmann::json budget_claims(const std::vector<int64_t>& budgets, const nlohmann::json& runs,
                             const std::vector<double>& eps_255) {
  MG_CHECK(runs["erm"].size() == budgets.size() && runs["mixup"].size() == budgets.size(), "budget claims: ",
           budgets.size(), " budgets but ", runs["erm"].size(), " ERM and ", runs["mixup"].size(), " mixup summaries");
  nlohmann::json per_budget = nlohmann::json::array();
  std::vector<bool> clean, gap;
  std::map<std::string, std::vector<bool>> fgsm;
  for (size_t i = 0; i < budgets.size(); ++i) {
    const auto& erm = runs["erm"][i];
    const auto& mix = runs["mixup"][i];
    nlohmann::json row = {{"epochs", budgets[i]},
                          {"clean_accuracy", mean(mix["clean_acc"]) > mean(erm["clean_acc"])},
                          {"generalization", mean(mix["gap_loss"]) < mean(erm["gap_loss"])},
                          {"robustness", nlohmann::json::object()},
                          {"difference", {{"clean_acc", mean(mix["clean_acc"]) - mean(erm["clean_acc"])},
                                          {"gap_loss", mean(mix["gap_loss"]) - mean(erm["gap_loss"])},
                                          {"fgsm_acc", nlohmann::json::object()}}}};
    clean.push_back(row["clean_accuracy"]);
    gap.push_back(row["generalization"]);
    for (double e : eps_255) {
      const std::string key = eps_key(e);
      const double d = mean(mix["fgsm_acc"][key]) - mean(erm["fgsm_acc"][key]);
      row["robustness"][key] = d > 0;
      row["difference"]["fgsm_acc"][key] = d;
      fgsm[key].push_back(d > 0);
    }
    per_budget.push_back(row);
  }
  nlohmann::json cross = {{"clean_accuracy", crossover(budgets, clean)},
                          {"generalization", crossover(budgets, gap)},
                          {"robustness", nlohmann::json::object()}};
  for (double e : eps_255) cross["robustness"][eps_key(e)] = crossover(budgets, fgsm[eps_key(e)]);
  return {{"per_budget", per_budget}, {"crossover", cross}};
}

namespace {

// The summary of the runs finished so far (`done`: run name → run_one's result); a budget appears once all of
// its runs have finished.
nlohmann::json budget_summary(const Preset& p, const std::vector<BudgetRun>& plan, const TrainConfig& base,
                              const std::map<std::string, nlohmann::json>& done) {
  std::vector<int64_t> budgets;
  std::vector<std::string> pending;
  std::vector<uint64_t> seeds;
  nlohmann::json runs = {{"erm", nlohmann::json::array()}, {"mixup", nlohmann::json::array()}};
  nlohmann::json curves = {{"erm", nlohmann::json::object()}, {"mixup", nlohmann::json::object()}};
  for (size_t i = 0; i < plan.size();) {
    const int64_t e = plan[i].epochs;
    std::map<std::string, std::vector<nlohmann::json>> by_method;
    bool complete = true;
    for (; i < plan.size() && plan[i].epochs == e; ++i) {  // the plan is sorted by budget
      const BudgetRun& r = plan[i];
      if (std::find(seeds.begin(), seeds.end(), r.seed) == seeds.end()) seeds.push_back(r.seed);
      const auto it = done.find(budget_run_name(r));
      if (it == done.end()) {
        complete = false;
        pending.push_back(budget_run_name(r));
      } else {
        by_method[r.method].push_back(it->second);
      }
    }
    if (!complete) continue;
    budgets.push_back(e);
    for (const char* method : {"erm", "mixup"}) {
      nlohmann::json s = summarise(by_method[method], p.eps_255);
      s["epochs"] = e;
      double seconds = 0;
      for (const auto& run : by_method[method]) seconds += training_seconds(run);
      s["training_seconds"] = seconds;
      runs[method].push_back(s);
      curves[method][std::to_string(e)] = nlohmann::json::array();
      for (const auto& run : by_method[method]) curves[method][std::to_string(e)].push_back(run["history"]);
    }
  }

  nlohmann::json s;
  s["preset"] = p.name;
  s["description"] = p.description;
  s["seeds"] = seeds;
  nlohmann::json config = base.to_json();
  config.erase("epochs");  // the budget axis
  config.erase("seed");
  config.erase("mixup_alpha");
  s["config"] = config;
  s["planned_runs"] = nlohmann::json::array();
  for (const BudgetRun& r : plan)
    s["planned_runs"].push_back(
        {{"method", r.method}, {"epochs", r.epochs}, {"seed", r.seed}, {"dir", "runs/" + budget_run_name(r)}});
  s["budget"] = budgets;
  s["budget_unit"] = "epochs, each a full " + base.schedule + " schedule of that length";
  s["runs"] = runs;
  s["curves"] = curves;
  s["claims"] = budget_claims(budgets, runs, p.eps_255);
  s["pending"] = pending;
  s["complete"] = pending.empty();
  double seconds = 0;
  for (const auto& [name, run] : done) seconds += training_seconds(run);
  s["training_seconds"] = seconds;
  return s;
}

}  // namespace

nlohmann::json reproduce_budget(const Preset& p, const ReproduceOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  std::optional<RunLock> lock;  // rank 0 holds the output directory; under mpirun the others train runs in it
  if (is_root()) lock.emplace(prepare_run_dir(o.out, o.resume, o.force));
  barrier(job());
  const int64_t seeds = o.seeds > 0 ? o.seeds : p.seeds;
  const std::vector<BudgetRun> plan = budget_plan(p, seeds);
  const PresetStart begun = start_preset(p, seeds, o);
  auto dir_of = [&](const BudgetRun& r) { return (fs::path(o.out) / "runs" / budget_run_name(r)).string(); };
  auto config_of = [&](const BudgetRun& r) { return run_config(begun.base, r.method, r.epochs, r.seed, o.data_dir); };
  if (o.first_epoch_only) {
    if (!is_root()) return nullptr;
    return first_epoch(config_of(plan.front()), dir_of(plan.front()));
  }

  std::map<std::string, nlohmann::json> done;
  // summary.json and report.md of the runs done so far, and of the approximation once it is measured.
  auto write = [&](const Approximation* approx, const std::string& analysis_run) {
    nlohmann::json summary = budget_summary(p, plan, begun.base, done);
    summary["data"] = begun.data;
    if (!done.empty()) summary["data"]["train_eval"] = done.begin()->second["final"]["train_count"];
    if (approx) {
      summary["approximation"] = approx->analysis["approximation"];
      summary["eps_mix"] = approx->analysis["eps_mix"];
      summary["analysis_images"] = approx->analysis["images"];
      summary["analysis_run"] = analysis_run;
      summary["claims"]["approximation"] = approx->holds;
    }
    summary["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    write_summary(o.out, summary);
    write_budget_report(summary, o.out);
    return summary;
  };
  std::vector<PlannedRun> runs;
  for (const BudgetRun& r : plan) {
    char label[96];
    std::snprintf(label, sizeof label, "%s, %lld epochs, seed %llu", r.method.c_str(), static_cast<long long>(r.epochs),
                  static_cast<unsigned long long>(r.seed));
    runs.push_back({label, config_of(r), dir_of(r)});
  }
  run_all(p, runs, o, [&](std::size_t i, const nlohmann::json& result) {
    done[budget_run_name(plan[i])] = result;
    write(nullptr, "");
  });
  if (!is_root()) return nullptr;  // rank 0 writes the summary, the report and the plots

  // The approximation, on the final model of the longest mixup run of seed 0 (the plan's last such run).
  const auto longest =
      std::find_if(plan.rbegin(), plan.rend(), [](const BudgetRun& r) { return r.method == "mixup" && r.seed == 0; });
  const Approximation approx = approximation(p, dir_of(*longest), o.data_dir);
  return write(&approx, budget_run_name(*longest));
}

}  // namespace mg::experiments
