// Module infrastructure: PyTorch-style names and order, train/eval, strict load_state_dict, dtype changes,
// and PyTorch's default initialisation bounds. Uses a toy module so it needs no nn::functional op.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/functions.h"
#include "nn/init.h"
#include "nn/layers/sequential.h"
#include "nn/module.h"

using namespace mg;
using namespace mg::nn;

namespace {

// A linear map with a BatchNorm-like set of buffers, enough to exercise every Module feature.
struct Toy : Module {
  Toy(int64_t in, int64_t out) {
    register_parameter("weight", weight, Tensor::full({out, in}, 0.5));
    register_parameter("bias", bias, Tensor::zeros({out}));
    register_buffer("running_mean", running_mean, Tensor::zeros({out}));
    register_buffer("num_batches_tracked", count, Tensor::scalar(0.0, DType::F64), true);
  }
  Variable forward(const Variable& x) override { return matmul(x, transpose(weight, 0, 1)) + bias; }
  Variable weight, bias;
  Tensor running_mean, count;
};

// Two Toys in a Sequential, under "body", plus a parameter of the root: names like "body.1.weight".
struct Root : Module {
  Root() {
    register_parameter("scale", scale, Tensor::ones({1}));
    body = register_module("body", std::make_shared<Sequential>());
    body->emplace<Toy>(3, 4).emplace<Toy>(4, 2);
  }
  Variable forward(const Variable& x) override { return (*body)(x) * scale; }
  Variable scale;
  std::shared_ptr<Sequential> body;
};

std::vector<std::string> names_of(const std::vector<StateEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.name);
  return out;
}

// The message of the mg::Error that fn throws ("" when it throws none).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("module: names and order follow PyTorch's state_dict", "[nn][module]") {
  Root root;
  std::vector<std::string> params;
  for (auto& [name, v] : root.named_parameters()) params.push_back(name);
  CHECK(params == std::vector<std::string>{"scale", "body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias"});
  CHECK(names_of(root.named_buffers()) ==
        std::vector<std::string>{"body.0.running_mean", "body.0.num_batches_tracked", "body.1.running_mean",
                                 "body.1.num_batches_tracked"});
  const auto sd = root.state_dict();
  CHECK(names_of(sd) == std::vector<std::string>{"scale", "body.0.weight", "body.0.bias", "body.0.running_mean",
                                                 "body.0.num_batches_tracked", "body.1.weight", "body.1.bias",
                                                 "body.1.running_mean", "body.1.num_batches_tracked"});
  CHECK(sd[4].integer);
  CHECK_FALSE(sd[3].integer);
  CHECK(sd[4].value.dim() == 0);
  for (auto& [name, v] : root.named_parameters()) CHECK(v->requires_grad());
}

TEST_CASE("module: buffers and state_dict share storage with the module", "[nn][module]") {
  Root root;
  auto buffers = root.named_buffers();
  buffers[0].value.fill_(7.0);
  auto& toy = static_cast<Toy&>((*root.body)[0]);
  CHECK(toy.running_mean.at({2}) == 7.0);
  auto sd = root.state_dict();
  sd[1].value.fill_(-1.0);  // body.0.weight
  CHECK(toy.weight.data().at({0, 0}) == -1.0);
}

TEST_CASE("module: train and eval are recursive", "[nn][module]") {
  Root root;
  CHECK(root.is_training());
  CHECK((*root.body)[1].is_training());
  root.eval();
  CHECK_FALSE(root.is_training());
  CHECK_FALSE(root.body->is_training());
  CHECK_FALSE((*root.body)[1].is_training());
  root.train();
  CHECK((*root.body)[0].is_training());
}

TEST_CASE("module: empty Sequential is the identity", "[nn][module]") {
  Sequential s;
  const Variable x(Tensor::arange(6).reshape({2, 3}));
  CHECK(s(x).data().to_vector() == x.data().to_vector());
  CHECK(s.state_dict().empty());
}

TEST_CASE("module: load_state_dict round trip converts dtypes", "[nn][module]") {
  Root a, b;
  a.to(DType::F64);
  CHECK(a.dtype() == DType::F64);
  int k = 0;
  for (auto& e : a.state_dict()) e.value.fill_(0.25 * ++k);
  b.load_state_dict(a.state_dict());  // f64 values into an f32 module
  CHECK(b.dtype() == DType::F32);
  const auto sa = a.state_dict(), sb = b.state_dict();
  REQUIRE(sa.size() == sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) {
    CHECK(sb[i].value.to_vector() == sa[i].value.to_vector());
    CHECK(sb[i].value.dtype() == (sb[i].integer ? DType::F64 : DType::F32));
  }
  // The model still computes with the loaded values.
  const Variable y = b(Variable(Tensor::ones({1, 3})));
  CHECK(y.shape() == Shape{1, 2});
}

