// The AVX-512/AVX2 fast paths that promise the scalar kernels' exact bits: batch-norm channel sums (AVX2),
// the 2x2 max pool (values and argmax, NaN and ties included) and its backward (AVX-512), and the
// per-channel sum that skips the transposing copy. Each is compared bit for bit with the path used when the
// fast kernels are switched off; on a CPU without the instructions the test is reported as skipped.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/cpu.h"
#include "core/kernels/batch_norm.h"
#include "core/kernels/pool.h"
#include "core/ops.h"
#include "core/rng.h"
#include "tests/test_util.h"

using namespace mg;

namespace {

template <typename Fn>
auto with_kernels(cpu::Isa isa, bool on, Fn fn) {
  const bool previous = cpu::set_kernels_enabled(isa, on);
  auto result = fn();
  cpu::set_kernels_enabled(isa, previous);
  return result;
}

// Skips the test (visibly) when the CPU lacks isa: the two runs would both take the scalar path.
bool cpu_lacks(cpu::Isa isa) {
  if (cpu::has(isa)) return false;
  test::skip(std::string("this CPU has no ") + cpu::name(isa) + ": the fast path cannot be compared");
  return true;
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

std::vector<float> draw(int64_t n, Generator& gen, double lo = -2.0, double hi = 3.0) {
  std::vector<float> v(n);
  for (float& e : v) e = static_cast<float>(gen.uniform(lo, hi));
  return v;
}

}  // namespace

TEST_CASE("simd kernels: batch-norm sums have the scalar bits", "[core][simd][batch_norm]") {
  if (cpu_lacks(cpu::Isa::avx2)) return;
  Generator gen(3, 4);
  for (auto [n, c, s] : std::vector<std::array<int64_t, 3>>{{7, 3, 13}, {8, 4, 16}, {5, 2, 1}, {9, 5, 1024}, {2, 3, 6}}) {
    const std::vector<float> x = draw(n * c * s, gen), g = draw(n * c * s, gen);
    using Out = std::array<std::vector<double>, 4>;
    const auto run = [&] {
      Out r{std::vector<double>(c), std::vector<double>(c), std::vector<double>(c), std::vector<double>(c)};
      kernels::batch_norm_stats<float>(x.data(), n, c, s, r[0].data(), r[1].data());
      kernels::batch_norm_backward_sums<float>(g.data(), x.data(), r[0].data(), n, c, s, r[2].data(), r[3].data());
      return r;
    };
    const Out fast = with_kernels(cpu::Isa::avx2, true, run), slow = with_kernels(cpu::Isa::avx2, false, run);
    for (int i = 0; i < 4; ++i) CHECK(same_bits(fast[i], slow[i]));
  }
}

TEST_CASE("simd kernels: 2x2 max pool and its backward have the scalar bits", "[core][simd][pool]") {
  if (cpu_lacks(cpu::Isa::avx512)) return;
  Generator gen(5, 6);
  for (auto [planes, h, w] : std::vector<std::array<int64_t, 3>>{{3, 8, 8}, {2, 7, 9}, {4, 32, 32}, {2, 6, 66}}) {
    const kernels::Pool2dShape s = kernels::make_pool2d_shape(planes, h, w, 2, 2);
    std::vector<float> x = draw(planes * h * w, gen);
    // Ties, -inf windows and NaNs.
    x[0] = x[1] = x[w] = x[w + 1] = 1.5f;
    x[2] = x[3] = x[w + 2] = x[w + 3] = -std::numeric_limits<float>::infinity();
    x[w + 5] = std::numeric_limits<float>::quiet_NaN();
    x[4 * w + 1] = std::numeric_limits<float>::quiet_NaN();
    x[4 * w + w] = std::numeric_limits<float>::quiet_NaN();
    const std::vector<float> gy = draw(planes * s.out_plane(), gen);
    struct Out {
      std::vector<float> y, gx;
      std::vector<int32_t> idx;
    };
    const auto run = [&] {
      Out r{std::vector<float>(planes * s.out_plane()), std::vector<float>(planes * h * w),
            std::vector<int32_t>(planes * s.out_plane())};
      kernels::max_pool2d_forward<float>(x.data(), r.y.data(), r.idx.data(), s);
      kernels::max_pool2d_backward<float>(gy.data(), r.idx.data(), r.gx.data(), s);
      return r;
    };
    const Out fast = with_kernels(cpu::Isa::avx512, true, run), slow = with_kernels(cpu::Isa::avx512, false, run);
    CHECK(same_bits(fast.y, slow.y));
    CHECK(same_bits(fast.idx, slow.idx));
    CHECK(same_bits(fast.gx, slow.gx));
  }
}

TEST_CASE("simd kernels: the per-channel sum equals the generic reduction bit for bit", "[core][simd][reduce]") {
  Generator gen(8, 9);
  for (const Shape& shape : std::vector<Shape>{{4, 3, 8, 8}, {128, 2, 32, 32}, {5, 7, 16}, {3, 4, 5, 5}}) {
    const Tensor a = rand_uniform(shape, gen, -1.0, 1.0);
    std::vector<int64_t> axes{0};
    for (int64_t d = 2; d < static_cast<int64_t>(shape.size()); ++d) axes.push_back(d);
    const Tensor fast = ops::sum(a, axes);
    // The same sum taken through a (C, N, ...) view: not contiguous, so the generic path gathers it.
    std::vector<int64_t> order{1, 0}, rest;
    for (int64_t d = 2; d < static_cast<int64_t>(shape.size()); ++d) order.push_back(d);
    for (int64_t d = 1; d < static_cast<int64_t>(shape.size()); ++d) rest.push_back(d);
    const Tensor generic = ops::sum(a.permute(order), rest);
    CHECK(std::memcmp(fast.data<float>(), generic.contiguous().data<float>(), fast.numel() * sizeof(float)) == 0);
  }
}
