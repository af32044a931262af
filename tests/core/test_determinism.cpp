// Same inputs give the same bits on 1 and 2 threads: reductions use a fixed split, GEMM fixed tiles. Each
// check first makes sure it could fail: the inputs are ones whose float sums depend on the order of the
// additions, and a second thread really runs when two are allowed.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/ops.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "tests/test_util.h"

using namespace mg;

namespace {

// True when two tasks of one parallel_for ran on two different threads at once (each waits up to 10 s for
// the other to arrive).
bool second_thread_runs() {
  std::atomic<int> arrived{0};
  std::atomic<bool> distinct{false};
  std::atomic<std::thread::id> first{};
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    const std::thread::id me = std::this_thread::get_id();
    std::thread::id none{};
    if (!first.compare_exchange_strong(none, me) && none != me) distinct = true;
    arrived.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  });
  return distinct.load();
}

template <typename Fn>
void same_bits_on_1_and_2_threads(Fn compute) {
  const int saved = num_threads();
  set_num_threads(1);
  const Tensor one = compute();
  set_num_threads(2);
  REQUIRE(second_thread_runs());
  const Tensor two = compute();
  set_num_threads(saved);
  CHECK(test::bitwise_equal(one, two));
}

// The float32 sum of v added front to back differs from the sum back to front: an order-dependent split
// of its reduction would show in the bits.
bool order_matters(const Tensor& t) {
  const std::vector<double> v = t.to_vector();
  float forward = 0, backward = 0;
  for (std::size_t i = 0; i < v.size(); ++i) forward += static_cast<float>(v[i]);
  for (std::size_t i = v.size(); i-- > 0;) backward += static_cast<float>(v[i]);
  return forward != backward;
}

}  // namespace

TEST_CASE("reductions are bitwise identical on 1 and 2 threads", "[core][determinism]") {
  if (hardware_threads() < 2) return test::skip("one hardware thread: 2 threads cannot run at once");
  Generator gen(11, 0);
  const Tensor big = rand_uniform({1 << 20}, gen, -1, 1);        // one long row: chunked partial sums
  const Tensor wide = rand_uniform({64, 3, 32, 32}, gen, -1, 1);  // many rows
  REQUIRE(order_matters(big));
  REQUIRE(order_matters(wide.select(1, 0)));
  same_bits_on_1_and_2_threads([&] { return ops::sum(big); });
  same_bits_on_1_and_2_threads([&] { return ops::sum(wide, {0, 2, 3}); });
  same_bits_on_1_and_2_threads([&] { return ops::mean(wide, {1}); });
  same_bits_on_1_and_2_threads([&] { return ops::sum(ops::mul(wide, wide), {0}); });
}

TEST_CASE("matmul is bitwise identical on 1 and 2 threads", "[core][determinism]") {
  if (hardware_threads() < 2) return test::skip("one hardware thread: 2 threads cannot run at once");
  Generator gen(12, 0);
  const Tensor a = rand_uniform({64, 576}, gen, -1, 1), b = rand_uniform({576, 8192}, gen, -1, 1);
  same_bits_on_1_and_2_threads([&] { return ops::matmul(a, b); });
  const Tensor c = rand_uniform({2048, 300}, gen, -1, 1), d = rand_uniform({300, 64}, gen, -1, 1);
  same_bits_on_1_and_2_threads([&] { return ops::matmul(c, d); });
  const Tensor e = rand_uniform({8, 128, 64}, gen, -1, 1), f = rand_uniform({8, 64, 96}, gen, -1, 1);
  same_bits_on_1_and_2_threads([&] { return ops::matmul(e, f); });
}
