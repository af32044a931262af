// The reproduce presets: their settings, and the fashion preset's recipe training end to end on 28×28
// grayscale IDX files (smallcnn-bn sized from the images, not from CIFAR's 32×32×3).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "datasets/registry.h"
#include "experiments/projection.h"
#include "experiments/reproduce.h"
#include "experiments/trained_run.h"
#include "tests/datasets/helpers.h"
#include "tests/datasets/svhn_files.h"
#include "tests/test_util.h"

using namespace mg;
using namespace mg::experiments;

namespace {

// Fashion-MNIST-format IDX files (28×28, gzip) whose class shows as a bright bar at a label-dependent row.
void write_fashion_like(const data::test::TempDir& dir, int64_t n_train, int64_t n_test) {
  auto put = [&](const std::string& prefix, int64_t n) {
    data::Bytes images, labels;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t label = (i * 7 + 3) % 10;
      labels.push_back(static_cast<uint8_t>(label));
      for (int64_t k = 0; k < 28 * 28; ++k)
        images.push_back(k / 28 / 2 == label + 2 ? 230 : data::test::pixel(i, k) / 4);
    }
    data::write_file(dir / (prefix + "-images-idx3-ubyte.gz"), data::test::gzip(data::test::idx_file({uint32_t(n), 28, 28}, images)));
    data::write_file(dir / (prefix + "-labels-idx1-ubyte.gz"), data::test::gzip(data::test::idx_file({uint32_t(n)}, labels)));
  };
  put("train", n_train);
  put("t10k", n_test);
}

}  // namespace

TEST_CASE("presets: names, the fashion recipe, unknown names", "[experiments][presets]") {
  CHECK(preset_names() == std::vector<std::string>{"smoke", "cpu", "fashion", "svhn", "paper", "budget"});
  const Preset cpu = preset("cpu"), fashion = preset("fashion");
  CHECK(fashion.train.dataset == "fashion-mnist");
  CHECK(data::default_data_dir("fashion-mnist") == "/usr/share/datasets/fashion-mnist");
  CHECK(fashion.train.model == cpu.train.model);  // the cpu recipe, on another dataset
  CHECK(fashion.train.lr == cpu.train.lr);
  CHECK(fashion.train.schedule == "onecycle");
  CHECK(fashion.description.find(std::to_string(fashion.train.epochs) + " epochs") != std::string::npos);
  CHECK_THROWS_WITH(preset("nope"), Catch::Contains("'nope'") && Catch::Contains("fashion"));
}

TEST_CASE("presets: the fashion recipe trains, evaluates and projects on 28x28 grayscale images",
          "[experiments][presets]") {
  data::test::TempDir data_dir, runs;
  write_fashion_like(data_dir, 96, 40);
  const data::Splits splits = data::load_dataset("fashion-mnist", data_dir.path.string());
  REQUIRE(splits.train.shape() == std::vector<int64_t>{1, 28, 28});

  Preset p = preset("fashion");
  TrainConfig c = p.train;
  c.data_dir = data_dir.path.string();
  c.epochs = 2;
  c.batch_size = 32;
  c.schedule = "constant";  // the preset's one-cycle needs more than these few steps
  c.lr = 0.02;
  c.eval_train_subset = -1;
  const nlohmann::json history = train(c, {.out = runs / "erm", .quiet = true});
  REQUIRE(history.size() == 2);
  CHECK(std::isfinite(history.back()["test_loss"].get<double>()));
  const TrainedRun run = load_trained_run(runs / "erm", c.data_dir);
  CHECK(run.model->state_dict()[0].value.shape() == Shape{32, 1, 3, 3});

  p.train.epochs = 1;
  const Projection pr = project_reproduce(p, 1, splits);
  CHECK(pr.train_images_per_s > 0);
  CHECK(pr.seconds > 0);
  CHECK(std::isfinite(pr.seconds));
}

TEST_CASE("presets: svhn (WRN-16-8) prints its projection and trains its first epoch on test-made .mat files",
          "[experiments][presets][svhn]") {
  const Preset svhn = preset("svhn");
  CHECK(svhn.train.model == "wrn-16-8");
  CHECK(svhn.train.dataset == "svhn");
  CHECK(!svhn.train.augment);
  data::test::TempDir dir;
  std::filesystem::create_directories(dir / "data");
  data::test::write_svhn_dir(dir / "data");
  const auto r = mg::test::run_command(std::string(MIXGRAD_BINARY) + " reproduce --preset svhn --data '" +
                                       (dir / "data") + "' --out '" + (dir / "out") + "' --first-epoch --threads 2");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("projected time") && Catch::Contains("for 2 runs") &&
                           Catch::Contains("WRN-16-8") && Catch::Contains("\"epoch\":1"));
  const data::Bytes text = data::read_file(dir / "out/runs/erm-seed0/config.json");
  const nlohmann::json config = nlohmann::json::parse(text.begin(), text.end());
  CHECK(config["model"] == "wrn-16-8");
}
