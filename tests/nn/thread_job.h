// A data-parallel job of K ranks in one process, one thread per rank (for tests: the same collectives as
// MPI, without mpirun). run(fn) calls fn(rank, job) on K threads and rethrows the first failure.
#pragma once
#include <barrier>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "nn/distributed/collective.h"

namespace mg::test {

class ThreadJob {
 public:
  explicit ThreadJob(int ranks) : ranks_(ranks), barrier_(ranks), slots_(ranks) {}

  void run(const std::function<void(int rank, const nn::Collective& job)>& fn) {
    std::vector<std::thread> threads;
    std::exception_ptr failure;
    std::mutex m;
    for (int r = 0; r < ranks_; ++r)
      threads.emplace_back([&, r] {
        const Rank self(*this, r);
        try {
          fn(r, self);
        } catch (...) {
          const std::lock_guard<std::mutex> lock(m);
          if (!failure) failure = std::current_exception();
        }
      });
    for (auto& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);
  }

 private:
  class Rank final : public nn::Collective {
   public:
    Rank(ThreadJob& job, int rank) : job_(job), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return job_.ranks_; }
    void all_gather(const double* local, int64_t n, double* out) const override { gather(local, n, out); }
    void all_gather(const float* local, int64_t n, float* out) const override { gather(local, n, out); }
    void all_to_all(const double* send, int64_t n, double* recv) const override { exchange(send, n, recv); }
    void all_to_all(const float* send, int64_t n, float* recv) const override { exchange(send, n, recv); }

   private:
    template <typename T>
    void gather(const T* local, int64_t n, T* out) const {
      job_.slots_[rank_] = local;  // every rank publishes its buffer, then copies all of them
      job_.barrier_.arrive_and_wait();
      for (int r = 0; r < job_.ranks_; ++r) {
        const T* src = static_cast<const T*>(job_.slots_[r]);
        std::copy(src, src + n, out + r * n);
      }
      job_.barrier_.arrive_and_wait();
    }
    template <typename T>
    void exchange(const T* send, int64_t n, T* recv) const {
      job_.slots_[rank_] = send;
      job_.barrier_.arrive_and_wait();
      for (int r = 0; r < job_.ranks_; ++r) {
        const T* src = static_cast<const T*>(job_.slots_[r]) + rank_ * n;  // rank r's block for this rank
        std::copy(src, src + n, recv + r * n);
      }
      job_.barrier_.arrive_and_wait();
    }
    ThreadJob& job_;
    int rank_;
  };

  int ranks_;
  std::barrier<> barrier_;
  std::vector<const void*> slots_;
};

}  // namespace mg::test
