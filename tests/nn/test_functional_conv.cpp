// conv2d and linear against direct-loop references (f64), bitwise determinism across thread counts, and
// shape errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "nn/functional.h"

using namespace mg;

namespace {

struct ConvCase {
  int64_t n, c, h, w, o, k, stride, padding;
};

int64_t out_size(int64_t size, int64_t k, int64_t stride, int64_t padding) {
  return (size + 2 * padding - k) / stride + 1;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

// Calls fn(n, o, oh, ow, c, i, j, ih, iw) for every term of the direct convolution sum that lies inside x.
template <typename Fn>
void for_each_term(const ConvCase& s, Fn fn) {
  const int64_t oh_n = out_size(s.h, s.k, s.stride, s.padding), ow_n = out_size(s.w, s.k, s.stride, s.padding);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t o = 0; o < s.o; ++o)
      for (int64_t oh = 0; oh < oh_n; ++oh)
        for (int64_t ow = 0; ow < ow_n; ++ow)
          for (int64_t c = 0; c < s.c; ++c)
            for (int64_t i = 0; i < s.k; ++i)
              for (int64_t j = 0; j < s.k; ++j) {
                const int64_t ih = oh * s.stride - s.padding + i, iw = ow * s.stride - s.padding + j;
                if (ih >= 0 && ih < s.h && iw >= 0 && iw < s.w) fn(n, o, oh, ow, c, i, j, ih, iw);
              }
}

struct Reference {
  Tensor y, gx, gw, gb;
};

// y = conv2d(x, w) + b, and the gradients of dot(y, gy) with respect to x, w and b, by direct loops.
Reference naive_conv(const ConvCase& s, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& gy) {
  const int64_t oh_n = out_size(s.h, s.k, s.stride, s.padding), ow_n = out_size(s.w, s.k, s.stride, s.padding);
  Reference r{Tensor::zeros({s.n, s.o, oh_n, ow_n}, DType::F64), Tensor::zeros(x.shape(), DType::F64),
              Tensor::zeros(w.shape(), DType::F64), Tensor::zeros({s.o}, DType::F64)};
  const double *px = x.data<double>(), *pw = w.data<double>(), *pb = b.data<double>(), *pg = gy.data<double>();
  double *py = r.y.data<double>(), *pgx = r.gx.data<double>(), *pgw = r.gw.data<double>(), *pgb = r.gb.data<double>();
  auto y_at = [&](int64_t n, int64_t o, int64_t oh, int64_t ow) { return ((n * s.o + o) * oh_n + oh) * ow_n + ow; };
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t o = 0; o < s.o; ++o)
      for (int64_t q = 0; q < oh_n * ow_n; ++q) {
        py[(n * s.o + o) * oh_n * ow_n + q] = pb[o];
        pgb[o] += pg[(n * s.o + o) * oh_n * ow_n + q];
      }
  for_each_term(s, [&](int64_t n, int64_t o, int64_t oh, int64_t ow, int64_t c, int64_t i, int64_t j, int64_t ih,
                       int64_t iw) {
    const int64_t xi = ((n * s.c + c) * s.h + ih) * s.w + iw, wi = ((o * s.c + c) * s.k + i) * s.k + j;
    const int64_t yi = y_at(n, o, oh, ow);
    py[yi] += px[xi] * pw[wi];
    pgx[xi] += pw[wi] * pg[yi];
    pgw[wi] += px[xi] * pg[yi];
  });
  return r;
}

