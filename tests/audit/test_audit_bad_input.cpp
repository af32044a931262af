// `mixgrad audit` without PyTorch: what the dump holds, train/eval buffer semantics, and rejection of weight
// and batch files that do not fit the model (naming the tensor and both shapes).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/safetensors.h"
#include "experiments/audit.h"
#include "nn/models.h"
#include "tests/temp_dir.h"
#include "tests/test_util.h"

using namespace mg;
namespace fs = std::filesystem;

namespace {

using mg::test::TempDir;

// The state_dict of a freshly made model as safetensors entries (integer buffers as I64).
std::vector<SafeTensor> weights_of(const std::string& model) {
  std::vector<SafeTensor> out;
  for (const nn::StateEntry& e : nn::make_model(model, 3)->state_dict()) {
    if (e.integer)
      out.push_back(SafeTensor::int64(e.name, {static_cast<int64_t>(e.value.item()) + 5}, e.value.shape()));
    else
      out.push_back(SafeTensor::floating(e.name, e.value.to(DType::F64)));
  }
  return out;
}

// A batch of n images with deterministic, varied pixel values and labels.
std::vector<SafeTensor> batch_of(int64_t n, bool mixup) {
  std::vector<double> x(n * 3 * 32 * 32);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37 * static_cast<double>(i));
  std::vector<int64_t> y(n), perm(n);
  for (int64_t i = 0; i < n; ++i) {
    y[i] = (3 * i + 1) % 10;
    perm[i] = (i + 1) % n;
  }
  std::vector<SafeTensor> b = {SafeTensor::floating("x", Tensor::from_vector(x, {n, 3, 32, 32}, DType::F64)),
                               SafeTensor::int64("y", y, {n})};
  if (mixup) {
    b.push_back(SafeTensor::floating("lam", Tensor::scalar(0.3, DType::F64)));
    b.push_back(SafeTensor::int64("perm", perm, {n}));
  }
  return b;
}

test::CommandResult run_audit(const TempDir& dir, const std::string& model, const std::string& extra = "") {
  return test::run_command(test::mixgrad_binary() + " audit --model " + model + " --weights " + dir.file("W.st") +
                           " --batch " + dir.file("B.st") + " --out " + dir.file("G.st") + " " + extra);
}

std::vector<SafeTensor> without(std::vector<SafeTensor> v, const std::string& name) {
  std::erase_if(v, [&](const SafeTensor& t) { return t.name == name; });
  return v;
}

}  // namespace

TEST_CASE("audit dumps loss, logits, every gradient, buffers and the SGD step", "[audit]") {
  TempDir dir;
  write_safetensors(dir.file("W.st"), weights_of("smallcnn-bn"));
  write_safetensors(dir.file("B.st"), batch_of(3, true));
  const auto run = run_audit(dir, "smallcnn-bn", "--dtype f64 --sgd-lr 0.1 --sgd-momentum 0.9 --threads 2");
  INFO(run.output);
  REQUIRE(run.status == 0);
  const SafeTensorsFile g = read_safetensors(dir.file("G.st"));
  CHECK(g.at("loss").values.shape().empty());
  CHECK(g.at("loss").dtype() == "F64");
  CHECK(g.at("logits").values.shape() == Shape{3, 10});
  CHECK(g.at("grad.x").values.shape() == Shape{3, 3, 32, 32});
  auto model = nn::make_model("smallcnn-bn");
  for (const auto& [name, p] : model->named_parameters()) {
    CHECK(g.at("grad." + name).values.shape() == p->shape());
    CHECK(g.at("param." + name).values.shape() == p->shape());
  }
  // Train mode: running statistics moved and num_batches_tracked counted one more batch.
  CHECK(g.at("buffer.features.1.num_batches_tracked").ints == std::vector<int64_t>{6});
  const SafeTensorsFile w = read_safetensors(dir.file("W.st"));
  CHECK_FALSE(test::all_close(g.at("buffer.features.1.running_mean").values,
                              w.at("features.1.running_mean").values, 0));

  // Eval mode leaves the buffers as loaded; f32 makes every floating output f32.
  const auto eval = run_audit(dir, "smallcnn-bn", "--dtype f32 --eval");
  INFO(eval.output);
  REQUIRE(eval.status == 0);
  const SafeTensorsFile ge = read_safetensors(dir.file("G.st"));
  CHECK(ge.at("logits").dtype() == "F32");
  CHECK(ge.find("param.features.0.weight") == nullptr);
  CHECK(ge.at("buffer.features.1.num_batches_tracked").ints == std::vector<int64_t>{5});
  CHECK(test::all_close(ge.at("buffer.features.1.running_var").values,
                        w.at("features.1.running_var").values.to(DType::F32), 0));
}

