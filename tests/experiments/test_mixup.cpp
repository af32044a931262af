// mixup: λ's distribution, the pairing, the mixed inputs and the equality of the two loss forms.
#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/ops.h"
#include "experiments/mixup.h"
#include "nn/functional.h"
#include "tests/test_util.h"

using namespace mg;
using namespace mg::experiments;

TEST_CASE("λ samples follow Beta(α, α): mean 1/2, variance 1/(4(2α+1))", "[experiments][mixup]") {
  for (double alpha : {0.2, 1.0, 4.0}) {
    Generator gen(10, 1);
    const int draws = 40000;
    double s = 0, s2 = 0;
    for (int i = 0; i < draws; ++i) {
      const double lam = draw_mixup(8, alpha, MixupMode::Batch, gen).lam.at(0);
      REQUIRE(lam >= 0.0);
      REQUIRE(lam <= 1.0);
      s += lam;
      s2 += lam * lam;
    }
    const double mean = s / draws, var = s2 / draws - mean * mean;
    INFO("alpha " << alpha);
    CHECK(mean == Approx(0.5).margin(0.006));
    CHECK(var == Approx(1.0 / (4 * (2 * alpha + 1))).margin(0.004));
  }
}

TEST_CASE("α = 0 is ERM; Elem mode draws one λ per sample", "[experiments][mixup]") {
  Generator gen(1, 1);
  const MixupPlan erm = draw_mixup(5, 0.0, MixupMode::Batch, gen);
  CHECK(erm.lam == std::vector<double>{1.0});
  CHECK(erm.perm == std::vector<int64_t>{0, 1, 2, 3, 4});
  const Variable x(Tensor::arange(10, DType::F64).reshape({5, 2}));
  CHECK(mix_inputs(x, erm).same(x));
  const MixupPlan elem = draw_mixup(5, 1.0, MixupMode::Elem, gen);
  CHECK(elem.lam.size() == 5);
  CHECK(elem.lam[0] != elem.lam[1]);
  CHECK_THROWS_WITH(draw_mixup(5, -1.0, MixupMode::Batch, gen), Catch::Contains("-1"));
}

TEST_CASE("mixed inputs are λx + (1-λ)x[perm] and gradients reach the unmixed x", "[experiments][mixup]") {
  Generator gen(2, 1);
  for (MixupMode mode : {MixupMode::Batch, MixupMode::Elem}) {
    const MixupPlan plan = draw_mixup(4, 1.0, mode, gen);
    Variable x(rand_uniform({4, 3}, gen, 0, 1, DType::F64), true);
    const Tensor r = rand_uniform({4, 3}, gen, -1, 1, DType::F64);
    const Variable mixed = mix_inputs(x, plan);
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 3; ++j)
        CHECK(mixed.data().at({i, j}) ==
              Approx(plan.lam_of(i) * x.data().at({i, j}) + (1 - plan.lam_of(i)) * x.data().at({plan.perm[i], j})));
    // d/dx_k sum(x̃ ⊙ r) = λ_k r_k + Σ_{i: perm[i] = k} (1 − λ_i) r_i
    const Tensor g = grad({sum(mixed * Variable(r))}, {x})[0].data();
    for (int64_t k = 0; k < 4; ++k)
      for (int64_t j = 0; j < 3; ++j) {
        double want = plan.lam_of(k) * r.at({k, j});
        for (int64_t i = 0; i < 4; ++i)
          if (plan.perm[i] == k) want += (1 - plan.lam_of(i)) * r.at({i, j});
        CHECK(g.at({k, j}) == Approx(want).epsilon(1e-12));
      }
  }
}

TEST_CASE("the mixup loss equals cross-entropy against the mixed soft labels", "[experiments][mixup]") {
  Generator gen(3, 1);
  const std::vector<int64_t> y = {0, 2, 1, 2, 3, 0};
  for (MixupMode mode : {MixupMode::Batch, MixupMode::Elem}) {
    const MixupPlan plan = draw_mixup(6, 0.7, mode, gen);
    Variable logits(rand_normal({6, 4}, gen, 0, 2, DType::F64), true);
    const Variable two_terms = mixup_loss(logits, y, plan);
    const Tensor soft = mixed_targets(y, plan, 4, DType::F64);
    const Variable against_soft = nn::cross_entropy(logits, Variable(soft));
    CHECK(two_terms.item() == Approx(against_soft.item()).epsilon(1e-13));
    // the same gradients too
    const Tensor g1 = grad({two_terms}, {logits})[0].data(), g2 = grad({against_soft}, {logits})[0].data();
    CHECK(test::all_close(g1, g2, 1e-14));
    // and the soft labels are distributions
    CHECK(test::all_close(ops::sum(soft, {1}), Tensor::ones({6}, DType::F64), 1e-15));
  }
}
