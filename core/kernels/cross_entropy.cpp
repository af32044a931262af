#include "core/kernels/cross_entropy.h"

#include <algorithm>

#include "core/kernels/logsumexp.h"
#include "core/parallel.h"

namespace mg::kernels {
namespace {

int64_t row_grain(int64_t k) { return std::max<int64_t>(1, 4096 / std::max<int64_t>(k, 1)); }

}  // namespace

template <typename T>
void cross_entropy_hard_rows(const T* z, const int64_t* target, int64_t n, int64_t k, T* loss) {
  parallel_for(0, n, row_grain(k), [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) loss[i] = shifted_exp_sum(z + i * k, k).logsumexp() - z[i * k + target[i]];
  });
}

template <typename T>
void cross_entropy_soft_rows(const T* z, const T* p, int64_t n, int64_t k, T* loss) {
  parallel_for(0, n, row_grain(k), [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const T* row = z + i * k;
      const T* prob = p + i * k;
      const T lse = shifted_exp_sum(row, k).logsumexp();
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
