#include "core/kernels/cross_entropy.h"

#include <algorithm>
#include <cmath>

#include "core/parallel.h"

namespace mg::kernels {
namespace {

// logsumexp of one row of k values, shifted by the row maximum.
template <typename T>
T row_logsumexp(const T* row, int64_t k) {
  T mx = row[0];
  for (int64_t j = 1; j < k; ++j) mx = row[j] > mx ? row[j] : mx;
  if (std::isinf(mx)) return mx;  // all -inf (or a +inf logit): the shift would give NaN
  T total = 0;
  for (int64_t j = 0; j < k; ++j) total += std::exp(row[j] - mx);
  return mx + std::log(total);
}

int64_t row_grain(int64_t k) { return std::max<int64_t>(1, 4096 / std::max<int64_t>(k, 1)); }

}  // namespace

template <typename T>
void cross_entropy_hard_rows(const T* z, const int64_t* target, int64_t n, int64_t k, T* loss) {
  parallel_for(0, n, row_grain(k), [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) loss[i] = row_logsumexp(z + i * k, k) - z[i * k + target[i]];
  });
}

template <typename T>
void cross_entropy_soft_rows(const T* z, const T* p, int64_t n, int64_t k, T* loss) {
  parallel_for(0, n, row_grain(k), [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const T* row = z + i * k;
      const T* prob = p + i * k;
      const T lse = row_logsumexp(row, k);
      T total = 0;
      for (int64_t j = 0; j < k; ++j) total -= prob[j] * (row[j] - lse);
      loss[i] = total;
    }
  });
}

template void cross_entropy_hard_rows<float>(const float*, const int64_t*, int64_t, int64_t, float*);
template void cross_entropy_hard_rows<double>(const double*, const int64_t*, int64_t, int64_t, double*);
template void cross_entropy_soft_rows<float>(const float*, const float*, int64_t, int64_t, float*);
template void cross_entropy_soft_rows<double>(const double*, const double*, int64_t, int64_t, double*);

}  // namespace mg::kernels
