// The memory caps of core/kernels/conv_memory.h: the weight gradient's partial-sum buffers and the Winograd
// weight cache stay within their limits, and a tiny limit gives the same bits as the default one.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "core/cpu.h"
#include "core/kernels/conv.h"
#include "core/kernels/conv_avx512.h"
#include "core/kernels/conv_memory.h"
#include "core/rng.h"
#include "tests/test_util.h"

using namespace mg;
using kernels::Conv2dShape;

namespace {

template <typename T>
std::vector<T> draw(int64_t count, Generator& gen) {
  std::vector<T> v(count);
  for (T& e : v) e = static_cast<T>(gen.uniform(-1.0, 1.0));
  return v;
}

template <typename T>
std::vector<T> weight_grad(const Conv2dShape& s, const std::vector<T>& x, const std::vector<T>& gy) {
  std::vector<T> gw(s.out_channels * s.col_rows());
  kernels::conv2d_weight_grad<T>(x.data(), gy.data(), gw.data(), s);
  return gw;
}

template <typename T>
void check_weight_grad_caps(const Conv2dShape& s, bool avx512) {
  Generator gen(21, 4);
  const std::vector<T> x = draw<T>(s.batch * s.in_sample(), gen), gy = draw<T>(s.batch * s.out_sample(), gen);
  // One partial buffer: the weight's size, or on the AVX-512 path (K, O rounded up to its 32-wide strips).
  const int64_t columns = avx512 ? (s.out_channels + 31) / 32 * 32 : s.out_channels;
  const std::size_t buffer = static_cast<std::size_t>(columns * s.col_rows()) * sizeof(T);
  kernels::reset_weight_grad_partial_peak();
  const std::vector<T> reference = weight_grad<T>(s, x, gy);
  const std::size_t default_peak = kernels::weight_grad_partial_peak();
  INFO("partial bytes at the default limit " << default_peak << ", one buffer " << buffer);
  // The shapes give several sample groups, so the default keeps more than the smallest caps allow.
  REQUIRE(default_peak >= (avx512 ? 4 : 3) * buffer);
  for (std::size_t limit : {std::size_t{0}, std::size_t{1}, buffer, 2 * buffer + 1, 3 * buffer}) {
    INFO("limit " << limit);
    const std::size_t previous = kernels::set_weight_grad_partial_limit(limit);
    kernels::reset_weight_grad_partial_peak();
    const std::vector<T> capped = weight_grad<T>(s, x, gy);
    const std::size_t peak = kernels::weight_grad_partial_peak();
    kernels::set_weight_grad_partial_limit(previous);
    CHECK(std::memcmp(capped.data(), reference.data(), reference.size() * sizeof(T)) == 0);
    // At least one buffer is always used; the AVX-512 path also keeps the running total (its slot 0).
    CHECK(peak <= std::max(limit, buffer) + (avx512 ? buffer : 0));
    if (limit < default_peak) CHECK(peak < default_peak);
  }
}

}  // namespace

TEST_CASE("conv memory: capped weight-gradient partial sums give the default's bits", "[core][conv][memory]") {
  // 40 samples of 5x5 (5 chunks of 8: 5 groups on the im2col path); 64 samples of 5x5 with 8 channels. Odd
  // output sizes: the AVX-512 weight gradient takes its direct path (the Winograd one keeps no per-group partials).
  const Conv2dShape a = kernels::make_conv2d_shape(40, 3, 5, 5, 33, 3, 3, 1, 1);
  const Conv2dShape b = kernels::make_conv2d_shape(64, 8, 5, 5, 16, 3, 3, 1, 1);
  if (cpu::has(cpu::Isa::avx512))
    for (const Conv2dShape& s : {a, b}) REQUIRE(kernels::avx512::weight_grad_path(s) == kernels::avx512::ConvPath::in_place);
  const bool previous = cpu::set_kernels_enabled(cpu::Isa::avx512, false);
  for (const Conv2dShape& s : {a, b}) {
    check_weight_grad_caps<double>(s, false);
    check_weight_grad_caps<float>(s, false);
  }
  cpu::set_kernels_enabled(cpu::Isa::avx512, previous);
  if (cpu::has(cpu::Isa::avx512)) {
    cpu::set_kernels_enabled(cpu::Isa::avx512, true);
    for (const Conv2dShape& s : {a, b}) check_weight_grad_caps<float>(s, true);
    cpu::set_kernels_enabled(cpu::Isa::avx512, previous);
  }
}

TEST_CASE("conv memory: the Winograd weight cache never exceeds its limit and changes no bits",
          "[core][conv][memory]") {
  if (!cpu::has(cpu::Isa::avx512)) return test::skip("this CPU has no AVX-512: no Winograd path, no cache");
  const bool previous = cpu::set_kernels_enabled(cpu::Isa::avx512, true);
  const Conv2dShape s = kernels::make_conv2d_shape(2, 16, 8, 8, 24, 3, 3, 1, 1);  // Winograd (3x3, stride 1)
  REQUIRE(kernels::avx512::forward_path(s) == kernels::avx512::ConvPath::winograd);
  Generator gen(23, 5);
  const std::vector<float> x = draw<float>(s.batch * s.in_sample(), gen), b = draw<float>(s.out_channels, gen);
  std::vector<std::vector<float>> weights;
  for (int i = 0; i < 6; ++i) weights.push_back(draw<float>(s.out_channels * s.col_rows(), gen));
  auto forward_all = [&] {
    std::vector<std::vector<float>> ys;
    for (int round = 0; round < 2; ++round)  // the second round may hit the cache
      for (const std::vector<float>& w : weights) {
        ys.emplace_back(s.batch * s.out_sample());
        kernels::conv2d_forward<float>(x.data(), w.data(), b.data(), ys.back().data(), s);
      }
    return ys;
  };
  const std::size_t default_limit = kernels::set_winograd_cache_limit(kernels::kDefaultWinogradCacheBytes);
  const auto reference = forward_all();
  CHECK(kernels::winograd_cache_bytes() > 0);
  // One entry holds the weights (o*c*9 floats) and their transform (o*c*16 floats).
  const std::size_t entry = static_cast<std::size_t>(s.out_channels * s.in_channels) * (9 + 16) * sizeof(float);
  for (std::size_t limit : {std::size_t{0}, entry - 1, entry, 2 * entry + 7, 3 * entry}) {
    INFO("limit " << limit << ", one entry " << entry);
    kernels::set_winograd_cache_limit(limit);
    CHECK(kernels::winograd_cache_bytes() <= limit);  // shrinking evicts at once
    kernels::reset_winograd_cache_peak();
    const auto capped = forward_all();
    CHECK(kernels::winograd_cache_peak() <= limit);
    CHECK(kernels::winograd_cache_bytes() <= limit);
    if (limit >= entry) CHECK(kernels::winograd_cache_bytes() >= entry);  // it still caches what fits
    for (std::size_t i = 0; i < reference.size(); ++i)
      CHECK(std::memcmp(capped[i].data(), reference[i].data(), reference[i].size() * sizeof(float)) == 0);
  }
  kernels::set_winograd_cache_limit(default_limit);
  cpu::set_kernels_enabled(cpu::Isa::avx512, previous);
}
