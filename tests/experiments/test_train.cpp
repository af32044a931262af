// mixgrad train end to end on a tiny synthetic CIFAR-10: metrics, exact resume, thread-count independence,
// divergence handling and protection of existing runs.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/safetensors.h"
#include "tests/experiments/synthetic_cifar.h"
#include "tests/experiments/train_helpers.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using mg::test::run_command;

using mg::test::read_metrics;
using mg::test::same_weights;
using mg::test::TempDir;
using mg::test::train_command;

TEST_CASE("train writes per-epoch metrics and resumes to bit-identical weights", "[experiments][train]") {
  TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 16, 32);
  const fs::path straight = tmp.path / "straight", interrupted = tmp.path / "interrupted";
  REQUIRE(run_command(train_command(tmp.path / "data", straight, "--threads 2")).status == 0);
  const auto metrics = read_metrics(straight);
  REQUIRE(metrics.size() == 3);
  for (const char* key : {"epoch", "lr", "train_objective", "train_loss", "train_acc", "test_loss", "test_acc", "gap_loss", "gap_acc"})
    CHECK(metrics[2].contains(key));
  CHECK(metrics[2]["gap_loss"].get<double>() ==
        Approx(metrics[2]["test_loss"].get<double>() - metrics[2]["train_loss"].get<double>()));
  CHECK(metrics[2]["test_count"] == 32);
  CHECK(fs::exists(straight / "config.json"));

  const auto first = run_command(train_command(tmp.path / "data", interrupted, "--threads 2 --stop-after 1"));
  REQUIRE(first.status == 0);
  CHECK(read_metrics(interrupted).size() == 1);
  const auto resumed = run_command(mg::test::mixgrad_binary() + " train --out " + interrupted.string() + " --resume --quiet");
  INFO(resumed.output);
  REQUIRE(resumed.status == 0);
  CHECK(read_metrics(interrupted) == metrics);
  CHECK(same_weights(straight, interrupted));
}

TEST_CASE("the same seed gives bit-identical metrics and weights on 1 and 2 threads", "[experiments][train][determinism]") {
  TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 16, 32);
  REQUIRE(run_command(train_command(tmp.path / "data", tmp.path / "one", "--threads 1 --epochs 2")).status == 0);
  REQUIRE(run_command(train_command(tmp.path / "data", tmp.path / "two", "--threads 2 --epochs 2")).status == 0);
  CHECK(read_metrics(tmp.path / "one") == read_metrics(tmp.path / "two"));
  CHECK(same_weights(tmp.path / "one", tmp.path / "two"));
}

TEST_CASE("an existing run is never overwritten without --resume or --force", "[experiments][train]") {
  TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 8, 8);
  const fs::path run = tmp.path / "run";
  REQUIRE(run_command(train_command(tmp.path / "data", run, "--epochs 1")).status == 0);
  const auto before = read_metrics(run);
  const auto again = run_command(train_command(tmp.path / "data", run, "--epochs 1"));
  CHECK(again.status != 0);
  CHECK_THAT(again.output, Catch::Contains("--resume") && Catch::Contains("--force") && Catch::Contains(run.string()));
  CHECK(read_metrics(run) == before);
  CHECK(run_command(train_command(tmp.path / "data", run, "--epochs 1 --force")).status == 0);
}

TEST_CASE("a diverging run stops with the step number and keeps the last good checkpoint", "[experiments][train]") {
  TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 8, 8);
  const fs::path run = tmp.path / "run";
  // lr multiplied by 1e30 after the first epoch: the second epoch's loss blows up.
  const auto r = run_command(mg::test::mixgrad_binary() + " train --dataset cifar10 --data " + (tmp.path / "data").string() +
                             " --out " + run.string() +
                             " --model smallcnn --epochs 3 --batch-size 8 --schedule multistep --milestones 1 --gamma 1e30 --quiet");
  CHECK(r.status != 0);
  CHECK_THAT(r.output, Catch::Contains("diverged") && Catch::Contains("epoch 2") && Catch::Contains("step"));
  CHECK(read_metrics(run).size() == 1);
  CHECK(mg::read_safetensors((run / "checkpoint.safetensors").string()).metadata.at("epochs_done") == "1");
}

