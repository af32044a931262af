// The bf16 reference convolutions (core/kernels/bf16/conv.h): near the float64 convolution of the
// bf16-rounded operands (within float32 accumulation error), and the same bits with vdpbf16ps and with its
// emulation (MIXGRAD_NO_BF16's path), and on 1 and 2 threads, for the forward and both gradients.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>

#include "core/bf16.h"
#include "core/cpu.h"
#include "core/kernels/bf16/conv.h"
#include "core/kernels/bf16/gemm.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "tests/test_util.h"

using namespace mg;
using kernels::Conv2dShape;

namespace {

struct Operands {
  std::vector<float> x, w, bias, gy;
};

Operands random_operands(const Conv2dShape& s, uint64_t seed) {
  Generator gen(seed, 0);
  auto fill = [&](int64_t count) {
    std::vector<float> v(static_cast<std::size_t>(count));
    for (float& e : v) e = static_cast<float>(gen.uniform(-2.0, 2.0));
    return v;
  };
  return {fill(s.batch * s.in_sample()), fill(s.out_channels * s.col_rows()), fill(s.out_channels),
          fill(s.batch * s.out_sample())};
}

std::vector<double> rounded(const std::vector<float>& v, bool absolute) {
  std::vector<double> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double r = mg::bf16::round(v[i]);
    out[i] = absolute ? std::abs(r) : r;
  }
  return out;
}

// The three bf16 results, side by side: forward (with bias), input gradient, weight gradient; of the
// dispatching kernels, or of the *_reference ones (im2col + the bf16 product + col2im).
std::vector<float> all_results(const Conv2dShape& s, const Operands& in, bool reference = false) {
  namespace k = kernels::bf16;
  std::vector<float> y(static_cast<std::size_t>(s.batch * s.out_sample())), gx(static_cast<std::size_t>(s.batch * s.in_sample())),
      gw(static_cast<std::size_t>(s.out_channels * s.col_rows()));
  (reference ? k::conv2d_forward_reference : k::conv2d_forward)(in.x.data(), in.w.data(), in.bias.data(), y.data(), s);
  (reference ? k::conv2d_input_grad_reference : k::conv2d_input_grad)(in.gy.data(), in.w.data(), gx.data(), s);
  (reference ? k::conv2d_weight_grad_reference : k::conv2d_weight_grad)(in.x.data(), in.gy.data(), gw.data(), s);
  y.insert(y.end(), gx.begin(), gx.end());
  y.insert(y.end(), gw.begin(), gw.end());
  return y;
}

// The same three in float64 from the bf16-rounded operands (absolute: of their magnitudes, an error scale).
std::vector<double> f64_results(const Conv2dShape& s, const Operands& in, bool absolute) {
  const std::vector<double> x = rounded(in.x, absolute), w = rounded(in.w, absolute), gy = rounded(in.gy, absolute);
  std::vector<double> b = rounded(in.bias, absolute);
  std::vector<double> y(static_cast<std::size_t>(s.batch * s.out_sample())), gx(static_cast<std::size_t>(s.batch * s.in_sample())),
      gw(static_cast<std::size_t>(s.out_channels * s.col_rows()));
  kernels::conv2d_forward<double>(x.data(), w.data(), b.data(), y.data(), s);
  kernels::conv2d_input_grad<double>(gy.data(), w.data(), gx.data(), s);
  kernels::conv2d_weight_grad<double>(x.data(), gy.data(), gw.data(), s);
  y.insert(y.end(), gx.begin(), gx.end());
  y.insert(y.end(), gw.begin(), gw.end());
  return y;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

const std::vector<Conv2dShape> kShapes = {
    kernels::make_conv2d_shape(2, 3, 7, 6, 5, 3, 3, 1, 1),   // 3x3, padding: the common layer, odd sizes
    kernels::make_conv2d_shape(2, 4, 9, 9, 6, 3, 3, 2, 1),   // stride 2
    kernels::make_conv2d_shape(3, 5, 4, 4, 7, 1, 1, 2, 0),   // 1x1 stride 2 (the PreAct shortcut), odd depth
    kernels::make_conv2d_shape(1, 16, 8, 8, 32, 3, 3, 1, 1),  // deeper: 144-long reductions
};

}  // namespace

