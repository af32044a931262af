// The autograd engine: accumulation, grad(), no-grad, detach, version checks, higher order, deep graphs.
#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/ops.h"
#include "core/rng.h"
#include "tests/test_util.h"

using namespace mg;

namespace {
Variable leaf(std::vector<double> values, Shape shape) {
  return Variable(Tensor::from_vector(values, shape, DType::F64), true);
}
}  // namespace

TEST_CASE("a variable used twice accumulates both gradient paths", "[autograd]") {
  Variable x = leaf({1.0, 2.0, 3.0}, {3});
  const Variable y = sum(x * x + x * 3.0);  // dy/dx = 2x + 3
  y.backward();
  CHECK(x.grad().data().to_vector() == std::vector<double>{5.0, 7.0, 9.0});
  // A second backward on a fresh graph adds to the existing gradient, as in PyTorch.
  sum(x * 2.0).backward();
  CHECK(x.grad().data().to_vector() == std::vector<double>{7.0, 9.0, 11.0});
}

TEST_CASE("a graph with shared subexpressions (diamond) sums all paths", "[autograd]") {
  Variable x = leaf({0.5, -1.5}, {2});
  const Variable a = exp(x);
  const Variable y = sum(a * a + a);  // d/dx = 2e^{2x} + e^x
  y.backward();
  for (int i = 0; i < 2; ++i) {
    const double v = x.data().at({i});
    CHECK(x.grad().data().at({i}) == Approx(2 * std::exp(2 * v) + std::exp(v)).epsilon(1e-14));
  }
}

TEST_CASE("broadcast operands get gradients of their own shape", "[autograd]") {
  Variable a = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Variable b = leaf({10, 20, 30}, {3});
  Variable c = leaf({2}, {});
  sum((a + b) * c).backward();
  CHECK(b.grad().shape() == Shape{3});
  CHECK(b.grad().data().to_vector() == std::vector<double>{4, 4, 4});
  CHECK(c.grad().dim() == 0);
  CHECK(c.grad().item() == 21 + 2 * 60);
}

TEST_CASE("grad() returns input gradients and leaves parameter .grad alone", "[autograd]") {
  Variable w = leaf({2.0, -1.0}, {2});
  Variable x = leaf({3.0, 4.0}, {2});
  const Variable loss = sum(w * x * x);
  const std::vector<Variable> g = grad({loss}, {x});
  CHECK(g[0].data().to_vector() == std::vector<double>{12.0, -8.0});  // 2 w x
  CHECK(!w.grad().defined());
  CHECK(!x.grad().defined());
  Variable unused = leaf({1.0}, {1});
  const Variable loss2 = sum(w * x);
  CHECK_THROWS_WITH(grad({loss2}, {unused}), Catch::Contains("not used"));
}

TEST_CASE("no-grad mode and detach build no graph", "[autograd]") {
  Variable x = leaf({1.0, 2.0}, {2});
  {
    NoGradGuard guard;
    const Variable y = x * 2.0;
    CHECK(!y.requires_grad());
    CHECK(!y.grad_fn());
  }
  CHECK((x * 2.0).requires_grad());
  const Variable d = (x * 2.0).detach();
  CHECK(!d.requires_grad());
  const Variable y = sum(d * x);  // gradient flows only through x
  y.backward();
  CHECK(x.grad().data().to_vector() == std::vector<double>{2.0, 4.0});
  CHECK_THROWS_WITH(d.backward(), Catch::Contains("does not require grad"));
}

TEST_CASE("modifying a saved tensor in place makes backward throw", "[autograd]") {
  Variable w = leaf({1.0, 2.0}, {2});
  Variable x = leaf({3.0, 4.0}, {2});
  const Variable y = sum(w * x);  // mul saves x and w
  ops::mul_(x.mutable_data(), 2.0);
  CHECK_THROWS_WITH(y.backward(), Catch::Contains("modified by an in-place operation") && Catch::Contains("mul"));
  // Writes through a view count too (views share the version counter).
  Variable z = leaf({1.0, 2.0, 3.0, 4.0}, {4});
  const Variable s = sum(exp(z));
  Tensor view = z.data().slice(0, 1, 3);
  view.fill_(0.0);
  CHECK_THROWS_WITH(s.backward(), Catch::Contains("exp"));
}

TEST_CASE("backward twice without retain_graph is an error; with it, gradients add", "[autograd]") {
  Variable x = leaf({1.0, 2.0}, {2});
  const Variable y = sum(exp(x));
  y.backward({}, {.retain_graph = true});
  y.backward();
  CHECK(x.grad().data().at({1}) == Approx(2 * std::exp(2.0)));
  CHECK_THROWS_WITH(y.backward(), Catch::Contains("second time"));
}

