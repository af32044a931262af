// The one log-sum-exp of a row, shared by softmax, log_softmax and cross-entropy so that all three (and so
// cross-entropy's forward and its softmax-based backward) agree on every input, infinities included.
#pragma once
#include <cmath>
#include <cstdint>

namespace mg::kernels {

// total = sum_j exp(row[j] - shift), shift = the row maximum. As in PyTorch's softmax, log_softmax and
// cross_entropy, an infinite maximum is subtracted too: a row holding +inf, or only -inf, comes out NaN
// everywhere (a NaN loss, which training reports as divergence, rather than a finite-looking one), while a
// -inf logit in a finite row just gets probability 0.
template <typename T>
struct ShiftedExpSum {
  T shift;
  T total;
  T logsumexp() const { return shift + std::log(total); }
};

template <typename T>
ShiftedExpSum<T> shifted_exp_sum(const T* row, int64_t k) {
  T mx = row[0];
  for (int64_t j = 1; j < k; ++j) mx = row[j] > mx ? row[j] : mx;
  T total = 0;
  for (int64_t j = 0; j < k; ++j) total += std::exp(row[j] - mx);
  return {mx, total};
}

}  // namespace mg::kernels
