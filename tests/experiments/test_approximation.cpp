// The paper's approximation: exactness where the expansion is exact, agreement with the moment formulas,
// the Beta(α+1, α) form of the mixup loss, and the error falling with the segment scale.
#include <catch2/catch.hpp>

#include <numbers>

#include "autograd/functions.h"
#include "core/ops.h"
#include "experiments/approximation.h"
#include "tests/test_util.h"

using namespace mg;
using namespace mg::experiments;

namespace {

// n points of two noisy interleaved half-moons, as (n, 2) f64 inputs and labels.
void two_moons(int64_t n, Generator& gen, Tensor& x, std::vector<int64_t>& y) {
  x = Tensor::empty({n, 2}, DType::F64);
  y.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    y[i] = i % 2;
    const double t = gen.uniform() * std::numbers::pi;
    x.data<double>()[2 * i] = (y[i] ? 1 - std::cos(t) : std::cos(t)) + 0.1 * gen.normal();
    x.data<double>()[2 * i + 1] = (y[i] ? 0.5 - std::sin(t) : std::sin(t)) + 0.1 * gen.normal();
  }
}

// ℓ for the squared loss: ‖z‖²/2 − z_y.
double squared_loss(const Tensor& z, int64_t row, int64_t label) {
  double s = 0;
  for (int64_t c = 0; c < z.size(1); ++c) s += 0.5 * z.at({row, c}) * z.at({row, c});
  return s - z.at({row, label});
}

}  // namespace

TEST_CASE("linear model, squared loss: L_std + R1 + R2 equals L_mix exactly", "[experiments][approximation]") {
  Generator gen(21, 0);
  const int64_t n = 12, k = 3;
  const Tensor x = rand_uniform({n, 4}, gen, -1, 1, DType::F64);
  std::vector<int64_t> y(n);
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<int64_t>(gen.below(k));
  const Tensor w = rand_normal({k, 4}, gen, 0, 1, DType::F64), b = rand_normal({k}, gen, 0, 1, DType::F64);
  const Classifier f = [&](const Variable& v) { return matmul(v, transpose(Variable(w), 0, 1)) + Variable(b); };
  const double alpha = 1.0;
  const ApproxResult r = mixup_approximation(f, x, y, k, {.alpha = alpha, .quadrature = 6, .loss = ApproxLoss::Squared});
  CHECK(r.r3 == 0.0);
  CHECK(std::abs(r.l_std + r.r1 + r.r2 - r.l_mix) <= 1e-10 * std::abs(r.l_mix));

  // R1 and R2 agree with the moment formulas written out independently:
  // R1 = E[1−λ]/n Σᵢ (f(xᵢ) − yᵢ)ᵀ W (x̄ − xᵢ),  R2 = E[(1−λ)²]/(2n) Σᵢ meanⱼ ‖W (xⱼ − xᵢ)‖².
  const Tensor fx = ops::add(ops::matmul(x, w.transpose(0, 1)), b);
  const Tensor xbar = ops::mean(x, {0});
  double r1 = 0, r2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    const Tensor xi = x.select(0, i);
    Tensor slope = fx.select(0, i).clone();
    slope.data<double>()[y[i]] -= 1.0;
    r1 += ops::sum(ops::mul(slope, ops::matmul(w, ops::sub(xbar, xi)))).item();
    for (int64_t j = 0; j < n; ++j) {
      const Tensor v = ops::matmul(w, ops::sub(x.select(0, j), xi));
      r2 += ops::sum(ops::mul(v, v)).item() / n;
    }
  }
  CHECK(r.r1 == Approx(mean_one_minus_lambda(alpha) * r1 / n).epsilon(1e-12));
  CHECK(r.r2 == Approx(mean_sq_one_minus_lambda(alpha) * r2 / (2 * n)).epsilon(1e-12));

  // And L_mix equals the original mixup loss: λ ~ Beta(α, α) = U(0, 1) for α = 1, mixed labels, every pair,
  // integrated exactly over λ (Simpson's rule is exact for the cubic integrand).
  double original = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      auto integrand = [&](double lam) {
        const Tensor mixed = ops::add(ops::mul(x.select(0, i), lam), ops::mul(x.select(0, j), 1 - lam)).unsqueeze(0);
        const Tensor z = ops::add(ops::matmul(mixed, w.transpose(0, 1)), b);
        return lam * squared_loss(z, 0, y[i]) + (1 - lam) * squared_loss(z, 0, y[j]);
      };
      original += (integrand(0) + 4 * integrand(0.5) + integrand(1)) / 6 / (n * n);
    }
  CHECK(r.l_mix == Approx(original).epsilon(1e-12));
}