void check_against_reference(const ConvCase& s, bool with_bias) {
  CAPTURE(s.n, s.c, s.h, s.w, s.o, s.k, s.stride, s.padding, with_bias);
  Generator gen(11, static_cast<uint64_t>(s.n * 1000 + s.k * 100 + s.stride * 10 + s.padding));
  const Tensor x = rand_uniform({s.n, s.c, s.h, s.w}, gen, -1, 1, DType::F64);
  const Tensor w = rand_uniform({s.o, s.c, s.k, s.k}, gen, -1, 1, DType::F64);
  const Tensor b = with_bias ? rand_uniform({s.o}, gen, -1, 1, DType::F64) : Tensor::zeros({s.o}, DType::F64);
  const Shape y_shape = {s.n, s.o, out_size(s.h, s.k, s.stride, s.padding), out_size(s.w, s.k, s.stride, s.padding)};
  const Tensor gy = rand_uniform(y_shape, gen, -1, 1, DType::F64);
  const Reference ref = naive_conv(s, x, w, b, gy);

  Variable vx(x, true), vw(w, true), vb(b, true);
  const Variable y = nn::conv2d(vx, vw, with_bias ? vb : Variable(), s.stride, s.padding);
  REQUIRE(y.shape() == y_shape);
  CHECK(max_abs_diff(y.data(), ref.y) < 1e-12);
  const std::vector<Variable> wrt = with_bias ? std::vector<Variable>{vx, vw, vb} : std::vector<Variable>{vx, vw};
  const std::vector<Variable> g = grad({y}, wrt, {Variable(gy)});
  CHECK(max_abs_diff(g[0].data(), ref.gx) < 1e-12);
  CHECK(max_abs_diff(g[1].data(), ref.gw) < 1e-11);
  if (with_bias) CHECK(max_abs_diff(g[2].data(), ref.gb) < 1e-11);
}

}  // namespace

TEST_CASE("conv2d: forward and gradients match direct loops for stride/padding/kernel combinations", "[nn][conv]") {
  // Shapes chosen to cover every path of the kernels: one sample per GEMM (large maps), several samples per
  // GEMM with a partial last chunk (small maps), several weight-gradient groups (uneven ones too), 1x1
  // kernels with and without im2col, padding wider than the kernel reach, non-square inputs.
  const std::vector<ConvCase> cases = {
      {3, 3, 8, 8, 5, 3, 1, 1},    {7, 4, 8, 8, 6, 3, 2, 1},   {20, 3, 4, 4, 4, 3, 1, 1},
      {9, 2, 16, 16, 3, 3, 1, 0},  {40, 2, 6, 6, 3, 1, 1, 0},  {3, 2, 20, 20, 3, 1, 1, 0},
      {20, 4, 6, 6, 5, 1, 2, 0},   {5, 3, 7, 6, 4, 5, 3, 2},   {2, 2, 3, 3, 3, 3, 1, 2},
      {4, 3, 5, 7, 2, 2, 2, 1},    {200, 2, 4, 4, 3, 3, 1, 1}, {2, 3, 32, 32, 4, 3, 2, 1},
  };
  for (const ConvCase& s : cases) {
    check_against_reference(s, true);
    check_against_reference(s, false);
  }
}

TEST_CASE("conv2d: forward and backward are bitwise identical on 1 and 2 threads", "[nn][conv][determinism]") {
  const int before = num_threads();
  struct Layer {
    Shape x;
    int64_t o, k, stride, padding;
  };
  // 3x32x32 -> 32 (the first layer at batch 16), then layers whose small maps put several samples in a GEMM
  // and give several weight-gradient groups.
  const std::vector<Layer> layers = {{{16, 3, 32, 32}, 32, 3, 1, 1},
                                     {{16, 32, 16, 16}, 64, 3, 2, 1},
                                     {{16, 32, 8, 8}, 64, 3, 1, 1},
                                     {{16, 32, 8, 8}, 64, 1, 2, 0}};
  for (const Layer& l : layers) {
    CAPTURE(to_string(l.x), l.o, l.k, l.stride);
    Generator gen(5, l.o + l.k);
    const Tensor x = rand_normal(l.x, gen);
    const Tensor w = rand_normal({l.o, l.x[1], l.k, l.k}, gen, 0.0, 0.1);
    const Tensor b = rand_normal({l.o}, gen);
    std::vector<Tensor> results[2];
    for (int t = 0; t < 2; ++t) {
      set_num_threads(t + 1);
      Variable vx(x, true), vw(w, true), vb(b, true);
      const Variable y = nn::conv2d(vx, vw, vb, l.stride, l.padding);
      Generator gg(9, 0);
      const Variable gy(rand_normal(y.shape(), gg));
      const std::vector<Variable> g = grad({y}, {vx, vw, vb}, {gy});
      results[t] = {y.data(), g[0].data(), g[1].data(), g[2].data()};
    }
    for (std::size_t i = 0; i < results[0].size(); ++i) {
      CAPTURE(i);
      const Tensor &a = results[0][i], &b2 = results[1][i];
      REQUIRE(a.shape() == b2.shape());
      CHECK(std::memcmp(a.data<float>(), b2.data<float>(), sizeof(float) * a.numel()) == 0);
    }
  }
  set_num_threads(before);
}

