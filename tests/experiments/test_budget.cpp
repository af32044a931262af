// `mixgrad reproduce --preset budget`: one run per (budget, method), each a full one-cycle schedule of its
// length, resumable per run; and its report, whose verdicts (claims per budget, where mixup overtakes ERM)
// follow the numbers in the summary.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "experiments/budget.h"
#include "experiments/report.h"
#include "experiments/reproduce.h"
#include "experiments/reproduce_run.h"
#include "tests/experiments/synthetic_cifar.h"
#include "tests/experiments/train_helpers.h"
#include "tests/test_util.h"

using namespace mg;
using namespace mg::experiments;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json read_json(const fs::path& path) { return nlohmann::json::parse(slurp(path)); }

// The budget preset shrunk to test size: budgets of 1 and 2 epochs on a few synthetic images.
Preset tiny_budget() {
  Preset p = preset("budget");
  p.budgets = {2, 1};  // unsorted on purpose: runs go shortest first
  p.train.train_subset = 128;
  p.train.batch_size = 16;  // 8 steps an epoch: one-cycle needs more than 4
  p.train.eval_train_subset = 64;
  p.eps_255 = {1, 4};
  p.analyze_samples = 8;
  p.draws = 2;
  return p;
}

}  // namespace

TEST_CASE("budget preset: one run per budget and method, each a full one-cycle schedule, and --resume reuses finished runs",
          "[experiments][budget][reproduce]") {
  mg::test::TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 64, 48);
  const Preset p = tiny_budget();
  ReproduceOptions o{.data_dir = (tmp.path / "data").string(), .out = (tmp.path / "out").string()};
  const nlohmann::json summary = reproduce(p, o);

  const nlohmann::json on_disk = read_json(tmp.path / "out/summary.json");
  CHECK(on_disk["budget"] == std::vector<int64_t>{1, 2});
  CHECK(on_disk["complete"] == true);
  CHECK(on_disk["pending"].empty());
  CHECK(on_disk["planned_runs"].size() == 4);
  REQUIRE(on_disk["runs"]["erm"].size() == 2);
  REQUIRE(on_disk["runs"]["mixup"].size() == 2);
  CHECK(on_disk["claims"]["per_budget"].size() == 2);
  CHECK(on_disk["claims"].contains("approximation"));
  CHECK(on_disk["analysis_run"] == "mixup-e2-seed0");  // the longest mixup run
  for (const char* method : {"erm", "mixup"})
    for (int i = 0; i < 2; ++i) {
      const int64_t epochs = i + 1;
      INFO(method << " " << epochs);
      CHECK(on_disk["runs"][method][i]["epochs"] == epochs);
      CHECK(on_disk["runs"][method][i]["clean_acc"]["values"].size() == 1);  // one seed
      const fs::path run = tmp.path / "out/runs" / (std::string(method) + "-e" + std::to_string(epochs) + "-seed0");
      const nlohmann::json config = read_json(run / "config.json");
      CHECK(config["epochs"] == epochs);
      CHECK(config["schedule"] == "onecycle");
      CHECK(config["mixup_alpha"].get<double>() == (std::string(method) == "mixup" ? 1.0 : 0.0));
      const auto metrics = mg::test::read_metrics(run);
      REQUIRE(metrics.size() == static_cast<size_t>(epochs));
      // A full one-cycle schedule of this length ends at max_lr / (25 · 10⁴); one cut short (a longer run's
      // first epochs) would end near max_lr.
      CHECK(metrics.back()["lr"].get<double>() < 1e-4 * p.train.lr);
      CHECK(fs::exists(run / "robust.csv"));
      // The summary's numbers are this run's.
      CHECK(on_disk["runs"][method][i]["clean_acc"]["mean"].get<double>() == metrics.back()["test_acc"].get<double>());
    }
  CHECK(fs::exists(tmp.path / "out/report.md"));
  CHECK(fs::exists(tmp.path / "out/budget.png"));
  CHECK(fs::exists(tmp.path / "out/approximation.png"));
  CHECK_THAT(slurp(tmp.path / "out/report.md"), Catch::Contains("## The paper's claims at each budget") &&
                                                    Catch::Contains("## Crossover") && Catch::Contains("(A) Approximation"));

  // --resume: finished runs are reused as they are; an unfinished one (stopped after its first epoch of two)
  // continues from its checkpoint and ends where the uninterrupted run ended.
  const fs::path kept = tmp.path / "out/runs/erm-e2-seed0", redone = tmp.path / "out/runs/mixup-e2-seed0";
  const std::string kept_checkpoint = slurp(kept / "checkpoint.safetensors");
  const auto kept_time = fs::last_write_time(kept / "checkpoint.safetensors");
  const auto uninterrupted = mg::test::read_metrics(redone);
  fs::remove_all(redone);
  const TrainConfig half = run_config(p.train, "mixup", 2, 0, o.data_dir);
  train(half, {.out = redone.string(), .quiet = true, .stop_after_epochs = 1});
  REQUIRE(mg::test::read_metrics(redone).size() == 1);
  // The first epoch's line, its timing included: kept by a resumed run, rewritten by one trained afresh.
  const std::string first_line = slurp(redone / "metrics.jsonl");
  o.resume = true;
  const nlohmann::json resumed = reproduce(p, o);
  CHECK(slurp(kept / "checkpoint.safetensors") == kept_checkpoint);
  CHECK(fs::last_write_time(kept / "checkpoint.safetensors") == kept_time);
  CHECK(slurp(redone / "metrics.jsonl").substr(0, first_line.size()) == first_line);
  CHECK(mg::test::read_metrics(redone) == uninterrupted);
  CHECK(resumed["runs"]["mixup"][1]["clean_acc"] == summary["runs"]["mixup"][1]["clean_acc"]);
  CHECK(resumed["runs"]["erm"] == summary["runs"]["erm"]);

  // A run directory trained with another configuration is never silently reused.
  Preset other = p;
  other.train.lr = 0.02;
  CHECK_THROWS_WITH(reproduce(other, o), Catch::Contains("erm-e1-seed0") && Catch::Contains("configuration") &&
                                             Catch::Contains("--force"));
}