TEST_CASE("audit --precision bf16 runs float32 under autocast and refuses --dtype f64", "[audit][bf16][bad-input]") {
  TempDir dir;
  write_safetensors(dir.file("W.st"), weights_of("smallcnn"));
  write_safetensors(dir.file("B.st"), batch_of(2, false));
  const auto f32 = run_audit(dir, "smallcnn", "--dtype f32");
  REQUIRE(f32.status == 0);
  const SafeTensorsFile g32 = read_safetensors(dir.file("G.st"));

  const auto bf16 = run_audit(dir, "smallcnn", "--precision bf16");  // no --dtype: bf16 implies f32
  INFO(bf16.output);
  REQUIRE(bf16.status == 0);
  const SafeTensorsFile g = read_safetensors(dir.file("G.st"));
  CHECK(g.metadata.at("precision") == "bf16");
  CHECK(g.metadata.at("dtype") == "f32");
  CHECK(g.at("logits").dtype() == "F32");
  // bf16-rounded logits: close to float32's, but not equal to them.
  CHECK(test::all_close(g.at("logits").values, g32.at("logits").values, 5e-2));
  CHECK_FALSE(test::all_close(g.at("logits").values, g32.at("logits").values, 1e-6));

  const auto refused = run_audit(dir, "smallcnn", "--precision bf16 --dtype f64");
  CHECK(refused.status != 0);
  CHECK_THAT(refused.output, Catch::Contains("--dtype f64"));
  const auto unknown = run_audit(dir, "smallcnn", "--precision fp16");
  CHECK(unknown.status != 0);
  CHECK_THAT(unknown.output, Catch::Contains("--precision"));
}

TEST_CASE("audit rejects weight files that do not fit the model", "[audit][bad-input]") {
  TempDir dir;
  write_safetensors(dir.file("B.st"), batch_of(2, false));
  const std::vector<SafeTensor> good = weights_of("smallcnn");

  SECTION("missing tensor") {
    write_safetensors(dir.file("W.st"), without(good, "features.2.bias"));
    const auto r = run_audit(dir, "smallcnn");
    INFO(r.output);
    CHECK(r.status != 0);
    CHECK_THAT(r.output, Catch::Contains("W.st") && Catch::Contains("missing") &&
                             Catch::Contains("'features.2.bias'") && Catch::Contains("[32]"));
  }
  SECTION("extra tensor") {
    std::vector<SafeTensor> w = good;
    w.push_back(SafeTensor::floating("features.9.weight", Tensor::zeros({4, 2}, DType::F64)));
    write_safetensors(dir.file("W.st"), w);
    const auto r = run_audit(dir, "smallcnn");
    INFO(r.output);
    CHECK(r.status != 0);
    CHECK_THAT(r.output, Catch::Contains("W.st") && Catch::Contains("unexpected") &&
                             Catch::Contains("'features.9.weight'") && Catch::Contains("[4, 2]"));
  }
  SECTION("mis-shaped tensor") {
    std::vector<SafeTensor> w = without(good, "classifier.3.weight");
    w.push_back(SafeTensor::floating("classifier.3.weight", Tensor::zeros({10, 255}, DType::F64)));
    write_safetensors(dir.file("W.st"), w);
    const auto r = run_audit(dir, "smallcnn");
    INFO(r.output);
    CHECK(r.status != 0);
    CHECK_THAT(r.output, Catch::Contains("W.st") && Catch::Contains("'classifier.3.weight'") &&
                             Catch::Contains("[10, 255]") && Catch::Contains("[10, 256]"));
  }
  SECTION("weights of another model") {
    write_safetensors(dir.file("W.st"), weights_of("smallcnn-bn"));
    const auto r = run_audit(dir, "smallcnn");
    CHECK(r.status != 0);
    CHECK_THAT(r.output, Catch::Contains("W.st"));
  }
  SECTION("corrupt weight file") {
    { std::ofstream(dir.file("W.st"), std::ios::binary) << "garbage"; }
    const auto r = run_audit(dir, "smallcnn");
    CHECK(r.status != 0);
    CHECK_THAT(r.output, Catch::Contains("W.st") && Catch::Contains("8-byte"));
  }
  CHECK_FALSE(fs::exists(dir.file("G.st")));
}

TEST_CASE("audit rejects batch files that do not fit", "[audit][bad-input]") {
  TempDir dir;
  const std::string path = dir.file("B.st");
  auto rejects = [&](const std::vector<SafeTensor>& b, const std::vector<std::string>& parts) {
    write_safetensors(path, b);
    try {
      audit::read_audit_batch(path, DType::F64);
      FAIL("expected mg::Error");
    } catch (const Error& e) {
      INFO(e.what());
      for (const std::string& p : parts) CHECK_THAT(e.what(), Catch::Contains(p));
    }
  };
  const std::vector<SafeTensor> good = batch_of(3, true);
  write_safetensors(path, good);
  CHECK(audit::read_audit_batch(path, DType::F32).mixup);

  rejects(without(good, "x"), {path, "'x'"});
  rejects(without(good, "perm"), {path, "both 'lam' and 'perm'"});
  std::vector<SafeTensor> b = without(good, "y");
  b.push_back(SafeTensor::int64("y", {1, 2, 10}, {3}));
  rejects(b, {path, "y[2] = 10"});
  b = without(good, "y");
  b.push_back(SafeTensor::int64("y", {1, 2}, {2}));
  rejects(b, {path, "'y'", "[2]", "[3]"});
  b = without(good, "perm");
  b.push_back(SafeTensor::int64("perm", {0, 0, 1}, {3}));
  rejects(b, {path, "not a permutation"});
  b = without(good, "lam");
  b.push_back(SafeTensor::floating("lam", Tensor::scalar(1.5, DType::F64)));
  rejects(b, {path, "lam = 1.5"});
  b = without(good, "x");
  b.push_back(SafeTensor::floating("x", Tensor::zeros({3, 1, 32, 32}, DType::F64)));
  rejects(b, {path, "'x'", "[3, 1, 32, 32]"});
  b = good;
  b.push_back(SafeTensor::floating("z", Tensor::zeros({1}, DType::F64)));
  rejects(b, {path, "unexpected tensor 'z'"});
}