TEST_CASE("conv2d: the input gradient is skipped when the input needs none", "[nn][conv]") {
  Generator gen(3, 0);
  const Variable x(rand_normal({2, 3, 6, 6}, gen));  // an image: no gradient wanted
  Variable w(rand_normal({4, 3, 3, 3}, gen), true);
  const Variable y = nn::conv2d(x, w, Variable(), 1, 1);
  const Variable loss = sum(y * y);
  loss.backward();
  REQUIRE(w.grad().defined());
  CHECK(!x.grad().defined());
  CHECK(w.grad().shape() == Shape{4, 3, 3, 3});
}

TEST_CASE("conv2d: mismatched shapes give errors naming both shapes", "[nn][conv][errors]") {
  const Variable x(Tensor::zeros({2, 3, 6, 6}));
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_AS(nn::conv2d(x, Variable(Tensor::zeros({4, 5, 3, 3})), Variable(), 1, 1), Error);
  REQUIRE_THROWS_WITH(nn::conv2d(x, Variable(Tensor::zeros({4, 5, 3, 3})), Variable(), 1, 1),
                      Contains("[4, 5, 3, 3]") && Contains("[2, 3, 6, 6]") && Contains("channels"));
  REQUIRE_THROWS_WITH(nn::conv2d(x, Variable(Tensor::zeros({4, 3, 3, 3})), Variable(Tensor::zeros({5})), 1, 1),
                      Contains("bias") && Contains("[5]") && Contains("[4, 3, 3, 3]"));
  REQUIRE_THROWS_WITH(nn::conv2d(x, Variable(Tensor::zeros({4, 3, 9, 9})), Variable(), 1, 1),
                      Contains("does not fit") && Contains("[2, 3, 6, 6]"));
  REQUIRE_THROWS_WITH(nn::conv2d(Variable(Tensor::zeros({3, 6, 6})), Variable(Tensor::zeros({4, 3, 3, 3})), Variable(), 1, 1),
                      Contains("4-d") && Contains("[3, 6, 6]"));
  REQUIRE_THROWS_WITH(nn::conv2d(x, Variable(Tensor::zeros({4, 3, 3, 3}, DType::F64)), Variable(), 1, 1),
                      Contains("f32[2, 3, 6, 6]") && Contains("f64[4, 3, 3, 3]"));
  REQUIRE_THROWS_WITH(nn::conv2d(x, Variable(Tensor::zeros({4, 3, 3, 3})), Variable(), 0, 1), Contains("stride"));
}

TEST_CASE("linear: matches x W^T + b by direct loops, errors name both shapes", "[nn][linear]") {
  Generator gen(4, 0);
  const Tensor x = rand_uniform({5, 7}, gen, -1, 1, DType::F64), w = rand_uniform({3, 7}, gen, -1, 1, DType::F64);
  const Tensor b = rand_uniform({3}, gen, -1, 1, DType::F64);
  const Variable y = nn::linear(Variable(x), Variable(w), Variable(b));
  REQUIRE(y.shape() == Shape{5, 3});
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t o = 0; o < 3; ++o) {
      double expected = b.at({o});
      for (int64_t k = 0; k < 7; ++k) expected += x.at({i, k}) * w.at({o, k});
      CHECK(std::abs(y.data().at({i, o}) - expected) < 1e-13);
    }
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(nn::linear(Variable(x), Variable(Tensor::zeros({3, 6}, DType::F64)), Variable()),
                      Contains("[5, 7]") && Contains("[3, 6]"));
}
