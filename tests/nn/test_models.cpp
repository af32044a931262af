// The reference models: state_dict keys, shapes and order equal PyTorch's (models.py), and forward passes
// equal PyTorch's in f64 in train and eval mode, with the same running-statistics updates.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "nn/models.h"
#include "tests/nn/test_module_python.h"

using namespace mg;
using namespace mg::nn;

namespace {

// models.py next to the repository (../shared/reference), else the repository's copy in scripts/.
std::string models_py() {
  const std::string shared = std::string(MIXGRAD_SOURCE_DIR) + "/../shared/reference/models.py";
  if (std::filesystem::exists(shared)) return shared;
  return std::string(MIXGRAD_SOURCE_DIR) + "/scripts/torch_models.py";
}

// Python that imports models.py as `ref` and names all its models (MODELS and WIDE_MODELS) `every`.
std::string import_models() {
  return "import importlib.util, math, torch, warnings\nwarnings.filterwarnings('ignore')\n"
         "spec = importlib.util.spec_from_file_location('ref', '" + models_py() + "')\n"
         "ref = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(ref)\n"
         "every = {**ref.MODELS, **getattr(ref, 'WIDE_MODELS', {})}\n";
}

// The models whose forward passes are compared with PyTorch's (wrn-28-10 is wrn-16-8's code, deeper and wider:
// its structure is checked by the state_dict test, its forward pass would only cost time).
const std::vector<std::string> kForwardChecked = {"smallcnn", "smallcnn-bn", "preact-resnet18", "wrn-16-8"};

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " ") + n;
  return out;
}

// Deterministic, non-default values for state_dict entry j (numel n, name, shape), the same formula as in
// the Python below: weights ~ sqrt(6 / fan_in) sin, BN gamma 1 + 0.2 sin, biases and means 0.1 sin,
// running_var 1 + 0.5 sin^2, num_batches_tracked 3.
double formula(const std::string& name, const Shape& shape, int64_t j, int64_t i) {
  const double s = std::sin(0.37 * static_cast<double>(i) + 1.3 * static_cast<double>(j));
  auto ends = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends("num_batches_tracked")) return 3.0;
  if (ends("running_var")) return 1.0 + 0.5 * s * s;
  if (ends("running_mean") || ends("bias")) return 0.1 * s;
  if (shape.size() == 1) return 1.0 + 0.2 * s;  // BatchNorm weight
  return std::sqrt(6.0 / static_cast<double>(numel(shape) / shape[0])) * s;
}

const char* kPythonFormula = R"(
def fill(model):
    with torch.no_grad():
        for j, (name, t) in enumerate(model.state_dict().items()):
            s = torch.sin(torch.arange(t.numel(), dtype=torch.float64) * 0.37 + 1.3 * j).reshape(t.shape)
            if name.endswith('num_batches_tracked'): t.fill_(3)
            elif name.endswith('running_var'): t.copy_(1.0 + 0.5 * s * s)
            elif name.endswith('running_mean') or name.endswith('bias'): t.copy_(0.1 * s)
            elif t.dim() == 1: t.copy_(1.0 + 0.2 * s)
            else: t.copy_(math.sqrt(6.0 / (t.numel() // t.shape[0])) * s)
def inputs(n):
    return torch.sin(torch.arange(n * 3 * 32 * 32, dtype=torch.float64) * 0.013 + 0.3).reshape(n, 3, 32, 32)
def show(*parts):
    print(' '.join(repr(p) if isinstance(p, float) else str(p) for p in parts))
)";

// ‖a − b‖ / ‖b‖.
double rel_error(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

// Lines of "tag v1 v2 ..." as a map from tag to numbers.
std::map<std::string, std::vector<double>> tagged_numbers(const std::string& text) {
  std::map<std::string, std::vector<double>> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream in(line);
    std::string tag, rest;
    in >> tag;
    std::getline(in, rest);
    out[tag] = test::parse_numbers(rest);
  }
  return out;
}

// The buffers' values concatenated, in state_dict order.
std::vector<double> buffer_values(Module& m) {
  std::vector<double> out;
  for (const auto& b : m.named_buffers())
    for (double v : b.value.to_vector()) out.push_back(v);
  return out;
}

}  // namespace

TEST_CASE("models: state_dict keys, shapes and order equal PyTorch's", "[nn][models]") {
  const std::string out = test::run_python(import_models() + R"(
for name, make in every.items():
    for key, value in make().state_dict().items():
        print(name, key, int(value.dtype == torch.int64), *value.shape)
)");
  std::map<std::string, std::vector<std::string>> expected;  // model -> "key int d0 d1 ..."
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const auto space = line.find(' ');
    expected[line.substr(0, space)].push_back(line.substr(space + 1));
  }
  REQUIRE(expected.size() == model_names().size());
  for (const auto& name : model_names()) {
    INFO("model " << name);
    std::vector<std::string> ours;
    for (const auto& e : make_model(name)->state_dict()) {
      std::ostringstream row;
      row << e.name << ' ' << (e.integer ? 1 : 0);
      for (int64_t d : e.value.shape()) row << ' ' << d;
      ours.push_back(row.str());
    }
    REQUIRE(expected.count(name));
    CHECK(ours.size() == expected[name].size());
    CHECK(ours == expected[name]);
  }
  CHECK(expected["preact-resnet18"].size() == 107);  // sanity: the comparison saw the whole ResNet
  // conv1, 6 blocks of bn1, conv1, bn2, conv2 (5 + 1 + 5 + 1 entries), 3 shortcuts, bn, fc weight and bias.
  CHECK(expected["wrn-16-8"].size() == 1 + 6 * 12 + 3 + 5 + 2);
}

