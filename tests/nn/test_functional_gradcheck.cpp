// Gradients of the nn ops: every nn op case passes gradcheck (that their backward rules are differentiable in
// turn is checked for every case by tests/nn/test_op_table.cpp); and a Hessian-vector product through a small
// eval-mode conv net matches finite differences of its gradient.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "autograd/op_cases.h"
#include "core/ops.h"
#include "core/rng.h"
#include "nn/functional.h"
#include "nn/op_cases.h"

using namespace mg;

using Vars = std::vector<Variable>;

TEST_CASE("nn op cases: every case passes gradcheck with a non-zero gradient", "[nn][gradcheck]") {
  const std::vector<OpCase> cases = nn_op_cases();
  REQUIRE(cases.size() >= 20);
  for (const OpCase& c : cases) {
    const GradcheckResult r = run_case(c);
    CAPTURE(c.name, r.message, r.max_rel_err);
    CHECK(r.passed);
    CHECK(r.max_rel_err <= 1e-6);
    CHECK(r.checked > 0);
  }
}

namespace {

// conv -> batch_norm (eval) -> relu -> max_pool -> linear -> cross_entropy, f64.
struct TinyNet {
  Variable w1, b1, gamma, beta, w2, b2;
  Tensor running_mean, running_var;

  explicit TinyNet(Generator& g)
      : w1(uniform64({3, 2, 3, 3}, g, -0.5, 0.5), true), b1(uniform64({3}, g, -0.2, 0.2), true),
        gamma(uniform64({3}, g, 0.5, 1.5), true), beta(uniform64({3}, g, -0.3, 0.3), true),
        w2(uniform64({4, 27}, g, -0.5, 0.5), true), b2(uniform64({4}, g, -0.2, 0.2), true),
        running_mean(uniform64({3}, g, -0.2, 0.2)), running_var(uniform64({3}, g, 0.5, 1.5)) {}

  Vars params() const { return {w1, b1, gamma, beta, w2, b2}; }

  Variable loss(const Variable& x, const Vars& p) {
    Variable h = nn::conv2d(x, p[0], p[1], 1, 1);
    h = nn::batch_norm(h, p[2], p[3], running_mean, running_var, false);
    h = nn::max_pool2d(relu(h), 2, 2);
    return nn::cross_entropy(nn::linear(reshape(h, {x.size(0), 27}), p[4], p[5]), std::vector<int64_t>{1, 3});
  }
};

}  // namespace

TEST_CASE("Hessian-vector product through an eval-mode conv net matches finite differences of the gradient",
          "[nn][double_backward]") {
  Generator gen(2024, 0);
  TinyNet net(gen);
  const Tensor x0 = uniform64({2, 2, 6, 6}, gen);
  // Direction v for every parameter and for the input x.
  Vars theta = net.params();
  theta.push_back(Variable(x0, true));
  std::vector<Tensor> v;
  for (const Variable& p : theta) v.push_back(uniform64(p.shape(), gen));

  auto loss_at = [&](const Vars& all) {
    const Vars p(all.begin(), all.end() - 1);
    return net.loss(all.back(), p);
  };
  // Analytic: H v = d/dtheta (dL/dtheta . v), with create_graph through every op.
  const Vars g = grad({loss_at(theta)}, theta, {}, {.create_graph = true});
  Variable dot;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const Variable term = sum(g[i] * Variable(v[i]));
    dot = dot.defined() ? dot + term : term;
  }
  const Vars hv = grad({dot}, theta);

  // Numeric: (grad(theta + h v) - grad(theta - h v)) / 2h.
  const double h = 1e-5;
  auto gradient_at = [&](double step) {
    Vars shifted;
    for (std::size_t i = 0; i < theta.size(); ++i)
      shifted.emplace_back(ops::add(theta[i].data(), ops::mul(v[i], step)), true);
    return grad({loss_at(shifted)}, shifted);
  };
  const Vars plus = gradient_at(h), minus = gradient_at(-h);
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < theta.size(); ++i) {
    const Tensor numeric = ops::mul(ops::sub(plus[i].data(), minus[i].data()), 1.0 / (2 * h));
    const double err = ops::amax(ops::abs(ops::sub(hv[i].data(), numeric))).item();
    const double size = ops::amax(ops::abs(numeric)).item();
    CAPTURE(i, err, size);
    CHECK(ops::amax(ops::abs(hv[i].data())).item() > 0.0);  // every block of H v is non-trivial
    worst = std::max(worst, err);
    scale = std::max(scale, size);
  }
  CHECK(worst <= 1e-6 * scale);
}
