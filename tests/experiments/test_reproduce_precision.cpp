// `mixgrad reproduce --precision bf16`: every run of the preset trains under autocast and records it; an
// unknown precision is refused with the accepted values before anything is written.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

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
