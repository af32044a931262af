// FGSM, FGM-L2 and PGD: closed forms on a linear model, the constraints, and PGD vs FGSM.
#include <catch2/catch.hpp>

#include "autograd/functions.h"
#include "core/ops.h"
#include "experiments/attacks.h"
#include "nn/functional.h"
#include "tests/test_util.h"

using namespace mg;
using namespace mg::experiments;

namespace {

// A linear classifier on flattened (N, 1, 2, 2) images: logits = x W^T + b.
struct Linear {
  Tensor w, b;
  Classifier classifier() const {
    return [this](const Variable& x) { return matmul(reshape(x, {x.size(0), -1}), transpose(Variable(w), 0, 1)) + Variable(b); };
  }
};

// ∇ₓ mean CE for the linear model, in closed form: (softmax(f) − onehot(y)) W / N.
Tensor closed_form_gradient(const Linear& m, const Tensor& x, const std::vector<int64_t>& y) {
  const int64_t n = x.size(0);
  const Tensor logits = ops::add(ops::matmul(x.reshape({n, -1}), m.w.transpose(0, 1)), m.b);
  Tensor p = ops::softmax(logits, 1);
  for (int64_t i = 0; i < n; ++i) p.data<double>()[i * p.size(1) + y[i]] -= 1.0;
  return ops::mul(ops::matmul(p, m.w), 1.0 / n).reshape(x.shape());
}

}  // namespace

TEST_CASE("FGSM on a linear model equals the closed form and respects the constraints", "[experiments][attacks]") {
  Generator gen(4, 0);
  Linear m{rand_normal({3, 4}, gen, 0, 1, DType::F64), rand_normal({3}, gen, 0, 1, DType::F64)};
  const Tensor x = rand_uniform({8, 1, 2, 2}, gen, 0, 1, DType::F64);
  const std::vector<int64_t> y = {0, 1, 2, 0, 1, 2, 0, 1};
  const double eps = 8.0 / 255;
  const Tensor g = closed_form_gradient(m, x, y);
  CHECK(test::all_close(input_gradient(m.classifier(), x, y), g, 1e-14));
  const Tensor adv = attack(m.classifier(), x, y, {.kind = AttackKind::FGSM, .eps = eps}, gen);
  const Tensor want = ops::clamp(ops::add(x, ops::mul(ops::sign(g), eps)), 0, 1);
  CHECK(test::all_close(adv, want, 1e-15));
  // inside [0, 1] and the ε-ball, and it moved
  const std::vector<double> a = adv.to_vector(), c = x.to_vector();
  double moved = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i] >= 0.0);
    CHECK(a[i] <= 1.0);
    CHECK(std::abs(a[i] - c[i]) <= eps + 1e-15);
    moved = std::max(moved, std::abs(a[i] - c[i]));
  }
  CHECK(moved == Approx(eps));
  // and it raises the loss
  const double clean = nn::cross_entropy(m.classifier()(Variable(x)), y).item();
  const double attacked = nn::cross_entropy(m.classifier()(Variable(adv)), y).item();
  CHECK(attacked > clean);
}

TEST_CASE("at the pixel bounds, FGSM and FGM-L2 clip the outward steps and keep the inward ones",
          "[experiments][attacks]") {
  Generator gen(5, 0);
  Linear m{rand_normal({3, 4}, gen, 0, 1, DType::F64), rand_normal({3}, gen, 0, 1, DType::F64)};
  Tensor x = Tensor::zeros({4, 1, 2, 2}, DType::F64);
  x.slice(0, 2, 4).fill_(1.0);
  const std::vector<int64_t> y = {0, 1, 2, 1};
  const double eps = 0.3;
  const Tensor g = closed_form_gradient(m, x, y);
  const Tensor unit_l2 = ops::div(g.reshape({4, 4}), ops::sqrt(ops::sum(ops::mul(g, g).reshape({4, 4}), {1}, true)));
  for (AttackKind kind : {AttackKind::FGSM, AttackKind::FGM_L2}) {
    INFO(attack_name(kind));
    const std::vector<double> step = kind == AttackKind::FGSM ? ops::sign(g).to_vector() : unit_l2.to_vector();
    const std::vector<double> adv = attack(m.classifier(), x, y, {.kind = kind, .eps = eps}, gen).to_vector();
    const std::vector<double> clean = x.to_vector();
    int clipped = 0, kept = 0;
    for (std::size_t i = 0; i < adv.size(); ++i) {
      INFO("pixel " << i << " at " << clean[i] << ", step " << step[i]);
      const double moved = clean[i] + eps * step[i];
      if (moved < 0.0 || moved > 1.0) {
        CHECK(adv[i] == clean[i]);  // pushed outward: stays exactly at its bound
        ++clipped;
      } else {
        CHECK(adv[i] == Approx(moved).margin(1e-15));  // pushed inward: the full step
        kept += step[i] != 0.0;
      }
    }
    // the case is only meaningful if both kinds of pixel occur
    CHECK(clipped > 0);
    CHECK(kept > 0);
  }
}

