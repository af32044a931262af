#include "experiments/budget.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "core/atomic_file.h"
#include "core/parallel.h"
#include "datasets/registry.h"
#include "experiments/analyze.h"
#include "experiments/projection.h"
#include "experiments/report.h"
#include "experiments/reproduce_run.h"
#include "experiments/run_dir.h"
#include "experiments/trained_run.h"

namespace mg::experiments {
namespace fs = std::filesystem;

std::string budget_run_name(const PresetRun& r) {
  return r.method + "-e" + std::to_string(r.epochs) + "-seed" + std::to_string(r.seed);
}

namespace {

TrainConfig run_config(const TrainConfig& base, const PresetRun& r, const std::string& data_dir) {
  TrainConfig c = base;
  c.data_dir = data_dir;
  c.epochs = r.epochs;
  c.seed = r.seed;
  c.mixup_alpha = r.method == "mixup" ? 1.0 : 0.0;
  return c;
}

// The smallest budget from which mixup wins at that budget and at every larger one measured; null when it
// does not win at the largest.
nlohmann::json crossover(const std::vector<int64_t>& budgets, const std::vector<bool>& mixup_wins) {
  nlohmann::json from = nullptr;
  for (size_t i = budgets.size(); i-- > 0;) {
    if (!mixup_wins[i]) break;
    from = budgets[i];
  }
  return from;
}

// The summary of the runs finished so far (`done`: run name → run_one's result).
nlohmann::json budget_summary(const Preset& p, const TrainConfig& base, const std::map<std::string, nlohmann::json>& done) {
  std::set<int64_t> planned;
  for (const PresetRun& r : p.runs) planned.insert(r.epochs);
  std::vector<int64_t> budgets;
  std::vector<std::string> pending;
  nlohmann::json runs = {{"erm", nlohmann::json::array()}, {"mixup", nlohmann::json::array()}};
  nlohmann::json curves = {{"erm", nlohmann::json::object()}, {"mixup", nlohmann::json::object()}};
  std::set<uint64_t> seeds;
  for (int64_t e : planned) {
    std::map<std::string, std::vector<nlohmann::json>> by_method;
    bool complete = true;
    for (const PresetRun& r : p.runs) {
      if (r.epochs != e) continue;
      seeds.insert(r.seed);
      const auto it = done.find(budget_run_name(r));
      if (it == done.end()) {
        complete = false;
        pending.push_back(budget_run_name(r));
      } else {
        by_method[r.method].push_back(it->second);
      }
    }
    if (!complete || by_method["erm"].empty() || by_method["mixup"].empty()) continue;
    budgets.push_back(e);
    for (const char* method : {"erm", "mixup"}) {
      nlohmann::json s = summarise(by_method[method], p.eps_255);
      s["epochs"] = e;
      double seconds = 0;
      for (const auto& run : by_method[method])
        for (const auto& epoch : run["history"]) seconds += epoch["seconds"].get<double>();
      s["training_seconds"] = seconds;
      runs[method].push_back(s);
      curves[method][std::to_string(e)] = nlohmann::json::array();
      for (const auto& run : by_method[method]) curves[method][std::to_string(e)].push_back(run["history"]);
    }
  }

  nlohmann::json per_budget = nlohmann::json::array();
  std::vector<bool> clean_wins, gap_wins;
  std::map<std::string, std::vector<bool>> fgsm_wins;
  for (size_t i = 0; i < budgets.size(); ++i) {
    const auto& erm = runs["erm"][i];
    const auto& mix = runs["mixup"][i];
    const auto mean = [](const nlohmann::json& s) { return s["mean"].get<double>(); };
    nlohmann::json row = {{"epochs", budgets[i]},
                          {"clean_accuracy", mean(mix["clean_acc"]) > mean(erm["clean_acc"])},
                          {"generalization", mean(mix["gap_loss"]) < mean(erm["gap_loss"])},
                          {"robustness", nlohmann::json::object()}};
    clean_wins.push_back(row["clean_accuracy"]);
    gap_wins.push_back(row["generalization"]);
    for (double eps : p.eps_255) {
      const std::string key = eps_key(eps);
      const bool wins = mean(mix["fgsm_acc"][key]) > mean(erm["fgsm_acc"][key]);
      row["robustness"][key] = wins;
      fgsm_wins[key].push_back(wins);
    }
    per_budget.push_back(row);
  }
  nlohmann::json cross = {{"clean_accuracy", crossover(budgets, clean_wins)},
                          {"generalization", crossover(budgets, gap_wins)},
                          {"robustness", nlohmann::json::object()}};
  for (double eps : p.eps_255) cross["robustness"][eps_key(eps)] = crossover(budgets, fgsm_wins[eps_key(eps)]);

  nlohmann::json s;
  s["preset"] = p.name;
  s["description"] = p.description;
  s["seeds"] = std::vector<uint64_t>(seeds.begin(), seeds.end());
  nlohmann::json config = base.to_json();
  config.erase("epochs");  // the budget axis
  config.erase("seed");
  config.erase("mixup_alpha");
  s["config"] = config;
  s["planned_runs"] = nlohmann::json::array();
  for (const PresetRun& r : p.runs)
    s["planned_runs"].push_back({{"method", r.method}, {"epochs", r.epochs}, {"seed", r.seed}, {"dir", "runs/" + budget_run_name(r)}});
  s["budget"] = budgets;
  s["budget_unit"] = "epochs, each a full " + base.schedule + " schedule of that length";
  s["runs"] = runs;
  s["curves"] = curves;
  s["claims"] = {{"per_budget", per_budget}, {"crossover", cross}};
  s["pending"] = pending;
  s["complete"] = pending.empty();
  double training_seconds = 0;
  for (const auto& [name, run] : done)
    for (const auto& epoch : run["history"]) training_seconds += epoch["seconds"].get<double>();
  s["training_seconds"] = training_seconds;
  return s;
}

}  // namespace

nlohmann::json reproduce_budget(const Preset& p, const ReproduceOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const RunLock lock = prepare_run_dir(o.out, o.resume, o.force);
  TrainConfig base = p.train;
  nlohmann::json data_info;
  {
    const data::Splits splits = data::load_dataset(p.train.dataset, o.data_dir);
    if (base.eval_train_subset > splits.train.size()) base.eval_train_subset = -1;
    Preset one = p;
    one.train.epochs = 1;
    const Projection pr = project_reproduce(one, 1, splits);
    double seconds = 0;
    for (const PresetRun& r : p.runs) seconds += static_cast<double>(r.epochs) * pr.epoch_seconds + pr.fgsm_seconds;
    std::fprintf(stderr,
                 "reproduce: projected time %s for %zu runs (training %.0f images/s, evaluation %.0f images/s, "
                 "measured now on %d threads), plus the approximation analysis\n",
                 format_duration(seconds).c_str(), p.runs.size(), pr.train_images_per_s, pr.eval_images_per_s,
                 num_threads());
    data_info = {{"train", p.train.train_subset > 0 ? std::min(p.train.train_subset, splits.train.size()) : splits.train.size()},
                 {"test", splits.test.size()},
                 {"test_split", splits.test.name},
                 {"test_files", splits.test.files}};
  }
  if (o.first_epoch_only) {
    const PresetRun& first = p.runs.front();
    const std::string dir = (fs::path(o.out) / "runs" / budget_run_name(first)).string();
    std::fprintf(stderr, "reproduce: first epoch of %s -> %s\n", budget_run_name(first).c_str(), dir.c_str());
    const nlohmann::json history =
        train(run_config(base, first, o.data_dir), {.out = dir, .resume = false, .force = true, .stop_after_epochs = 1});
    return {{"first_epoch", history.back()}};
  }

  std::map<std::string, nlohmann::json> done;
  nlohmann::json summary;
  auto write = [&](const nlohmann::json& extra) {
    summary = budget_summary(p, base, done);
    summary["data"] = data_info;
    if (!done.empty()) summary["data"]["train_eval"] = done.begin()->second["final"]["train_count"];
    for (auto it = extra.begin(); it != extra.end(); ++it) summary[it.key()] = it.value();
    summary["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    write_file_atomic((fs::path(o.out) / "summary.json").string(), summary.dump(2) + "\n");
    write_budget_report(summary, o.out);
  };
  // Shortest first, so that an interrupted preset has finished the small budgets.
  std::vector<PresetRun> order = p.runs;
  std::stable_sort(order.begin(), order.end(), [](const PresetRun& a, const PresetRun& b) { return a.epochs < b.epochs; });
  for (const PresetRun& r : order) {
    const std::string dir = (fs::path(o.out) / "runs" / budget_run_name(r)).string();
    std::fprintf(stderr, "reproduce: %s, %lld epochs, seed %llu -> %s\n", r.method.c_str(), static_cast<long long>(r.epochs),
                 static_cast<unsigned long long>(r.seed), dir.c_str());
    Preset run_preset = p;
    run_preset.train = run_config(base, r, o.data_dir);
    done[budget_run_name(r)] = run_one(run_preset, run_preset.train, dir, o);
    write(nlohmann::json::object());
  }

  // The approximation, on the longest mixup run's final model.
  const auto longest = std::max_element(order.begin(), order.end(), [](const PresetRun& a, const PresetRun& b) {
    return (a.method == "mixup" ? a.epochs : -1) < (b.method == "mixup" ? b.epochs : -1);
  });
  std::fprintf(stderr, "reproduce: the mixup loss and its approximation on %s\n", budget_run_name(*longest).c_str());
  TrainedRun mix_run = load_trained_run(done[budget_run_name(*longest)]["dir"], o.data_dir);
  AnalyzeOptions ao;
  ao.alphas = kSweepAlphas;
  ao.scales = kSweepScales;
  ao.samples = p.analyze_samples;
  ao.draws = p.draws;
  const nlohmann::json analysis = analyze_run(mix_run, ao);
  nlohmann::json extra = {{"approximation", analysis["approximation"]},
                          {"eps_mix", analysis["eps_mix"]},
                          {"analysis_images", analysis["images"]},
                          {"analysis_run", budget_run_name(*longest)}};
  summary = budget_summary(p, base, done);
  extra["claims"] = summary["claims"];
  extra["claims"]["approximation"] = approximation_holds(analysis, ao);
  write(extra);
  return summary;
}

}  // namespace mg::experiments
