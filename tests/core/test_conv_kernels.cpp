// The float32 convolution kernels (the OpenBLAS im2col path, and the AVX-512 implicit-GEMM paths where the
// CPU has AVX-512) against the float64 kernels, over shapes that exercise every edge: strides 1, 2
// and 3, padding 0 to 3, 1x1 to 5x5 kernels, channel counts that are not multiples of 8 or 32, output
// planes smaller than the 32-column strips, batches that do not divide the sample groups, and every path
// the AVX-512 dispatcher can choose (a test checks the cases reach them all). Also bitwise determinism of
// each kernel on 1 and 2 threads.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include <set>

#include "core/cpu.h"
#include "core/kernels/conv.h"
#include "core/kernels/conv_avx512.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "tests/test_util.h"

using namespace mg;
using kernels::Conv2dShape;
using kernels::avx512::ConvPath;

namespace {

struct Case {
  int64_t n, c, h, w, o, kh, kw, stride, padding;
};

struct Outputs {
  std::vector<float> y, gx, gw;
};

Outputs run_f32(const Conv2dShape& s, const std::vector<float>& x, const std::vector<float>& w,
                const std::vector<float>& b, const std::vector<float>& gy) {
  Outputs r{std::vector<float>(s.batch * s.out_sample()), std::vector<float>(s.batch * s.in_sample()),
            std::vector<float>(w.size())};
  kernels::conv2d_forward<float>(x.data(), w.data(), b.data(), r.y.data(), s);
  kernels::conv2d_input_grad<float>(gy.data(), w.data(), r.gx.data(), s);
  kernels::conv2d_weight_grad<float>(x.data(), gy.data(), r.gw.data(), s);
  return r;
}

// max |a - ref| / (1 + max |ref|)
double rel_error(const std::vector<float>& a, const std::vector<double>& ref) {
  double worst = 0, scale = 1;
  for (double v : ref) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - ref[i]));
  return worst / scale;
}

std::vector<float> draw(int64_t count, Generator& gen) {
  std::vector<float> v(count);
  for (float& e : v) e = static_cast<float>(gen.uniform(-1.0, 1.0));
  return v;
}

const std::vector<Case> kCases = {
    {2, 3, 8, 8, 5, 3, 3, 1, 1},      // tiny, channel counts not multiples of 8
    {3, 16, 9, 7, 12, 3, 3, 1, 1},    // odd sizes: strips straddle rows and samples
    {4, 8, 4, 4, 32, 3, 3, 1, 1},     // 16-position planes: two samples per strip
    {2, 10, 11, 13, 9, 5, 5, 1, 2},   // 5x5, padding 2
    {3, 7, 10, 10, 16, 3, 3, 2, 1},   // stride 2 (col2im input gradient)
    {5, 6, 8, 8, 40, 1, 1, 2, 0},     // 1x1 stride-2 shortcut, 5 samples of 16 positions
    {2, 4, 12, 12, 8, 3, 3, 3, 0},    // stride 3: the generic packing loop
    {2, 9, 6, 6, 10, 1, 1, 1, 0},     // 1x1 stride 1
    {2, 5, 7, 7, 6, 3, 3, 1, 0},      // no padding
    {2, 5, 7, 7, 6, 3, 2, 1, 1},      // non-square kernel
    {3, 4, 6, 6, 3, 3, 3, 1, 2},      // padding k - 1: the transposed product has none
    {2, 4, 6, 6, 3, 3, 3, 1, 3},      // padding above k - 1: the input gradient takes the col2im path
    {2, 50, 6, 6, 70, 3, 3, 1, 1},    // reductions longer than one packed block (K = 450)
    {2, 80, 5, 5, 24, 3, 3, 1, 1},    // K = 720: two reduction blocks in the forward product
    {40, 3, 6, 6, 33, 3, 3, 1, 1},    // many samples: weight-gradient sample groups
    {3, 12, 16, 16, 20, 1, 1, 1, 0},  // 1x1 on 16x16: both passes read B in place (rows of 16)
    {2, 6, 16, 16, 10, 5, 5, 1, 2},   // 5x5 on width 16: in place, with the zero border
    {8, 50, 32, 32, 70, 3, 3, 1, 1},  // 2048 tiles: the Winograd weight gradient's sums run over two chunks
};

Conv2dShape shape_of(const Case& cs) {
  return kernels::make_conv2d_shape(cs.n, cs.c, cs.h, cs.w, cs.o, cs.kh, cs.kw, cs.stride, cs.padding);
}

}  // namespace