TEST_CASE("budget preset: the CLI prints the projection of every run before training the first",
          "[experiments][budget][reproduce]") {
  mg::test::TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 64, 32);
  const auto r = mg::test::run_command(mg::test::mixgrad_binary() + " reproduce --preset budget --data " +
                                       (tmp.path / "data").string() + " --out " + (tmp.path / "out").string() +
                                       " --first-epoch --threads 2");
  INFO(r.output);
  REQUIRE(r.status == 0);
  // 4, 8, 16 and 32 epochs, ERM and mixup, one seed: 8 runs, 120 epochs.
  CHECK_THAT(r.output, Catch::Contains("projected time") && Catch::Contains("for 8 runs, 120 epochs in all") &&
                           Catch::Contains("\"epoch\":1"));
  const nlohmann::json config = read_json(tmp.path / "out/runs/erm-e4-seed0/config.json");
  CHECK(config["epochs"] == 4);  // the shortest budget's full schedule, of which one epoch ran
  CHECK(mg::test::read_metrics(tmp.path / "out/runs/erm-e4-seed0").size() == 1);

  // --budgets: other lengths, sorted; refused for another preset or repeated lengths, before anything is written.
  const std::string base = mg::test::mixgrad_binary() + " reproduce --data " + (tmp.path / "data").string() +
                           " --first-epoch --threads 2 --out ";
  const auto other = mg::test::run_command(base + (tmp.path / "other").string() + " --preset budget --budgets 3,2");
  INFO(other.output);
  REQUIRE(other.status == 0);
  CHECK_THAT(other.output, Catch::Contains("for 4 runs, 10 epochs in all") && Catch::Contains("2 and 3 epochs"));
  CHECK(read_json(tmp.path / "other/runs/erm-e2-seed0/config.json")["epochs"] == 2);
  const auto smoke = mg::test::run_command(base + (tmp.path / "smoke").string() + " --preset smoke --budgets 2");
  CHECK(smoke.status != 0);
  CHECK_THAT(smoke.output, Catch::Contains("--budgets applies to --preset budget only") && Catch::Contains("smoke"));
  const auto twice = mg::test::run_command(base + (tmp.path / "twice").string() + " --preset budget --budgets 2,2");
  CHECK(twice.status != 0);
  CHECK_THAT(twice.output, Catch::Contains("distinct positive"));
  CHECK_FALSE(fs::exists(tmp.path / "smoke"));
  CHECK_FALSE(fs::exists(tmp.path / "twice"));
}

