// What --resume and eval read back from a run, checked field by field: a checkpoint's metadata
// (experiments/checkpoint_metadata.h), the run's config (TrainConfig::validate) and the CLI's list arguments
// (experiments/cli/list_args.h). The same functions are fuzzed (experiments/fuzz/).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "experiments/checkpoint_metadata.h"
#include "experiments/cli/list_args.h"
#include "experiments/run_dir.h"
#include "experiments/train.h"
#include "tests/experiments/synthetic_cifar.h"
#include "tests/experiments/train_helpers.h"

using namespace mg::experiments;
namespace fs = std::filesystem;

namespace {

CheckpointPosition mid_epoch() {
  CheckpointPosition p;
  p.epochs_done = 2;
  p.batches_done = 5;
  p.epoch_objective_sum = 0.1 + 0.2;  // not exactly representable in decimal: the round trip must keep its bits
  p.epoch_samples = 40;
  p.epoch_seconds = 1.0 / 3.0;
  p.config = TrainConfig().to_json();
  p.history = nlohmann::json::array({{{"epoch", 1}}, {{"epoch", 2}}});
  return p;
}

// The error parse_checkpoint_metadata gives for mid_epoch()'s metadata with `key` set to `value`.
std::string refusal(const std::string& key, const std::string& value) {
  auto m = checkpoint_metadata(mid_epoch());
  m[key] = value;
  try {
    parse_checkpoint_metadata("run/checkpoint.safetensors", m);
  } catch (const mg::Error& e) {
    return e.what();
  }
  return "accepted";
}

std::string validation_error(const TrainConfig& c) {
  try {
    c.validate();
  } catch (const mg::Error& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("checkpoint metadata reads back exactly what was written", "[experiments][checkpoint]") {
  const CheckpointPosition p = mid_epoch();
  const CheckpointPosition q = parse_checkpoint_metadata("c.safetensors", checkpoint_metadata(p));
  CHECK(q.epochs_done == 2);
  CHECK(q.batches_done == 5);
  CHECK(q.epoch_samples == 40);
  CHECK(q.epoch_objective_sum == p.epoch_objective_sum);  // bitwise: hex-float text
  CHECK(q.epoch_seconds == p.epoch_seconds);
  CHECK(q.config == p.config);
  CHECK(q.history == p.history);
  auto old = checkpoint_metadata(p);  // written before mid-epoch checkpoints existed: no position within the epoch
  for (const char* key : {"batches_done", "epoch_objective_sum", "epoch_samples", "epoch_seconds"}) old.erase(key);
  const CheckpointPosition r = parse_checkpoint_metadata("c.safetensors", old);
  CHECK(r.batches_done == 0);
  CHECK(r.epoch_samples == 0);
  CHECK(r.epoch_objective_sum == 0.0);
}

TEST_CASE("bad checkpoint metadata is refused naming the file, the entry and what was expected", "[experiments][checkpoint]") {
  using Catch::Contains;
  CHECK_THAT(refusal("format", "mixgrad-checkpoint-0"), Contains("run/checkpoint.safetensors") && Contains("unsupported checkpoint format"));
  for (const char* count : {"-1", "12abc", "", "1e3", "99999999999999999999999"})
    CHECK_THAT(refusal("epochs_done", count), Contains("'epochs_done'") && Contains("non-negative integer"));
  CHECK_THAT(refusal("batches_done", " 5"), Contains("'batches_done'"));
  CHECK_THAT(refusal("epoch_seconds", "0x1p-2 s"), Contains("'epoch_seconds'") && Contains("expected a number"));
  CHECK_THAT(refusal("config", "{\"lr\": "), Contains("'config' is not valid JSON"));
  CHECK_THAT(refusal("config", "[1, 2]"), Contains("'config' must be a JSON object"));
  CHECK_THAT(refusal("history", "[{}]"), Contains("array of 2 epoch record(s)") && Contains("1 element(s)"));
  CHECK_THAT(refusal("history", "{}"), Contains("array of 2 epoch record(s)") && Contains("object"));
  CHECK_THAT(refusal("history", "[{}, 3]"), Contains("holds 3, expected an object per epoch"));
  auto missing = checkpoint_metadata(mid_epoch());
  missing.erase("epochs_done");
  CHECK_THROWS_WITH(parse_checkpoint_metadata("c.safetensors", missing), Contains("no 'epochs_done'"));
  CHECK(refusal("epoch_seconds", "0.25") == "accepted");  // decimal text is a number too
}

TEST_CASE("a run config outside what train accepts is refused naming the field", "[experiments][config]") {
  using Catch::Contains;
  CHECK(validation_error(TrainConfig()) == "accepted");
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  auto with = [](auto change) {
    TrainConfig c;
    change(c);
    return validation_error(c);
  };
  CHECK_THAT(with([](TrainConfig& c) { c.epochs = 0; }), Contains("'epochs'"));
  CHECK_THAT(with([](TrainConfig& c) { c.batch_size = -3; }), Contains("'batch_size'") && Contains("-3"));
  CHECK_THAT(with([&](TrainConfig& c) { c.lr = nan; }), Contains("'lr'"));
  CHECK_THAT(with([&](TrainConfig& c) { c.weight_decay = inf; }), Contains("'weight_decay'") && Contains("finite"));
  CHECK_THAT(with([](TrainConfig& c) { c.momentum = 0; }), Contains("'nesterov' needs a positive 'momentum'"));
  CHECK_THAT(with([](TrainConfig& c) { c.schedule = "step"; }), Contains("'schedule' is 'step'") && Contains("onecycle"));
  CHECK_THAT(with([](TrainConfig& c) { c.milestones = {3, -1}; }), Contains("'milestones'") && Contains("-1"));
  CHECK_THAT(with([](TrainConfig& c) { c.pct_start = 1.5; }), Contains("'pct_start'") && Contains("[0, 1]"));
  CHECK_THAT(with([](TrainConfig& c) { c.mixup_alpha = -1; }), Contains("'mixup_alpha'"));
  CHECK_THAT(with([](TrainConfig& c) { c.mixup_mode = "pixel"; }), Contains("'mixup_mode' is 'pixel'") && Contains("batch, elem"));
  CHECK_THAT(with([](TrainConfig& c) { c.train_subset = 0; }), Contains("'train_subset'"));
  CHECK_THAT(with([](TrainConfig& c) { c.eval_train_subset = -2; }), Contains("'eval_train_subset'"));
  CHECK_THAT(with([](TrainConfig& c) { c.dtype = "f16"; }), Contains("'dtype' is 'f16'"));
  CHECK_THAT(with([](TrainConfig& c) { c.precision = "fp16"; }), Contains("'precision' is 'fp16'") && Contains("f32, bf16"));
  CHECK_THAT(with([](TrainConfig& c) { c.precision = "bf16", c.dtype = "f64"; }), Contains("cannot be combined with dtype f64"));
  CHECK_THAT(with([](TrainConfig& c) { c.model = "wrn-16-8", c.dropout = 1; }), Contains("'dropout' is 1") && Contains("[0, 1)"));
  CHECK_THAT(with([](TrainConfig& c) { c.dropout = 0.3; }), Contains("model smallcnn-bn") && Contains("wrn-16-8 and wrn-28-10"));
  CHECK(with([](TrainConfig& c) { c.model = "wrn-28-10", c.dropout = 0.3; }) == "accepted");
}

TEST_CASE("a config's values must have their field's exact JSON type", "[experiments][config]") {
  using Catch::Contains;
  auto read = [](const char* key, nlohmann::json value) {
    nlohmann::json j = TrainConfig().to_json();
    j[key] = value;
    return TrainConfig::from_json(j);
  };
  CHECK(read("epochs", 7).epochs == 7);
  CHECK(read("lr", 1).lr == 1.0);  // an integer is a number
  CHECK(read("seed", 18446744073709551615ull).seed == 18446744073709551615ull);
  CHECK_THROWS_WITH(read("epochs", 2.5), Contains("'epochs': 2.5") && Contains("expected an integer"));
  CHECK_THROWS_WITH(read("epochs", 2.2e25), Contains("'epochs'"));  // fuzz_config: undefined behaviour before
  CHECK_THROWS_WITH(read("batch_size", 18446744073709551615ull), Contains("'batch_size'"));
  CHECK_THROWS_WITH(read("epochs", true), Contains("'epochs': true"));
  CHECK_THROWS_WITH(read("seed", -1), Contains("'seed': -1") && Contains(">= 0"));
  CHECK_THROWS_WITH(read("nesterov", 1), Contains("'nesterov'") && Contains("true or false"));
  CHECK_THROWS_WITH(read("model", 3), Contains("'model'") && Contains("string"));
  CHECK_THROWS_WITH(read("milestones", nlohmann::json::array({80, 1.5})), Contains("'milestones'"));
  CHECK_THROWS_WITH(read("milestones", 80), Contains("array of integers"));
}

TEST_CASE("resume refuses a checkpoint whose config is out of range, naming the checkpoint and the field",
          "[experiments][config][checkpoint]") {
  mg::test::TempDir tmp;
  mg::test::write_synthetic_cifar(tmp.path / "data", 2, 4);
  const fs::path run = tmp.path / "run";
  TrainConfig c;
  c.data_dir = (tmp.path / "data").string();
  c.model = "smallcnn";
  c.epochs = 2;
  c.batch_size = 4;
  const TrainOptions once{.out = run.string(), .quiet = true, .stop_after_epochs = 1};
  train(c, once);
  Checkpoint checkpoint = load_run_checkpoint(run.string());
  checkpoint.config["momentum"] = -0.5;  // a hand-edited checkpoint, with its checksum intact
  save_checkpoint(checkpoint_path(run.string()), checkpoint);
  const TrainOptions resume{.out = run.string(), .resume = true, .quiet = true};
  CHECK_THROWS_WITH(train(c, resume), Catch::Contains(checkpoint_path(run.string())) && Catch::Contains("'momentum' is -0.5"));
}

TEST_CASE("cli lists: --eps takes finite non-negative numbers, --milestones epochs >= 0", "[experiments][cli]") {
  CHECK(mg::cli::parse_eps_list("0,1,2.5,8") == std::vector<double>{0, 1, 2.5, 8});
  for (const char* bad : {"inf", "1,nan", "-1", "1,,2", "", "1,2,", "2x"})
    CHECK_THROWS_WITH(mg::cli::parse_eps_list(bad), Catch::Contains("--eps"));
  auto milestones = [](std::string value) {
    std::vector<int64_t> m;
    CLI::App app;
    mg::cli::add_milestones_option(app, m);
    app.parse(std::vector<std::string>{value, "--milestones"});
    return m;
  };
  CHECK(milestones("80,120") == std::vector<int64_t>{80, 120});
  CHECK_THROWS_AS(milestones("80,-1"), CLI::ValidationError);
  CHECK_THROWS_AS(milestones("eighty"), CLI::ParseError);
}
