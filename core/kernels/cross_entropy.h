// Cross-entropy kernels over logits z (N, K), one row per sample, computed through a numerically stable
// log-sum-exp (the row maximum is subtracted before exponentiating, so logits like 1000 are fine).
// Threads: rows are split; each row is computed by one thread.
#pragma once
#include <cstdint>

namespace mg::kernels {

// loss[i] = logsumexp(z[i, :]) - z[i, target[i]]. Targets must already be validated to lie in [0, K).
template <typename T>
void cross_entropy_hard_rows(const T* z, const int64_t* target, int64_t n, int64_t k, T* loss);

// loss[i] = -sum_j p[i, j] * log_softmax(z[i, :])_j (soft, probability targets).
template <typename T>
void cross_entropy_soft_rows(const T* z, const T* p, int64_t n, int64_t k, T* loss);

}  // namespace mg::kernels
