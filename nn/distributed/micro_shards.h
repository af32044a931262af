// Data-parallel training with the same bits on any number of ranks. The global batch of B samples is cut
// into M micro-shards (M a power of two; micro-shard i is samples [i B / M, (i + 1) B / M)), and rank r of
// K (K dividing M) holds micro-shards [r M / K, (r + 1) M / K), a contiguous block of the batch.
//
// Every op computes per micro-shard (the kernels see the same micro-shard whatever K is), and every sum
// over the batch the step makes (a weight gradient, BatchNorm's statistics and gradient sums, the loss)
// adds the per-micro-shard partial sums in one fixed binary tree: neighbours, then pairs of pairs. A rank's
// block is a subtree, so it sums its own partials, all-gathers the K subtree sums and finishes the tree.
// The additions, and so the bits, are the same for every K; K = 1 computes the whole tree itself.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "autograd/variable.h"
#include "nn/distributed/collective.h"

namespace mg::nn {

class MicroShards {
 public:
  // Throws unless count is a power of two, job.size() divides it, and every micro-shard has a sample.
  MicroShards(int64_t batch, int64_t count, const Collective& job);

  int64_t batch() const { return batch_; }  // B, the global batch
  int64_t count() const { return count_; }  // M
  const Collective& job() const { return *job_; }
  int64_t local_begin() const { return bound(first_); }  // this rank's block: samples [begin, begin + size)
  int64_t local_size() const { return bound(first_ + local_count()) - local_begin(); }
  int64_t local_count() const { return count_ / job_->size(); }
  // Local micro-shard i (0 <= i < local_count()): its first sample within the block, and its length.
  int64_t offset(int64_t i) const { return bound(first_ + i) - local_begin(); }
  int64_t length(int64_t i) const { return bound(first_ + i + 1) - bound(first_ + i); }

  // The sum over every micro-shard of the job, given this rank's partials (one per local micro-shard, all
  // the same length), in the fixed tree. Collective: every rank calls it at the same point.
  std::vector<double> sum(std::vector<std::vector<double>> partials) const;
  Tensor sum(std::vector<Tensor> partials) const;

 private:
  int64_t bound(int64_t i) const { return i * batch_ / count_; }
  int64_t batch_, count_, first_;
  const Collective* job_;
};

// While alive, makes `shards` this thread's active micro-shards: conv2d, linear, batch_norm(_relu) and
// cross_entropy called on a tensor of shards.local_size() samples then compute per micro-shard. The
// training step holds one over its forward and backward. `shards` must outlive the scope.
class MicroShardScope {
 public:
  explicit MicroShardScope(const MicroShards& shards);
  ~MicroShardScope();
  MicroShardScope(const MicroShardScope&) = delete;
  MicroShardScope& operator=(const MicroShardScope&) = delete;

 private:
  const MicroShards* previous_;
};

namespace detail {

// The active micro-shards when an op sees a batch of `batch` samples that they cut, else nullptr.
const MicroShards* micro_shards_for(int64_t batch);

// op(x, params) as one node computed per micro-shard: op runs on each local micro-shard of x (with the
// scope suspended, so op is the plain op), the outputs are concatenated; backward concatenates the input
// gradients and sums each parameter's gradients over the job (MicroShards::sum). For ops that treat
// samples independently and whose parameters sum their gradients over the batch (conv2d, linear).
using ShardedOp = std::function<Variable(const Variable& x, const std::vector<Variable>& params)>;
Variable per_micro_shard(const char* name, const MicroShards& shards, const Variable& x,
                         const std::vector<Variable>& params, const ShardedOp& op);

}  // namespace detail
}  // namespace mg::nn