TEST_CASE("tanh MLP, cross-entropy: the error against L_mix − L_std falls with the segment scale",
          "[experiments][approximation]") {
  // With the same (λ, partner) draws for L_mix and R1..R3, L_mix − L_std − (R1 + R2 + R3) is the third-order
  // Taylor remainder of those draws: it shrinks like s³ while R1 ~ s and R2, R3 ~ s². So the relative error
  // against the regularisation part must fall at least like s, and so must the error of the second-order
  // part alone, (L_mix − L_std − R1) against R2 + R3. A wrong R1 leaves the first at O(1); a wrong R2 or R3
  // (a factor, a sign, a missing term) leaves the second at O(1).
  Generator gen(22, 0);
  Tensor x;
  std::vector<int64_t> y;
  two_moons(64, gen, x, y);
  const Tensor w1 = rand_normal({2, 16}, gen, 0, 1.5, DType::F64), w2 = rand_normal({16, 2}, gen, 0, 1.5, DType::F64);
  const Classifier f = [&](const Variable& v) { return matmul(tanh(matmul(v, Variable(w1))), Variable(w2)); };
  double at_one = 0, at_smallest = 0;
  for (double s : {1.0, 0.5, 0.25, 0.125, 0.0625, 1.0 / 32, 1.0 / 64}) {
    const ApproxResult r = mixup_approximation(f, x, y, 2, {.alpha = 1.0, .scale = s, .draws = 32, .seed = 5});
    const double second = std::abs((r.l_mix - r.l_std - r.r1) - (r.r2 + r.r3)) / std::abs(r.r2 + r.r3);
    INFO("s = " << s << " rel_error_reg = " << r.rel_error_reg << " second-order error = " << second);
    CHECK(r.r3 != 0.0);  // a smooth net has curvature
    if (s <= 1.0 / 16) {
      CHECK(r.rel_error_reg <= 0.1 * s);
      CHECK(second <= 0.5 * s);
    }
    if (s == 1.0) at_one = r.rel_error_reg;
    at_smallest = r.rel_error_reg;
  }
  CHECK(at_smallest < at_one / 64);  // s shrank 64×
}

TEST_CASE("ReLU nets have R3 = 0 and eps_mix is R c_x E[1-λ]", "[experiments][approximation]") {
  Generator gen(23, 0);
  Tensor x;
  std::vector<int64_t> y;
  two_moons(32, gen, x, y);
  x = ops::add(x, 2.0);  // keep inputs away from the origin
  const Tensor w1 = rand_normal({2, 16}, gen, 0, 1, DType::F64), w2 = rand_normal({16, 2}, gen, 0, 1, DType::F64);
  const Classifier f = [&](const Variable& v) { return matmul(relu(matmul(v, Variable(w1))), Variable(w2)); };
  const ApproxResult r = mixup_approximation(f, x, y, 2, {.alpha = 0.5, .draws = 8});
  CHECK(r.r3 == 0.0);
  CHECK(r.r2 > 0.0);
  const EpsMix e = eps_mix(f, x, y, 0.5);
  CHECK(e.mean_one_minus_lambda == Approx(0.5 / 2.0));
  CHECK(e.min_cos > 0.0);
  CHECK(e.min_cos <= 1.0);
  CHECK(e.eps_mix == Approx(e.min_cos * e.c_x * e.mean_one_minus_lambda));
  CHECK_THROWS_WITH(mixup_approximation(f, x, y, 2, {.alpha = 0.0}), Catch::Contains("alpha"));
}
