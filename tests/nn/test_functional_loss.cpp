// cross_entropy (hard and soft targets) against direct loops, its stability for large logits, ±inf logits
// against PyTorch (softmax, log_softmax, both cross-entropies and their gradients), and dropout.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/kernels/cross_entropy.h"
#include "core/ops.h"
#include "core/rng.h"
#include "nn/functional.h"
#include "tests/nn/test_module_python.h"

using namespace mg;

namespace {

// mean_i -sum_j p_ij log softmax(z_i)_j by direct loops (log-sum-exp shifted by the row max).
double naive_soft_ce(const Tensor& z, const Tensor& p) {
  const int64_t n = z.size(0), k = z.size(1);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    double mx = z.at({i, 0});
    for (int64_t j = 1; j < k; ++j) mx = std::max(mx, z.at({i, j}));
    double s = 0;
    for (int64_t j = 0; j < k; ++j) s += std::exp(z.at({i, j}) - mx);
    const double lse = mx + std::log(s);
    for (int64_t j = 0; j < k; ++j) total -= p.at({i, j}) * (z.at({i, j}) - lse);
  }
  return total / static_cast<double>(n);
}

Tensor one_hot(const std::vector<int64_t>& t, int64_t k, DType dtype) {
  Tensor p = Tensor::zeros({static_cast<int64_t>(t.size()), k}, dtype);
  for (std::size_t i = 0; i < t.size(); ++i) p.slice(0, i, i + 1).slice(1, t[i], t[i] + 1).fill_(1.0);
  return p;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

}  // namespace

TEST_CASE("cross_entropy: hard targets match direct loops, and equal soft one-hot targets", "[nn][loss]") {
  Generator gen(2, 0);
  const Tensor z = rand_uniform({6, 4}, gen, -3, 3, DType::F64);
  const std::vector<int64_t> t = {0, 3, 1, 1, 2, 3};
  const Tensor p = one_hot(t, 4, DType::F64);
  Variable zh(z, true), zs(z, true);
  const Variable hard = nn::cross_entropy(zh, t);
  const Variable soft = nn::cross_entropy(zs, Variable(p));
  REQUIRE(hard.shape() == Shape{});
  CHECK(std::abs(hard.item() - naive_soft_ce(z, p)) < 1e-14);
  CHECK(std::abs(hard.item() - soft.item()) < 1e-14);
  hard.backward();
  soft.backward();
  // d/dz = (softmax(z) - onehot) / N
  const Tensor expected = ops::mul(ops::sub(ops::softmax(z, 1), p), 1.0 / 6.0);
  CHECK(max_abs_diff(zh.grad().data(), expected) < 1e-15);
  CHECK(max_abs_diff(zs.grad().data(), expected) < 1e-15);
}

TEST_CASE("cross_entropy: soft targets match direct loops", "[nn][loss]") {
  Generator gen(3, 0);
  const Tensor z = rand_uniform({5, 7}, gen, -3, 3, DType::F64);
  const Tensor p = ops::softmax(rand_uniform({5, 7}, gen, -2, 2, DType::F64), 1);
  CHECK(std::abs(nn::cross_entropy(Variable(z), Variable(p)).item() - naive_soft_ce(z, p)) < 1e-14);
  // A mixup-style target: lambda * onehot(y) + (1 - lambda) * onehot(y[perm]) gives the mixed hard losses.
  const std::vector<int64_t> y = {0, 1, 2, 3, 4}, y2 = {4, 0, 1, 2, 3};
  const double lam = 0.3;
  const Tensor mixed = ops::add(ops::mul(one_hot(y, 7, DType::F64), lam), ops::mul(one_hot(y2, 7, DType::F64), 1 - lam));
  const double expected = lam * nn::cross_entropy(Variable(z), y).item() + (1 - lam) * nn::cross_entropy(Variable(z), y2).item();
  CHECK(std::abs(nn::cross_entropy(Variable(z), Variable(mixed)).item() - expected) < 1e-14);
}

TEST_CASE("cross_entropy: stable for large logits (1000) in f32 and f64", "[nn][loss]") {
  for (const DType dt : {DType::F32, DType::F64}) {
    const Tensor z = Tensor::from_vector({1000.0, 0.0, -1000.0, 1000.0, 999.0, 0.0}, {2, 3}, dt);
    Variable v(z, true);
    const Variable loss = nn::cross_entropy(v, std::vector<int64_t>{1, 0});
    // Row 0: lse = 1000, loss 1000. Row 1: lse = 1000 + log(1 + e^-1), loss log(1 + e^-1).
    const double expected = (1000.0 + std::log1p(std::exp(-1.0))) / 2.0;
    CHECK(std::isfinite(loss.item()));
    CHECK(std::abs(loss.item() - expected) < (dt == DType::F32 ? 1e-3 : 1e-12));
    loss.backward();
    for (double g : v.grad().data().to_vector()) CHECK(std::isfinite(g));
    const Variable soft = nn::cross_entropy(Variable(z), Variable(one_hot({1, 0}, 3, dt)));
    CHECK(std::abs(soft.item() - expected) < (dt == DType::F32 ? 1e-3 : 1e-12));
  }
}

namespace {

// Equal as PyTorch results are compared: both NaN, or the same infinity, or finite and within 1e-12.
bool same_value(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::abs(a - b) <= 1e-12 * (1.0 + std::abs(b));
}

void check_same_values(const std::string& what, const std::vector<double>& ours, const std::vector<double>& torch) {
  REQUIRE(ours.size() == torch.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    CAPTURE(what, i, ours[i], torch[i]);
    CHECK(same_value(ours[i], torch[i]));
  }
}

}  // namespace

