// `mixgrad data`: a summary of each split of a dataset (count, shape, per-class counts, per-channel mean/std of
// pixels in [0, 1], the first labels), as text or JSON, and optionally a PNG grid of the first training images.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "datasets/dataset.h"
#include "datasets/grid.h"
#include "datasets/registry.h"
#include "datasets/stats.h"
#include "experiments/cli/commands.h"

namespace mg::cli {

namespace {

struct DataArgs {
  std::string dataset, dir, grid;
  int64_t grid_count = 32;
  bool json = false;
  int threads = 0;
};

// The summary of one split as JSON.
nlohmann::json split_summary(const data::Dataset& ds) {
  data::ChannelStats stats;  // no mean/std for an empty split (an image folder without test/)
  if (ds.size() > 0) stats = data::channel_stats(ds);
  std::vector<int64_t> first(ds.labels.begin(), ds.labels.begin() + std::min<int64_t>(ds.size(), 10));
  return {{"count", ds.size()},         {"shape", ds.shape()},  {"class_counts", data::class_counts(ds)},
          {"mean", stats.mean},         {"std", stats.std},     {"first_labels", first},
          {"normalize_mean", ds.mean},  {"normalize_std", ds.std}};
}

void print_split(const char* split, const nlohmann::json& s, const std::vector<std::string>& classes) {
  const auto& shape = s["shape"];
  std::printf("%s: %lld images, shape [%lld, %lld, %lld]\n", split, static_cast<long long>(s["count"]),
              static_cast<long long>(shape[0]), static_cast<long long>(shape[1]), static_cast<long long>(shape[2]));
  if (s["count"] == 0) return;
  std::printf("  mean");
  for (double m : s["mean"]) std::printf(" %.4f", m);
  std::printf("   std");
  for (double v : s["std"]) std::printf(" %.4f", v);
  std::printf("\n  per class:");
  const auto& counts = s["class_counts"];
  for (size_t c = 0; c < classes.size(); ++c)
    std::printf("%s %s %lld", c ? "," : "", classes[c].c_str(), static_cast<long long>(counts[c]));
  std::printf("\n  first labels:");
  for (int64_t l : s["first_labels"]) std::printf(" %lld", static_cast<long long>(l));
  std::printf("\n");
}

void run_data(const DataArgs& a) {
  apply_threads(a.threads);
  const std::string dir = a.dir.empty() ? data::default_data_dir(a.dataset) : a.dir;
  const data::Splits s = data::load_dataset(a.dataset, dir);
  nlohmann::json out = {{"dataset", a.dataset},       {"data", dir},
                        {"classes", s.train.classes}, {"train", split_summary(s.train)},
                        {"test", split_summary(s.test)}};
  if (!a.grid.empty()) {
    data::write_image_grid(s.train, a.grid, a.grid_count);
    out["grid"] = a.grid;
  }
  if (a.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("%s from %s: %zu classes\n", a.dataset.c_str(), dir.c_str(), s.train.classes.size());
  print_split("train", out["train"], s.train.classes);
  print_split("test", out["test"], s.train.classes);
  if (!a.grid.empty()) std::printf("wrote %s (first %lld training images)\n", a.grid.c_str(),
                                   static_cast<long long>(std::min<int64_t>(a.grid_count, s.train.size())));
}

}  // namespace

void register_data(CLI::App& app) {
  auto args = std::make_shared<DataArgs>();
  CLI::App* cmd = app.add_subcommand("data", "summarise a dataset: counts, shape, class counts, mean/std; PNG grid");
  cmd->add_option("--dataset", args->dataset, "dataset")
      ->required()
      ->check(CLI::IsMember(data::dataset_names()));
  cmd->add_option("--data", args->dir,
                  "data directory (default for fashion-mnist: /usr/share/datasets/fashion-mnist)");
  cmd->add_flag("--json", args->json, "print the summary as JSON");
  cmd->add_option("--grid", args->grid, "write a PNG grid of the first training images with their class names");
  cmd->add_option("--grid-count", args->grid_count, "number of images in the grid")->check(CLI::PositiveNumber);
  add_threads_option(*cmd, args->threads);
  cmd->callback([args] { run_data(*args); });
}

}  // namespace mg::cli