TEST_CASE("models: forward passes and BN buffer updates equal PyTorch's in f64", "[nn][models]") {
  const int64_t n = 4;
  std::ostringstream script;
  script << import_models() << kPythonFormula << "x = inputs(" << n << ")\n"
         << "for name in '" << join(kForwardChecked) << "'.split():\n"
         << "    m = every[name]().double()\n    fill(m)\n    m.train()\n"
         << "    show(name + ':train', *m(x).detach().flatten().tolist())\n"
         << "    show(name + ':buffers', *[v for b in m.buffers() for v in b.double().flatten().tolist()])\n"
         << "    m.eval()\n"
         << "    show(name + ':eval', *m(x).detach().flatten().tolist())\n";
  auto expected = tagged_numbers(test::run_python(script.str()));

  std::vector<double> xs(n * 3 * 32 * 32);
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = std::sin(static_cast<double>(i) * 0.013 + 0.3);
  const Variable x(Tensor::from_vector(xs, {n, 3, 32, 32}));
  for (const auto& name : kForwardChecked) {
    INFO("model " << name);
    auto model = make_model(name);
    model->to(DType::F64);
    int64_t j = 0;
    for (auto& e : model->state_dict()) {
      double* p = e.value.data<double>();
      for (int64_t i = 0; i < e.value.numel(); ++i) p[i] = formula(e.name, e.value.shape(), j, i);
      ++j;
    }
    const Variable train_logits = (*model)(x);
    CHECK(train_logits.shape() == Shape{n, 10});
    CHECK(rel_error(train_logits.data().to_vector(), expected[name + ":train"]) < 1e-10);
    CHECK(rel_error(buffer_values(*model), expected[name + ":buffers"]) < 1e-12);
    model->eval();
    const auto before = buffer_values(*model);
    const Variable eval_logits = (*model)(x);
    CHECK(rel_error(eval_logits.data().to_vector(), expected[name + ":eval"]) < 1e-10);
    CHECK(buffer_values(*model) == before);  // eval leaves running statistics alone
  }
}

TEST_CASE("models: BatchNorm2d uses batch statistics in train mode and running ones in eval", "[nn][models]") {
  BatchNorm2d bn(2);
  std::vector<double> xs;
  for (int i = 0; i < 2 * 2 * 3; ++i) xs.push_back(i % 7 + (i / 3 % 2) * 10.0);  // channel 1 is shifted by 10
  const Variable x(Tensor::from_vector(xs, {2, 2, 3, 1}).to(DType::F32));
  const Tensor xd = x.data().to(DType::F64);
  std::vector<double> mean(2, 0), var(2, 0);
  for (int c = 0; c < 2; ++c) {
    for (int b = 0; b < 2; ++b)
      for (int h = 0; h < 3; ++h) mean[c] += xd.at({b, c, h, 0}) / 6;
    for (int b = 0; b < 2; ++b)
      for (int h = 0; h < 3; ++h) var[c] += std::pow(xd.at({b, c, h, 0}) - mean[c], 2) / 6;
  }
  const Variable y = bn(x);
  for (int c = 0; c < 2; ++c) {
    INFO("channel " << c);
    CHECK(y.data().at({0, c, 0, 0}) == Approx((xd.at({0, c, 0, 0}) - mean[c]) / std::sqrt(var[c] + 1e-5)));
    CHECK(bn.running_mean.at({c}) == Approx(0.1 * mean[c]));
    CHECK(bn.running_var.at({c}) == Approx(0.9 + 0.1 * var[c] * 6 / 5));  // unbiased
  }
  CHECK(bn.num_batches_tracked.item() == 1.0);
  bn(x);
  CHECK(bn.num_batches_tracked.item() == 2.0);

  bn.eval();
  const double rm = bn.running_mean.at({1}), rv = bn.running_var.at({1});
  const Variable z = bn(x);
  CHECK(z.data().at({1, 1, 2, 0}) == Approx((xd.at({1, 1, 2, 0}) - rm) / std::sqrt(rv + 1e-5)));
  CHECK(bn.num_batches_tracked.item() == 2.0);
  CHECK(bn.running_mean.at({1}) == rm);
}

