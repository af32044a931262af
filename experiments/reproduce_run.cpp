#include "experiments/reproduce_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "datasets/loader.h"
#include "datasets/registry.h"
#include "experiments/distributed/job.h"
#include "experiments/evaluate.h"
#include "experiments/projection.h"
#include "experiments/run_dir.h"
#include "experiments/trained_run.h"
#include "nn/autocast.h"

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

PresetStart start_preset(const Preset& p, int64_t seeds, const ReproduceOptions& o) {
  PresetStart s{p.train, nullptr};
  const data::Splits splits = data::load_dataset(p.train.dataset, o.data_dir);
  if (s.base.eval_train_subset > splits.train.size()) s.base.eval_train_subset = -1;
  if (is_root()) print_projection(project_reproduce(p, seeds, splits), job().size());
  s.data = {{"train", p.train.train_subset > 0 ? std::min(p.train.train_subset, splits.train.size()) : splits.train.size()},
            {"test", splits.test.size()},
            {"test_split", splits.test.name},
            {"test_files", splits.test.files}};
  return s;
}

TrainConfig run_config(const TrainConfig& base, const std::string& method, int64_t epochs, uint64_t seed,
                       const std::string& data_dir) {
  MG_CHECK(method == "erm" || method == "mixup", "a reproduce run is erm or mixup, got '", method, "'");
  TrainConfig c = base;
  c.data_dir = data_dir;
  c.epochs = epochs;
  c.seed = seed;
  c.mixup_alpha = method == "mixup" ? 1.0 : 0.0;
  return c;
}

nlohmann::json first_epoch(const TrainConfig& config, const std::string& dir) {
  std::fprintf(stderr, "reproduce: first epoch -> %s\n", dir.c_str());
  const nlohmann::json history = train(config, {.out = dir, .resume = false, .force = true, .stop_after_epochs = 1});
  return {{"first_epoch", history.back()}};
}

namespace {

// A configuration as it would be trained, without where its data lives (which may move between calls).
nlohmann::json comparable(const nlohmann::json& config) {
  nlohmann::json j = TrainConfig::from_json(config).to_json();
  j.erase("data");
  return j;
}

}  // namespace

