// Sequential runs a BatchNorm2d followed by a ReLU fused (BatchNorm2d::forward_relu): the outputs, running
// statistics and gradients are bitwise those of applying the children one by one; subclasses are not fused.
#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/ops.h"
#include "core/rng.h"
#include "nn/layers.h"
#include "tests/test_util.h"

using namespace mg;
using namespace mg::nn;

namespace {

std::shared_ptr<Sequential> conv_bn_relu_stack(Generator& gen) {
  auto seq = std::make_shared<Sequential>();
  seq->emplace<Conv2d>(3, 6, 3, gen, 1, 1, true);
  seq->emplace<BatchNorm2d>(6);
  seq->emplace<ReLU>();
  seq->emplace<Conv2d>(6, 5, 3, gen, 1, 1, true);
  seq->emplace<BatchNorm2d>(5);
  seq->emplace<ReLU>();
  return seq;
}

// The children of seq applied one by one, as an unfused Sequential would.
Variable one_by_one(Sequential& seq, const Variable& x) {
  Variable out = x;
  for (std::size_t i = 0; i < seq.size(); ++i) out = seq[i].forward(out);
  return out;
}

struct CountingReLU : ReLU {
  int calls = 0;
  Variable forward(const Variable& x) override {
    ++calls;
    return ReLU::forward(x);
  }
};

}  // namespace

TEST_CASE("sequential: BatchNorm2d + ReLU fused has the bits of the children one by one", "[nn][sequential]") {
  Generator gen(21, 0);
  auto seq = conv_bn_relu_stack(gen);
  const Tensor x = rand_uniform({4, 3, 8, 8}, gen, -1, 1);
  const Tensor gy = rand_uniform({4, 5, 8, 8}, gen, -1, 1);
  for (const bool training : {false, true}) {
    CAPTURE(training);
    training ? seq->train() : seq->eval();
    std::vector<Tensor> before;
    for (const StateEntry& e : seq->state_dict()) before.push_back(e.value.clone());
    {
      NoGradGuard no_grad;  // eval: the one-pass kernel
      const Tensor fused = (*seq)(Variable(x)).data();
      std::vector<Tensor> after_fused;
      for (const StateEntry& e : seq->state_dict()) after_fused.push_back(e.value.clone());
      std::size_t i = 0;
      for (StateEntry& e : seq->state_dict()) e.value.copy_(before[i++]);
      const Tensor plain = one_by_one(*seq, Variable(x)).data();
      CHECK(test::bitwise_equal(fused, plain));
      CHECK(ops::amax(fused).item() > 0.0);
      CHECK(ops::amin(fused).item() == 0.0);  // the ReLU did cut
      i = 0;
      for (const StateEntry& e : seq->state_dict()) CHECK(test::bitwise_equal(e.value, after_fused[i++]));
    }
    // With gradients recorded: the same gradients for the input and every parameter.
    Variable x1(x, true), x2(x, true);
    const Variable y1 = (*seq)(x1);
    std::vector<Variable> inputs{x1};
    for (auto& [name, p] : seq->named_parameters()) inputs.push_back(*p);
    const std::vector<Variable> g1 = grad({y1}, inputs, {Variable(gy)});
    inputs[0] = x2;
    const std::vector<Variable> g2 = grad({one_by_one(*seq, x2)}, inputs, {Variable(gy)});
    REQUIRE(g1.size() == g2.size());
    CHECK(ops::amax(ops::abs(g1[0].data())).item() > 0.0);
    for (std::size_t k = 0; k < g1.size(); ++k) CHECK(test::bitwise_equal(g1[k].data(), g2[k].data()));
  }
}

TEST_CASE("sequential: a ReLU subclass is not fused away", "[nn][sequential]") {
  Generator gen(22, 0);
  Sequential seq;
  seq.emplace<BatchNorm2d>(3);
  auto relu = std::make_shared<CountingReLU>();
  seq.push_back(relu);
  seq.eval();
  NoGradGuard no_grad;
  seq(Variable(rand_uniform({2, 3, 4, 4}, gen, -1, 1)));
  CHECK(relu->calls == 1);
}
