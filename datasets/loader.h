// Loader: turns a Dataset into float batches for training and evaluation.
//  - order: a seeded permutation per epoch, Generator(seed, stream_id(kShufflePurpose, epoch)), or dataset order;
//  - subset: optionally only the first N samples, or N drawn once with Generator(seed, stream_id(kSubsetPurpose));
//  - each batch is assembled in parallel (parallel_for over its samples), with crop/flip drawn per sample from
//    (seed, epoch, sample index) (transforms.h), so batches are bit-identical on any thread count;
//  - with prefetch, a background thread builds batch b+1 while the caller trains on batch b.
// Usage:  Loader loader(ds, opts); for (epoch...) { loader.start_epoch(epoch); Batch b; while (loader.next(b)) {...} }
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/tensor.h"
#include "datasets/dataset.h"
#include "datasets/transforms.h"

namespace mg::data {

constexpr uint64_t kShufflePurpose = 0x6d672d7368756600ull;  // "mg-shuf"
constexpr uint64_t kSubsetPurpose = 0x6d672d7375627300ull;   // "mg-subs"

enum class SubsetMode { First, Random };

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;           // a new seeded order every epoch; false = dataset order
  bool drop_last = false;        // drop a last batch smaller than batch_size
  uint64_t seed = 0;
  Augment augment;               // default: no crop, no flip (evaluation)
  std::vector<float> mean, std;  // normalisation; empty = the dataset's defaults
  int64_t subset = -1;           // use only this many samples; -1 = all
  SubsetMode subset_mode = SubsetMode::First;
  bool prefetch = true;          // build the next batch on a background thread
};

struct Batch {
  Tensor x;                      // f32 [n, C, H, W], normalised
  std::vector<int64_t> y;        // labels
  std::vector<int64_t> indices;  // dataset index of each sample
  int64_t size() const { return static_cast<int64_t>(y.size()); }
};

class Loader {
 public:
  // `ds` must outlive the loader.
  Loader(const Dataset& ds, LoaderOptions options);
  Loader(Dataset&& ds, LoaderOptions options) = delete;  // a temporary would dangle
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t num_samples() const { return static_cast<int64_t>(subset_.size()); }
  int64_t num_batches() const;  // per epoch
  const LoaderOptions& options() const { return opt_; }
  const std::vector<int64_t>& subset_indices() const { return subset_; }  // dataset indices in use, ascending

  // Dataset indices in the order epoch `epoch` visits them.
  std::vector<int64_t> epoch_order(int64_t epoch) const;

  // Batch `batch_index` of `epoch`, built now on the calling thread (its samples in parallel).
  Batch make_batch(int64_t epoch, int64_t batch_index) const;

  // Starts an epoch at batch `first_batch` (non-zero to resume mid-epoch); prefetching starts at once.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);

  // The next batch of the current epoch into `out`; false (out untouched) when the epoch is over.
  bool next(Batch& out);

 private:
  Batch build(const std::vector<int64_t>& order, int64_t epoch, int64_t batch_index) const;
  void worker_loop();
  void submit(int64_t batch_index);  // queue a batch for the worker
  void wait_idle();                  // wait until the worker holds no job

  const Dataset& ds_;
  LoaderOptions opt_;
  NormalizeTable table_;
  std::vector<int64_t> subset_;

  int64_t epoch_ = -1, next_batch_ = 0;
  std::vector<int64_t> order_;  // current epoch's order; only changed while the worker is idle

  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::optional<int64_t> job_;     // batch the worker must build
  std::optional<int64_t> ready_index_;
  std::optional<Batch> ready_;     // the finished batch
  std::exception_ptr error_;
};

}  // namespace mg::data
