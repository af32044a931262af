// `mixgrad bench`: every mode runs and reports the documented JSON fields (nothing is asserted about
// speed), FLOPs are counted as documented, the reported rates come from the timed iterations, bad arguments fail, and the OpenBLAS core switch.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "tests/test_util.h"

using mg::test::mixgrad_binary;
using mg::test::run_command;

namespace {

bool cpu_has_avx512() { return mg::cpu::has(mg::cpu::Isa::avx512); }

nlohmann::json bench_json(const std::string& args, const std::string& env = "") {
  const auto result = run_command(env + " " + mixgrad_binary() + " bench " + args + " --json");
  INFO(result.output);
  REQUIRE(result.status == 0);
  // The JSON object is the last line (a warning may precede it on stderr, which run_command merges).
  std::string text = result.output;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return nlohmann::json::parse(text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1));
}

}  // namespace

TEST_CASE("bench: train, eval and fgsm report images/s, GFLOP/s, memory and the BLAS core", "[cli][bench]") {
  // smallcnn's multiply-adds per image: the four convolutions and the two linear layers.
  const double macs = 32.0 * 1024 * 27 + 32.0 * 1024 * 288 + 64.0 * 256 * 288 + 64.0 * 256 * 576 + 4096.0 * 256 +
                      256.0 * 10;
  for (const std::string mode : {"train", "eval", "fgsm"}) {
    INFO(mode);
    const nlohmann::json r = bench_json("--model smallcnn --mode " + mode + " --batch-size 4 --iters 2 --warmup 1 --threads 2");
    for (const char* key : {"model", "mode", "batch_size", "threads", "images_per_s", "images_per_s_min",
                            "images_per_s_max", "gflops", "peak_rss_mb", "blas_core"})
      CHECK(r.contains(key));
    CHECK(r["model"] == "smallcnn");
    CHECK(r["mode"] == mode);
    CHECK(r["batch_size"] == 4);
    CHECK(r["threads"] == 2);
    CHECK(r["images_per_s"].get<double>() > 0);
    // GFLOP/s is the FLOP count at the median rate.
    CHECK(r["gflops"].get<double>() ==
          Approx(r["flops_per_iter"].get<double>() * r["images_per_s"].get<double>() / 4 / 1e9).epsilon(1e-12));
    CHECK(r["peak_rss_mb"].get<double>() > 0);
    CHECK(!r["blas_core"].get<std::string>().empty());
    const double passes = mode == "eval" ? 1.0 : 3.0;
    CHECK(r["flops_per_iter"].get<double>() == Approx(passes * 2.0 * macs * 4));
  }
}

TEST_CASE("bench: median, min and max images/s come from the timed iterations", "[cli][bench]") {
  // --verbose prints each timed iteration's seconds on stderr, which run_command merges before the JSON line.
  const auto result = run_command(mixgrad_binary() + " bench --model smallcnn --mode eval --batch-size 4 --iters 3 "
                                  "--warmup 1 --threads 2 --json --verbose");
  INFO(result.output);
  REQUIRE(result.status == 0);
  std::vector<double> seconds;
  std::istringstream lines(result.output);
  std::string json_line;
  for (std::string line; std::getline(lines, line);) {
    const std::string tag = "bench: iteration ";
    if (line.rfind(tag, 0) == 0) seconds.push_back(std::stod(line.substr(line.find(':', tag.size()) + 1)));
    else if (!line.empty() && line[0] == '{') json_line = line;
  }
  REQUIRE(seconds.size() == 3);  // warm-up iterations are not timed
  const nlohmann::json r = nlohmann::json::parse(json_line);
  std::sort(seconds.begin(), seconds.end());
  CHECK(r["images_per_s"].get<double>() == Approx(4 / seconds[1]).epsilon(1e-6));
  CHECK(r["images_per_s_min"].get<double>() == Approx(4 / seconds[2]).epsilon(1e-6));
  CHECK(r["images_per_s_max"].get<double>() == Approx(4 / seconds[0]).epsilon(1e-6));
}

TEST_CASE("bench: the other models run", "[cli][bench]") {
  for (const std::string model : {"smallcnn-bn", "preact-resnet18"}) {
    const nlohmann::json r = bench_json("--model " + model + " --mode train --batch-size 2 --iters 1 --warmup 0");
    CHECK(r["model"] == model);
    CHECK(r["images_per_s"].get<double>() > 0);
  }
}

TEST_CASE("bench: --precision bf16 runs the same step under autocast", "[cli][bench][bf16]") {
  for (const std::string mode : {"train", "eval", "fgsm"}) {
    INFO(mode);
    const std::string args = "--model smallcnn-bn --mode " + mode + " --batch-size 4 --iters 1 --warmup 1 --threads 2";
    const nlohmann::json f32 = bench_json(args), bf16 = bench_json(args + " --precision bf16");
    CHECK(f32["precision"] == "f32");
    CHECK(bf16["precision"] == "bf16");
    CHECK(bf16["flops_per_iter"] == f32["flops_per_iter"]);
    // The checksum (the last iteration's loss) moves by bf16 rounding: near float32's, not equal to it.
    CHECK(bf16["checksum"].get<double>() == Approx(f32["checksum"].get<double>()).epsilon(0.05));
    CHECK(bf16["checksum"].get<double>() != f32["checksum"].get<double>());
  }
  CHECK(run_command(mixgrad_binary() + " bench --precision fp16").status != 0);
}

TEST_CASE("bench: bad arguments are rejected", "[cli][bench]") {
  CHECK(run_command(mixgrad_binary() + " bench --mode sprint").status != 0);
  CHECK(run_command(mixgrad_binary() + " bench --model resnet9000").status != 0);
  CHECK(run_command(mixgrad_binary() + " bench --iters 0").status != 0);
}

TEST_CASE("bench: a forced non-AVX-512 OpenBLAS core is replaced, unless the user keeps it", "[cli][bench][blas]") {
  const nlohmann::json keep = bench_json("--mode eval --batch-size 2 --iters 1 --warmup 0",
                                         "OPENBLAS_CORETYPE=Haswell MIXGRAD_KEEP_BLAS_CORE=1");
  CHECK(keep["blas_core"] == "Haswell");
  const nlohmann::json fixed = bench_json("--mode eval --batch-size 2 --iters 1 --warmup 0", "OPENBLAS_CORETYPE=Haswell");
  if (cpu_has_avx512())
    CHECK(fixed["blas_core"] == "SkylakeX");
  else
    CHECK(fixed["blas_core"] == "Haswell");
  const auto warned = run_command("OPENBLAS_CORETYPE=Haswell MIXGRAD_KEEP_BLAS_CORE=1 " + mixgrad_binary() +
                                  " bench --mode eval --batch-size 2 --iters 1 --warmup 0");
  if (cpu_has_avx512()) CHECK_THAT(warned.output, Catch::Contains("half speed"));
}