TEST_CASE("models: train and eval switch every BatchNorm of a model", "[nn][models]") {
  auto model = make_model("smallcnn-bn", 3);
  Generator gen(5);
  const Variable x(rand_normal({2, 3, 32, 32}, gen, 0.5, 2.0));
  const auto fresh = buffer_values(*model);
  const Variable a = (*model)(x);
  CHECK(buffer_values(*model) != fresh);  // train: running statistics move
  model->eval();
  const auto trained = buffer_values(*model);
  const Variable b = (*model)(x);
  const Variable c = (*model)(x);
  CHECK(buffer_values(*model) == trained);
  CHECK(b.data().to_vector() == c.data().to_vector());
  CHECK(rel_error(a.data().to_vector(), b.data().to_vector()) > 1e-3);  // batch vs running statistics
}

TEST_CASE("models: Dropout masks per call, scales survivors, is the identity in eval", "[nn][models]") {
  Dropout drop(0.25, 11);
  const Variable x(Tensor::ones({1000}));
  const auto a = drop(x).data().to_vector();
  const auto b = drop(x).data().to_vector();
  CHECK(a != b);
  int zeros = 0;
  for (double v : a) {
    CHECK((v == 0.0 || v == Approx(1.0 / 0.75)));
    zeros += v == 0.0;
  }
  CHECK(zeros > 200);
  CHECK(zeros < 300);
  Dropout same(0.25, 11);
  CHECK(same(x).data().to_vector() == a);
  drop.eval();
  CHECK(drop(x).data().to_vector() == x.data().to_vector());
}

TEST_CASE("models: Dropout restarted at a step draws that step's masks again", "[nn][models]") {
  Dropout drop(0.25, 11, 3);
  const Variable x(Tensor::ones({1000}));
  drop.restart_at(7);
  const auto a = drop(x).data().to_vector(), b = drop(x).data().to_vector();
  CHECK(a != b);  // still a fresh mask per call
  drop.restart_at(8);
  const auto other = drop(x).data().to_vector();
  CHECK(other != a);
  Dropout twin(0.25, 11, 3);
  twin.restart_at(7);  // as a run resumed at step 7 would
  CHECK(twin(x).data().to_vector() == a);
  CHECK(twin(x).data().to_vector() == b);
}

TEST_CASE("models: make_model seeds, options, init bounds and unknown names", "[nn][models]") {
  CHECK(model_names() == std::vector<std::string>{"smallcnn", "smallcnn-bn", "preact-resnet18", "wrn-16-8", "wrn-28-10"});
  CHECK_THROWS_WITH(make_model("resnet50"), Catch::Contains("'resnet50'") && Catch::Contains("smallcnn-bn") &&
                                                Catch::Contains("preact-resnet18"));
  auto a = make_model("smallcnn", 1), b = make_model("smallcnn", 1), c = make_model("smallcnn", 2);
  const auto sa = a->state_dict(), sb = b->state_dict(), sc = c->state_dict();
  CHECK(sa[0].value.to_vector() == sb[0].value.to_vector());
  CHECK(sa[0].value.to_vector() != sc[0].value.to_vector());
  CHECK(a->dtype() == DType::F32);
  // PyTorch's defaults: weights and biases within 1/sqrt(fan_in), reaching close to it.
  for (const auto& e : sa) {
    INFO(e.name);
    const double fan_in = e.name.rfind("classifier.1", 0) == 0 ? 4096 : e.name.rfind("classifier.3", 0) == 0 ? 256
                        : e.name.rfind("features.0", 0) == 0   ? 27
                        : e.name.rfind("features.2", 0) == 0   ? 288
                        : e.name.rfind("features.5", 0) == 0   ? 288
                                                               : 576;
    double m = 0;
    for (double v : e.value.to_vector()) m = std::max(m, std::abs(v));
    CHECK(m <= 1 / std::sqrt(fan_in));
    if (e.value.numel() >= 100) CHECK(m > 0.9 / std::sqrt(fan_in));
  }
  auto wide = make_model("preact-resnet18", 0, 100, 1);
  const auto sw = wide->state_dict();
  CHECK(sw.front().value.shape() == Shape{64, 1, 3, 3});
  CHECK(sw.back().name == "linear.bias");
  CHECK(sw.back().value.shape() == Shape{100});
  auto gray = make_model("smallcnn-bn", 0, 4, 1);
  gray->eval();
  CHECK((*gray)(Variable(Tensor::ones({2, 1, 32, 32}))).shape() == Shape{2, 4});
}

