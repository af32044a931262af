// Storage: a 64-byte-aligned byte buffer shared by tensors and their views, plus a version counter that
// in-place writes bump (autograd compares it to catch a saved tensor modified after it was saved).
//
// Buffers come from a caching allocator: a freed buffer goes back to a pool keyed by its size and is handed
// out again to the next request of that size. A training step asks for the same sizes every iteration, so
// after the first step no memory is requested from the OS and no page faults are paid.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace mg {

class Storage {
 public:
  explicit Storage(std::size_t nbytes);  // uninitialised memory
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }

  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::byte* data_;
  std::size_t nbytes_;
  std::atomic<uint64_t> version_{0};
};

// Allocator statistics, for tests and the benchmark's memory report.
struct AllocatorStats {
  std::size_t bytes_in_use;     // held by live storages
  std::size_t bytes_cached;     // freed, kept for reuse
  std::size_t peak_bytes;       // max of bytes_in_use + bytes_cached
  std::size_t system_allocs;    // requests that reached the OS
};
AllocatorStats allocator_stats();
void allocator_release_cache();  // gives cached buffers back to the OS

}  // namespace mg
