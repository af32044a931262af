// `mixgrad reproduce --precision bf16`: every run of the preset trains under autocast and records it, and its
// FGSM sweep runs in bf16 too; an unknown precision is refused with the accepted values before anything is
// written.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "experiments/report.h"
#include "experiments/reproduce_run.h"
#include "tests/experiments/synthetic_cifar.h"
#include "tests/experiments/train_helpers.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using mg::test::run_command;

TEST_CASE("reproduce --precision bf16 trains its runs in bf16 and records it", "[experiments][reproduce][bf16]") {
  mg::test::TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 512, 32);  // the smoke preset trains on 2,560 images
  const std::string base = mg::test::mixgrad_binary() + " reproduce --preset smoke --data " +
                           (tmp.path / "data").string() + " --first-epoch --threads 2";
  auto first_epoch = [&](const std::string& name, const std::string& extra) {
    const auto r = run_command(base + " --out " + (tmp.path / name).string() + " " + extra);
    INFO(r.output);
    REQUIRE(r.status == 0);
    std::ifstream config(tmp.path / name / "runs/erm-seed0/config.json");
    return std::make_pair(nlohmann::json::parse(config), r.output);
  };
  const auto [bf16, bf16_output] = first_epoch("bf16", "--precision bf16");
  const auto [f32, f32_output] = first_epoch("f32", "");
  CHECK(bf16["precision"] == "bf16");
  CHECK(f32["precision"] == "f32");
  // The first epoch's metrics (printed as JSON) differ: bf16 really ran.
  CHECK(bf16_output.substr(bf16_output.rfind("{\"")) != f32_output.substr(f32_output.rfind("{\"")));

  const auto refused = run_command(base + " --out " + (tmp.path / "fp16").string() + " --precision fp16");
  CHECK(refused.status != 0);
  CHECK_THAT(refused.output, Catch::Contains("--precision") && Catch::Contains("fp16"));
  CHECK_FALSE(fs::exists(tmp.path / "fp16" / "runs"));
}

TEST_CASE("reproduce's FGSM sweep of a bf16 run is mixgrad eval's in bf16, not in f32", "[experiments][reproduce][bf16]") {
  mg::test::TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 20, 64);
  mg::experiments::Preset p = mg::experiments::preset("smoke");
  p.eps_255 = {2, 8};
  mg::experiments::TrainConfig c;
  c.data_dir = (tmp.path / "data").string();
  c.model = "smallcnn-bn";
  c.epochs = 1;
  c.batch_size = 16;
  c.precision = "bf16";
  const std::string run = (tmp.path / "run").string();
  mg::experiments::run_one(p, c, run, {.data_dir = c.data_dir, .out = tmp.path.string()});
  auto robust_csv = [&] {
    std::ifstream in(tmp.path / "run" / "robust.csv");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string from_reproduce = robust_csv();
  const std::string eval = mg::test::mixgrad_binary() + " eval --run " + run + " --eps 2,8 --threads 2 2>/dev/null";
  REQUIRE(run_command(eval).status == 0);  // the run's precision: bf16
  CHECK(robust_csv() == from_reproduce);
  REQUIRE(run_command(eval + " --precision f32").status == 0);
  CHECK(robust_csv() != from_reproduce);  // the losses differ in f32: the comparison above can fail
}

TEST_CASE("reproduce's report says when its runs were bf16", "[experiments][reproduce][bf16]") {
  mg::test::TempDir tmp;
  std::ifstream in(MIXGRAD_SOURCE_DIR "/docs/results/cpu/summary.json");  // a real summary (float32)
  nlohmann::json summary = nlohmann::json::parse(in);
  auto report = [&](const std::string& dir) {
    fs::create_directories(tmp.path / dir);
    std::ofstream(tmp.path / dir / "summary.json") << summary.dump();  // the plots read it
    mg::experiments::write_report(summary, (tmp.path / dir).string());
    std::ifstream r(tmp.path / dir / "report.md");
    return std::string(std::istreambuf_iterator<char>(r), {});
  };
  CHECK_THAT(report("f32"), !Catch::Contains("Precision:"));
  summary["config"]["precision"] = "bf16";
  CHECK_THAT(report("bf16"), Catch::Contains("- Precision: bf16 mixed precision"));
}