TEST_CASE("softmax, log_softmax and cross_entropy agree with PyTorch on ±inf logits, forward and backward",
          "[nn][loss][softmax][torch]") {
  // Rows: a +inf logit, a -inf logit, all -inf, +inf and -inf together, finite. Targets hit both an infinite
  // and a finite entry of the infinite rows; row 1's soft target puts no mass on its -inf logit.
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> logits = {inf, 0, 1, -inf, 0, 1, -inf, -inf, -inf, inf, -inf, 0, 0.5, 1, 2};
  const std::vector<int64_t> targets = {1, 0, 1, 0, 2};
  const std::vector<double> probs = {0.2, 0.3, 0.5, 0, 0.5, 0.5, 0.2, 0.3, 0.5, 0.2, 0.3, 0.5, 0.2, 0.3, 0.5};
  const Tensor z = Tensor::from_vector(logits, {5, 3}), p = Tensor::from_vector(probs, {5, 3});

  std::vector<double> ours;
  auto append = [&](const Tensor& t) { for (double v : t.to_vector()) ours.push_back(v); };
  append(ops::softmax(z, 1));
  append(ops::log_softmax(z, 1));
  Tensor hard_rows = Tensor::empty({5}, DType::F64), soft_rows = Tensor::empty({5}, DType::F64);
  kernels::cross_entropy_hard_rows<double>(z.data<double>(), targets.data(), 5, 3, hard_rows.data<double>());
  kernels::cross_entropy_soft_rows<double>(z.data<double>(), p.data<double>(), 5, 3, soft_rows.data<double>());
  append(hard_rows);
  append(soft_rows);
  Variable zh(z.clone(), true), zs(z.clone(), true);
  nn::cross_entropy(zh, targets).backward();
  nn::cross_entropy(zs, Variable(p)).backward();
  append(zh.grad().data());
  append(zs.grad().data());

  const std::string torch_out = test::run_python(R"(
import torch, torch.nn.functional as F
inf = float('inf')
z = torch.tensor([[inf, 0, 1], [-inf, 0, 1], [-inf, -inf, -inf], [inf, -inf, 0], [0.5, 1, 2]], dtype=torch.float64)
t = torch.tensor([1, 0, 1, 0, 2])
p = torch.tensor([[0.2, 0.3, 0.5], [0, 0.5, 0.5]] + [[0.2, 0.3, 0.5]] * 3, dtype=torch.float64)
out = [F.softmax(z, 1), F.log_softmax(z, 1), F.cross_entropy(z, t, reduction='none'),
       F.cross_entropy(z, p, reduction='none')]
for target in (t, p):
    zz = z.clone().requires_grad_()
    F.cross_entropy(zz, target).backward()
    out.append(zz.grad)
print(' '.join(repr(float(v)) for o in out for v in o.flatten()))
)");
  check_same_values("softmax, log_softmax, hard and soft CE rows, their gradients", ours, test::parse_numbers(torch_out));

  // The forward and the backward's softmax agree by construction: hard CE = -log_softmax at the target.
  const Tensor log_p = ops::log_softmax(z, 1);
  for (int64_t i = 0; i < 5; ++i) {
    CAPTURE(i);
    CHECK(same_value(hard_rows.data<double>()[i], -log_p.at({i, targets[static_cast<std::size_t>(i)]})));
  }
}

TEST_CASE("cross_entropy: bad targets are clear errors", "[nn][loss][errors]") {
  const Variable z(Tensor::zeros({2, 3}));
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(nn::cross_entropy(z, std::vector<int64_t>{0, 3}), Contains("target 3") && Contains("3 classes"));
  REQUIRE_THROWS_WITH(nn::cross_entropy(z, std::vector<int64_t>{0}), Contains("1 targets") && Contains("[2, 3]"));
  REQUIRE_THROWS_WITH(nn::cross_entropy(z, Variable(Tensor::zeros({2, 4}))), Contains("[2, 4]") && Contains("[2, 3]"));
}

TEST_CASE("dropout: inverted scaling, identity in eval, reproducible from the generator", "[nn][dropout]") {
  const Tensor x = Tensor::ones({200, 50});
  Generator a(7, 1), b(7, 1);
  Variable vx(x, true);
  const Variable y = nn::dropout(vx, 0.25, true, a);
  const std::vector<double> values = y.data().to_vector();
  int64_t zeros = 0;
  for (double v : values) {
    REQUIRE((v == 0.0 || std::abs(v - 1.0 / 0.75) < 1e-6));
    zeros += v == 0.0;
  }
  const double rate = static_cast<double>(zeros) / static_cast<double>(values.size());
  CHECK(std::abs(rate - 0.25) < 0.02);  // 10000 draws: standard error 0.0043
  CHECK(nn::dropout(Variable(x), 0.25, true, b).data().to_vector() == values);  // same seed, same mask
  // The gradient is the mask itself.
  y.backward(Variable(Tensor::ones({200, 50})));
  CHECK(vx.grad().data().to_vector() == values);
  // Eval mode and p = 0 return the input unchanged; p = 1 drops everything.
  CHECK(nn::dropout(vx, 0.5, false, a).same(vx));
  CHECK(nn::dropout(vx, 0.0, true, a).same(vx));
  CHECK(ops::amax(ops::abs(nn::dropout(vx, 1.0, true, a).data())).item() == 0.0);
  REQUIRE_THROWS_WITH(nn::dropout(vx, 1.5, true, a), Catch::Matchers::Contains("1.5"));
  REQUIRE_THROWS_WITH(nn::dropout_with_mask(vx, Tensor::ones({3})), Catch::Matchers::Contains("[200, 50]"));
}