TEST_CASE("eval reports clean and FGSM accuracy per ε and rejects bad input", "[experiments][eval]") {
  TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 16, 32);
  const fs::path run = tmp.path / "run";
  REQUIRE(run_command(train_command(tmp.path / "data", run, "--epochs 2")).status == 0);
  const auto r = run_command(mg::test::mixgrad_binary() + " eval --run " + run.string() + " --eps 0,2,8 2>/dev/null");
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto report = nlohmann::json::parse(r.output);
  REQUIRE(report["results"].size() == 3);
  CHECK(report["results"][0]["count"] == 32);
  const double clean = report["results"][0]["accuracy"], strong = report["results"][2]["accuracy"];
  CHECK(strong <= clean);
  CHECK(report["results"][2]["loss"].get<double>() > report["results"][0]["loss"].get<double>());
  CHECK(fs::exists(run / "robust.csv"));

  const auto bad_eps = run_command(mg::test::mixgrad_binary() + " eval --run " + run.string() + " --eps 1,two");
  CHECK(bad_eps.status != 0);
  CHECK_THAT(bad_eps.output, Catch::Contains("'two'"));
  const auto missing = run_command(mg::test::mixgrad_binary() + " eval --run " + (tmp.path / "nope").string());
  CHECK(missing.status != 0);
  CHECK_THAT(missing.output, Catch::Contains("nope"));
  // a corrupted checkpoint is refused
  {
    std::fstream f(run / "checkpoint.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-4, std::ios::end);
    f.write("\x7f\x7f\x7f\x7f", 4);
  }
  const auto corrupt = run_command(mg::test::mixgrad_binary() + " eval --run " + run.string());
  CHECK(corrupt.status != 0);
  CHECK_THAT(corrupt.output, Catch::Contains("checksum"));
}

TEST_CASE("an f64 run trains, evaluates, attacks and is analysed end to end", "[experiments][train][f64]") {
  TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 16, 32);
  const fs::path run = tmp.path / "run";
  const auto trained = run_command(train_command(tmp.path / "data", run, "--epochs 1 --dtype f64"));
  INFO(trained.output);
  REQUIRE(trained.status == 0);
  const auto metrics = read_metrics(run);
  REQUIRE(metrics.size() == 1);
  CHECK(std::isfinite(metrics[0]["test_loss"].get<double>()));
  CHECK(metrics[0]["test_count"] == 32);
  // The checkpoint holds f64 weights: the model really trained in f64.
  const mg::SafeTensorsFile ckpt = mg::read_safetensors((run / "checkpoint.safetensors").string());
  bool saw_weight = false;
  for (const auto& t : ckpt.tensors)
    if (t.name.find("weight") != std::string::npos) {
      CHECK(t.values.dtype() == mg::DType::F64);
      saw_weight = true;
    }
  CHECK(saw_weight);

  const auto eval = run_command(mg::test::mixgrad_binary() + " eval --run " + run.string() + " --eps 0,8 2>/dev/null");
  INFO(eval.output);
  REQUIRE(eval.status == 0);
  const auto report = nlohmann::json::parse(eval.output);
  REQUIRE(report["results"].size() == 2);
  CHECK(report["results"][1]["loss"].get<double>() > report["results"][0]["loss"].get<double>());

  const auto analysed = run_command(mg::test::mixgrad_binary() + " analyze --run " + run.string() + " --samples 8 --draws 2 2>/dev/null");
  INFO(analysed.output);
  REQUIRE(analysed.status == 0);
  CHECK(std::isfinite(nlohmann::json::parse(analysed.output)["approximation"][0]["l_mix"].get<double>()));
}