namespace {

// A made-up one-seed summary of a method at one budget.
nlohmann::json made_up(double clean, double gap, double fgsm1) {
  nlohmann::json s = {{"clean_acc", stat({clean})},   {"gap_loss", stat({gap})},     {"test_loss", stat({0.5 + gap})},
                      {"train_loss", stat({0.5})},    {"gap_acc", stat({0.01})},
                      {"fgsm_acc", {{"1", stat({fgsm1})}}}};
  return s;
}

// A budget summary over `budgets` whose mixup clean accuracy minus ERM's is `lead[i]` (gap and FGSM follow
// other patterns), with its claims computed by budget_claims, and the report written from it.
std::string report_for(const fs::path& out, const std::vector<int64_t>& budgets, const std::vector<double>& lead,
                       nlohmann::json* claims) {
  nlohmann::json runs = {{"erm", nlohmann::json::array()}, {"mixup", nlohmann::json::array()}};
  for (size_t i = 0; i < budgets.size(); ++i) {
    runs["erm"].push_back(made_up(0.80, 0.10, 0.40));
    // mixup's gap is always smaller (G holds throughout); its FGSM accuracy is ahead only at the first budget.
    runs["mixup"].push_back(made_up(0.80 + lead[i], 0.05, i == 0 ? 0.45 : 0.35));
  }
  nlohmann::json s = {{"preset", "budget"},
                      {"description", "made up"},
                      {"seeds", nlohmann::json::array({0})},
                      {"config", {{"dataset", "cifar10"}, {"schedule", "onecycle"}}},
                      {"data", {{"train", 100}, {"train_eval", 50}, {"test", 1017}, {"test_split", "test_batch.bin"}}},
                      {"budget", budgets},
                      {"runs", runs},
                      {"claims", budget_claims(budgets, runs, {1})},
                      {"pending", nlohmann::json::array()},
                      {"complete", true},
                      {"training_seconds", 60.0},
                      {"seconds", 61.0}};
  *claims = s["claims"];
  fs::create_directories(out);
  std::ofstream(out / "summary.json") << s.dump(2);  // the plots are drawn from it
  write_budget_report(s, out.string());
  CHECK(fs::exists(out / "budget.png"));
  return slurp(out / "report.md");
}

}  // namespace

