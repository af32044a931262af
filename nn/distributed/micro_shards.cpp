#include "nn/distributed/micro_shards.h"

#include <algorithm>
#include <memory>

#include "autograd/engine.h"
#include "core/error.h"
#include "core/ops.h"

namespace mg::nn {
namespace {

thread_local const MicroShards* g_active = nullptr;
thread_local bool g_suspended = false;

bool power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

// Sums a power-of-two count of values in the fixed tree: neighbours, then pairs of pairs.
template <typename V, typename Add>
V tree_sum(std::vector<V> v, Add add) {
  MG_CHECK(power_of_two(static_cast<int64_t>(v.size())), "micro-shard tree sum over ", v.size(),
           " partial sums; expected a power of two");
  for (std::size_t width = v.size(); width > 1; width /= 2)
    for (std::size_t i = 0; i < width / 2; ++i) v[i] = add(v[2 * i], v[2 * i + 1]);
  return std::move(v[0]);
}

template <typename T>
std::vector<T> add_elementwise(const std::vector<T>& a, const std::vector<T>& b) {
  std::vector<T> out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] + b[i];
  return out;
}

// `all` as `ranks` consecutive pieces of n values, one per rank (what an all-gather or all-to-all receives).
template <typename T>
std::vector<std::vector<T>> per_rank(const T* all, int ranks, int64_t n) {
  std::vector<std::vector<T>> pieces(ranks);
  for (int r = 0; r < ranks; ++r) pieces[r].assign(all + r * n, all + (r + 1) * n);
  return pieces;
}

class Suspend {
 public:
  Suspend() : was_(g_suspended) { g_suspended = true; }
  ~Suspend() { g_suspended = was_; }

 private:
  bool was_;
};

}  // namespace

MicroShards::MicroShards(int64_t batch, int64_t count, const Collective& job) : batch_(batch), count_(count), job_(&job) {
  MG_CHECK(power_of_two(count), "--shards must be a power of two (1, 2, 4, 8, ...), got ", count);
  MG_CHECK(count % job.size() == 0, "--shards ", count, " cannot be split over ", job.size(),
           " ranks: the number of ranks must divide it (the ranks hold equal blocks of micro-shards)");
  MG_CHECK(batch >= count, "a batch of ", batch, " sample(s) cannot be cut into --shards ", count,
           " micro-shards of at least one sample");
  first_ = job.rank() * local_count();
}

std::vector<double> MicroShards::sum(std::vector<std::vector<double>> partials) const {
  MG_CHECK(static_cast<int64_t>(partials.size()) == local_count(), "micro-shard sum: ", partials.size(),
           " partial sums for ", local_count(), " local micro-shards");
  std::vector<double> local = tree_sum(std::move(partials), add_elementwise<double>);
  if (job_->size() == 1) return local;
  const std::vector<double> all = job_->all_gather(local);
  return tree_sum(per_rank(all.data(), job_->size(), static_cast<int64_t>(local.size())), add_elementwise<double>);
}

Tensor MicroShards::sum(std::vector<Tensor> partials) const {
  MG_CHECK(static_cast<int64_t>(partials.size()) == local_count(), "micro-shard sum: ", partials.size(),
           " partial sums for ", local_count(), " local micro-shards");
  const auto add = [](const Tensor& a, const Tensor& b) { return ops::add(a, b); };
  Tensor local = tree_sum(std::move(partials), add).contiguous();
  if (job_->size() == 1) return local;
  const int k = job_->size();
  if (k < 4) {  // all-gather the K subtree sums ((K - 1) tensors per rank) and finish the tree on each rank
    const int64_t n = local.numel();
    Tensor all = Tensor::empty({k, n}, local.dtype());
    visit_dtype(local.dtype(), [&]<typename T>() { job_->all_gather(local.data<T>(), n, all.data<T>()); });
    std::vector<Tensor> roots;
    for (int r = 0; r < k; ++r) roots.push_back(all.select(0, r).reshape(local.shape()));
    return tree_sum(std::move(roots), add);
  }
  // From 4 ranks on, reduce-scatter then all-gather (2 (K - 1) / K of the tensor per rank, as a ring
  // all-reduce): rank j adds slice j of the K subtree sums in the tree's order, element by element the
  // additions of tree_sum over whole tensors, then every rank gathers every slice. (With 2 ranks both move
  // one tensor per rank, and the all-gather measured faster here.)
  const int64_t n = local.numel(), slice = (n + k - 1) / k;
  Tensor result = Tensor::empty(local.shape(), local.dtype());
  visit_dtype(local.dtype(), [&]<typename T>() {
    std::vector<T> send(static_cast<std::size_t>(slice * k), T(0)), recv(send.size()), summed(send.size());
    std::copy_n(local.data<T>(), n, send.begin());
    job_->all_to_all(send.data(), slice, recv.data());
    const std::vector<T> mine = tree_sum(per_rank(recv.data(), k, slice), add_elementwise<T>);
    job_->all_gather(mine.data(), slice, summed.data());
    std::copy_n(summed.begin(), n, result.data<T>());
  });
  return result;
}

