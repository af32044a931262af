#include "core/kernels/conv_memory.h"

#include <algorithm>
#include <atomic>

namespace mg::kernels {
namespace {
std::atomic<std::size_t> g_partial_limit{kDefaultWeightGradPartialBytes};
std::atomic<std::size_t> g_partial_peak{0};
}  // namespace

std::size_t weight_grad_partial_limit() { return g_partial_limit.load(); }
std::size_t set_weight_grad_partial_limit(std::size_t bytes) { return g_partial_limit.exchange(bytes); }
std::size_t weight_grad_partial_peak() { return g_partial_peak.load(); }
void reset_weight_grad_partial_peak() { g_partial_peak.store(0); }
void note_weight_grad_partial_bytes(std::size_t bytes) {
  std::size_t seen = g_partial_peak.load();
  while (bytes > seen && !g_partial_peak.compare_exchange_weak(seen, bytes)) {
  }
}

long long partial_buffers_within_limit(std::size_t buffer_bytes, long long wanted) {
  if (wanted <= 1 || buffer_bytes == 0) return std::max(wanted, 1LL);
  const auto fit = static_cast<long long>(std::min<std::size_t>(weight_grad_partial_limit() / buffer_bytes,
                                                                static_cast<std::size_t>(wanted)));
  return std::clamp(fit, 1LL, wanted);
}

}  // namespace mg::kernels
