// batch_norm against direct-loop references (f64): train output, running-statistics update (unbiased
// variance, momentum 0.1), eval output, gradients against the same formula built from autograd ops, and
// the errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/ops.h"
#include "core/rng.h"
#include "nn/functional.h"
#include "tests/test_util.h"

using namespace mg;

namespace {

struct BnData {
  Tensor x, gamma, beta, running_mean, running_var;
};

BnData make_data(const Shape& shape, uint64_t seed) {
  Generator gen(seed, 0);
  const int64_t c = shape[1];
  BnData d;
  Shape per_channel(shape.size(), 1);
  per_channel[1] = c;
  d.x = ops::add(rand_uniform(shape, gen, -2, 2, DType::F64), rand_uniform(per_channel, gen, -1, 3, DType::F64));
  d.gamma = rand_uniform({c}, gen, 0.5, 1.5, DType::F64);
  d.beta = rand_uniform({c}, gen, -0.5, 0.5, DType::F64);
  d.running_mean = rand_uniform({c}, gen, -0.5, 0.5, DType::F64);
  d.running_var = rand_uniform({c}, gen, 0.5, 2.0, DType::F64);
  return d;
}

// Per-channel mean and sum of squared deviations of x (N, C, S...), by direct loops.
void channel_moments(const Tensor& x, std::vector<double>& mean, std::vector<double>& ssd, int64_t& count) {
  const int64_t n = x.size(0), c = x.size(1), s = x.numel() / (n * c);
  count = n * s;
  mean.assign(c, 0.0);
  ssd.assign(c, 0.0);
  const double* p = x.data<double>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t k = 0; k < s; ++k) mean[ch] += p[(i * c + ch) * s + k];
  for (double& m : mean) m /= static_cast<double>(count);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t k = 0; k < s; ++k) ssd[ch] += std::pow(p[(i * c + ch) * s + k] - mean[ch], 2);
}

// y = (x - mean[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c] by direct loops.
Tensor affine_reference(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& var,
                        const Tensor& gamma, const Tensor& beta, double eps) {
  const int64_t n = x.size(0), c = x.size(1), s = x.numel() / (n * c);
  Tensor y = Tensor::empty(x.shape(), DType::F64);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t k = 0; k < s; ++k) {
        const int64_t at = (i * c + ch) * s + k;
        y.data<double>()[at] = (x.data<double>()[at] - mean[ch]) / std::sqrt(var[ch] + eps) * gamma.at({ch}) + beta.at({ch});
      }
  return y;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

}  // namespace

TEST_CASE("batch_norm train: batch statistics, biased variance in the output, unbiased in running_var",
          "[nn][batch_norm]") {
  for (const Shape& shape : {Shape{4, 3, 5, 5}, Shape{8, 5}}) {
    CAPTURE(to_string(shape));
    BnData d = make_data(shape, 1);
    std::vector<double> mean, ssd;
    int64_t count = 0;
    channel_moments(d.x, mean, ssd, count);
    std::vector<double> biased(mean.size()), unbiased(mean.size());
    for (std::size_t c = 0; c < mean.size(); ++c) {
      biased[c] = ssd[c] / static_cast<double>(count);
      unbiased[c] = ssd[c] / static_cast<double>(count - 1);
    }
    const Tensor y_ref = affine_reference(d.x, mean, biased, d.gamma, d.beta, 1e-5);
    const Tensor rm0 = d.running_mean.clone(), rv0 = d.running_var.clone();
    const Variable y = nn::batch_norm(Variable(d.x), Variable(d.gamma), Variable(d.beta), d.running_mean,
                                      d.running_var, true);
    CHECK(max_abs_diff(y.data(), y_ref) < 1e-12);
    for (std::size_t c = 0; c < mean.size(); ++c) {
      const int64_t ch = static_cast<int64_t>(c);
      CHECK(std::abs(d.running_mean.at({ch}) - (0.9 * rm0.at({ch}) + 0.1 * mean[c])) < 1e-14);
      CHECK(std::abs(d.running_var.at({ch}) - (0.9 * rv0.at({ch}) + 0.1 * unbiased[c])) < 1e-14);
      // Not the biased variance: the two differ by a factor count / (count - 1).
      CHECK(std::abs(d.running_var.at({ch}) - (0.9 * rv0.at({ch}) + 0.1 * biased[c])) > 1e-6);
    }
  }
}

