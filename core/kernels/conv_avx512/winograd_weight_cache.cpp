#include "core/kernels/conv_avx512/winograd_weight_cache.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <list>
#include <mutex>

#include "core/kernels/conv_avx512/winograd.h"
#include "core/kernels/conv_memory.h"

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
    Entry entry{o, c, copy, u};
    if (entry_bytes(entry) > limit_) return u;  // larger than the whole cache: used once, not kept
    entries_.push_front(std::move(entry));
    bytes_ += entry_bytes(entries_.front());
    shrink_to(limit_);
    peak_ = std::max(peak_, bytes_);
    return u;
  }

  std::size_t set_limit(std::size_t bytes) {
    std::lock_guard lock(mutex_);
    const std::size_t previous = limit_;
    limit_ = bytes;
    shrink_to(limit_);
    return previous;
  }
  std::size_t limit() {
    std::lock_guard lock(mutex_);
    return limit_;
  }
  std::size_t bytes() {
    std::lock_guard lock(mutex_);
    return bytes_;
  }
  std::size_t peak() {
    std::lock_guard lock(mutex_);
    return peak_;
  }
  void reset_peak() {
    std::lock_guard lock(mutex_);
    peak_ = bytes_;
  }

 private:
  struct Entry {
    int64_t o, c;
    Tensor weights, u;
  };
  static std::size_t entry_bytes(const Entry& e) {
    return static_cast<std::size_t>(e.weights.numel() + e.u.numel()) * sizeof(float);
  }
  void shrink_to(std::size_t limit) {  // least recently used first; the caller holds mutex_
    while (bytes_ > limit && !entries_.empty()) {
      bytes_ -= entry_bytes(entries_.back());
      entries_.pop_back();
    }
  }
  std::mutex mutex_;
  std::size_t limit_ = kDefaultWinogradCacheBytes;
  std::size_t peak_ = 0;
  std::list<Entry> entries_;  // most recently used first
  std::size_t bytes_ = 0;
};

WinogradWeightCache& cache() {
  static auto* instance = new WinogradWeightCache();  // leaked: kernels may run during static destruction
  return *instance;
}

}  // namespace

Tensor cached_winograd_weights(const float* w, int64_t o, int64_t c) { return cache().get(w, o, c); }

}  // namespace mg::kernels::avx512

namespace mg::kernels {
std::size_t winograd_cache_limit() { return avx512::cache().limit(); }
std::size_t set_winograd_cache_limit(std::size_t bytes) { return avx512::cache().set_limit(bytes); }
std::size_t winograd_cache_bytes() { return avx512::cache().bytes(); }
std::size_t winograd_cache_peak() { return avx512::cache().peak(); }
void reset_winograd_cache_peak() { avx512::cache().reset_peak(); }
}  // namespace mg::kernels
