// Data-parallel steps over micro-shards (nn/distributed/micro_shards.h): K ranks (threads here, MPI in
// tests/experiments/test_mpi_train.cpp) give bitwise the weights, BatchNorm statistics and losses of one
// process, and those equal the plain step up to rounding (SyncBatchNorm: the statistics of the global batch).
#include <catch2/catch.hpp>

#include "core/ops.h"
#include "nn/autocast.h"
#include "nn/distributed/micro_shards.h"
#include "nn/functional.h"
#include "nn/models.h"
#include "nn/optim/sgd.h"
#include "tests/nn/thread_job.h"
#include "tests/test_util.h"

using namespace mg;
using namespace mg::nn;

namespace {

struct Steps {
  std::vector<Tensor> state;    // the state_dict after the steps
  std::vector<double> losses;  // per step
};

// `steps` SGD steps of `model` on random batches of `batch` 32x32 images, as rank job.rank() of a job with
// `shards` micro-shards (0: the plain step, no micro-shards).
struct Options {
  double dropout = 0.0;                  // the wide ResNets' dropout, restarted every step
  Precision precision = Precision::f32;  // bf16: the steps under Autocast
};
Steps train_steps(const std::string& model_name, int steps, int64_t batch, int64_t shards, const Collective& job,
                  const Options& options = {}) {
  const Autocast autocast(options.precision);  // per thread, as each rank's
  auto model = make_model(model_name, 0, 10, 3, 32, 32, options.dropout);
  SGD opt(model->named_parameters(), {.lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = true});
  Steps out;
  for (int step = 0; step < steps; ++step) {
    Generator gen(100 + step);
    const Tensor x = rand_normal({batch, 3, 32, 32}, gen);
    std::vector<int64_t> y(batch);
    for (auto& label : y) label = static_cast<int64_t>(gen.below(10));
    Variable loss;
    opt.zero_grad();
    restart_dropout_at(*model, static_cast<uint64_t>(step));
    if (shards == 0) {
      loss = cross_entropy((*model)(Variable(x)), y);
      loss.backward();
    } else {
      const MicroShards ms(batch, shards, job);
      const int64_t b = ms.local_begin(), e = b + ms.local_size();
      const MicroShardScope scope(ms);
      loss = cross_entropy((*model)(Variable(x.slice(0, b, e))), std::vector<int64_t>(y.begin() + b, y.begin() + e));
      loss.backward();
    }
    opt.step();
    out.losses.push_back(loss.item());
  }
  for (const StateEntry& e : model->state_dict()) out.state.push_back(e.value.clone());
  return out;
}

// Runs train_steps on K threads as ranks; checks every rank ends with the same state and returns rank 0's.
Steps on_ranks(int k, const std::string& model_name, int steps, int64_t batch, int64_t shards, const Options& options = {}) {
  std::vector<Steps> per_rank(k);
  test::ThreadJob(k).run([&](int rank, const Collective& job) {
    per_rank[rank] = train_steps(model_name, steps, batch, shards, job, options);
  });
  return per_rank[0];
}

void require_same_bits(const Steps& a, const Steps& b) {
  REQUIRE(a.losses == b.losses);
  REQUIRE(a.state.size() == b.state.size());
  for (std::size_t i = 0; i < a.state.size(); ++i) {
    INFO("state entry " << i);
    REQUIRE(test::bitwise_equal(a.state[i], b.state[i]));
  }
}

}  // namespace

TEST_CASE("micro-shards: each rank holds a contiguous block of micro-shards", "[nn][distributed]") {
  test::ThreadJob(2).run([](int rank, const Collective& job) {
    const MicroShards ms(10, 4, job);  // micro-shards [0,2) [2,5) [5,7) [7,10)
    CHECK(ms.local_count() == 2);
    CHECK(ms.local_begin() == (rank == 0 ? 0 : 5));
    CHECK(ms.local_size() == 5);
    CHECK(ms.offset(1) == (rank == 0 ? 2 : 2));
    CHECK(ms.length(0) == (rank == 0 ? 2 : 2));
    CHECK(ms.length(1) == 3);
    // The tree over the job: ((1 + 2) + (4 + 8)) on every rank.
    const double base = rank == 0 ? 1.0 : 4.0;
    CHECK(ms.sum({{base}, {2 * base}}) == std::vector<double>{15.0});
  });
}

