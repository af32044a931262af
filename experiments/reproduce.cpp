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
#include "experiments/evaluate.h"
#include "experiments/projection.h"
#include "experiments/report.h"
#include "experiments/run_dir.h"
#include "experiments/trained_run.h"

namespace mg::experiments {
namespace fs = std::filesystem;

namespace {

// {"mean", "std" (sample, n − 1), "values"} of a list of numbers.
nlohmann::json stat(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x / static_cast<double>(v.size());
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  const double sd = v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0.0;
  return {{"mean", mean}, {"std", sd}, {"values", v}};
}

// The summary's key of an ε given in 1/255 units: "1", "2", "0.5" (not "1.0").
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

}  // namespace

nlohmann::json reproduce(const Preset& p, const ReproduceOptions& o) {
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
  bool approx_holds = true;
  for (double alpha : ao.alphas) {
    double at_one = 0, at_smallest = 0;
    for (const auto& row : analysis["approximation"]) {
      if (row["alpha"].get<double>() != alpha) continue;
      if (row["scale"].get<double>() == ao.scales.front()) at_one = row["rel_error_reg"];
      if (row["scale"].get<double>() == ao.scales.back()) at_smallest = row["rel_error_reg"];
    }
    // Proportional to s would be 1000 times smaller; 10 times leaves room for the kinks (see report.cpp).
    approx_holds = approx_holds && at_smallest < 0.1 * at_one;
  }
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