TEST_CASE("Hessian-vector product of sum(x^3) is 6 x * v", "[autograd][higher-order]") {
  Generator gen(1, 1);
  Variable x(rand_uniform({5}, gen, -2, 2, DType::F64), true);
  const Variable v(rand_uniform({5}, gen, -1, 1, DType::F64));
  const Variable f = sum(pow(x, 3.0));
  const Variable g = grad({f}, {x}, {}, {.create_graph = true})[0];  // 3x^2, itself differentiable
  REQUIRE(g.requires_grad());
  const Variable hv = grad({sum(g * v)}, {x})[0];
  for (int i = 0; i < 5; ++i)
    CHECK(hv.data().at({i}) == Approx(6 * x.data().at({i}) * v.data().at({i})).epsilon(1e-14));
}

TEST_CASE("second derivatives through softmax, matmul and tanh match finite differences", "[autograd][higher-order]") {
  Generator gen(2, 1);
  const Tensor w0 = rand_uniform({4, 3}, gen, -1, 1, DType::F64);
  const Variable w(w0);
  auto grad_at = [&](const Tensor& xt, bool create) {
    Variable x(xt, true);
    const Variable f = sum(log_softmax(matmul(tanh(matmul(x, w)), transpose(w, 0, 1)), 1) * Variable(xt));
    return grad({f}, {x}, {}, {.create_graph = create})[0];
  };
  const Tensor x0 = rand_uniform({2, 4}, gen, -1, 1, DType::F64);
  const Tensor v = rand_uniform({2, 4}, gen, -1, 1, DType::F64);
  Variable x(x0, true);
  const Variable f = sum(log_softmax(matmul(tanh(matmul(x, w)), transpose(w, 0, 1)), 1) * Variable(x0));
  const Variable g = grad({f}, {x}, {}, {.create_graph = true})[0];
  const Tensor hv = grad({sum(g * Variable(v))}, {x})[0].data();
  // (grad(x0 + h v) - grad(x0 - h v)) / 2h, holding the constant factor fixed as in f
  const double h = 1e-5;
  auto grad_const = [&](const Tensor& xt) {
    Variable xv(xt, true);
    const Variable ff = sum(log_softmax(matmul(tanh(matmul(xv, w)), transpose(w, 0, 1)), 1) * Variable(x0));
    return grad({ff}, {xv})[0].data();
  };
  const Tensor fd = ops::mul(ops::sub(grad_const(ops::add(x0, ops::mul(v, h))), grad_const(ops::sub(x0, ops::mul(v, h)))),
                             1 / (2 * h));
  CHECK(test::all_close(hv, fd, 1e-8));
  (void)grad_at;
}

TEST_CASE("a 100000-op chain runs backward without recursion", "[autograd]") {
  Variable x = leaf({1.0}, {1});
  Variable y = x;
  for (int i = 0; i < 100000; ++i) y = y + 0.0;
  sum(y * 2.0).backward();
  CHECK(x.grad().data().item() == 2.0);
}

// Freeing a graph used to recurse (each Node's destructor dropped its edges' shared_ptrs, and a backward
// function's saved inputs hold their own grad_fn): a million-node chain needs several stack frames per node,
// far more than an 8 MiB stack holds, and crashed with a SEGV in ~Node. Both paths are freed here.
TEST_CASE("a 1000000-op chain is freed without recursion", "[autograd]") {
  constexpr int kOps = 1000000;
  Variable x = leaf({1.0}, {1});
  SECTION("edges only (no saved inputs), never run backward") {
    Variable y = x;
    for (int i = 0; i < kOps; ++i) y = y + 0.0;
    CHECK(y.grad_fn() != nullptr);
  }
  SECTION("saved inputs (each mul saves its input, which holds the previous node)") {
    Variable y = x;
    for (int i = 0; i < kOps; ++i) y = y * y;
    CHECK(y.grad_fn() != nullptr);
  }
  SECTION("after backward") {
    Variable y = x;
    for (int i = 0; i < kOps; ++i) y = y + 0.0;
    sum(y * 2.0).backward();
    CHECK(x.grad().data().item() == 2.0);
  }
  CHECK(x.data().item() == 1.0);
}

TEST_CASE("gradients returned by a backward rule are shape-checked", "[autograd]") {
  Variable x = leaf({1.0, 2.0}, {2});
  const Variable bad = make_result(x.data().clone(), {x}, "broken_op",
                                   [](const Variable& g, const std::vector<bool>&) -> std::vector<Variable> {
                                     return {Variable(Tensor::ones({3}, DType::F64))};
                                   });
  CHECK_THROWS_WITH(sum(bad).backward(), Catch::Contains("broken_op") && Catch::Contains("[3]") && Catch::Contains("[2]"));
}

TEST_CASE("to_dtype: the gradient comes back in the input's dtype, cast", "[autograd]") {
  const Variable x(Tensor::from_vector(std::vector<double>{1.0, -2.0, 3.0}, {3}, DType::F32), true);
  const Tensor c = Tensor::from_vector(std::vector<double>{0.1, 1e-9, -7.25}, {3}, DType::F64);
  sum(to_dtype(x, DType::F64) * Variable(c)).backward();
  REQUIRE(x.grad().dtype() == DType::F32);
  const std::vector<double> g = x.grad().data().to_vector();
  for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == static_cast<double>(static_cast<float>(c.to_vector()[i])));
  CHECK(g[0] != 0.0);
}