TEST_CASE("micro-shards: bad counts are refused with the reason", "[nn][distributed]") {
  REQUIRE_THROWS_WITH(MicroShards(128, 3, single_process()), Catch::Contains("power of two") && Catch::Contains("3"));
  REQUIRE_THROWS_WITH(MicroShards(2, 4, single_process()), Catch::Contains("batch of 2"));
  test::ThreadJob(2).run([](int, const Collective& job) {
    REQUIRE_THROWS_WITH(MicroShards(128, 1, job), Catch::Contains("2 ranks"));
  });
}

TEST_CASE("micro-shards: smallcnn-bn steps give the same bits on 1, 2 and 4 ranks", "[nn][distributed]") {
  const Steps one = on_ranks(1, "smallcnn-bn", 3, 20, 4);
  require_same_bits(one, on_ranks(2, "smallcnn-bn", 3, 20, 4));
  require_same_bits(one, on_ranks(4, "smallcnn-bn", 3, 20, 4));
  // The same step as the plain one, up to the order of additions: BatchNorm used the whole batch.
  const Steps plain = train_steps("smallcnn-bn", 3, 20, 0, single_process());
  REQUIRE(one.losses.size() == plain.losses.size());
  for (std::size_t i = 0; i < plain.losses.size(); ++i) CHECK(one.losses[i] == Approx(plain.losses[i]).epsilon(1e-5));
  for (std::size_t i = 0; i < plain.state.size(); ++i) CHECK(test::all_close(one.state[i], plain.state[i], 1e-4));
  // ... and it is not the plain step's bits by accident of a path that ignores the micro-shards.
  bool any_bits_differ = false;
  for (std::size_t i = 0; i < plain.state.size(); ++i) any_bits_differ |= !test::bitwise_equal(one.state[i], plain.state[i]);
  CHECK(any_bits_differ);
}

TEST_CASE("micro-shards: smallcnn (linear layers, biases) and preact-resnet18 on 1 and 2 ranks", "[nn][distributed]") {
  require_same_bits(on_ranks(1, "smallcnn", 2, 12, 2), on_ranks(2, "smallcnn", 2, 12, 2));
  require_same_bits(on_ranks(1, "preact-resnet18", 1, 8, 2), on_ranks(2, "preact-resnet18", 1, 8, 2));
}

TEST_CASE("micro-shards: wrn-16-8 with dropout on 1 and 2 ranks (the masks of the global batch)", "[nn][distributed]") {
  const Steps one = on_ranks(1, "wrn-16-8", 2, 8, 2, {.dropout = 0.3});
  require_same_bits(one, on_ranks(2, "wrn-16-8", 2, 8, 2, {.dropout = 0.3}));
  // The masks were applied: without dropout the same steps end elsewhere.
  const Steps without = on_ranks(1, "wrn-16-8", 2, 8, 2);
  CHECK(one.losses != without.losses);
}

TEST_CASE("micro-shards: smallcnn-bn in bf16 (autocast) on 1, 2 and 4 ranks", "[nn][distributed][bf16]") {
  const Steps one = on_ranks(1, "smallcnn-bn", 2, 16, 4, {.precision = Precision::bf16});
  require_same_bits(one, on_ranks(2, "smallcnn-bn", 2, 16, 4, {.precision = Precision::bf16}));
  require_same_bits(one, on_ranks(4, "smallcnn-bn", 2, 16, 4, {.precision = Precision::bf16}));
  // bf16 was in effect: the f32 steps end elsewhere.
  CHECK(one.losses != on_ranks(1, "smallcnn-bn", 2, 16, 4).losses);
}
