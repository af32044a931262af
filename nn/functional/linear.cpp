// linear: y = x W^T + b through the one GEMM entry point; the backward rule is written with matmul, so it
// is differentiable again (create_graph). Under bf16 autocast (nn/autocast.h), float32 linear runs as
// linear_bf16 (bf16_ops.cpp) instead. In a data-parallel step it runs per micro-shard
// (nn/distributed/micro_shards.h).
#include "autograd/functions.h"
#include "core/gemm.h"
#include "core/parallel.h"
#include "nn/functional.h"
#include "nn/distributed/micro_shards.h"
#include "nn/functional/bf16_ops.h"

namespace mg::nn {

Variable linear(const Variable& x, const Variable& weight, const Variable& bias) {
  MG_CHECK(weight.dim() == 2, "linear: weight must be 2-d (out, in), got ", describe(weight.data()));
  MG_CHECK(x.dim() == 2, "linear: input must be 2-d (N, in), got ", describe(x.data()), "; flatten it first");
  MG_CHECK(x.size(1) == weight.size(1), "linear: input ", describe(x.data()), " has ", x.size(1),
           " features, but weight ", describe(weight.data()), " expects ", weight.size(1));
  MG_CHECK(x.dtype() == weight.dtype(), "linear: dtype mismatch, ", describe(x.data()), " vs ", describe(weight.data()));
  const int64_t n = x.size(0), in = x.size(1), out = weight.size(0);
  if (bias.defined()) {
    MG_CHECK(bias.shape() == Shape{out}, "linear: bias ", describe(bias.data()), " does not match weight ",
             describe(weight.data()), " (expected [", out, "])");
    MG_CHECK(bias.dtype() == x.dtype(), "linear: dtype mismatch, ", describe(x.data()), " vs ", describe(bias.data()));
  }
  if (const MicroShards* shards = detail::micro_shards_for(n))
    return detail::per_micro_shard("linear", *shards, x, {weight, bias},
                                   [](const Variable& xs, const std::vector<Variable>& p) { return linear(xs, p[0], p[1]); });
  if (detail::runs_in_bf16(x.data())) return detail::linear_bf16(x, weight, bias);
  const Tensor xc = x.data().contiguous(), wc = weight.data().contiguous();
  const Tensor bc = bias.defined() ? bias.data().contiguous() : Tensor();
  Tensor y = Tensor::empty({n, out}, x.dtype());
  detail::count_macs(n * out * in);
  visit_dtype(x.dtype(), [&]<typename T>() {
    T* py = y.data<T>();
    gemm<T>(false, true, n, out, in, T(1), xc.data<T>(), in, wc.data<T>(), in, T(0), py, out);
    if (!bc.defined()) return;
    const T* pb = bc.data<T>();
    // Threads split the rows of y.
    parallel_for(0, n, std::max<int64_t>(1, 16384 / std::max<int64_t>(out, 1)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t j = 0; j < out; ++j) py[r * out + j] += pb[j];
    });
  });
  const SavedVariable sx = weight.requires_grad() ? SavedVariable(x, "linear") : SavedVariable();
  const SavedVariable sw = x.requires_grad() ? SavedVariable(weight, "linear") : SavedVariable();
  return make_result(y, {x, weight, bias}, "linear",
                     [sx, sw](const Variable& g, const std::vector<bool>& need) -> std::vector<Variable> {
                       return {need[0] ? matmul(g, sw.unpack()) : Variable(),
                               need[1] ? matmul(transpose(g, 0, 1), sx.unpack()) : Variable(),
                               need[2] ? sum(g, {0}) : Variable()};
                     });
}

}  // namespace mg::nn
