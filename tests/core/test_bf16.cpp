// bf16 numbers: rounding as vcvtneps2bf16 does it (and as PyTorch does for every non-denormal float), and the
// bf16 product's three paths (native vdpbf16ps, AVX-512F emulation, scalar) giving the same bits as each other
// and on 1 and 2 threads, denormals included.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <tuple>
#include <limits>
#include <sstream>

#include "core/bf16.h"
#include "core/cpu.h"
#include "core/kernels/bf16/gemm.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "tests/nn/test_module_python.h"
#include "tests/test_util.h"

using namespace mg;

namespace {

uint16_t bits_of(float x) { return mg::bf16::from_float(x); }

// Random floats of magnitude 10^u, u uniform in [lo, hi], with some zeros. The default spans many binades; a
// range like [-25, -15] makes most products and sums land near or below float's smallest normal (1.2e-38),
// where the flushes to zero decide the bits.
std::vector<float> spread_values(int64_t count, uint64_t seed, double lo = -20.0, double hi = 3.0) {
  Generator gen(seed, 0);
  std::vector<float> v(static_cast<std::size_t>(count));
  for (float& x : v) {
    const double magnitude = std::pow(10.0, gen.uniform(lo, hi));
    x = static_cast<float>((gen.uniform() < 0.5 ? -1.0 : 1.0) * magnitude);
    if (gen.uniform() < 0.05) x = 0.0f;
  }
  return v;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<float> product(kernels::bf16::Path path, const std::vector<float>& a, const std::vector<float>& b,
                           int64_t m, int64_t n, int64_t k) {
  const auto pa = kernels::bf16::pack_rows(a.data(), m, k, k);
  const auto pb = kernels::bf16::pack_pair_rows(b.data(), k, n, n);
  std::vector<float> c(static_cast<std::size_t>(m * n), -1.0f);
  kernels::bf16::gemm(path, pa.data(), pb.data(), c.data(), m, n, (k + 1) / 2, n);
  return c;
}

}  // namespace

TEST_CASE("bf16 rounding: nearest even, overflow to inf, quiet NaN, denormals to signed zero", "[core][bf16]") {
  CHECK(bits_of(1.0f) == 0x3f80);
  CHECK(bits_of(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);      // a tie: down to the even 1.0
  CHECK(bits_of(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82);  // a tie: up to the even 1 + 2^-6
  CHECK(bits_of(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 0x3f81);  // above the tie: up
  CHECK(bits_of(-2.5f) == 0xc020);
  CHECK(bits_of(std::numeric_limits<float>::max()) == 0x7f80);  // rounds past the largest bf16: +inf
  CHECK(bits_of(-std::numeric_limits<float>::infinity()) == 0xff80);
  CHECK(bits_of(mg::bf16::from_float_bits(0x7f800001u)) == 0x7fc0);  // a signalling NaN comes out quiet
  CHECK(bits_of(1e-40f) == 0x0000);
  CHECK(bits_of(-1e-40f) == 0x8000);
  CHECK(bits_of(std::numeric_limits<float>::min()) == 0x0080);  // the smallest normal float is kept
  CHECK(mg::bf16::round(3.14159265f) == 3.140625f);
}

TEST_CASE("bf16 rounding equals PyTorch's .to(torch.bfloat16) on normal floats", "[core][bf16][torch]") {
  std::vector<float> values = spread_values(2000, 5);
  for (int i = 0; i < 200; ++i) values.push_back(1.0f + static_cast<float>(i) * std::ldexp(1.0f, -8));  // ties
  std::ostringstream py;
  py.precision(9);
  py << "import torch\nx = torch.tensor([";
  for (float v : values) py << v << ",";
  py << "], dtype=torch.float32)\nprint(' '.join(str(int(b) & 0xffff) for b in x.to(torch.bfloat16).view(torch.int16)))\n";
  // 9 significant digits give every float32 back exactly.
  const std::vector<double> torch_bits = test::parse_numbers(test::run_python(py.str()));
  REQUIRE(torch_bits.size() == values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    CAPTURE(i, values[i]);
    CHECK(bits_of(values[i]) == static_cast<uint16_t>(torch_bits[i]));
  }
}

TEST_CASE("bf16 gemm: the emulated and scalar paths give the same bits", "[core][bf16]") {
  if (!cpu::has(cpu::Isa::avx512)) return test::skip("this CPU has no AVX-512: the emulated path cannot run");
  for (const auto [m, n, k] : {std::tuple{7, 37, 13}, std::tuple{4, 32, 64}, std::tuple{9, 5, 1}, std::tuple{33, 48, 30}}) {
    CAPTURE(m, n, k);
    for (const double lo : {-20.0, -25.0}) {
      const double hi = lo < -20 ? -15.0 : 3.0;
      CAPTURE(lo, hi);
      const std::vector<float> a = spread_values(m * k, 11, lo, hi), b = spread_values(k * n, 12, lo, hi);
      const std::vector<float> scalar = product(kernels::bf16::Path::scalar, a, b, m, n, k);
      CHECK(bitwise_equal(product(kernels::bf16::Path::emulated, a, b, m, n, k), scalar));
      int zeros = 0;
      for (float v : scalar) zeros += v == 0.0f ? 1 : 0;
      CHECK(zeros < static_cast<int>(scalar.size()) / 2);  // mostly non-zero: the data is not degenerate
    }
  }
}

TEST_CASE("bf16 gemm: vdpbf16ps gives the emulated path's bits", "[core][bf16]") {
  if (!cpu::has(cpu::Isa::avx512_bf16)) return test::skip("this CPU has no AVX512_BF16: nothing to compare");
  for (const auto [m, n, k] : {std::tuple{7, 37, 13}, std::tuple{64, 64, 288}, std::tuple{3, 17, 2}}) {
    CAPTURE(m, n, k);
    for (const double lo : {-20.0, -25.0}) {
      const double hi = lo < -20 ? -15.0 : 3.0;
      CAPTURE(lo, hi);
      const std::vector<float> a = spread_values(m * k, 21, lo, hi), b = spread_values(k * n, 22, lo, hi);
      CHECK(bitwise_equal(product(kernels::bf16::Path::native, a, b, m, n, k),
                          product(kernels::bf16::Path::emulated, a, b, m, n, k)));
    }
  }
}

TEST_CASE("bf16 gemm: the emulation's flushes matter (without them the bits differ)", "[core][bf16]") {
  // The scalar path's dot_pair against plain float FMAs on the same pairs, over products that underflow:
  // the two must differ somewhere, or the equality tests above would not be testing the denormal handling.
  Generator gen(3, 0);
  int differ = 0;
  for (int i = 0; i < 10000; ++i) {
    const float x = static_cast<float>(gen.uniform(1e-20, 1e-19)), y = static_cast<float>(gen.uniform(1e-20, 1e-19));
    const uint16_t a0 = bits_of(x), b0 = bits_of(y), zero = 0;
    const float flushed = mg::bf16::dot_pair(0.0f, a0, zero, b0, zero);
    const float plain = std::fma(mg::bf16::to_float(a0), mg::bf16::to_float(b0), 0.0f);
    differ += flushed != plain ? 1 : 0;
  }
  CHECK(differ > 100);
}

TEST_CASE("bf16 gemm: same bits on 1 and 2 threads, near the float64 product of the rounded operands", "[core][bf16][threads]") {
  const int64_t m = 64, n = 40, k = 75;
  const std::vector<float> a = spread_values(m * k, 31), b = spread_values(k * n, 32);
  const kernels::bf16::Path path = kernels::bf16::best_path();
  const int saved = num_threads();
  set_num_threads(1);
  const std::vector<float> one = product(path, a, b, m, n, k);
  set_num_threads(2);
  const std::vector<float> two = product(path, a, b, m, n, k);
  set_num_threads(saved);
  CHECK(bitwise_equal(one, two));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double exact = 0, scale = 0;
      for (int64_t p = 0; p < k; ++p) {
        const double term = static_cast<double>(mg::bf16::round(a[i * k + p])) * mg::bf16::round(b[p * n + j]);
        exact += term;
        scale += std::abs(term);
      }
      CAPTURE(i, j, exact, one[i * n + j]);
      CHECK(std::abs(one[i * n + j] - exact) <= 1e-5 * scale + 1e-30);
    }
}

TEST_CASE("bf16 gemm: a reduction split into accumulating calls gives the bits of one call", "[core][bf16]") {
  const int64_t m = 6, n = 35, k = 40;  // 20 pairs, split 7 + 13
  const std::vector<float> a = spread_values(m * k, 51), b = spread_values(k * n, 52);
  const auto pa = kernels::bf16::pack_rows(a.data(), m, k, k);
  const auto pb = kernels::bf16::pack_pair_rows(b.data(), k, n, n);
  // A's first 7 pairs of every row, then its last 13, as separate packed operands.
  std::vector<uint32_t> a_first, a_rest;
  for (int64_t i = 0; i < m; ++i) {
    a_first.insert(a_first.end(), pa.begin() + i * 20, pa.begin() + i * 20 + 7);
    a_rest.insert(a_rest.end(), pa.begin() + i * 20 + 7, pa.begin() + i * 20 + 20);
  }
  std::vector<kernels::bf16::Path> paths = {kernels::bf16::Path::scalar};
  if (cpu::has(cpu::Isa::avx512)) paths.push_back(kernels::bf16::Path::emulated);
  if (cpu::has(cpu::Isa::avx512_bf16)) paths.push_back(kernels::bf16::Path::native);
  for (const kernels::bf16::Path path : paths) {
    CAPTURE(kernels::bf16::name(path));
    std::vector<float> whole(static_cast<std::size_t>(m * n)), split(static_cast<std::size_t>(m * n));
    kernels::bf16::gemm(path, pa.data(), pb.data(), whole.data(), m, n, 20, n);
    kernels::bf16::gemm(path, a_first.data(), pb.data(), split.data(), m, n, 7, n);
    kernels::bf16::gemm(path, a_rest.data(), pb.data() + 7 * n, split.data(), m, n, 13, n, /*accumulate=*/true);
    CHECK(bitwise_equal(whole, split));
  }
}

TEST_CASE("bf16 packing: the AVX-512 pack_rows gives bf16::from_float's words, NaN, denormals and ties included",
          "[core][bf16]") {
  auto from_bits = [](uint32_t u) {
    float x;
    std::memcpy(&x, &u, sizeof x);
    return x;
  };
  for (const auto& [rows, k, lda] : {std::tuple{3, 37, 40}, std::tuple{2, 64, 64}, std::tuple{5, 1, 3}, std::tuple{1, 33, 33}}) {
    INFO(rows << " x " << k << ", lda " << lda);
    std::vector<float> a = spread_values(rows * lda, 7 + k, -45.0, 38.0);  // denormals to near overflow
    const uint32_t specials[] = {0x7fc00000u, 0xffc00001u, 0x7f800001u, 0x7f800000u, 0xff800000u, 0x00000001u,
                                 0x807fffffu, 0x3f808000u, 0x3f818000u, 0x7f7fffffu, 0x00800000u, 0x80000000u};
    for (std::size_t i = 0; i < std::size(specials) && i < a.size(); ++i) a[i * 3 % a.size()] = from_bits(specials[i]);
    const std::vector<uint32_t> packed = kernels::bf16::pack_rows(a.data(), rows, k, lda);
    const int64_t pairs = (k + 1) / 2;
    REQUIRE(packed.size() == static_cast<std::size_t>(rows * pairs));
    bool all_equal = true;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < pairs; ++j) {
        const uint32_t want = bits_of(a[i * lda + 2 * j]) |
                              static_cast<uint32_t>(2 * j + 1 < k ? bits_of(a[i * lda + 2 * j + 1]) : 0) << 16;
        all_equal = all_equal && packed[i * pairs + j] == want;
      }
    CHECK(all_equal);
    // pack_column_pairs is pack_pair_rows of the transpose.
    std::vector<float> t(static_cast<std::size_t>(k * rows));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t e = 0; e < k; ++e) t[e * rows + i] = a[i * lda + e];
    CHECK(kernels::bf16::pack_column_pairs(a.data(), rows, k, lda) == kernels::bf16::pack_pair_rows(t.data(), k, rows, rows));
  }
}

TEST_CASE("bf16 rounding in place: the AVX-512 loop gives bf16::round's values, NaN, denormals and ties included",
          "[core][bf16]") {
  if (!cpu::kernels_enabled(cpu::Isa::avx512)) return test::skip("no AVX-512 here: round_in_place is the scalar loop");
  std::vector<float> a = spread_values(1000, 11, -45.0, 38.0);  // denormals to near overflow; 1000: a masked tail
  const uint32_t specials[] = {0x7fc00000u, 0xffc00001u, 0x7f800001u, 0x7f800000u, 0xff800000u, 0x00000001u,
                               0x807fffffu, 0x3f808000u, 0x3f818000u, 0x7f7fffffu, 0x00800000u, 0x80000000u};
  for (std::size_t i = 0; i < std::size(specials); ++i) std::memcpy(&a[i * 7], &specials[i], sizeof(float));
  std::vector<float> got = a;
  kernels::bf16::round_in_place_avx512(got.data(), static_cast<int64_t>(got.size()));
  bool all_equal = true, any_changed = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const float want = mg::bf16::round(a[i]);
    all_equal = all_equal && std::memcmp(&got[i], &want, sizeof(float)) == 0;
    any_changed = any_changed || std::memcmp(&got[i], &a[i], sizeof(float)) != 0;
  }
  CHECK(all_equal);
  CHECK(any_changed);
}
