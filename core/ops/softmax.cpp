// Softmax and log-softmax along one axis, numerically stable: shift by the row maximum first
// (core/kernels/logsumexp.h, shared with cross-entropy).
// The axis is moved last and made contiguous; threads split the rows.
#include <cmath>

#include "core/kernels/logsumexp.h"
#include "core/ops.h"
#include "core/parallel.h"

namespace mg::ops {
namespace {

template <bool kLog>
Tensor softmax_impl(const Tensor& a, int64_t axis) {
  axis = normalize_axis(axis, a.dim());
  const Tensor moved = a.dim() == 0 ? a.reshape({1}) : a.transpose(axis, -1).contiguous();
  const int64_t r = moved.dim() == 0 ? 1 : moved.size(-1);
  const int64_t m = r == 0 ? 0 : moved.numel() / r;
  Tensor out = Tensor::empty(moved.shape(), a.dtype());
  visit_dtype(a.dtype(), [&]<typename T>() {
    const T* x = moved.data<T>();
    T* o = out.data<T>();
    parallel_for(0, m, std::max<int64_t>(1, 4096 / std::max<int64_t>(r, 1)), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T* row = x + i * r;
        T* orow = o + i * r;
        const kernels::ShiftedExpSum<T> sum = kernels::shifted_exp_sum(row, r);
        if constexpr (kLog) {
          const T lse = sum.logsumexp();
          for (int64_t j = 0; j < r; ++j) orow[j] = row[j] - lse;
        } else {
          const T inv = T(1) / sum.total;
          for (int64_t j = 0; j < r; ++j) orow[j] = std::exp(row[j] - sum.shift) * inv;
        }
      }
    });
  });
  if (a.dim() == 0) return out.reshape({});
  return out.transpose(axis, -1).contiguous();
}

}  // namespace

Tensor log_softmax(const Tensor& a, int64_t axis) { return softmax_impl<true>(a, axis); }
Tensor softmax(const Tensor& a, int64_t axis) { return softmax_impl<false>(a, axis); }

}  // namespace mg::ops
