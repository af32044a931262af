// Broadcasting in every direction, checked element by element against explicit index arithmetic.
#include <catch2/catch.hpp>

#include "core/ops.h"
#include "core/rng.h"
#include "tests/test_util.h"

using namespace mg;

namespace {

// out[i,j,k] = a[...] + 10 * b[...] computed with explicit broadcasting of (2,3,4)-aligned indices.
void check_broadcast(const Shape& sa, const Shape& sb, const Shape& expected) {
  Generator gen(1, 2);
  const Tensor a = rand_uniform(sa, gen, -1, 1, DType::F64), b = rand_uniform(sb, gen, -1, 1, DType::F64);
  const Tensor out = ops::add(a, ops::mul(b, 10.0));
  REQUIRE(out.shape() == expected);
  const int64_t nd = static_cast<int64_t>(expected.size());
  auto pick = [&](const Tensor& t, const std::vector<int64_t>& idx) {
    std::vector<int64_t> local;
    for (int64_t d = nd - t.dim(); d < nd; ++d) local.push_back(t.shape()[d - (nd - t.dim())] == 1 ? 0 : idx[d]);
    return t.at(local);
  };
  std::vector<int64_t> idx(nd, 0);
  for (int64_t flat = 0; flat < numel(expected); ++flat) {
    int64_t rest = flat;
    for (int64_t d = nd - 1; d >= 0; --d) { idx[d] = rest % expected[d]; rest /= expected[d]; }
    REQUIRE(out.at(idx) == Approx(pick(a, idx) + 10 * pick(b, idx)).margin(1e-12));
  }
}

}  // namespace

TEST_CASE("binary ops broadcast in every direction", "[core][broadcast]") {
  SECTION("same shape") { check_broadcast({2, 3, 4}, {2, 3, 4}, {2, 3, 4}); }
  SECTION("trailing vector") { check_broadcast({2, 3, 4}, {4}, {2, 3, 4}); }
  SECTION("leading operand is smaller") { check_broadcast({4}, {2, 3, 4}, {2, 3, 4}); }
  SECTION("column against row") { check_broadcast({3, 1}, {1, 4}, {3, 4}); }
  SECTION("middle axis") { check_broadcast({2, 1, 4}, {3, 1}, {2, 3, 4}); }
  SECTION("scalar on either side") {
    check_broadcast({}, {2, 3}, {2, 3});
    check_broadcast({2, 3}, {}, {2, 3});
  }
  SECTION("size-1 against size-1") { check_broadcast({1, 1}, {1}, {1, 1}); }
}

TEST_CASE("incompatible shapes throw an error naming both shapes", "[core][broadcast]") {
  const Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 3, 2});
  CHECK_THROWS_WITH(ops::add(a, b), Catch::Contains("[2, 3]") && Catch::Contains("[4, 3, 2]"));
  CHECK_THROWS_WITH(ops::mul(a, Tensor::zeros({3, 2})), Catch::Contains("[2, 3]") && Catch::Contains("[3, 2]"));
  CHECK_THROWS_WITH(ops::matmul(a, Tensor::zeros({2, 3})), Catch::Contains("[2, 3]") && Catch::Contains("aligned"));
  CHECK_THROWS_WITH(ops::add(a, Tensor::zeros({2, 3}, DType::F64)), Catch::Contains("dtype"));
}

TEST_CASE("elementwise math matches the scalar functions", "[core][elementwise]") {
  const Tensor x = Tensor::from_vector(std::vector<double>{-2.0, -0.5, 0.0, 0.5, 3.0}, {5});
  const std::vector<double> v = x.to_vector();
  auto each = [&](const Tensor& t, auto f) {
    const std::vector<double> got = t.to_vector();
    for (std::size_t i = 0; i < v.size(); ++i) CHECK(got[i] == Approx(f(v[i])).margin(1e-15));
  };
  each(ops::relu(x), [](double a) { return a > 0 ? a : 0; });
  each(ops::abs(x), [](double a) { return std::abs(a); });
  each(ops::sign(x), [](double a) { return double((a > 0) - (a < 0)); });
  each(ops::sigmoid(x), [](double a) { return 1 / (1 + std::exp(-a)); });
  each(ops::tanh(x), [](double a) { return std::tanh(a); });
  each(ops::exp(x), [](double a) { return std::exp(a); });
  each(ops::clamp(x, -1, 1), [](double a) { return std::clamp(a, -1.0, 1.0); });
  each(ops::pow(x, 3.0), [](double a) { return a * a * a; });
  each(ops::gt(x, Tensor::scalar(0.0, DType::F64)), [](double a) { return double(a > 0); });
  each(ops::where(ops::lt(x, Tensor::scalar(0.0, DType::F64)), ops::neg(x), ops::mul(x, 2.0)),
       [](double a) { return a < 0 ? -a : 2 * a; });
  // sigmoid stays finite for large inputs
  const Tensor big = ops::sigmoid(Tensor::from_vector(std::vector<float>{-1000.f, 1000.f}, {2}));
  CHECK(big.to_vector() == std::vector<double>{0.0, 1.0});
}

TEST_CASE("relu and clamp keep NaN and relu keeps -0, as PyTorch does", "[core][elementwise]") {
  for (const DType dtype : {DType::F32, DType::F64}) {
    const Tensor x = Tensor::from_vector(std::vector<double>{std::nan(""), -0.0, -1.0, 2.0}, {4}, dtype);
    const std::vector<double> r = ops::relu(x).to_vector(), c = ops::clamp(x, 0, 1).to_vector();
    CHECK(std::isnan(r[0]));
    CHECK((r[1] == 0.0 && std::signbit(r[1])));
    CHECK(r[2] == 0.0);
    CHECK(r[3] == 2.0);
    CHECK(std::isnan(c[0]));
    CHECK(c[3] == 1.0);
  }
}
