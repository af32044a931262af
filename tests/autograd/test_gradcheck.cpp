// gradcheck itself: every core op passes, and the checker catches wrong and all-zero gradients.
#include <catch2/catch.hpp>

#include "autograd/functions.h"
#include "autograd/op_cases.h"
#include "core/ops.h"

using namespace mg;

TEST_CASE("every core op passes gradcheck in float64", "[autograd][gradcheck]") {
  const std::vector<OpCase> cases = core_op_cases();
  REQUIRE(cases.size() >= 30);
  for (const OpCase& c : cases) {
    const GradcheckResult r = run_case(c);
    INFO(c.name << ": " << r.message);
    CHECK(r.passed);
    CHECK(r.max_rel_err <= 1e-6);
    CHECK(r.checked > 0);
  }
}

namespace {

// tanh with a classic wrong backward (1 − y instead of 1 − y²), and one whose backward is all zeros.
Variable wrong_tanh(const Variable& x) {
  const Tensor y = ops::tanh(x.data());
  return make_result(y, {x}, "wrong_tanh", [y](const Variable& g, const std::vector<bool>&) {
    return std::vector<Variable>{g * Variable(ops::add(ops::neg(y), 1.0))};  // should be 1 − y²
  });
}
Variable zero_grad_square(const Variable& x) {
  return make_result(ops::mul(x.data(), x.data()), {x}, "zero_grad_square",
                     [](const Variable& g, const std::vector<bool>&) { return std::vector<Variable>{g * 0.0}; });
}
Variable slightly_wrong_exp(const Variable& x) {
  return make_result(ops::exp(x.data()), {x}, "slightly_wrong_exp", [x](const Variable& g, const std::vector<bool>&) {
    return std::vector<Variable>{g * exp(x) * (1.0 + 1e-4)};
  });
}

}  // namespace

TEST_CASE("gradcheck catches a wrong backward", "[autograd][gradcheck]") {
  Generator gen(1, 0);
  const std::vector<Tensor> inputs = {uniform64({3, 4}, gen)};
  const GradcheckResult wrong = gradcheck("wrong_tanh", [](const std::vector<Variable>& v) { return wrong_tanh(v[0]); }, inputs);
  CHECK(!wrong.passed);
  // On [-1, 1], |(1 − y) − (1 − y²)| = |y|(1 − y) reaches about 0.9 where tanh is most negative.
  CHECK(wrong.max_rel_err > 0.1);
  const GradcheckResult subtle = gradcheck("slightly_wrong_exp",
                                           [](const std::vector<Variable>& v) { return slightly_wrong_exp(v[0]); }, inputs);
  CHECK(!subtle.passed);
  CHECK(subtle.max_rel_err == Approx(1e-4).epsilon(0.05));
}

TEST_CASE("gradcheck fails an all-zero analytic gradient", "[autograd][gradcheck]") {
  Generator gen(2, 0);
  const GradcheckResult r = gradcheck("zero_grad_square",
                                      [](const std::vector<Variable>& v) { return zero_grad_square(v[0]); },
                                      {uniform64({4}, gen)}, {}, GradcheckOptions{.rel_tol = 10.0});
  CHECK(!r.passed);
  CHECK_THAT(r.message, Catch::Contains("all zeros"));
}

TEST_CASE("gradcheck skips points on a kink instead of failing them", "[autograd][gradcheck]") {
  // relu at exactly 0 has no derivative; the check must skip that point, not fail it.
  const Tensor x = Tensor::from_vector(std::vector<double>{-1.0, 0.0, 0.5, 2.0, -0.3, 1.2, 0.8, -2.0}, {8});
  const GradcheckResult r = gradcheck("relu_at_zero", [](const std::vector<Variable>& v) { return relu(v[0]); }, {x});
  CHECK(r.passed);
  CHECK(r.skipped == 1);
  CHECK(r.checked == 7);
}