TEST_CASE("a bf16 run records its precision, resumes and thread-counts to the same bits, and evaluates in bf16",
          "[experiments][train][bf16]") {
  TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 16, 32);
  const fs::path bf16 = tmp.path / "bf16", interrupted = tmp.path / "interrupted", f32 = tmp.path / "f32";
  const auto trained = run_command(train_command(tmp.path / "data", bf16, "--epochs 2 --threads 2 --precision bf16"));
  INFO(trained.output);
  REQUIRE(trained.status == 0);
  std::ifstream config_file(bf16 / "config.json");
  CHECK(nlohmann::json::parse(config_file)["precision"] == "bf16");
  const auto metrics = read_metrics(bf16);
  REQUIRE(metrics.size() == 2);
  CHECK(std::isfinite(metrics[1]["test_loss"].get<double>()));

  // Interrupted after one epoch on one thread, resumed on two: the same bits.
  REQUIRE(run_command(train_command(tmp.path / "data", interrupted,
                                    "--epochs 2 --threads 1 --stop-after 1 --precision bf16")).status == 0);
  const auto resumed =
      run_command(mg::test::mixgrad_binary() + " train --out " + interrupted.string() + " --resume --quiet --threads 2");
  INFO(resumed.output);
  REQUIRE(resumed.status == 0);
  CHECK(read_metrics(interrupted) == metrics);
  CHECK(same_weights(bf16, interrupted));

  // Without the AVX-512 BF16 instruction (switched off; emulated products): the same bits. On a CPU without it
  // both runs are emulated and this only repeats the run.
  const fs::path emulated = tmp.path / "emulated";
  REQUIRE(run_command("MIXGRAD_NO_BF16=1 " + train_command(tmp.path / "data", emulated,
                                                           "--epochs 2 --threads 2 --precision bf16")).status == 0);
  CHECK(read_metrics(emulated) == metrics);
  CHECK(same_weights(bf16, emulated));

  // bf16 really ran: the float32 run with the same seed ends elsewhere.
  REQUIRE(run_command(train_command(tmp.path / "data", f32, "--epochs 2 --threads 2")).status == 0);
  CHECK_FALSE(same_weights(bf16, f32));

  // eval runs in the run's precision unless told otherwise.
  const std::string eval = mg::test::mixgrad_binary() + " eval --run " + bf16.string() + " --eps 0,8 2>/dev/null";
  const auto in_bf16 = run_command(eval), in_f32 = run_command(eval + " --precision f32");
  INFO(in_bf16.output << in_f32.output);
  REQUIRE(in_bf16.status == 0);
  REQUIRE(in_f32.status == 0);
  const auto report_bf16 = nlohmann::json::parse(in_bf16.output), report_f32 = nlohmann::json::parse(in_f32.output);
  CHECK(report_bf16["precision"] == "bf16");
  CHECK(report_f32["precision"] == "f32");
  // (eval's batches are larger than training's evaluation ones: the float32 sums differ in their last bits)
  const double loss_bf16 = report_bf16["results"][0]["loss"], loss_f32 = report_f32["results"][0]["loss"];
  CHECK(loss_bf16 == Approx(metrics[1]["test_loss"].get<double>()).epsilon(1e-6));
  CHECK(std::abs(loss_bf16 - loss_f32) > 1e-4);
}

TEST_CASE("preact-resnet18 in bf16: the same bits on 1 and 2 threads and without vdpbf16ps", "[experiments][train][bf16]") {
  TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 2, 4);  // 10 training images: 3 steps of batch 4
  const std::string args = "--model preact-resnet18 --epochs 1 --batch-size 4 --precision bf16";
  auto train = [&](const std::string& name, const std::string& env, const std::string& extra) {
    const auto r = run_command(env + " " + train_command(tmp.path / "data", tmp.path / name, args + " " + extra));
    INFO(r.output);
    REQUIRE(r.status == 0);
  };
  train("two", "", "--threads 2");
  train("one", "", "--threads 1");
  train("emulated", "MIXGRAD_NO_BF16=1", "--threads 2");
  CHECK(read_metrics(tmp.path / "one") == read_metrics(tmp.path / "two"));
  CHECK(same_weights(tmp.path / "one", tmp.path / "two"));
  CHECK(read_metrics(tmp.path / "emulated") == read_metrics(tmp.path / "two"));
  CHECK(same_weights(tmp.path / "emulated", tmp.path / "two"));
}