TEST_CASE("FGM-L2 moves each sample by ε in L2 along the gradient", "[experiments][attacks]") {
  Generator gen(6, 0);
  Linear m{rand_normal({3, 4}, gen, 0, 1, DType::F64), rand_normal({3}, gen, 0, 1, DType::F64)};
  const Tensor x = rand_uniform({5, 1, 2, 2}, gen, 0.3, 0.7, DType::F64);  // far from the bounds: no clipping
  const std::vector<int64_t> y = {0, 1, 2, 0, 1};
  const double eps = 0.1;
  const Tensor adv = attack(m.classifier(), x, y, {.kind = AttackKind::FGM_L2, .eps = eps}, gen);
  const Tensor delta = ops::sub(adv, x).reshape({5, 4});
  const Tensor g = closed_form_gradient(m, x, y).reshape({5, 4});
  for (int64_t i = 0; i < 5; ++i) {
    const double norm = std::sqrt(ops::sum(ops::mul(delta.select(0, i), delta.select(0, i))).item());
    CHECK(norm == Approx(eps).epsilon(1e-12));
    const double gnorm = std::sqrt(ops::sum(ops::mul(g.select(0, i), g.select(0, i))).item());
    for (int64_t j = 0; j < 4; ++j) CHECK(delta.at({i, j}) == Approx(eps * g.at({i, j}) / gnorm).epsilon(1e-10));
  }
}

TEST_CASE("PGD reaches at least FGSM's loss and stays in the ε-ball; targeted steps lower the target loss",
          "[experiments][attacks]") {
  Generator gen(7, 0);
  // a small tanh network: the loss is not linear in x, so several steps matter
  const Variable w1(rand_normal({16, 12}, gen, 0, 1.5, DType::F64)), w2(rand_normal({4, 16}, gen, 0, 1.5, DType::F64));
  const Classifier f = [&](const Variable& x) {
    return matmul(tanh(matmul(reshape(x, {x.size(0), -1}), transpose(w1, 0, 1))), transpose(w2, 0, 1));
  };
  const Tensor x = rand_uniform({16, 3, 2, 2}, gen, 0, 1, DType::F64);
  std::vector<int64_t> y(16);
  for (int i = 0; i < 16; ++i) y[i] = i % 4;
  const double eps = 0.05;
  auto loss = [&](const Tensor& images, const std::vector<int64_t>& labels) {
    return nn::cross_entropy(f(Variable(images)), labels).item();
  };
  const Tensor fgsm = attack(f, x, y, {.kind = AttackKind::FGSM, .eps = eps}, gen);
  const Tensor pgd = attack(f, x, y, {.kind = AttackKind::PGD, .eps = eps, .steps = 20, .random_start = false}, gen);
  CHECK(loss(pgd, y) >= loss(fgsm, y));
  CHECK(loss(fgsm, y) > loss(x, y));
  CHECK(ops::amax(ops::abs(ops::sub(pgd, x))).item() <= eps + 1e-15);
  std::vector<int64_t> target(16, 3);
  const Tensor toward = attack(f, x, target, {.kind = AttackKind::FGSM, .eps = eps, .targeted = true}, gen);
  CHECK(loss(toward, target) < loss(x, target));
  CHECK_THROWS_WITH(parse_attack("cw"), Catch::Contains("cw"));
}
