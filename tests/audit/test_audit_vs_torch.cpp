// `mixgrad audit` against PyTorch (Debian's python3-torch, see scripts/setup.sh): for each model, random
// non-default weights, train and eval mode, with and without mixup, f64 within 1e-10 and f32 within 1e-4 per
// tensor, an SGD step in train mode; and bf16 autocast judged against PyTorch's autocast by the error from
// float64. scripts/torch_audit.py does the work; its report is shown on failure.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "tests/test_util.h"

namespace fs = std::filesystem;

namespace {

// Debian's interpreter (the one with python3-torch), unless MIXGRAD_PYTHON names another.
std::string python() {
  const char* env = std::getenv("MIXGRAD_PYTHON");
  return env && *env ? env : "/usr/bin/python3";
}

// Runs `torch_audit.py SUBCOMMAND` for one model in a scratch directory and requires it to pass.
void run_torch_audit(const std::string& subcommand, const std::string& model, int batch, int seed) {
  const auto probe = mg::test::run_command(python() + " -c 'import torch, numpy'");
  INFO("the PyTorch cross-check needs python3-torch and python3-numpy (scripts/setup.sh installs them):\n"
       << probe.output);
  REQUIRE(probe.status == 0);
  const fs::path dir =
      fs::temp_directory_path() / ("mixgrad_audit_" + subcommand + "_" + model + "_" + std::to_string(::getpid()));
  const std::string command = python() + " " MIXGRAD_SOURCE_DIR "/scripts/torch_audit.py " + subcommand +
                              " --mixgrad " +
                              mg::test::mixgrad_binary() + " --model " + model + " --batch " +
                              std::to_string(batch) + " --seed " + std::to_string(seed) + " --dir " + dir.string();
  const auto result = mg::test::run_command(command);
  std::error_code ec;
  fs::remove_all(dir, ec);
  INFO(command << "\n" << result.output);
  CHECK(result.status == 0);
}

// The f64/f32 cross-check. The script starts at `seed` and moves on from seeds where PyTorch's own f32 result
// is not within tol/10 of its f64 result (a ReLU input within float32 rounding of 0); the seeds below are ones
// where that does not happen.
void cross_check(const std::string& model, int batch, int seed) { run_torch_audit("check", model, batch, seed); }

// `--precision bf16` against PyTorch's CPU autocast: mixgrad's error from float64 within 1.5x PyTorch's, per
// group and for the worst tensor, and not float32-small (the bf16 kernels ran).
void bf16_check(const std::string& model, int batch, int seed) { run_torch_audit("bf16", model, batch, seed); }

}  // namespace

TEST_CASE("audit matches PyTorch: smallcnn", "[audit][torch]") { cross_check("smallcnn", 4, 7); }
TEST_CASE("audit matches PyTorch: smallcnn-bn", "[audit][torch]") { cross_check("smallcnn-bn", 4, 7); }
// N = 2 keeps it fast; train-mode BatchNorm still sees 2 * 4 * 4 = 32 values per channel in layer4.
TEST_CASE("audit matches PyTorch: preact-resnet18", "[audit][torch]") { cross_check("preact-resnet18", 2, 9); }
// The paper's Fig. 1a model; N = 2 keeps it to seconds (block3 still has 2 * 8 * 8 = 128 values per channel).
TEST_CASE("audit matches PyTorch: wrn-16-8", "[audit][torch]") { cross_check("wrn-16-8", 2, 9); }

TEST_CASE("audit bf16 autocast is as accurate as PyTorch's: smallcnn-bn", "[audit][torch][bf16]") {
  bf16_check("smallcnn-bn", 4, 7);
}
TEST_CASE("audit bf16 autocast is as accurate as PyTorch's: preact-resnet18", "[audit][torch][bf16]") {
  bf16_check("preact-resnet18", 2, 9);
}
TEST_CASE("audit bf16 autocast is as accurate as PyTorch's: wrn-16-8", "[audit][torch][bf16]") {
  bf16_check("wrn-16-8", 2, 9);
}

// scripts/winograd_bf16_error.py --model (why bf16 convolutions are not Winograd, README "Mixed precision")
// checks its Winograd-bf16 autograd function against conv2d before it measures anything.
TEST_CASE("the Winograd-bf16 experiment's transforms agree with conv2d", "[audit][torch][bf16]") {
  const std::string command =
      python() + " " MIXGRAD_SOURCE_DIR "/scripts/winograd_bf16_error.py --model smallcnn --batch 2";
  const auto result = mg::test::run_command(command);
  INFO(command << "\n" << result.output);
  CHECK(result.status == 0);
  CHECK(result.output.find("the largest ratio is") != std::string::npos);
}
