// max_pool2d and avg_pool2d against direct-loop references (f64): forward values and input gradients.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/rng.h"
#include "nn/functional.h"

using namespace mg;

namespace {

struct PoolCase {
  Shape x;
  int64_t kernel, stride;
};

// Direct loops: y = window max (first maximum on ties) or mean, and the gradient of dot(y, gy) w.r.t. x.
void naive_pool(const PoolCase& p, bool is_max, const Tensor& x, const Tensor& gy, Tensor& y, Tensor& gx) {
  const int64_t planes = p.x[0] * p.x[1], h = p.x[2], w = p.x[3];
  const int64_t oh_n = (h - p.kernel) / p.stride + 1, ow_n = (w - p.kernel) / p.stride + 1;
  y = Tensor::zeros({p.x[0], p.x[1], oh_n, ow_n}, DType::F64);
  gx = Tensor::zeros(p.x, DType::F64);
  const double *px = x.data<double>(), *pg = gy.data<double>();
  double *py = y.data<double>(), *pgx = gx.data<double>();
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t oh = 0; oh < oh_n; ++oh)
      for (int64_t ow = 0; ow < ow_n; ++ow) {
        const int64_t o = (pl * oh_n + oh) * ow_n + ow;
        double best = -std::numeric_limits<double>::infinity(), total = 0;
        int64_t best_at = -1;
        for (int64_t i = 0; i < p.kernel; ++i)
          for (int64_t j = 0; j < p.kernel; ++j) {
            const int64_t at = (pl * h + oh * p.stride + i) * w + ow * p.stride + j;
            total += px[at];
            if (px[at] > best) {
              best = px[at];
              best_at = at;
            }
          }
        const double area = static_cast<double>(p.kernel * p.kernel);
        py[o] = is_max ? best : total / area;
        if (is_max) {
          pgx[best_at] += pg[o];
        } else {
          for (int64_t i = 0; i < p.kernel; ++i)
            for (int64_t j = 0; j < p.kernel; ++j) pgx[(pl * h + oh * p.stride + i) * w + ow * p.stride + j] += pg[o] / area;
        }
      }
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

}  // namespace

TEST_CASE("pooling: max and average match direct loops (values and gradients)", "[nn][pool]") {
  // Non-overlapping, overlapping (k > stride: one input can win two windows), strided with uncovered
  // borders, global (PreAct ResNet's avg_pool2d(out, 4)), and k < stride.
  const std::vector<PoolCase> cases = {{{2, 3, 8, 8}, 2, 2}, {{2, 2, 7, 9}, 3, 2}, {{3, 2, 7, 7}, 2, 2},
                                       {{4, 5, 4, 4}, 4, 4}, {{1, 2, 9, 8}, 2, 3}, {{2, 2, 5, 5}, 3, 1}};
  for (const PoolCase& p : cases) {
    for (const bool is_max : {true, false}) {
      CAPTURE(to_string(p.x), p.kernel, p.stride, is_max);
      Generator gen(21, p.kernel * 10 + p.stride);
      const Tensor x = rand_uniform(p.x, gen, -1, 1, DType::F64);
      Variable vx(x, true);
      const Variable y = is_max ? nn::max_pool2d(vx, p.kernel, p.stride) : nn::avg_pool2d(vx, p.kernel, p.stride);
      const Tensor gy = rand_uniform(y.shape(), gen, -1, 1, DType::F64);
      Tensor y_ref, gx_ref;
      naive_pool(p, is_max, x, gy, y_ref, gx_ref);
      CHECK(max_abs_diff(y.data(), y_ref) < 1e-14);
      const Variable gx = grad({y}, {vx}, {Variable(gy)})[0];
      CHECK(max_abs_diff(gx.data(), gx_ref) < 1e-14);
    }
  }
}

TEST_CASE("max_pool2d: ties go to the first maximum, like PyTorch", "[nn][pool]") {
  Variable x(Tensor::from_vector(std::vector<float>{1, 3, 3, 0}, {1, 1, 2, 2}), true);
  const Variable y = nn::max_pool2d(x, 2, 2);
  CHECK(y.item() == 3.0f);
  y.backward();
  CHECK(x.grad().data().to_vector() == std::vector<double>{0, 1, 0, 0});
}

TEST_CASE("pooling: bad kernels are errors naming the input", "[nn][pool][errors]") {
  const Variable x(Tensor::zeros({2, 3, 4, 4}));
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(nn::max_pool2d(x, 5, 1), Contains("kernel 5") && Contains("[2, 3, 4, 4]"));
  REQUIRE_THROWS_WITH(nn::avg_pool2d(x, 2, 0), Contains("stride"));
  REQUIRE_THROWS_WITH(nn::avg_pool2d(Variable(Tensor::zeros({3, 4, 4})), 2, 2), Contains("4-d"));
}
