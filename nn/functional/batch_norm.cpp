// batch_norm (PyTorch's F.batch_norm) and batch_norm_relu (relu of it, fused; see nn/functional.h): forward
// kernel calls, then the backward rules.
//   training: y = (x - mean_B) / sqrt(var_B + eps) * gamma + beta with the batch mean and biased variance;
//             running_mean/var <- (1 - momentum) * running + momentum * (mean_B, unbiased var_B).
//             First-order backward only, computed by kernels (double backward throws). In a data-parallel
//             step the batch is the global batch (SyncBatchNorm): its sums are per micro-shard partial sums
//             added over the job in a fixed tree (nn/distributed/micro_shards.h).
//   eval:     y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta, an affine map per channel;
//             the backward rule uses Variable ops, so it is differentiable again.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "autograd/functions.h"
#include "core/kernels/batch_norm.h"
#include "nn/distributed/micro_shards.h"
#include "nn/functional.h"

namespace mg::nn {
namespace {

using Grads = std::vector<Variable>;

// Channel statistics shared by forward and backward.
struct ChannelStats {
  std::vector<double> mean, invstd;
};

void check_channel_tensor(const char* what, const Tensor& t, const Tensor& x) {
  const int64_t c = x.size(1);
  MG_CHECK(t.shape() == Shape{c}, "batch_norm: ", what, " ", describe(t), " does not match the ", c,
           " channels of input ", describe(x), " (expected [", c, "])");
  MG_CHECK(t.dtype() == x.dtype(), "batch_norm: dtype mismatch, ", what, " ", describe(t), " vs input ", describe(x));
}

Tensor contiguous_or_undefined(const Variable& v) { return v.defined() ? v.data().contiguous() : Tensor(); }

// (1, C, 1, ..., 1): where a per-channel vector broadcasts against x.
Shape channel_shape(const Variable& x) {
  Shape s(x.dim(), 1);
  s[1] = x.size(1);
  return s;
}

// Every axis but the channel axis.
std::vector<int64_t> non_channel_axes(const Variable& x) {
  std::vector<int64_t> axes{0};
  for (int64_t d = 2; d < x.dim(); ++d) axes.push_back(d);
  return axes;
}

// y = x * scale[c] + shift[c] with scale = gamma * invstd and shift = beta - mean * scale (then relu(y) if
// fuse_relu, in the same pass).
Tensor normalize(const Tensor& x, const ChannelStats& st, const Tensor& gamma, const Tensor& beta,
                 bool fuse_relu = false) {
  const int64_t n = x.size(0), c = x.size(1), s = n * c == 0 ? 0 : x.numel() / (n * c);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  visit_dtype(x.dtype(), [&]<typename T>() {
    Tensor scale = Tensor::empty({c}, x.dtype()), shift = Tensor::empty({c}, x.dtype());
    T* a = scale.data<T>();
    T* b = shift.data<T>();
    for (int64_t ch = 0; ch < c; ++ch) {
      a[ch] = static_cast<T>(st.invstd[ch]) * (gamma.defined() ? gamma.data<T>()[ch] : T(1));
      b[ch] = (beta.defined() ? beta.data<T>()[ch] : T(0)) - static_cast<T>(st.mean[ch]) * a[ch];
    }
    kernels::channel_affine<T>(x.data<T>(), a, b, y.data<T>(), n, c, s, fuse_relu);
  });
  return y;
}

// running <- (1 - momentum) * running + momentum * value, in place (bumps the version).
void update_running(Tensor& running, const std::vector<double>& value, double momentum) {
  visit_dtype(running.dtype(), [&]<typename T>() {
    T* r = running.data<T>();
    for (std::size_t ch = 0; ch < value.size(); ++ch)
      r[ch] = static_cast<T>(momentum * value[ch] + (1.0 - momentum) * static_cast<double>(r[ch]));
  });
  running.bump_version();
}

// The batch mean and biased variance of each channel of x (N, C, S): one kernel call, or in a
// data-parallel step the sums of every micro-shard of the job, added in the fixed tree.
template <typename T>
void batch_stats(const T* x, int64_t n, int64_t c, int64_t s, const MicroShards* shards, double* mean, double* var) {
  if (!shards) return kernels::batch_norm_stats<T>(x, n, c, s, mean, var);
  const double count = static_cast<double>(shards->batch() * s);
  auto job_sums = [&](const double* center) {
    std::vector<std::vector<double>> parts(shards->local_count(), std::vector<double>(c));
    for (int64_t i = 0; i < shards->local_count(); ++i)
      kernels::batch_norm_channel_sums<T>(x + shards->offset(i) * c * s, shards->length(i), c, s, center,
                                          parts[i].data());
    return shards->sum(std::move(parts));
  };
  const std::vector<double> total = job_sums(nullptr);
  for (int64_t ch = 0; ch < c; ++ch) mean[ch] = total[ch] / count;
  const std::vector<double> squares = job_sums(mean);
  for (int64_t ch = 0; ch < c; ++ch) var[ch] = squares[ch] / count;
}

// batch_norm_backward_sums over the batch, or in a data-parallel step over the job (as batch_stats).
template <typename T>
void backward_sums(const T* g, const T* x, const T* mask, const double* mean, int64_t n, int64_t c, int64_t s,
                   const MicroShards* shards, double* sum_g, double* sum_gc) {
  if (!shards) return kernels::batch_norm_backward_sums<T>(g, x, mean, n, c, s, sum_g, sum_gc, mask);
  std::vector<std::vector<double>> parts(shards->local_count(), std::vector<double>(2 * c));
  for (int64_t i = 0; i < shards->local_count(); ++i) {
    const int64_t off = shards->offset(i) * c * s;
    kernels::batch_norm_backward_sums<T>(g + off, x + off, mean, shards->length(i), c, s, parts[i].data(),
                                         parts[i].data() + c, mask ? mask + off : nullptr);
  }
  const std::vector<double> total = shards->sum(std::move(parts));  // both sums in one collective
  std::copy(total.begin(), total.begin() + c, sum_g);
  std::copy(total.begin() + c, total.end(), sum_gc);
}

// Normalises x with its batch statistics and updates the running statistics in place; with fuse_relu,
// relu of that, in the same pass forward and with relu's mask folded into the backward kernels (bitwise
// the composition relu(batch_norm(x)), without its intermediate tensors).
Variable batch_norm_train(const Variable& x, const Variable& gamma, const Variable& beta, Tensor& running_mean,
                          Tensor& running_var, double momentum, double eps, bool fuse_relu = false) {
  const Tensor xc = x.data().contiguous();
  const int64_t n = x.size(0), c = x.size(1), s = x.numel() / std::max<int64_t>(n * c, 1);
  const MicroShards* shards = detail::micro_shards_for(n);
  const int64_t count = (shards ? shards->batch() : n) * s;  // values per channel in the (global) batch
  MG_CHECK(count > 1, "batch_norm: expected more than 1 value per channel when training, got input ",
           describe(x.data()));
  auto st = std::make_shared<ChannelStats>();
  st->mean.resize(c);
  std::vector<double> var(c);
  visit_dtype(x.dtype(), [&]<typename T>() { batch_stats<T>(xc.data<T>(), n, c, s, shards, st->mean.data(), var.data()); });
  st->invstd.resize(c);
  for (int64_t ch = 0; ch < c; ++ch) st->invstd[ch] = 1.0 / std::sqrt(var[ch] + eps);
  const Tensor y = normalize(xc, *st, contiguous_or_undefined(gamma), contiguous_or_undefined(beta), fuse_relu);
  if (running_mean.defined()) update_running(running_mean, st->mean, momentum);
  if (running_var.defined()) {
    for (double& v : var) v *= static_cast<double>(count) / static_cast<double>(count - 1);  // unbiased
    update_running(running_var, var, momentum);
  }
  const SavedVariable sx(x, "batch_norm");
  const SavedVariable sgamma = gamma.defined() ? SavedVariable(gamma, "batch_norm") : SavedVariable();
  const SavedVariable sy = fuse_relu ? SavedVariable(Variable(y), "batch_norm_relu") : SavedVariable();
  const char* name = fuse_relu ? "batch_norm_relu" : "batch_norm";
  // The backward sums are over the same (global) batch: a copy, in case backward outlives the scope.
  const std::shared_ptr<const MicroShards> job_shards = shards ? std::make_shared<MicroShards>(*shards) : nullptr;
  return make_result(y, {x, gamma, beta}, name, [sx, sgamma, sy, st, job_shards, count](const Variable& g, const std::vector<bool>& need) -> Grads {
    MG_CHECK(!grad_mode_enabled(), "batch_norm: double backward through train-mode batch_norm is not supported ",
             "(backward was called with create_graph=true); put the model in eval mode for higher-order gradients");
    const Tensor xs = sx.unpack().data().contiguous(), gs = g.data().contiguous();
    const Tensor relu_out = sy.unpack().defined() ? sy.unpack().data().contiguous() : Tensor();
    const int64_t n = xs.size(0), c = xs.size(1), s = xs.numel() / std::max<int64_t>(n * c, 1);
    std::vector<double> sum_g(c), sum_gc(c);
    Grads grads(3);
    visit_dtype(xs.dtype(), [&]<typename T>() {
      const T* mask = relu_out.defined() ? relu_out.data<T>() : nullptr;
      backward_sums<T>(gs.data<T>(), xs.data<T>(), mask, st->mean.data(), n, c, s, job_shards.get(), sum_g.data(),
                       sum_gc.data());
      if (need[0]) {
        const Tensor gamma = sgamma.unpack().defined() ? sgamma.unpack().data().contiguous() : Tensor();
        Tensor gx = Tensor::empty(xs.shape(), xs.dtype());
        kernels::batch_norm_backward_input<T>(gs.data<T>(), xs.data<T>(), st->mean.data(), st->invstd.data(),
                                              gamma.defined() ? gamma.data<T>() : nullptr, sum_g.data(),
                                              sum_gc.data(), n, c, s, static_cast<double>(count), gx.data<T>(),
                                              mask);
        grads[0] = Variable(gx);
      }
      if (need[1]) {  // d/dgamma = sum g * xhat
        Tensor gg = Tensor::empty({c}, xs.dtype());
        for (int64_t ch = 0; ch < c; ++ch) gg.data<T>()[ch] = static_cast<T>(sum_gc[ch] * st->invstd[ch]);
        grads[1] = Variable(gg);
      }
      if (need[2]) {  // d/dbeta = sum g
        Tensor gb = Tensor::empty({c}, xs.dtype());
        for (int64_t ch = 0; ch < c; ++ch) gb.data<T>()[ch] = static_cast<T>(sum_g[ch]);
        grads[2] = Variable(gb);
      }
    });
    return grads;
  });
}

// Channel statistics from the running ones: mean = running_mean, invstd = 1 / sqrt(running_var + eps).
ChannelStats running_stats(const Tensor& running_mean, const Tensor& running_var, double eps) {
  MG_CHECK(running_mean.defined() && running_var.defined(),
           "batch_norm: eval mode needs running_mean and running_var, got undefined tensors");
  const int64_t c = running_mean.numel();
  ChannelStats st;
  st.mean.resize(c);
  st.invstd.resize(c);
  const Tensor rm = running_mean.to(DType::F64).contiguous(), rv = running_var.to(DType::F64).contiguous();
  for (int64_t ch = 0; ch < c; ++ch) {
    st.mean[ch] = rm.data<double>()[ch];
    st.invstd[ch] = 1.0 / std::sqrt(rv.data<double>()[ch] + eps);
  }
  return st;
}

// Normalises x with the running statistics: y = x * (gamma invstd) + (beta - running_mean gamma invstd).
Variable batch_norm_eval(const Variable& x, const Variable& gamma, const Variable& beta, const Tensor& running_mean,
                         const Tensor& running_var, double eps) {
  const ChannelStats st = running_stats(running_mean, running_var, eps);
  const Tensor y = normalize(x.data().contiguous(), st, contiguous_or_undefined(gamma), contiguous_or_undefined(beta));
  // Constants of the affine map, shaped to broadcast against x.
  const Tensor mean_c = Tensor::from_vector(st.mean, channel_shape(x), x.dtype());
  const Tensor invstd_c = Tensor::from_vector(st.invstd, channel_shape(x), x.dtype());
  const SavedVariable sx = gamma.requires_grad() ? SavedVariable(x, "batch_norm") : SavedVariable();
  const SavedVariable sgamma = gamma.defined() ? SavedVariable(gamma, "batch_norm") : SavedVariable();
  return make_result(y, {x, gamma, beta}, "batch_norm",
                     [sx, sgamma, mean_c, invstd_c, axes = non_channel_axes(x)](
                         const Variable& g, const std::vector<bool>& need) -> Grads {
                       const Variable invstd(invstd_c), mean(mean_c);
                       const Variable& gm = sgamma.unpack();
                       Grads grads(3);
                       if (need[0])
                         grads[0] = gm.defined() ? g * (reshape(gm, invstd_c.shape()) * invstd) : g * invstd;
                       if (need[1]) grads[1] = sum(g * ((sx.unpack() - mean) * invstd), axes);
                       if (need[2]) grads[2] = sum(g, axes);
                       return grads;
                     });
}

void check_batch_norm_args(const Variable& x, const Variable& gamma, const Variable& beta, const Tensor& running_mean,
                           const Tensor& running_var, double eps) {
  MG_CHECK(x.dim() >= 2, "batch_norm: input must have a channel axis (N, C, ...), got ", describe(x.data()));
  if (gamma.defined()) check_channel_tensor("weight", gamma.data(), x.data());
  if (beta.defined()) check_channel_tensor("bias", beta.data(), x.data());
  if (running_mean.defined()) check_channel_tensor("running_mean", running_mean, x.data());
  if (running_var.defined()) check_channel_tensor("running_var", running_var, x.data());
  MG_CHECK(eps > 0, "batch_norm: eps must be > 0, got ", eps);
}

}  // namespace

Variable batch_norm(const Variable& x, const Variable& gamma, const Variable& beta, Tensor& running_mean,
                    Tensor& running_var, bool training, double momentum, double eps) {
  check_batch_norm_args(x, gamma, beta, running_mean, running_var, eps);
  if (training) return batch_norm_train(x, gamma, beta, running_mean, running_var, momentum, eps);
  return batch_norm_eval(x, gamma, beta, running_mean, running_var, eps);
}

Variable batch_norm_relu(const Variable& x, const Variable& gamma, const Variable& beta, Tensor& running_mean,
                         Tensor& running_var, bool training, double momentum, double eps) {
  check_batch_norm_args(x, gamma, beta, running_mean, running_var, eps);
  if (training) return batch_norm_train(x, gamma, beta, running_mean, running_var, momentum, eps, /*fuse_relu=*/true);
  // Eval mode with a gradient: the composition, whose backward is differentiable again (double backward).
  if (records_gradient({x, gamma, beta}))
    return relu(batch_norm_eval(x, gamma, beta, running_mean, running_var, eps));
  const ChannelStats st = running_stats(running_mean, running_var, eps);
  return Variable(normalize(x.data().contiguous(), st, contiguous_or_undefined(gamma), contiguous_or_undefined(beta),
                            /*fuse_relu=*/true));
}

}  // namespace mg::nn