TEST_CASE("module: load_state_dict is strict and names the tensor and shapes", "[nn][module]") {
  Root root;
  const auto good = root.state_dict();
  std::vector<StateEntry> entries;
  for (const auto& e : good) entries.push_back({e.name, e.value.clone(), e.integer});

  SECTION("missing") {
    auto missing = entries;
    missing.erase(missing.begin() + 1);
    const std::string msg = error_of([&] { root.load_state_dict(missing); });
    CHECK(msg.find("missing tensor 'body.0.weight'") != std::string::npos);
    CHECK(msg.find("[4, 3]") != std::string::npos);
  }
  SECTION("extra") {
    auto extra = entries;
    extra.push_back({"body.2.weight", Tensor::zeros({5, 6})});
    const std::string msg = error_of([&] { root.load_state_dict(extra); });
    CHECK(msg.find("unexpected tensor 'body.2.weight'") != std::string::npos);
    CHECK(msg.find("[5, 6]") != std::string::npos);
  }
  SECTION("mis-shaped, and nothing is written") {
    auto bad = entries;
    bad[0].value = Tensor::full({1}, 3.0);  // scale: fine, would be written first
    bad[6].value = Tensor::zeros({3, 2});   // body.1.bias is [2]
    const std::string msg = error_of([&] { root.load_state_dict(bad); });
    CHECK(msg.find("'body.1.bias'") != std::string::npos);
    CHECK(msg.find("[3, 2]") != std::string::npos);
    CHECK(msg.find("[2]") != std::string::npos);
    CHECK(root.scale.data().item() == 1.0);
  }
  SECTION("duplicated") {
    auto dup = entries;
    dup.push_back(entries[0]);
    CHECK(error_of([&] { root.load_state_dict(dup); }).find("'scale' appears twice") != std::string::npos);
  }
  SECTION("num_batches_tracked may be absent") {
    auto& toy = static_cast<Toy&>((*root.body)[0]);
    toy.count.fill_(5.0);
    std::vector<StateEntry> partial;
    for (const auto& e : entries)
      if (!e.integer) partial.push_back(e);
    partial[0].value.fill_(2.0);
    root.load_state_dict(partial);
    CHECK(toy.count.item() == 5.0);
    CHECK(root.scale.data().item() == 2.0);
  }
}

TEST_CASE("module: to() converts parameters and buffers in place", "[nn][module]") {
  Root root;
  auto params_before = root.named_parameters();
  root.to(DType::F64);
  auto params_after = root.named_parameters();
  REQUIRE(params_before.size() == params_after.size());
  for (std::size_t i = 0; i < params_after.size(); ++i) {
    CHECK(params_before[i].second == params_after[i].second);  // same slots, new contents
    CHECK(params_after[i].second->dtype() == DType::F64);
    CHECK(params_after[i].second->requires_grad());
  }
  for (const auto& b : root.named_buffers()) CHECK(b.value.dtype() == DType::F64);
  const Variable y = root(Variable(Tensor::ones({2, 3}, DType::F64)));
  CHECK(y.dtype() == DType::F64);
  CHECK(y.data().at({0, 0}) == Approx(0.5 * 1.5 * 4));  // each Toy: sum of 0.5 * inputs
}

TEST_CASE("init: PyTorch's default bounds, deterministic per seed", "[nn][init]") {
  Generator g1(42), g2(42), g3(43);
  const Shape shape{64, 32, 3, 3};
  CHECK(init::fan_in(shape) == 288);
  const Tensor a = init::kaiming_uniform(shape, g1, std::sqrt(5.0));
  const Tensor b = init::kaiming_uniform(shape, g2, std::sqrt(5.0));
  const Tensor c = init::kaiming_uniform(shape, g3, std::sqrt(5.0));
  CHECK(a.to_vector() == b.to_vector());
  CHECK(a.to_vector() != c.to_vector());
  const double bound = 1.0 / std::sqrt(288.0);
  double lo = 1, hi = -1, sum_sq = 0;
  for (double v : a.to_vector()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum_sq += v * v;
  }
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  CHECK(hi > 0.99 * bound);
  CHECK(lo < -0.99 * bound);
  // U(-b, b) has variance b^2 / 3.
  CHECK(sum_sq / a.numel() == Approx(bound * bound / 3).epsilon(0.03));
  // kaiming_uniform with a = 0 (ReLU gain) has bound sqrt(6 / fan_in).
  Generator g4(1);
  const Tensor r = init::kaiming_uniform({10, 24}, g4, 0.0);
  double m = 0;
  for (double v : r.to_vector()) m = std::max(m, std::abs(v));
  CHECK(m <= std::sqrt(6.0 / 24));
  CHECK(m > 0.9 * std::sqrt(6.0 / 24));
}
