// Loader: same seed => identical batches (order and augmented pixels) on 1 and 2 threads, with and without
// prefetch; a different epoch => a different order; subsets, drop_last and resuming mid-epoch.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>

#include "core/parallel.h"
#include "datasets/loader.h"
#include "helpers.h"

using namespace mg;
using namespace mg::data;

namespace {

// n random-looking 3×32×32 images with labels i % 10.
Dataset synthetic(int64_t n) {
  Dataset ds;
  ds.name = "synthetic";
  ds.channels = 3, ds.height = 32, ds.width = 32;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < 3072; ++k) ds.images.push_back(data::test::pixel(i, k));
  for (int64_t i = 0; i < n; ++i) ds.labels.push_back(i % 10);
  ds.classes = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  ds.mean = {0.49f, 0.48f, 0.45f};
  ds.std = {0.2f, 0.2f, 0.2f};
  return ds;
}

// All batches of epochs 0 and 1, through start_epoch/next.
std::vector<Batch> run(const Dataset& ds, LoaderOptions opt, int threads) {
  set_num_threads(threads);
  Loader loader(ds, opt);
  std::vector<Batch> out;
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    loader.start_epoch(epoch);
    Batch b;
    while (loader.next(b)) out.push_back(b);
  }
  return out;
}

bool same(const Batch& a, const Batch& b) {
  return a.indices == b.indices && a.y == b.y && a.x.shape() == b.x.shape() &&
         std::memcmp(a.x.data<float>(), b.x.data<float>(), a.x.numel() * sizeof(float)) == 0;
}

struct ThreadsGuard {
  int saved = num_threads();
  ~ThreadsGuard() { set_num_threads(saved); }
};

}  // namespace

TEST_CASE("datasets: loader: same seed gives bit-identical batches on 1 and 2 threads, prefetch or not", "[datasets][loader]") {
  ThreadsGuard guard;
  const Dataset ds = synthetic(300);
  LoaderOptions opt;
  opt.batch_size = 100;
  opt.seed = 42;
  opt.augment = {4, true};
  const std::vector<Batch> one = run(ds, opt, 1), two = run(ds, opt, 2);
  opt.prefetch = false;
  const std::vector<Batch> sync = run(ds, opt, 2);
  REQUIRE(one.size() == 6);
  REQUIRE(two.size() == 6);
  for (size_t i = 0; i < one.size(); ++i) {
    CHECK(same(one[i], two[i]));
    CHECK(same(one[i], sync[i]));
  }
  // A different seed changes order and pixels.
  opt.seed = 43;
  const std::vector<Batch> other = run(ds, opt, 2);
  CHECK(other[0].indices != one[0].indices);
}

TEST_CASE("datasets: loader: each epoch visits every sample once, in a different order", "[datasets][loader]") {
  const Dataset ds = synthetic(50);
  LoaderOptions opt;
  opt.batch_size = 16;
  Loader loader(ds, opt);
  REQUIRE(loader.num_batches() == 4);
  const auto e0 = loader.epoch_order(0), e1 = loader.epoch_order(1);
  CHECK(e0 != e1);
  auto sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) CHECK(sorted[i] == i);
  loader.start_epoch(1);
  Batch b;
  std::vector<int64_t> seen;
  while (loader.next(b)) {
    CHECK(b.x.shape()[0] == b.size());
    for (int64_t k = 0; k < b.size(); ++k) CHECK(b.y[k] == ds.labels[b.indices[k]]);
    seen.insert(seen.end(), b.indices.begin(), b.indices.end());
  }
  CHECK(seen == e1);
  CHECK(b.size() == 2);  // the last, short batch
}

TEST_CASE("datasets: loader: augmented pixels follow the sample's own draw and normalisation", "[datasets][loader]") {
  const Dataset ds = synthetic(20);
  LoaderOptions opt;
  opt.batch_size = 8;
  opt.seed = 5;
  opt.augment = {4, true};
  Loader loader(ds, opt);
  const Batch b = loader.make_batch(3, 1);
  const NormalizeTable table = make_normalize_table(ds.mean, ds.std);
  for (int64_t k = 0; k < b.size(); ++k) {
    std::vector<float> want(3072);
    const AugmentDraw d = draw_augment(opt.augment, 5, 3, b.indices[k]);
    augment_normalize(ds.image(b.indices[k]), 3, 32, 32, 4, d, table, want.data());
    CHECK(std::memcmp(want.data(), b.x.data<float>() + k * 3072, 3072 * sizeof(float)) == 0);
  }
  // No augmentation, no shuffle: batch 0 is image 0 .. 7 normalised with the dataset's mean/std.
  LoaderOptions plain;
  plain.batch_size = 8;
  plain.shuffle = false;
  const Batch p = Loader(ds, plain).make_batch(0, 0);
  CHECK(p.indices == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(p.x.at({2, 1, 3, 4}) == Approx((data::test::pixel(2, 1024 + 3 * 32 + 4) / 255.0 - 0.48) / 0.2));
}

TEST_CASE("datasets: loader: drop_last, subsets and resuming mid-epoch", "[datasets][loader]") {
  const Dataset ds = synthetic(50);
  LoaderOptions opt;
  opt.batch_size = 16;
  opt.drop_last = true;
  CHECK(Loader(ds, opt).num_batches() == 3);

  opt.subset = 20;
  Loader first(ds, opt);
  CHECK(first.num_samples() == 20);
  CHECK(first.subset_indices().back() == 19);
  const auto order = first.epoch_order(0);
  CHECK(*std::max_element(order.begin(), order.end()) == 19);

  opt.subset_mode = SubsetMode::Random;
  opt.seed = 9;
  Loader sampled(ds, opt), again(ds, opt);
  CHECK(sampled.subset_indices() == again.subset_indices());
  CHECK(sampled.subset_indices() != first.subset_indices());
  CHECK(std::is_sorted(sampled.subset_indices().begin(), sampled.subset_indices().end()));

  LoaderOptions r;
  r.batch_size = 16;
  r.augment = {2, true};
  Loader resume(ds, r);
  resume.start_epoch(4, 2);
  Batch b;
  REQUIRE(resume.next(b));
  CHECK(same(b, resume.make_batch(4, 2)));
  REQUIRE(resume.next(b));
  CHECK(!resume.next(b));
}

TEST_CASE("datasets: loader: bad options are refused", "[datasets][loader]") {
  const Dataset ds = synthetic(5);
  LoaderOptions opt;
  opt.batch_size = 0;
  CHECK_THROWS_AS(Loader(ds, opt), Error);
  opt.batch_size = 2;
  opt.subset = 6;
  CHECK_THROWS_WITH(Loader(ds, opt), Catch::Contains("subset of 6"));
  opt.subset = -1;
  opt.mean = {0.5f};
  CHECK_THROWS_WITH(Loader(ds, opt), Catch::Contains("channels"));
}
