#include "datasets/loader.h"

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"

namespace mg::data {

Loader::Loader(const Dataset& ds, LoaderOptions options) : ds_(ds), opt_(std::move(options)) {
  MG_CHECK(opt_.batch_size > 0, "loader: batch size must be positive, got ", opt_.batch_size);
  MG_CHECK(opt_.augment.pad >= 0, "loader: crop padding must be >= 0, got ", opt_.augment.pad);
  MG_CHECK(ds_.size() > 0, ds_.name, ": the dataset is empty, nothing to load");
  MG_CHECK(ds_.images.size() == static_cast<size_t>(ds_.size() * ds_.image_bytes()), ds_.name,
           ": pixel bytes do not match the image count");
  if (opt_.mean.empty()) opt_.mean = ds_.mean;
  if (opt_.std.empty()) opt_.std = ds_.std;
  MG_CHECK(static_cast<int64_t>(opt_.mean.size()) == ds_.channels, ds_.name, ": normalisation has ",
           opt_.mean.size(), " means for ", ds_.channels, " channels");
  table_ = make_normalize_table(opt_.mean, opt_.std);

  const int64_t n = opt_.subset < 0 ? ds_.size() : opt_.subset;
  MG_CHECK(n > 0 && n <= ds_.size(), ds_.name, ": subset of ", opt_.subset, " samples, expected 1..", ds_.size());
  if (opt_.subset_mode == SubsetMode::First || n == ds_.size()) {
    subset_.resize(n);
    for (int64_t i = 0; i < n; ++i) subset_[i] = i;
  } else {
    subset_ = Generator(opt_.seed, stream_id(kSubsetPurpose)).permutation(ds_.size());
    subset_.resize(n);
    std::sort(subset_.begin(), subset_.end());
  }
  if (opt_.prefetch) worker_ = std::thread([this] { worker_loop(); });
}

Loader::~Loader() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

int64_t Loader::num_batches() const {
  const int64_t n = num_samples(), b = opt_.batch_size;
  return opt_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> Loader::epoch_order(int64_t epoch) const {
  if (!opt_.shuffle) return subset_;
  const std::vector<int64_t> perm =
      Generator(opt_.seed, stream_id(kShufflePurpose, static_cast<uint64_t>(epoch))).permutation(num_samples());
  std::vector<int64_t> order(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) order[i] = subset_[perm[i]];
  return order;
}

Batch Loader::build(const std::vector<int64_t>& order, int64_t epoch, int64_t batch_index) const {
  MG_CHECK(batch_index >= 0 && batch_index < num_batches(), ds_.name, ": batch ", batch_index,
           " out of range 0..", num_batches() - 1);
  const int64_t begin = batch_index * opt_.batch_size;
  const int64_t n = std::min(opt_.batch_size, num_samples() - begin);
  const int64_t C = ds_.channels, H = ds_.height, W = ds_.width, chw = C * H * W;
  Batch batch;
  batch.x = Tensor::empty({n, C, H, W});
  batch.indices.assign(order.begin() + begin, order.begin() + begin + n);
  batch.y.resize(n);
  for (int64_t i = 0; i < n; ++i) batch.y[i] = ds_.labels[batch.indices[i]];
  float* x = batch.x.data<float>();
  // Samples are split across threads; each writes only its own C×H×W slice, and its random draws depend only
  // on (seed, epoch, dataset index), so the batch is the same for any split.
  parallel_for(0, n, 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t index = batch.indices[i];
      const AugmentDraw d = draw_augment(opt_.augment, opt_.seed, epoch, index);
      augment_normalize(ds_.image(index), C, H, W, opt_.augment.pad, d, table_, x + i * chw);
    }
  });
  return batch;
}

Batch Loader::make_batch(int64_t epoch, int64_t batch_index) const {
  return build(epoch_order(epoch), epoch, batch_index);
}

void Loader::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || job_.has_value(); });
    if (stop_) return;
    const int64_t index = *job_;
    lock.unlock();
    std::optional<Batch> batch;
    std::exception_ptr error;
    try {
      batch = build(order_, epoch_, index);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    ready_ = std::move(batch);
    ready_index_ = index;
    error_ = error;
    job_.reset();
    cv_.notify_all();
  }
}

void Loader::submit(int64_t batch_index) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = batch_index;
    ready_.reset();
    ready_index_.reset();
    error_ = nullptr;
  }
  cv_.notify_all();
}

void Loader::wait_idle() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return !job_.has_value(); });
}

void Loader::start_epoch(int64_t epoch, int64_t first_batch) {
  MG_CHECK(epoch >= 0, ds_.name, ": epoch must be >= 0, got ", epoch);
  MG_CHECK(first_batch >= 0 && first_batch <= num_batches(), ds_.name, ": cannot start epoch ", epoch,
           " at batch ", first_batch, " of ", num_batches());
  if (opt_.prefetch) wait_idle();  // the worker reads order_ and epoch_
  epoch_ = epoch;
  order_ = epoch_order(epoch);
  next_batch_ = first_batch;
  if (opt_.prefetch && next_batch_ < num_batches()) submit(next_batch_);
}

bool Loader::next(Batch& out) {
  MG_CHECK(epoch_ >= 0, ds_.name, ": call start_epoch before next");
  if (next_batch_ >= num_batches()) return false;
  if (!opt_.prefetch) {
    out = build(order_, epoch_, next_batch_++);
    return true;
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return !job_.has_value(); });
    if (error_) std::rethrow_exception(error_);
    MG_CHECK(ready_index_ == next_batch_ && ready_.has_value(), "loader: internal error, batch ", next_batch_,
             " was not prepared");
    out = std::move(*ready_);
    ready_.reset();
    ready_index_.reset();
  }
  ++next_batch_;
  if (next_batch_ < num_batches()) submit(next_batch_);
  return true;
}

}  // namespace mg::data
