// Same inputs give the same bits on 1 and 2 threads: reductions use a fixed split, GEMM fixed tiles.
#include <catch2/catch.hpp>

#include "core/ops.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "tests/test_util.h"

using namespace mg;

namespace {

template <typename Fn>
void same_bits_on_1_and_2_threads(Fn compute) {
  const int saved = num_threads();
  set_num_threads(1);
  const Tensor one = compute();
  set_num_threads(2);
  const Tensor two = compute();
  set_num_threads(saved);
  CHECK(test::bitwise_equal(one, two));
}

}  // namespace

TEST_CASE("reductions are bitwise identical on 1 and 2 threads", "[core][determinism]") {
  Generator gen(11, 0);
  const Tensor big = rand_uniform({1 << 20}, gen, -1, 1);        // one long row: chunked partial sums
  const Tensor wide = rand_uniform({64, 3, 32, 32}, gen, -1, 1);  // many rows
  same_bits_on_1_and_2_threads([&] { return ops::sum(big); });
  same_bits_on_1_and_2_threads([&] { return ops::sum(wide, {0, 2, 3}); });
  same_bits_on_1_and_2_threads([&] { return ops::mean(wide, {1}); });
  same_bits_on_1_and_2_threads([&] { return ops::amax(wide, {0}); });
}

TEST_CASE("matmul is bitwise identical on 1 and 2 threads", "[core][determinism]") {
  Generator gen(12, 0);
  const Tensor a = rand_uniform({64, 576}, gen, -1, 1), b = rand_uniform({576, 8192}, gen, -1, 1);
  same_bits_on_1_and_2_threads([&] { return ops::matmul(a, b); });
  const Tensor c = rand_uniform({2048, 300}, gen, -1, 1), d = rand_uniform({300, 64}, gen, -1, 1);
  same_bits_on_1_and_2_threads([&] { return ops::matmul(c, d); });
  const Tensor e = rand_uniform({8, 128, 64}, gen, -1, 1), f = rand_uniform({8, 64, 96}, gen, -1, 1);
  same_bits_on_1_and_2_threads([&] { return ops::matmul(e, f); });
}
