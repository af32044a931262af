// Memory bounds of the convolution kernels' scratch that grows with the weight size: the weight gradient's
// per-group partial sums (conv.cpp, conv_avx512/weight_grad.cpp) and the Winograd weight-transform cache.
//
// The caps change how much is held at once, never a result bit: the weight gradient computes its sample
// groups (fixed by the shape) in waves of as many partial buffers as the cap allows and adds each wave into
// the running total in group order, so the sum is the same fixed left-to-right order whatever the cap; the
// cache only decides what is recomputed. Tests set tiny caps to check both.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace mg::kernels {

// Most bytes of partial-sum buffers one weight-gradient call holds besides gw (at least one buffer is always
// allowed, however small the cap). Default 32 MiB: WRN-16-8's largest layer (512x512x3x3, 9.4 MB) keeps 3.
inline constexpr std::size_t kDefaultWeightGradPartialBytes = std::size_t{32} << 20;
// Most bytes the Winograd weight cache holds (weights and transforms); an entry larger than that is not kept.
inline constexpr std::size_t kDefaultWinogradCacheBytes = std::size_t{256} << 20;

std::size_t weight_grad_partial_limit();
std::size_t set_weight_grad_partial_limit(std::size_t bytes);  // returns the previous limit
// The largest partial-sum allocation (bytes) any weight-gradient call made since the last reset (for tests).
std::size_t weight_grad_partial_peak();
void reset_weight_grad_partial_peak();
void note_weight_grad_partial_bytes(std::size_t bytes);

std::size_t winograd_cache_limit();
std::size_t set_winograd_cache_limit(std::size_t bytes);  // returns the previous limit; shrinks the cache
std::size_t winograd_cache_bytes();    // what the cache holds now
std::size_t winograd_cache_peak();     // the most it held since the last reset (checked after every insert)
void reset_winograd_cache_peak();

// How many partial buffers of `buffer_bytes` the cap allows, between 1 and `wanted` (wanted >= 1).
long long partial_buffers_within_limit(std::size_t buffer_bytes, long long wanted);

// The weight gradient's sample groups in waves of at most `buffers` partial buffers (group 0 writes the
// total itself): compute(begin, first_partial, end) computes groups [begin, end), group g >= first_partial
// into buffer g - first_partial; then add(first_partial, end) adds those buffers into the total in group order.
template <class Compute, class Add>
void for_each_partial_wave(int64_t groups, int64_t buffers, Compute compute, Add add) {
  for (int64_t begin = 0; begin < groups;) {
    const int64_t first_partial = begin == 0 ? 1 : begin;
    const int64_t end = std::min(groups, first_partial + buffers);
    compute(begin, first_partial, end);
    add(first_partial, end);
    begin = end;
  }
}

}  // namespace mg::kernels
