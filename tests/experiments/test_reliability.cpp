// mixgrad train under faults: the run lock, a graceful stop on SIGTERM/SIGINT with an exact mid-epoch
// resume, and the fallback to the previous checkpoint when the newest is damaged.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/safetensors.h"
#include "tests/experiments/synthetic_cifar.h"
#include "tests/experiments/train_helpers.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using namespace mg::test;

namespace {

// A run long enough to be signalled mid-epoch: 1000 images in batches of 8 (125 steps an epoch), with
// progress lines (stderr is not a terminal: one line every tenth of an epoch).
std::string long_train(const fs::path& data, const fs::path& out, const std::string& extra) {
  return mixgrad_binary() + " train --dataset cifar10 --data " + data.string() + " --out " + out.string() +
         " --model smallcnn-bn --batch-size 8 --lr 0.05 --schedule onecycle --mixup-alpha 1 --threads 2 " + extra;
}

std::string metadata(const fs::path& checkpoint, const char* key) {
  return mg::read_safetensors(checkpoint.string()).metadata.at(key);
}

}  // namespace

TEST_CASE("a run directory in use refuses a second writer, and a kill -9 releases it", "[experiments][reliability]") {
  TempDir tmp;
  write_synthetic_cifar(tmp.path / "data", 200, 16);
  const fs::path run = tmp.path / "run";
  Child first(long_train(tmp.path / "data", run, "--epochs 50 --checkpoint-every 0.001"), tmp.path / "first.log");
  REQUIRE(first.wait_until([&] { return fs::exists(run / "checkpoint.safetensors"); }));
  const std::string pid = std::to_string(first.pid);
  CHECK(read_file(run / "mixgrad.lock") == pid);
  for (const char* how : {"--force", "--resume"}) {
    const auto second = run_command(long_train(tmp.path / "data", run, std::string("--epochs 1 --quiet ") + how));
    INFO(how << ": " << second.output);
    CHECK(second.status == 1);
    CHECK_THAT(second.output, Catch::Contains("in use by process " + pid) && Catch::Contains(run.string()));
  }
  REQUIRE(kill(first.pid, SIGKILL) == 0);
  CHECK(first.wait() == 128 + SIGKILL);
  // The kernel dropped the dead process's lock: --resume takes the directory over with no cleanup.
  const auto resumed = run_command(mixgrad_binary() + " train --out " + run.string() + " --resume --quiet --stop-after 1");
  INFO(resumed.output);
  CHECK(resumed.status == 0);
  CHECK(read_file(run / "mixgrad.lock") != pid);
}

TEST_CASE("SIGTERM and SIGINT stop at a step boundary, checkpoint it, and --resume ends bit for bit",
          "[experiments][reliability]") {
  TempDir tmp;
  write_synthetic_cifar(tmp.path / "data", 200, 16);
  const fs::path straight = tmp.path / "straight", stopped = tmp.path / "stopped";
  REQUIRE(run_command(long_train(tmp.path / "data", straight, "--epochs 2 --quiet")).status == 0);

  const auto [sig, status] = GENERATE(std::pair{SIGTERM, 143}, std::pair{SIGINT, 130});
  Child child(long_train(tmp.path / "data", stopped, "--epochs 2 --force"), tmp.path / "stopped.log");
  REQUIRE(child.wait_until([&] { return child.output().find("batch 24/125") != std::string::npos; }));
  const auto sent = std::chrono::steady_clock::now();
  REQUIRE(kill(child.pid, sig) == 0);
  const int exit_status = child.wait();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  const std::string output = child.output();
  INFO(output);
  CHECK(exit_status == status);
  CHECK(seconds < 30);
  CHECK_THAT(output, Catch::Contains("checkpoint written to") && Catch::Contains("--resume") &&
                         Catch::Contains(stopped.string()));
  // Stopped in the middle of the first epoch, at the step it was in.
  const fs::path checkpoint = stopped / "checkpoint.safetensors";
  CHECK(metadata(checkpoint, "epochs_done") == "0");
  const int64_t batches = std::stoll(metadata(checkpoint, "batches_done"));
  CHECK(batches >= 24);
  CHECK(batches < 125);

  const auto resumed = run_command(mixgrad_binary() + " train --out " + stopped.string() + " --resume --quiet");
  INFO(resumed.output);
  REQUIRE(resumed.status == 0);
  CHECK(read_metrics(stopped) == read_metrics(straight));
  CHECK(same_weights(straight, stopped));
}

TEST_CASE("a damaged newest checkpoint makes --resume fall back to the previous one with a warning",
          "[experiments][reliability]") {
  TempDir tmp;
  write_synthetic_cifar(tmp.path / "data", 16, 16);
  const fs::path straight = tmp.path / "straight", run = tmp.path / "run";
  REQUIRE(run_command(train_command(tmp.path / "data", straight, "--epochs 2")).status == 0);
  REQUIRE(run_command(train_command(tmp.path / "data", run, "--epochs 2")).status == 0);
  const fs::path newest = run / "checkpoint.safetensors", previous = run / "checkpoint.prev.safetensors";
  CHECK(metadata(newest, "epochs_done") == "2");
  CHECK(metadata(previous, "epochs_done") == "1");

  SECTION("a flipped byte in the weights (checksum)") {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-1, std::ios::end);
    const char last = static_cast<char>(f.get());
    f.seekp(-1, std::ios::end);
    f.put(static_cast<char>(last ^ 0x40));
  }
  SECTION("a truncated file (does not parse)") { fs::resize_file(newest, fs::file_size(newest) / 2); }

  const auto resumed = run_command(mixgrad_binary() + " train --out " + run.string() + " --resume --quiet");
  INFO(resumed.output);
  REQUIRE(resumed.status == 0);
  CHECK_THAT(resumed.output, Catch::Contains("warning") && Catch::Contains(newest.string()) &&
                                 Catch::Contains(previous.string()));
  CHECK(same_weights(straight, run));  // epoch 2 trained again from epoch 1's checkpoint
  CHECK(read_metrics(run) == read_metrics(straight));

  // Both damaged: a clear error naming both files, and nothing overwritten.
  fs::resize_file(newest, 7);
  fs::resize_file(previous, 7);
  const auto failed = run_command(mixgrad_binary() + " train --out " + run.string() + " --resume --quiet");
  CHECK(failed.status == 1);
  CHECK_THAT(failed.output, Catch::Contains(newest.string()) && Catch::Contains(previous.string()));
  CHECK(fs::file_size(newest) == 7);
}
