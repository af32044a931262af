// The counter-based generator: known answers, reproducibility and the moments of each distribution.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>

#include "core/rng.h"

using namespace mg;

TEST_CASE("Philox4x32-10 reproduces the Random123 known-answer vectors", "[core][rng]") {
  using W = std::array<uint32_t, 4>;
  CHECK(philox4x32_10({0, 0, 0, 0}, {0, 0}) == W{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  CHECK(philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}) ==
        W{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  CHECK(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}) ==
        W{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST_CASE("a generator is a pure function of (seed, stream, counter)", "[core][rng]") {
  Generator a(42, 7), b(42, 7), c(42, 8), d(43, 7);
  std::vector<uint64_t> xa, xb, xc, xd;
  for (int i = 0; i < 16; ++i) {
    xa.push_back(a.next_u64());
    xb.push_back(b.next_u64());
    xc.push_back(c.next_u64());
    xd.push_back(d.next_u64());
  }
  CHECK(xa == xb);
  CHECK(xa != xc);
  CHECK(xa != xd);
  // Saving and restoring the state continues the exact sequence.
  Generator e(5, 1);
  e.normal();
  const Generator::State s = e.state();
  const double next = e.normal(), after = e.uniform();
  Generator f(0, 0);
  f.set_state(s);
  CHECK(f.normal() == next);
  CHECK(f.uniform() == after);
}

TEST_CASE("uniform, normal, gamma and beta have the right moments", "[core][rng]") {
  Generator gen(2024, 0);
  const int n = 200000;
  auto moments = [&](auto draw) {
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const double v = draw();
      s += v;
      s2 += v * v;
    }
    const double mean = s / n;
    return std::pair{mean, s2 / n - mean * mean};
  };
  auto [um, uv] = moments([&] { return gen.uniform(); });
  CHECK(um == Approx(0.5).margin(0.005));
  CHECK(uv == Approx(1.0 / 12).margin(0.002));
  auto [nm, nv] = moments([&] { return gen.normal(); });
  CHECK(nm == Approx(0.0).margin(0.01));
  CHECK(nv == Approx(1.0).margin(0.01));
  auto [gm, gv] = moments([&] { return gen.gamma(0.3); });
  CHECK(gm == Approx(0.3).margin(0.01));
  CHECK(gv == Approx(0.3).margin(0.02));
  for (double alpha : {0.2, 1.0, 2.0}) {
    auto [bm, bv] = moments([&] { return gen.beta(alpha, alpha); });
    CHECK(bm == Approx(0.5).margin(0.005));
    CHECK(bv == Approx(1.0 / (4 * (2 * alpha + 1))).margin(0.003));  // Var Beta(a,a) = 1/(4(2a+1))
  }
  auto [am, av] = moments([&] { return gen.beta(2.0, 1.0); });
  CHECK(am == Approx(2.0 / 3).margin(0.005));
  CHECK(av == Approx(2.0 / (9 * 4)).margin(0.003));
}

TEST_CASE("permutations are valid and reproducible", "[core][rng]") {
  Generator a(9, 3), b(9, 3);
  const std::vector<int64_t> p = a.permutation(1000);
  CHECK(p == b.permutation(1000));
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(sorted == identity);
  CHECK(p != identity);
  // below(n) is uniform: counts of 0..4 over many draws are balanced.
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 50000; ++i) ++counts[a.below(5)];
  for (int c : counts) CHECK(c == Approx(10000).margin(400));
}