TEST_CASE("budget report: the claims and the crossover follow the numbers", "[experiments][budget][report]") {
  mg::test::TempDir tmp;
  const std::vector<int64_t> budgets = {2, 4, 8};
  nlohmann::json claims;

  // mixup behind at 2 and 4 epochs, ahead at 8: the crossover lies between 4 and 8.
  std::string report = report_for(tmp.path / "wins", budgets, {-0.03, -0.01, 0.02}, &claims);
  CHECK(claims["crossover"]["clean_accuracy"] == 8);
  CHECK(claims["per_budget"][2]["clean_accuracy"] == true);
  CHECK(claims["per_budget"][0]["difference"]["clean_acc"].get<double>() == Approx(-0.03));
  CHECK_THAT(report, Catch::Contains("- Clean accuracy: mixup is ahead from 8 epochs on") &&
                         Catch::Contains("the crossover lies between 4 and 8 epochs"));
  // (G) holds at every budget: mixup leads throughout, no crossover.
  CHECK(claims["crossover"]["generalization"] == 2);
  CHECK_THAT(report, Catch::Contains("- Loss gap (G): mixup is ahead at every budget run (2–8 epochs)"));
  CHECK_THAT(report, Catch::Contains("- **2 epochs**: (G) **holds** (mixup's gap − ERM's −0.0500)"));
  // (R) at ε = 1/255: ahead only at the shortest budget, so no lasting crossover.
  CHECK(claims["crossover"]["robustness"]["1"].is_null());
  CHECK(claims["per_budget"][0]["robustness"]["1"] == true);
  CHECK(claims["per_budget"][1]["robustness"]["1"] == false);
  CHECK_THAT(report, Catch::Contains("- FGSM accuracy at ε = 1/255 (R): mixup is ahead only at 2 epochs") &&
                         Catch::Contains("no lasting crossover"));
  CHECK_THAT(report, Catch::Contains("clean accuracy: mixup not higher (−3.00 points)") &&
                         Catch::Contains("clean accuracy: mixup higher (+2.00 points)"));

  // The same budgets with mixup behind at 8 epochs too: no crossover within the budget.
  report = report_for(tmp.path / "loses", budgets, {-0.03, -0.01, -0.005}, &claims);
  CHECK(claims["crossover"]["clean_accuracy"].is_null());
  CHECK_THAT(report, Catch::Contains("- Clean accuracy: mixup is behind at every budget run (2–8 epochs): no crossover "
                                     "within the budget"));
  CHECK_THAT(report, !Catch::Contains("Clean accuracy: mixup is ahead"));

  // Ahead from 4 epochs on: the crossover moves with the numbers.
  report = report_for(tmp.path / "earlier", budgets, {-0.03, 0.01, 0.02}, &claims);
  CHECK(claims["crossover"]["clean_accuracy"] == 4);
  CHECK_THAT(report, Catch::Contains("the crossover lies between 2 and 4 epochs"));

  // A tie is not a lead.
  report = report_for(tmp.path / "tie", budgets, {-0.03, -0.01, 0.0}, &claims);
  CHECK(claims["crossover"]["clean_accuracy"].is_null());
  CHECK(claims["per_budget"][2]["clean_accuracy"] == false);
}

TEST_CASE("budget report: a partial summary says which runs are pending and how to continue",
          "[experiments][budget][report]") {
  mg::test::TempDir tmp;
  nlohmann::json s = {{"preset", "budget"},
                      {"description", "made up"},
                      {"seeds", nlohmann::json::array({0})},
                      {"config", {{"dataset", "cifar10"}, {"schedule", "onecycle"}}},
                      {"data", {{"train", 100}, {"test", 1017}, {"test_split", "test_batch.bin"}}},
                      {"budget", nlohmann::json::array()},
                      {"runs", {{"erm", nlohmann::json::array()}, {"mixup", nlohmann::json::array()}}},
                      {"claims", budget_claims({}, {{"erm", nlohmann::json::array()}, {"mixup", nlohmann::json::array()}}, {1})},
                      {"pending", nlohmann::json::array({"mixup-e4-seed0"})},
                      {"complete", false},
                      {"training_seconds", 60.0},
                      {"seconds", 61.0}};
  write_budget_report(s, tmp.path.string());
  const std::string report = slurp(tmp.path / "report.md");
  CHECK_THAT(report, Catch::Contains("**Partial result**") && Catch::Contains("`mixup-e4-seed0`") &&
                         Catch::Contains("--resume") && Catch::Contains("No budget has finished yet"));
}

TEST_CASE("budget plan: shortest budget first, distinct positive budgets", "[experiments][budget]") {
  Preset p = preset("budget");
  CHECK(p.budgets == std::vector<int64_t>{4, 8, 16, 32});
  CHECK(p.train.model == preset("cpu").train.model);
  CHECK(p.train.schedule == "onecycle");
  p.budgets = {8, 2};
  const std::vector<BudgetRun> plan = budget_plan(p, 2);
  REQUIRE(plan.size() == 8);
  CHECK(budget_run_name(plan[0]) == "erm-e2-seed0");
  CHECK(budget_run_name(plan[1]) == "mixup-e2-seed0");
  CHECK(budget_run_name(plan[2]) == "erm-e2-seed1");
  CHECK(budget_run_name(plan[7]) == "mixup-e8-seed1");
  p.budgets = {4, 4};
  CHECK_THROWS_WITH(budget_plan(p, 1), Catch::Contains("distinct positive"));
  p.budgets = {0, 4};
  CHECK_THROWS_WITH(budget_plan(p, 1), Catch::Contains("distinct positive"));
}
