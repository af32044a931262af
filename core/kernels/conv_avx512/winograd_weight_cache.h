// Winograd weight transforms of recent calls, found again by content.
//
// Eval passes and FGSM steps convolve with the same weights batch after batch, and the transform costs ~5%
// of a PreAct ResNet-18 pass. An entry matches only when the weights themselves are equal (memcmp), never by
// address, so weights changed in place (an SGD step) can never reuse a stale transform. Least recently used
// entries go first beyond the limit of core/kernels/conv_memory.h (256 MiB by default).
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace mg::kernels::avx512 {

// winograd_weights(w, o, c), from the cache when weights equal to w were transformed recently.
// Thread-safe.
Tensor cached_winograd_weights(const float* w, int64_t o, int64_t c);

}  // namespace mg::kernels::avx512
