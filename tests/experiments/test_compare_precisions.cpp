// scripts/compare_precisions.py: the float32 and bf16 summaries of one reproduce preset side by side (issue #12's
// accuracy question, docs/results/cpu-bf16/precision.md). It passes only when clean accuracy stays within the
// tolerance and every claim keeps its verdict, and refuses summaries of different experiments.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/temp_dir.h"
#include "tests/test_util.h"

using mg::test::run_command;
using nlohmann::json;

namespace {

json summary(const std::string& precision, double erm_acc, double mixup_acc, bool robust_at_2) {
  auto metric = [](double mean) { return json{{"mean", mean}, {"std", 0.01}, {"values", {mean, mean}}}; };
  auto method = [&](double acc) {
    return json{{"clean_acc", metric(acc)}, {"test_loss", metric(0.5)}, {"gap_loss", metric(0.1)}};
  };
  json config = {{"model", "smallcnn-bn"}, {"epochs", 15}, {"seed", 0}, {"data", "/somewhere/" + precision}};
  // "none": a summary from before --precision, --shards and --dropout existed (float32, 1 shard, no dropout).
  if (precision != "none") {
    config["precision"] = precision;
    config["shards"] = 1;
    config["dropout"] = 0.0;
  }
  return {{"preset", "cpu"},
          {"seeds", {0, 1}},
          {"config", config},
          {"data", {{"test", 1017}}},
          {"runs", {{"erm", method(erm_acc)}, {"mixup", method(mixup_acc)}}},
          {"claims",
           {{"generalization", true}, {"approximation", true}, {"robustness", {{"1", false}, {"2", robust_at_2}}}}}};
}

}  // namespace

TEST_CASE("compare_precisions.py: within tolerance and the same verdicts, or a failure naming what differs",
          "[experiments][bf16][scripts]") {
  mg::test::TempDir tmp;
  auto write = [&](const std::string& name, const json& j) {
    std::ofstream(tmp / name) << j.dump();
    return tmp / name;
  };
  // A float32 summary from before --precision existed has no precision field: it is float32.
  const std::string f32 = write("f32.json", summary("none", 0.880, 0.840, true));
  auto compare = [&](const json& bf16) {
    return run_command("/usr/bin/python3 " MIXGRAD_SOURCE_DIR "/scripts/compare_precisions.py --f32 " + f32 +
                       " --bf16 " + write("bf16.json", bf16) + " --out " + (tmp / "precision.md"));
  };

  const auto same = compare(summary("bf16", 0.884, 0.837, true));
  INFO(same.output);
  CHECK(same.status == 0);
  CHECK_THAT(same.output, Catch::Contains("| erm clean acc (%) | 88.00 ± 1.00 | 88.40 ± 1.00 | +0.40 |"));
  CHECK(std::filesystem::exists(tmp / "precision.md"));

  const auto lower = compare(summary("bf16", 0.874, 0.840, true));
  CHECK(lower.status == 1);
  CHECK_THAT(lower.output, Catch::Contains("erm clean accuracy differs by -0.60 points"));

  const auto verdict = compare(summary("bf16", 0.880, 0.840, false));
  CHECK(verdict.status == 1);
  CHECK_THAT(verdict.output, Catch::Contains("robustness (R) at ε = 2/255: holds in float32, does not hold in bf16"));

  json other = summary("bf16", 0.880, 0.840, true);
  other["config"]["epochs"] = 30;
  const auto different = compare(other);
  CHECK(different.status != 0);
  CHECK_THAT(different.output, Catch::Contains("not the same experiment") && Catch::Contains("epochs"));

  const auto not_bf16 = compare(summary("f32", 0.880, 0.840, true));
  CHECK(not_bf16.status != 0);
  CHECK_THAT(not_bf16.output, Catch::Contains("expected 'bf16'"));
}