TEST_CASE("models: smallcnn takes other image sizes (28x28 Fashion-MNIST: 3136 features)", "[nn][models]") {
  auto fashion = make_model("smallcnn-bn", 0, 10, 1, 28, 28);
  const auto sd = fashion->state_dict();
  bool found = false;
  for (const auto& e : sd)
    if (e.name == "classifier.1.weight") {
      CHECK(e.value.shape() == Shape{256, 64 * 7 * 7});
      found = true;
    }
  CHECK(found);
  fashion->eval();
  CHECK((*fashion)(Variable(Tensor::ones({2, 1, 28, 28}))).shape() == Shape{2, 10});
  CHECK_THROWS_WITH(make_model("smallcnn", 0, 10, 1, 3, 28), Catch::Contains("3×28"));
}

TEST_CASE("models: WideResNet init as models.py (kaiming_normal fan_out, fc bias 0) and any image size",
          "[nn][models]") {
  auto wrn = make_model("wrn-16-8", 4);
  for (const auto& e : wrn->state_dict()) {
    INFO(e.name);
    const std::vector<double> v = e.value.to_vector();
    if (e.value.dim() == 4) {  // N(0, 2 / fan_out): the sample std within 10% (>= 432 values each)
      const double fan_out = static_cast<double>(e.value.shape()[0] * e.value.shape()[2] * e.value.shape()[3]);
      double sq = 0;
      for (double x : v) sq += x * x;
      CHECK(std::sqrt(sq / static_cast<double>(v.size())) == Approx(std::sqrt(2.0 / fan_out)).epsilon(0.1));
    } else if (e.name == "fc.bias") {
      CHECK(v == std::vector<double>(10, 0.0));
    } else if (e.name == "fc.weight") {
      double m = 0;
      for (double x : v) m = std::max(m, std::abs(x));
      CHECK(m <= 1 / std::sqrt(512.0));
      CHECK(m > 0.9 / std::sqrt(512.0));
    }
  }
  wrn->eval();
  CHECK((*wrn)(Variable(Tensor::ones({1, 3, 12, 12}))).shape() == Shape{1, 10});  // global average pool
  Generator gen(0);
  CHECK_THROWS_WITH(WideResNet(18, 2, gen), Catch::Contains("6n + 4"));
  // make_model's dropout: the wide ResNets take it (same weights), the others have no dropout layer.
  const auto dropped = make_model("wrn-16-8", 4, 10, 3, 32, 32, 0.3)->state_dict();
  const auto plain = wrn->state_dict();
  REQUIRE(dropped.size() == plain.size());
  for (std::size_t i = 0; i < plain.size(); ++i) CHECK(dropped[i].value.to_vector() == plain[i].value.to_vector());
  CHECK_THROWS_WITH(make_model("smallcnn-bn", 0, 10, 3, 32, 32, 0.3),
                    Catch::Contains("smallcnn-bn") && Catch::Contains("wrn-16-8 and wrn-28-10"));
  CHECK_THROWS_WITH(make_model("wrn-16-8", 0, 10, 3, 32, 32, 1.0), Catch::Contains("outside [0, 1)"));
}

TEST_CASE("models: WideResNet dropout masks in training only and leaves the weights alone", "[nn][models]") {
  Generator g1(3), g2(3);
  WideResNet plain(10, 1, g1), dropped(10, 1, g2, 10, 3, 0.3, 5);
  const auto a = plain.state_dict(), b = dropped.state_dict();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].value.to_vector() == b[i].value.to_vector());
  Generator gx(8);
  const Variable x(rand_normal({2, 3, 8, 8}, gx));
  plain.eval();
  dropped.eval();
  CHECK((dropped)(x).data().to_vector() == plain(x).data().to_vector());
  plain.train();
  dropped.train();
  const auto first = dropped(x).data().to_vector();
  CHECK(first != plain(x).data().to_vector());
  CHECK(dropped(x).data().to_vector() != first);  // a fresh mask per call
}
