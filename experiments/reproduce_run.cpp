#include "experiments/reproduce_run.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "datasets/loader.h"
#include "experiments/evaluate.h"
#include "experiments/run_dir.h"
#include "experiments/trained_run.h"

namespace mg::experiments {
namespace fs = std::filesystem;

nlohmann::json stat(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x / static_cast<double>(v.size());
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  const double sd = v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0.0;
  return {{"mean", mean}, {"std", sd}, {"values", v}};
}

std::string eps_key(double eps_255) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", eps_255);
  return text;
}

// Trains (or reuses) one run and measures it: final metrics, FGSM accuracy per ε, the history.
nlohmann::json run_one(const Preset& p, const TrainConfig& config, const std::string& dir, const ReproduceOptions& o) {
  bool finished = false;
  if (o.resume && fs::exists(checkpoint_path(dir)))
    finished = load_run_checkpoint(dir).epochs_done >= config.epochs;
  if (!finished) {
    const bool resume = o.resume && fs::exists(checkpoint_path(dir));
    // A run stopped before its first checkpoint has nothing to resume from: with --resume it starts over.
    train(config, {.out = dir, .resume = resume, .force = (o.force || o.resume) && !resume});
  }
  TrainedRun run = load_trained_run(dir, o.data_dir);
  data::Loader test(run.data.test, eval_loader_options(256, run.data.test.channels));
  nlohmann::json fgsm = nlohmann::json::object();
  std::string csv = "attack,eps_255,eps,accuracy,loss,count\n";
  for (double e : p.eps_255) {
    const EvalResult r = evaluate_attacked(run.classifier, test, {.kind = AttackKind::FGSM, .eps = e / 255.0}, config.seed);
    fgsm[eps_key(e)] = r.accuracy;
    char line[200];
    std::snprintf(line, sizeof line, "fgsm,%g,%.10g,%.6f,%.6f,%lld\n", e, e / 255.0, r.accuracy, r.loss,
                  static_cast<long long>(r.count));
    csv += line;
  }
  write_file_atomic((fs::path(dir) / "robust.csv").string(), csv);
  const nlohmann::json history = load_checkpoint(checkpoint_path(dir)).history;
  return {{"final", history.back()}, {"fgsm_acc", fgsm}, {"history", history}, {"dir", dir}};
}

// The per-method summary R: every number as {"mean", "std", "values"} over seeds.
nlohmann::json summarise(const std::vector<nlohmann::json>& runs, const std::vector<double>& eps) {
  auto column = [&](const char* key) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r["final"][key].get<double>());
    return stat(v);
  };
  nlohmann::json fgsm = nlohmann::json::object();
  for (double e : eps) {
    const std::string key = eps_key(e);
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r["fgsm_acc"][key].get<double>());
    fgsm[key] = stat(v);
  }
  return {{"clean_acc", column("test_acc")}, {"test_loss", column("test_loss")}, {"train_loss", column("train_loss")},
          {"gap_loss", column("gap_loss")},  {"gap_acc", column("gap_acc")},     {"fgsm_acc", fgsm}};
}


bool approximation_holds(const nlohmann::json& analysis, const AnalyzeOptions& ao) {
  bool holds = true;
  for (double alpha : ao.alphas) {
    double at_one = 0, at_smallest = 0;
    for (const auto& row : analysis["approximation"]) {
      if (row["alpha"].get<double>() != alpha) continue;
      if (row["scale"].get<double>() == ao.scales.front()) at_one = row["rel_error_reg"];
      if (row["scale"].get<double>() == ao.scales.back()) at_smallest = row["rel_error_reg"];
    }
    // Proportional to s would be 1000 times smaller; 10 times leaves room for the kinks (see report.cpp).
    holds = holds && at_smallest < 0.1 * at_one;
  }
  return holds;
}

}  // namespace mg::experiments
