#include "core/kernels/conv_avx512/winograd_weight_cache.h"

#include <cstring>
#include <list>
#include <mutex>

#include "core/kernels/conv_avx512/winograd.h"

namespace mg::kernels::avx512 {
namespace {

class WinogradWeightCache {
 public:
  Tensor get(const float* w, int64_t o, int64_t c) {
    const std::size_t count = static_cast<std::size_t>(o * c * 9);
    {
      std::lock_guard lock(mutex_);
      for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->o == o && it->c == c && std::memcmp(it->weights.data<float>(), w, count * sizeof(float)) == 0) {
          entries_.splice(entries_.begin(), entries_, it);
          return entries_.front().u;
        }
    }
    Tensor u = winograd_weights(w, o, c);
    // The copy comes from the caching allocator: in training every step misses, and a fresh multi-megabyte
    // malloc per call would be page-faulted in again each time.
    Tensor copy = Tensor::empty({static_cast<int64_t>(count)});
    std::memcpy(copy.data<float>(), w, count * sizeof(float));
    std::lock_guard lock(mutex_);
    entries_.push_front({o, c, copy, u});
    bytes_ += entry_bytes(entries_.front());
    while (bytes_ > kCacheBytes && entries_.size() > 1) {
      bytes_ -= entry_bytes(entries_.back());
      entries_.pop_back();
    }
    return u;
  }

 private:
  // Enough for every 3x3 layer of a PreAct ResNet-18 or WRN-16-8 twice over (weights and transforms).
  static constexpr std::size_t kCacheBytes = std::size_t{256} << 20;
  struct Entry {
    int64_t o, c;
    Tensor weights, u;
  };
  static std::size_t entry_bytes(const Entry& e) {
    return static_cast<std::size_t>(e.weights.numel() + e.u.numel()) * sizeof(float);
  }
  std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
  std::size_t bytes_ = 0;
};

}  // namespace

Tensor cached_winograd_weights(const float* w, int64_t o, int64_t c) {
  static auto* cache = new WinogradWeightCache();  // leaked: kernels may run during static destruction
  return cache->get(w, o, c);
}

}  // namespace mg::kernels::avx512