TEST_CASE("bf16 conv: forward and both gradients near float64 on the rounded operands", "[core][bf16][conv]") {
  for (const Conv2dShape& s : kShapes) {
    CAPTURE(s.in_channels, s.out_channels, s.kernel_h, s.stride);
    const Operands in = random_operands(s, 41);
    const std::vector<float> got = all_results(s, in);
    const std::vector<double> exact = f64_results(s, in, false), scale = f64_results(s, in, true);
    REQUIRE(got.size() == exact.size());
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - exact[i]) / (scale[i] + 1e-30));
    CHECK(worst < 2e-6);  // float32 accumulation of exact products: a few units of 2^-24 relative to the scale
    CHECK(worst > 0);     // and not float64 in disguise
  }
}

TEST_CASE("bf16 conv: vdpbf16ps and its emulation give the same bits", "[core][bf16][conv]") {
  // Both ISAs must be on for vdpbf16ps to run (MIXGRAD_NO_AVX512 also turns it off).
  if (kernels::bf16::best_path() != kernels::bf16::Path::native)
    return test::skip("the vdpbf16ps kernels do not run here (no AVX512_BF16, or switched off): nothing to compare");
  for (const Conv2dShape& s : kShapes) {
    CAPTURE(s.in_channels, s.out_channels, s.kernel_h, s.stride);
    const Operands in = random_operands(s, 42);
    const std::vector<float> native = all_results(s, in);
    const bool previous = cpu::set_kernels_enabled(cpu::Isa::avx512_bf16, false);
    REQUIRE(kernels::bf16::best_path() == kernels::bf16::Path::emulated);
    const std::vector<float> emulated = all_results(s, in);
    cpu::set_kernels_enabled(cpu::Isa::avx512_bf16, previous);
    CHECK(bitwise_equal(native, emulated));
  }
}

TEST_CASE("bf16 conv: same bits on 1 and 2 threads", "[core][bf16][conv][threads]") {
  const Conv2dShape& s = kShapes.back();
  const Operands in = random_operands(s, 43);
  const int saved = num_threads();
  set_num_threads(1);
  const std::vector<float> one = all_results(s, in);
  set_num_threads(2);
  const std::vector<float> two = all_results(s, in);
  set_num_threads(saved);
  CHECK(bitwise_equal(one, two));
}

