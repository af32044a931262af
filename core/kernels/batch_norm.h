// Batch-normalisation kernels over x viewed as (N, C, S): channel c's values are the N planes of S
// contiguous elements at x + (n * C + c) * S. Statistics and gradient sums accumulate in double.
#pragma once
#include <cstdint>

namespace mg::kernels {

// mean[c] and the biased variance var[c] of channel c over its N * S values (two passes: the mean, then
// the squared deviations from it). Threads: channels are split; each channel is summed by one thread in a
// fixed order.
template <typename T>
void batch_norm_stats(const T* x, int64_t n, int64_t c, int64_t s, double* mean, double* var);

// The sums behind batch_norm_stats: out[c] = the sum of channel c's N * S values, or with center, of their
// squared deviations (x - center[c])^2; batch_norm_stats divides these by N * S. Data-parallel training
// calls it per micro-shard and adds the partial sums in a fixed tree (nn/distributed/micro_shards.h).
template <typename T>
void batch_norm_channel_sums(const T* x, int64_t n, int64_t c, int64_t s, const double* center, double* out);

// y = x * scale[c] + shift[c] in channel c (normalisation with gamma and beta folded in); with relu,
// relu of that in the same pass (eval-mode BN + ReLU), bitwise equal to ops::relu applied afterwards.
// Threads: the N * C planes are split.
template <typename T>
void channel_affine(const T* x, const T* scale, const T* shift, T* y, int64_t n, int64_t c, int64_t s,
                    bool relu = false);

// sum_g[c] = the sum of g over channel c, sum_g_centered[c] = the sum of g * (x - mean[c]). With relu_out
// (the output of a ReLU that followed the normalisation), g is first masked by relu's backward, g where
// relu_out > 0 and 0 elsewhere, bitwise as if that masked gradient had been passed in.
// Threads: channels are split; each channel is summed by one thread in a fixed order.
template <typename T>
void batch_norm_backward_sums(const T* g, const T* x, const double* mean, int64_t n, int64_t c, int64_t s,
                              double* sum_g, double* sum_g_centered, const T* relu_out = nullptr);

// gx = the gradient of dot(batch_norm_train(x), g) with respect to x, where batch_norm_train normalises
// with the batch statistics (mean, invstd = 1 / sqrt(var + eps)) and scales by gamma (nullptr: 1):
// gx = gamma invstd (g - sum_g / M - (x - mean) invstd^2 sum_g_centered / M), M = `count` (N * S, or the
// values per channel of the whole global batch when x is one rank's share of it). With relu_out,
// g is masked as in batch_norm_backward_sums (pass the same relu_out to both).
// Threads: the N * C planes are split.
template <typename T>
void batch_norm_backward_input(const T* g, const T* x, const double* mean, const double* invstd, const T* gamma,
                               const double* sum_g, const double* sum_g_centered, int64_t n, int64_t c, int64_t s,
                               double count, T* gx, const T* relu_out = nullptr);

}  // namespace mg::kernels
