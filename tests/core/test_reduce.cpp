// Reductions over each axis, several axes and all axes, with and without keepdim.
#include <catch2/catch.hpp>

#include "core/ops.h"
#include "core/rng.h"
#include "tests/test_util.h"

using namespace mg;

TEST_CASE("sum, mean, amax, amin over each axis agree with explicit loops", "[core][reduce]") {
  Generator gen(3, 0);
  const Tensor t = rand_uniform({3, 4, 5}, gen, -1, 1, DType::F64);
  for (int64_t axis = 0; axis < 3; ++axis) {
    for (bool keepdim : {false, true}) {
      const Tensor s = ops::sum(t, {axis}, keepdim), mx = ops::amax(t, {axis}, keepdim);
      const Tensor mn = ops::amin(t, {axis}, keepdim), mean = ops::mean(t, {axis}, keepdim);
      Shape expected = t.shape();
      if (keepdim) expected[axis] = 1; else expected.erase(expected.begin() + axis);
      REQUIRE(s.shape() == expected);
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 4; ++j)
          for (int64_t k = 0; k < 5; ++k) {
            std::vector<int64_t> out_idx = {i, j, k};
            if (keepdim) out_idx[axis] = 0; else out_idx.erase(out_idx.begin() + axis);
            if ((axis == 0 && i) || (axis == 1 && j) || (axis == 2 && k)) continue;
            double total = 0, hi = -1e9, lo = 1e9;
            for (int64_t r = 0; r < t.shape()[axis]; ++r) {
              std::vector<int64_t> idx = {i, j, k};
              idx[axis] = r;
              total += t.at(idx);
              hi = std::max(hi, t.at(idx));
              lo = std::min(lo, t.at(idx));
            }
            CHECK(s.at(out_idx) == Approx(total).margin(1e-12));
            CHECK(mean.at(out_idx) == Approx(total / t.shape()[axis]).margin(1e-12));
            CHECK(mx.at(out_idx) == hi);
            CHECK(mn.at(out_idx) == lo);
          }
    }
  }
}

TEST_CASE("reductions over several axes and all axes", "[core][reduce]") {
  const Tensor t = Tensor::arange(24, DType::F64).reshape({2, 3, 4});
  CHECK(ops::sum(t).item() == 276.0);
  CHECK(ops::sum(t).dim() == 0);
  CHECK(ops::sum(t, {}, true).shape() == Shape{1, 1, 1});
  const Tensor s02 = ops::sum(t, {0, -1});
  REQUIRE(s02.shape() == Shape{3});
  CHECK(s02.to_vector() == std::vector<double>{60, 92, 124});  // sum_{i,k} (12i + 4j + k) = 60 + 32j
  CHECK(ops::amax(t, {1, 2}).to_vector() == std::vector<double>{11, 23});
  CHECK_THROWS_WITH(ops::sum(t, {3}), Catch::Contains("axis 3"));
}

TEST_CASE("argmax picks the first maximum along an axis", "[core][reduce]") {
  const Tensor t = Tensor::from_vector(std::vector<float>{1, 5, 5, 0, 9, 2}, {2, 3});
  CHECK(ops::argmax(t, 1) == std::vector<int64_t>{1, 1});  // the first of the tied 5s; then the 9
  CHECK(ops::argmax(t, 0) == std::vector<int64_t>{0, 1, 0});
}

TEST_CASE("sum_to_shape undoes broadcasting", "[core][reduce]") {
  const Tensor g = Tensor::ones({2, 3, 4}, DType::F64);
  CHECK(ops::sum_to_shape(g, {3, 1}).to_vector() == std::vector<double>{8, 8, 8});
  CHECK(ops::sum_to_shape(g, {}).item() == 24.0);
  CHECK(ops::sum_to_shape(g, {1, 4}).to_vector() == std::vector<double>{6, 6, 6, 6});
}

TEST_CASE("log_softmax is stable for large logits", "[core][softmax]") {
  const Tensor x = Tensor::from_vector(std::vector<double>{1000, 0, -1000, 1, 2, 3}, {2, 3});
  const Tensor ls = ops::log_softmax(x, 1);
  CHECK(ls.at({0, 0}) == Approx(0.0).margin(1e-12));
  CHECK(ls.at({0, 1}) == Approx(-1000.0));
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  CHECK(ls.at({1, 2}) == Approx(3.0 - lse).margin(1e-12));
  const Tensor sm = ops::softmax(x, 0);
  CHECK(sm.at({0, 0}) == Approx(1.0));
  CHECK(sm.at({0, 2}) + sm.at({1, 2}) == Approx(1.0));
}
