#include "core/storage.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace mg {
namespace {

constexpr std::size_t kAlignment = 64;

// Requests are rounded up so that buffers of nearly equal size share a pool (at most 1/8 waste).
std::size_t round_size(std::size_t nbytes) {
  if (nbytes <= 4096) return (std::max<std::size_t>(nbytes, 1) + 63) / 64 * 64;
  std::size_t step = std::size_t{1} << (63 - __builtin_clzll(nbytes) - 3);
  return (nbytes + step - 1) / step * step;
}

class CachingAllocator {
 public:
  std::byte* allocate(std::size_t rounded) {
    {
      std::lock_guard lock(mutex_);
      auto it = pools_.find(rounded);
      if (it != pools_.end() && !it->second.empty()) {
        std::byte* p = it->second.back();
        it->second.pop_back();
        cached_ -= rounded;
        in_use_ += rounded;
        return p;
      }
      in_use_ += rounded;
      ++system_allocs_;
      peak_ = std::max(peak_, in_use_ + cached_);
    }
    void* p = std::aligned_alloc(kAlignment, rounded);
    if (!p) throw std::bad_alloc();
    return static_cast<std::byte*>(p);
  }

  void release(std::byte* p, std::size_t rounded) {
    std::lock_guard lock(mutex_);
    pools_[rounded].push_back(p);
    in_use_ -= rounded;
    cached_ += rounded;
  }

  void release_cache() {
    std::lock_guard lock(mutex_);
    for (auto& [size, list] : pools_)
      for (std::byte* p : list) std::free(p);
    pools_.clear();
    cached_ = 0;
  }

  AllocatorStats stats() {
    std::lock_guard lock(mutex_);
    return {in_use_, cached_, peak_, system_allocs_};
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<std::byte*>> pools_;
  std::size_t in_use_ = 0, cached_ = 0, peak_ = 0, system_allocs_ = 0;
};

// Intentionally leaked: storages held by static objects may be destroyed after any other static.
CachingAllocator& allocator() {
  static auto* instance = new CachingAllocator();
  return *instance;
}

}  // namespace

Storage::Storage(std::size_t nbytes) : data_(allocator().allocate(round_size(nbytes))), nbytes_(nbytes) {}

Storage::~Storage() { allocator().release(data_, round_size(nbytes_)); }

AllocatorStats allocator_stats() { return allocator().stats(); }
void allocator_release_cache() { allocator().release_cache(); }

}  // namespace mg