MicroShardScope::MicroShardScope(const MicroShards& shards) : previous_(g_active) { g_active = &shards; }
MicroShardScope::~MicroShardScope() { g_active = previous_; }

namespace detail {

const MicroShards* micro_shards_for(int64_t batch) {
  if (!g_active || g_suspended || g_active->local_size() != batch) return nullptr;
  return g_active;
}

Variable per_micro_shard(const char* name, const MicroShards& shards, const Variable& x,
                         const std::vector<Variable>& params, const ShardedOp& op) {
  struct Piece {
    Variable x, y;
    std::vector<Variable> params;
  };
  std::vector<Variable> inputs{x};
  inputs.insert(inputs.end(), params.begin(), params.end());
  const bool record = records_gradient(inputs);
  auto pieces = std::make_shared<std::vector<Piece>>();
  std::vector<Tensor> outputs;
  {
    const Suspend plain_ops;
    for (int64_t i = 0; i < shards.local_count(); ++i) {
      Piece p;
      p.x = Variable(x.data().slice(0, shards.offset(i), shards.offset(i) + shards.length(i)), x.requires_grad());
      for (const Variable& w : params) p.params.push_back(w.defined() ? Variable(w.data(), w.requires_grad()) : Variable());
      p.y = op(p.x, p.params);
      outputs.push_back(p.y.data());
      if (record) pieces->push_back(std::move(p));
    }
  }
  const Tensor y = outputs.size() == 1 ? outputs[0] : ops::concat(outputs, 0);
  return make_result(y, inputs, name, [pieces, shards, name](const Variable& g, const std::vector<bool>& need) {
    MG_CHECK(!grad_mode_enabled(), name, ": double backward through a data-parallel step is not supported");
    const Suspend plain_ops;
    std::vector<Tensor> gx;
    std::vector<std::vector<Tensor>> gp((*pieces)[0].params.size());
    for (int64_t i = 0; i < shards.local_count(); ++i) {
      Piece& p = (*pieces)[i];
      std::vector<Variable> wrt;
      if (need[0]) wrt.push_back(p.x);
      for (std::size_t j = 0; j < p.params.size(); ++j)
        if (need[j + 1]) wrt.push_back(p.params[j]);
      const Variable gi(g.data().slice(0, shards.offset(i), shards.offset(i) + shards.length(i)));
      const std::vector<Variable> grads = grad({p.y}, wrt, {gi}, {.create_graph = false, .allow_unused = true, .retain_graph = false});
      std::size_t k = 0;
      if (need[0]) gx.push_back(grads[k++].data());
      for (std::size_t j = 0; j < p.params.size(); ++j)
        if (need[j + 1]) gp[j].push_back(grads[k++].data());
      p = Piece{};  // its graph is spent; free it now
    }
    std::vector<Variable> out(need.size());
    if (need[0]) out[0] = Variable(gx.size() == 1 ? gx[0] : ops::concat(gx, 0));
    for (std::size_t j = 0; j < gp.size(); ++j)
      if (need[j + 1]) out[j + 1] = Variable(shards.sum(std::move(gp[j])));
    return out;
  });
}

}  // namespace detail
}  // namespace mg::nn