TEST_CASE("batch_norm eval: running statistics, left unchanged; affine=false", "[nn][batch_norm]") {
  BnData d = make_data({3, 4, 3, 2}, 2);
  const Tensor rm0 = d.running_mean.clone(), rv0 = d.running_var.clone();
  const std::vector<double> rm = rm0.to_vector(), rv = rv0.to_vector();
  const Variable y = nn::batch_norm(Variable(d.x), Variable(d.gamma), Variable(d.beta), d.running_mean,
                                    d.running_var, false, 0.1, 1e-3);
  CHECK(max_abs_diff(y.data(), affine_reference(d.x, rm, rv, d.gamma, d.beta, 1e-3)) < 1e-12);
  CHECK(d.running_mean.to_vector() == rm);
  CHECK(d.running_var.to_vector() == rv);
  const Variable plain = nn::batch_norm(Variable(d.x), Variable(), Variable(), d.running_mean, d.running_var, false);
  const Tensor ones = Tensor::ones({4}, DType::F64), zeros = Tensor::zeros({4}, DType::F64);
  CHECK(max_abs_diff(plain.data(), affine_reference(d.x, rm, rv, ones, zeros, 1e-5)) < 1e-12);
}

TEST_CASE("batch_norm: gradients equal those of the formula written with autograd ops", "[nn][batch_norm]") {
  for (const bool training : {true, false}) {
    CAPTURE(training);
    BnData d = make_data({5, 3, 4, 4}, 3);
    Generator gen(8, 0);
    const Tensor gy = rand_uniform(d.x.shape(), gen, -1, 1, DType::F64);
    Variable x(d.x, true), gamma(d.gamma, true), beta(d.beta, true);
    Tensor rm = d.running_mean.clone(), rv = d.running_var.clone();
    const Variable y = nn::batch_norm(x, gamma, beta, rm, rv, training);
    const std::vector<Variable> g = grad({y}, {x, gamma, beta}, {Variable(gy)});

    Variable x2(d.x, true), gamma2(d.gamma, true), beta2(d.beta, true);
    Variable mu(d.running_mean.reshape({1, 3, 1, 1})), var(d.running_var.reshape({1, 3, 1, 1}));
    if (training) {
      mu = mean(x2, {0, 2, 3}, true);
      var = mean((x2 - mu) * (x2 - mu), {0, 2, 3}, true);
    }
    const Variable y2 = (x2 - mu) / sqrt(var + 1e-5) * reshape(gamma2, {1, 3, 1, 1}) + reshape(beta2, {1, 3, 1, 1});
    const std::vector<Variable> g2 = grad({y2}, {x2, gamma2, beta2}, {Variable(gy)});
    CHECK(max_abs_diff(y.data(), y2.data()) < 1e-12);
    for (int i = 0; i < 3; ++i) {
      CAPTURE(i);
      CHECK(max_abs_diff(g[i].data(), g2[i].data()) < 1e-11);
    }
  }
}

