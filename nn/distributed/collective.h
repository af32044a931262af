// The ranks of a data-parallel job, as the training step sees them: this process's rank, how many there
// are, and the one collective the step needs, an all-gather. Every rank must call the same collectives in
// the same order. experiments/distributed/ provides the MPI one; tests use threads (tests/nn/thread_job.h).
#pragma once
#include <cstdint>
#include <vector>

namespace mg::nn {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Every rank's n values (n the same on every rank), concatenated in rank order into out (size() * n).
  virtual void all_gather(const double* local, int64_t n, double* out) const = 0;
  virtual void all_gather(const float* local, int64_t n, float* out) const = 0;
  // Sends block r of `send` (size() blocks of n values) to rank r; block r of `recv` is what rank r sent
  // to this rank.
  virtual void all_to_all(const double* send, int64_t n, double* recv) const = 0;
  virtual void all_to_all(const float* send, int64_t n, float* recv) const = 0;

  std::vector<double> all_gather(const std::vector<double>& local) const;
};

// The job of one process: rank 0 of 1, all_gather copies.
const Collective& single_process();

}  // namespace mg::nn