TEST_CASE("bf16 with float64, or an unknown precision, is refused before anything is written",
          "[experiments][train][bf16][bad-input]") {
  TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 8, 8);
  const fs::path run = tmp.path / "run";
  const auto f64 = run_command(train_command(tmp.path / "data", run, "--epochs 1 --precision bf16 --dtype f64"));
  CHECK(f64.status != 0);
  CHECK_THAT(f64.output, Catch::Contains("precision bf16") && Catch::Contains("dtype f64"));
  CHECK_FALSE(fs::exists(run / "config.json"));
  const auto fp16 = run_command(train_command(tmp.path / "data", run, "--epochs 1 --precision fp16"));
  CHECK(fp16.status != 0);
  CHECK_THAT(fp16.output, Catch::Contains("--precision") && Catch::Contains("fp16"));
  CHECK_FALSE(fs::exists(run / "config.json"));
}

TEST_CASE("a one-cycle schedule too short for its warm-up is refused with the step counts, before training",
          "[experiments][train][schedule]") {
  TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 16, 8);
  // 64 images in batches of 16 for 1 epoch: 4 steps, and pct_start 0.25 puts the peak at step 0.
  const auto r = run_command(mg::test::mixgrad_binary() + " train --dataset cifar10 --data " + (tmp.path / "data").string() +
                             " --out " + (tmp.path / "run").string() +
                             " --model smallcnn --epochs 1 --batch-size 16 --train-subset 64 --schedule onecycle --pct-start 0.25 --quiet");
  CHECK(r.status != 0);
  CHECK_THAT(r.output, Catch::Contains("1 epoch(s) x 4 batches = 4 steps") && Catch::Contains("total_steps 4") &&
                           Catch::Contains("pct_start 0.25"));
  CHECK_THAT(r.output, !Catch::Contains("diverged"));
  // Nothing written but the run lock: the corrected command needs no --force.
  for (const auto& entry : fs::directory_iterator(tmp.path / "run")) CHECK(entry.path().filename() == "mixgrad.lock");
  const auto corrected = run_command(mg::test::mixgrad_binary() + " train --dataset cifar10 --data " +
                                     (tmp.path / "data").string() + " --out " + (tmp.path / "run").string() +
                                     " --model smallcnn --epochs 1 --batch-size 16 --train-subset 64 --schedule onecycle"
                                     " --pct-start 0.5 --quiet");
  INFO(corrected.output);
  CHECK(corrected.status == 0);
  const auto with_warmup = run_command(mg::test::mixgrad_binary() + " train --dataset cifar10 --data " + (tmp.path / "data").string() +
                                       " --out " + (tmp.path / "run2").string() +
                                       " --model smallcnn --epochs 1 --batch-size 16 --schedule onecycle --warmup-epochs 1 --quiet");
  CHECK(with_warmup.status != 0);
  CHECK_THAT(with_warmup.output, Catch::Contains("--warmup-epochs 1") && Catch::Contains("onecycle"));
}

TEST_CASE("wrn-16-8 with --dropout records it, resumes to the same bits, and other models refuse it",
          "[experiments][train][dropout]") {
  TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 2, 4);  // 10 training images: 3 steps of batch 4
  const std::string args = "--model wrn-16-8 --epochs 2 --batch-size 4 --threads 2 ";
  auto train = [&](const fs::path& out, const std::string& extra) {
    const auto r = run_command(train_command(tmp.path / "data", out, args + extra));
    INFO(r.output);
    REQUIRE(r.status == 0);
  };
  const fs::path straight = tmp.path / "straight", resumed = tmp.path / "resumed", plain = tmp.path / "plain";
  train(straight, "--dropout 0.3");
  train(resumed, "--dropout 0.3 --stop-after 1");
  REQUIRE(run_command(mg::test::mixgrad_binary() + " train --out " + resumed.string() + " --resume --quiet").status == 0);
  CHECK(read_metrics(resumed) == read_metrics(straight));
  CHECK(same_weights(resumed, straight));
  CHECK(nlohmann::json::parse(mg::test::read_file(straight / "config.json"))["dropout"] == 0.3);
  train(plain, "");
  CHECK_FALSE(same_weights(plain, straight));  // the masks were applied
  const auto refused = run_command(train_command(tmp.path / "data", tmp.path / "cnn", "--dropout 0.3"));
  CHECK(refused.status != 0);
  CHECK_THAT(refused.output, Catch::Contains("dropout applies to wrn-16-8 and wrn-28-10"));
}