TEST_CASE("conv kernels: float32 forward, input and weight gradients match the float64 kernels",
          "[core][conv][kernels]") {
  Generator gen(7, 1);
  for (const Case& cs : kCases) {
    const Conv2dShape s = shape_of(cs);
    INFO("n " << cs.n << " c " << cs.c << " " << cs.h << "x" << cs.w << " o " << cs.o << " k " << cs.kh << "x"
              << cs.kw << " stride " << cs.stride << " padding " << cs.padding);
    const std::vector<float> x = draw(s.batch * s.in_sample(), gen), w = draw(s.out_channels * s.col_rows(), gen),
                             b = draw(s.out_channels, gen), gy = draw(s.batch * s.out_sample(), gen);
    const std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end()), bd(b.begin(), b.end()),
        gyd(gy.begin(), gy.end());
    std::vector<double> y(gy.size()), gx(x.size()), gw(w.size());
    kernels::conv2d_forward<double>(xd.data(), wd.data(), bd.data(), y.data(), s);
    kernels::conv2d_input_grad<double>(gyd.data(), wd.data(), gx.data(), s);
    kernels::conv2d_weight_grad<double>(xd.data(), gyd.data(), gw.data(), s);
    for (bool fast : {false, true}) {
      if (fast && !cpu::has(cpu::Isa::avx512)) continue;  // reported as skipped by the test below
      const bool previous = cpu::set_kernels_enabled(cpu::Isa::avx512, fast);
      INFO("AVX-512 kernels: " << fast << "; forward " << kernels::avx512::name(kernels::avx512::forward_path(s))
                               << ", input grad " << kernels::avx512::name(kernels::avx512::input_grad_path(s)));
      const Outputs r = run_f32(s, x, w, b, gy);
      CHECK(rel_error(r.y, y) < 2e-6);
      CHECK(rel_error(r.gx, gx) < 2e-6);
      CHECK(rel_error(r.gw, gw) < 2e-6);
      cpu::set_kernels_enabled(cpu::Isa::avx512, previous);
    }
  }
}

TEST_CASE("conv kernels: the cases reach every path the AVX-512 dispatcher can choose", "[core][conv][kernels]") {
  if (!cpu::has(cpu::Isa::avx512)) return test::skip("this CPU has no AVX-512: only the OpenBLAS path was checked");
  std::set<ConvPath> forward, input_grad, weight_grad;
  for (const Case& cs : kCases) {
    forward.insert(kernels::avx512::forward_path(shape_of(cs)));
    input_grad.insert(kernels::avx512::input_grad_path(shape_of(cs)));
    weight_grad.insert(kernels::avx512::weight_grad_path(shape_of(cs)));
  }
  CHECK(forward == std::set<ConvPath>{ConvPath::winograd, ConvPath::in_place, ConvPath::packed});
  CHECK(input_grad == std::set<ConvPath>{ConvPath::winograd, ConvPath::in_place, ConvPath::packed, ConvPath::scatter});
  CHECK(weight_grad == std::set<ConvPath>{ConvPath::winograd, ConvPath::in_place});
}

TEST_CASE("conv kernels: float32 results are bitwise identical on 1 and 2 threads", "[core][conv][determinism]") {
  Generator gen(11, 2);
  const int before = num_threads();
  for (const Case& cs : {Case{9, 16, 16, 16, 32, 3, 3, 1, 1}, Case{7, 32, 8, 8, 64, 3, 3, 2, 1},
                         Case{33, 64, 4, 4, 64, 3, 3, 1, 1}, Case{6, 48, 12, 12, 40, 3, 3, 1, 1},
                         Case{5, 24, 16, 16, 40, 1, 1, 1, 0}, Case{3, 9, 9, 9, 17, 3, 3, 1, 1}}) {
    const Conv2dShape s = shape_of(cs);
    const std::vector<float> x = draw(s.batch * s.in_sample(), gen), w = draw(s.out_channels * s.col_rows(), gen),
                             b = draw(s.out_channels, gen), gy = draw(s.batch * s.out_sample(), gen);
    set_num_threads(1);
    const Outputs one = run_f32(s, x, w, b, gy);
    set_num_threads(2);
    const Outputs two = run_f32(s, x, w, b, gy);
    CHECK(std::memcmp(one.y.data(), two.y.data(), one.y.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(one.gx.data(), two.gx.data(), one.gx.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(one.gw.data(), two.gw.data(), one.gw.size() * sizeof(float)) == 0);
  }
  set_num_threads(before);
}

TEST_CASE("conv kernels: weights changed in place at the same address are never served a stale transform",
          "[core][conv][kernels]") {
  // 3x3 stride-1 convolutions with even outputs take the Winograd path, whose weight transforms are cached.
  Generator gen(13, 3);
  const Conv2dShape s = kernels::make_conv2d_shape(4, 16, 8, 8, 24, 3, 3, 1, 1);
  const std::vector<float> x = draw(s.batch * s.in_sample(), gen), b = draw(s.out_channels, gen);
  std::vector<float> w = draw(s.out_channels * s.col_rows(), gen);
  std::vector<float> first(s.batch * s.out_sample()), again(first.size()), changed(first.size());
  kernels::conv2d_forward<float>(x.data(), w.data(), b.data(), first.data(), s);
  kernels::conv2d_forward<float>(x.data(), w.data(), b.data(), again.data(), s);
  CHECK(std::memcmp(first.data(), again.data(), first.size() * sizeof(float)) == 0);
  w[w.size() / 2] += 0.5f;  // one weight, in place: same pointer, same shape
  kernels::conv2d_forward<float>(x.data(), w.data(), b.data(), changed.data(), s);
  const std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end()), bd(b.begin(), b.end());
  std::vector<double> expected(first.size());
  kernels::conv2d_forward<double>(xd.data(), wd.data(), bd.data(), expected.data(), s);
  CHECK(rel_error(changed, expected) < 2e-6);
  CHECK(std::memcmp(first.data(), changed.data(), first.size() * sizeof(float)) != 0);
}