// Trains (or reuses) one run and measures it: final metrics, FGSM accuracy per ε, the history.
nlohmann::json run_one(const Preset& p, const TrainConfig& config, const std::string& dir, const ReproduceOptions& o,
                       const nn::Collective& ranks) {
  bool finished = false;
  if (o.resume && fs::exists(checkpoint_path(dir))) {
    const Checkpoint checkpoint = load_run_checkpoint(dir);
    const nlohmann::json want = comparable(config.to_json()), have = comparable(checkpoint.config);
    MG_CHECK(have == want, "reproduce --resume: ", dir, " holds a run with the configuration ", have.dump(),
             ", but this preset's run is ", want.dump(), "; use another --out, or --force to start over");
    finished = checkpoint.epochs_done >= config.epochs;
  }
  if (!finished) {
    const bool resume = o.resume && fs::exists(checkpoint_path(dir));
    // A run stopped before its first checkpoint has nothing to resume from: with --resume it starts over.
    train(config, {.out = dir, .resume = resume, .force = (o.force || o.resume) && !resume,
                   .quiet = !is_root(),  // under mpirun, rank 0's progress stands for all
                   .ranks = &ranks});
  }
  barrier(ranks);               // the run's checkpoint is written
  if (ranks.rank() != 0) return nullptr;  // its rank 0 measures it
  TrainedRun run = load_trained_run(dir, o.data_dir);
  const nn::Autocast autocast(nn::parse_precision(run.config.precision));  // the attack runs as the run trained
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

namespace {

// Ranks per run: 1 (whole runs per rank) unless there are more ranks than runs; then the largest power of two
// G with G * runs <= K that divides every run's shards (a run trained by G ranks keeps the bits of one process
// only with the same micro-shards).
int ranks_per_run(int ranks, const std::vector<PlannedRun>& runs) {
  if (runs.empty() || ranks <= static_cast<int>(runs.size())) return 1;
  int g = 1;
  while (2 * g * static_cast<int>(runs.size()) <= ranks) g *= 2;
  for (const PlannedRun& r : runs)
    while (g > 1 && r.config.shards % g != 0) g /= 2;
  return g;
}

}  // namespace

std::vector<nlohmann::json> run_all(const Preset& p, const std::vector<PlannedRun>& runs, const ReproduceOptions& o,
                                    const std::function<void(std::size_t, const nlohmann::json&)>& on_done) {
  const nn::Collective& ranks = job();
  std::vector<nlohmann::json> results(runs.size());
  if (ranks.size() == 1) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
      std::fprintf(stderr, "reproduce: %s -> %s\n", runs[i].label.c_str(), runs[i].dir.c_str());
      results[i] = run_one(p, runs[i].config, runs[i].dir, o);
      if (on_done) on_done(i, results[i]);
    }
    return results;
  }
  // Groups of `per_run` ranks; run i belongs to group i mod `groups`; ranks beyond the groups wait.
  const int per_run = ranks_per_run(ranks.size(), runs);
  const int groups = std::min<int>(ranks.size() / per_run, static_cast<int>(runs.size()));
  const int group = ranks.rank() < groups * per_run ? ranks.rank() / per_run : -1;
  const std::shared_ptr<const nn::Collective> mine = per_run > 1 ? split_job(group) : nullptr;
  if (is_root() && groups * per_run < ranks.size())
    std::fprintf(stderr,
                 "reproduce: %d ranks for %zu runs: ranks %d to %d have no run and wait%s\n", ranks.size(), runs.size(),
                 groups * per_run, ranks.size() - 1,
                 per_run == 1 ? " (with --shards M, a power of two, groups of ranks share each run with the bits of a "
                                "one-process reproduce --shards M)"
                              : "");
  for (std::size_t i = 0; group >= 0 && i < runs.size(); ++i) {
    if (static_cast<int>(i % groups) != group) continue;
    const nn::Collective& trainers = mine ? *mine : nn::single_process();
    if (trainers.rank() == 0)
      std::fprintf(stderr, "reproduce: %s%s%s -> %s\n", rank_prefix().c_str(), runs[i].label.c_str(),
                   per_run > 1 ? (" on ranks " + std::to_string(group * per_run) + " to " +
                                  std::to_string(group * per_run + per_run - 1)).c_str()
                               : "",
                   runs[i].dir.c_str());
    const nlohmann::json result = run_one(p, runs[i].config, runs[i].dir, o, trainers);
    if (trainers.rank() == 0) write_file_atomic((fs::path(runs[i].dir) / "result.json").string(), result.dump() + "\n");
  }
  barrier(ranks);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string path = (fs::path(runs[i].dir) / "result.json").string();
    std::ifstream in(path);
    MG_CHECK(in, "reproduce: cannot read ", path, ", which rank ", (i % groups) * per_run, " wrote");
    results[i] = nlohmann::json::parse(in);
    if (on_done && is_root()) on_done(i, results[i]);
  }
  return results;
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

double training_seconds(const nlohmann::json& run) {
  double seconds = 0;
  for (const auto& epoch : run["history"]) seconds += epoch["seconds"].get<double>();
  return seconds;
}

void write_summary(const std::string& out, const nlohmann::json& summary) {
  write_file_atomic((fs::path(out) / "summary.json").string(), summary.dump(2) + "\n");
}

Approximation approximation(const Preset& p, const std::string& run_dir, const std::string& data_dir) {
  std::fprintf(stderr, "reproduce: the mixup loss and its approximation on %s (alpha sweep, segment scales)\n",
               run_dir.c_str());
  TrainedRun run = load_trained_run(run_dir, data_dir);
  AnalyzeOptions ao;
  ao.alphas = kSweepAlphas;
  ao.scales = kSweepScales;
  ao.samples = p.analyze_samples;
  ao.draws = p.draws;
  Approximation a;
  a.analysis = analyze_run(run, ao);
  a.holds = approximation_holds(a.analysis, ao);
  return a;
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