TEST_CASE("batch_norm_relu: bitwise relu(batch_norm), fused or composed, in f32 and f64", "[nn][batch_norm]") {
  for (const DType dtype : {DType::F32, DType::F64}) {
    for (const bool training : {false, true}) {
      CAPTURE(dtype_name(dtype), training);
      BnData d = make_data({4, 5, 6, 7}, 6);
      const Tensor x = d.x.to(dtype), gamma = d.gamma.to(dtype), beta = d.beta.to(dtype);
      Tensor rm1 = d.running_mean.to(dtype), rv1 = d.running_var.to(dtype);
      Tensor rm2 = rm1.clone(), rv2 = rv1.clone();
      Variable fused, composed;
      {
        NoGradGuard no_grad;  // the fused pass in eval mode
        fused = nn::batch_norm_relu(Variable(x), Variable(gamma), Variable(beta), rm1, rv1, training);
        composed = relu(nn::batch_norm(Variable(x), Variable(gamma), Variable(beta), rm2, rv2, training));
      }
      CHECK(test::bitwise_equal(fused.data(), composed.data()));
      CHECK(test::bitwise_equal(rm1, rm2));  // training updates the running statistics exactly once
      CHECK(test::bitwise_equal(rv1, rv2));
      const std::vector<double> y = fused.data().to_vector();
      const auto positive = std::count_if(y.begin(), y.end(), [](double v) { return v > 0; });
      CHECK(positive > 0);  // both sides of the kink are exercised
      CHECK(positive < static_cast<std::ptrdiff_t>(y.size()));
    }
  }
  // With a gradient recorded, the same gradients as the composition: in train mode relu's mask is folded
  // into batch_norm's backward kernels (the float32 ones have an AVX2 path; planes of 25 and 4096 values
  // cover its vector body and scalar tail).
  for (const DType dtype : {DType::F32, DType::F64}) {
    for (const bool training : {false, true}) {
      for (const Shape& shape : std::vector<Shape>{{3, 4, 5, 5}, {6, 3, 64, 64}}) {
        CAPTURE(dtype_name(dtype), training, to_string(shape));
        BnData d = make_data(shape, 7);
        Generator gen(9, 0);
        const Tensor gy = rand_uniform(shape, gen, -1, 1, dtype), x = d.x.to(dtype);
        const Tensor gamma = d.gamma.to(dtype), beta = d.beta.to(dtype);
        Tensor rm1 = d.running_mean.to(dtype), rv1 = d.running_var.to(dtype), rm2 = rm1.clone(), rv2 = rv1.clone();
        Variable x1(x, true), g1(gamma, true), b1(beta, true), x2(x, true), g2(gamma, true), b2(beta, true);
        const Variable y1 = nn::batch_norm_relu(x1, g1, b1, rm1, rv1, training);
        const Variable y2 = relu(nn::batch_norm(x2, g2, b2, rm2, rv2, training));
        const std::vector<Variable> grads1 = grad({y1}, {x1, g1, b1}, {Variable(gy)});
        const std::vector<Variable> grads2 = grad({y2}, {x2, g2, b2}, {Variable(gy)});
        CHECK(test::bitwise_equal(y1.data(), y2.data()));
        CHECK(test::bitwise_equal(rv1, rv2));
        for (int i = 0; i < 3; ++i) {
          CAPTURE(i);
          CHECK(ops::amax(ops::abs(grads1[i].data())).item() > 0.0);
          CHECK(test::bitwise_equal(grads1[i].data(), grads2[i].data()));
        }
      }
    }
  }
}

TEST_CASE("batch_norm train: double backward is a clear error", "[nn][batch_norm][errors]") {
  BnData d = make_data({4, 3, 2, 2}, 4);
  Variable x(d.x, true);
  const Variable y = nn::batch_norm(x, Variable(d.gamma), Variable(d.beta), d.running_mean, d.running_var, true);
  const Variable loss = sum(y * y * y);
  REQUIRE_THROWS_WITH(grad({loss}, {x}, {}, {.create_graph = true}), Catch::Matchers::Contains("double backward") &&
                                                       Catch::Matchers::Contains("train-mode batch_norm"));
  // First-order gradients still work.
  const Variable y2 = nn::batch_norm(x, Variable(d.gamma), Variable(d.beta), d.running_mean, d.running_var, true);
  const Variable gx = grad({sum(y2 * y2 * y2)}, {x})[0];
  CHECK(ops::amax(ops::abs(gx.data())).item() > 0.0);
}

TEST_CASE("batch_norm: shape errors name both shapes", "[nn][batch_norm][errors]") {
  BnData d = make_data({4, 3, 2, 2}, 5);
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(nn::batch_norm(Variable(d.x), Variable(Tensor::ones({4}, DType::F64)), Variable(d.beta),
                                     d.running_mean, d.running_var, true),
                      Contains("[4]") && Contains("[4, 3, 2, 2]"));
  Tensor rm = Tensor::zeros({1}, DType::F64), rv = Tensor::ones({1}, DType::F64);
  REQUIRE_THROWS_WITH(nn::batch_norm(Variable(Tensor::ones({1, 1, 1, 1}, DType::F64)), Variable(), Variable(), rm, rv, true),
                      Contains("more than 1 value per channel"));
}