TEST_CASE("bf16 conv: the weight gradient and forward are the defined pair sums bit for bit", "[core][bf16][conv]") {
  // conv.h's order, written out with bf16::dot_pair: forward pairs along im2col's rows; the weight gradient
  // pairs along each sample's pixels, samples in order. Whatever blocking the kernels use must give these bits.
  for (const Conv2dShape& s : kShapes) {
    const Operands in = random_operands(s, 41);
    const int64_t depth = s.col_rows(), pixels = s.out_plane(), o = s.out_channels;
    std::vector<float> gw(static_cast<std::size_t>(o * depth)), y(static_cast<std::size_t>(s.batch * s.out_sample()));
    kernels::bf16::conv2d_weight_grad(in.x.data(), in.gy.data(), gw.data(), s);
    kernels::bf16::conv2d_forward(in.x.data(), in.w.data(), nullptr, y.data(), s);
    std::vector<float> col(static_cast<std::size_t>(s.batch * depth * pixels));
    for (int64_t n = 0; n < s.batch; ++n) kernels::im2col(in.x.data() + n * s.in_sample(), s, col.data() + n * depth * pixels, pixels);
    auto b16 = [](float v) { return mg::bf16::from_float(v); };
    std::vector<float> want_gw(gw.size()), want_y(y.size());
    for (int64_t c = 0; c < o; ++c)
      for (int64_t d = 0; d < depth; ++d) {
        float acc = 0.0f;
        for (int64_t n = 0; n < s.batch; ++n) {
          const float* g = in.gy.data() + n * s.out_sample() + c * pixels;
          const float* k = col.data() + n * depth * pixels + d * pixels;
          for (int64_t p = 0; p < pixels; p += 2)
            acc = mg::bf16::dot_pair(acc, b16(g[p]), b16(p + 1 < pixels ? g[p + 1] : 0.0f), b16(k[p]),
                                     b16(p + 1 < pixels ? k[p + 1] : 0.0f));
        }
        want_gw[c * depth + d] = acc;
      }
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t c = 0; c < o; ++c)
        for (int64_t p = 0; p < pixels; ++p) {
          float acc = 0.0f;
          const float* k = col.data() + n * depth * pixels;
          for (int64_t d = 0; d < depth; d += 2)
            acc = mg::bf16::dot_pair(acc, b16(in.w[c * depth + d]), b16(d + 1 < depth ? in.w[c * depth + d + 1] : 0.0f),
                                     b16(k[d * pixels + p]), b16(d + 1 < depth ? k[(d + 1) * pixels + p] : 0.0f));
          want_y[n * s.out_sample() + c * pixels + p] = acc;
        }
    CHECK(bitwise_equal(gw, want_gw));
    CHECK(bitwise_equal(y, want_y));
  }
}

TEST_CASE("bf16 conv: the AVX-512 kernels give the reference's bits, natively and emulated", "[core][bf16][conv]") {
  if (kernels::bf16::best_path() == kernels::bf16::Path::scalar)
    return test::skip("no AVX-512 here: the convolutions run the reference itself");
  // The model's shapes and the awkward ones: several column blocks and k blocks (3x3 over 512 channels:
  // 2304 pairs), outputs narrower than a strip (4x4), odd depths (27) and odd planes (7x7), stride 2, 1x1.
  std::vector<Conv2dShape> shapes = kShapes;
  shapes.push_back(kernels::make_conv2d_shape(3, 3, 32, 32, 16, 3, 3, 1, 1));    // the stem: depth 27
  shapes.push_back(kernels::make_conv2d_shape(5, 64, 4, 4, 40, 3, 3, 1, 1));     // 16 positions, 40 channels
  shapes.push_back(kernels::make_conv2d_shape(2, 512, 4, 4, 36, 3, 3, 1, 1));    // 2304 pairs: k blocks
  shapes.push_back(kernels::make_conv2d_shape(3, 8, 7, 7, 33, 3, 3, 1, 1));      // odd plane, 33 channels
  shapes.push_back(kernels::make_conv2d_shape(4, 16, 16, 16, 32, 3, 3, 2, 1));   // stride 2
  shapes.push_back(kernels::make_conv2d_shape(4, 16, 16, 16, 24, 1, 1, 2, 0));   // the shortcut
  shapes.push_back(kernels::make_conv2d_shape(70, 4, 8, 8, 8, 3, 3, 1, 1));      // many weight-grad chunks
  const bool had_native = kernels::bf16::best_path() == kernels::bf16::Path::native;
  for (const Conv2dShape& s : shapes) {
    CAPTURE(s.batch, s.in_channels, s.height, s.out_channels, s.kernel_h, s.stride);
    const Operands in = random_operands(s, 44);
    const std::vector<float> want = all_results(s, in, /*reference=*/true), got = all_results(s, in);
    CHECK(bitwise_equal(got, want));
    if (had_native) {
      const bool previous = cpu::set_kernels_enabled(cpu::Isa::avx512_bf16, false);
      const std::vector<float> emulated = all_results(s, in);
      cpu::set_kernels_enabled(cpu::Isa::avx512_bf16, previous);
      CHECK(bitwise_equal(emulated, want));
    }
  }
}
