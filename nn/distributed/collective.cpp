#include "nn/distributed/collective.h"

#include <algorithm>

namespace mg::nn {
namespace {

class SingleProcess final : public Collective {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void all_gather(const double* local, int64_t n, double* out) const override { std::copy(local, local + n, out); }
  void all_gather(const float* local, int64_t n, float* out) const override { std::copy(local, local + n, out); }
  void all_to_all(const double* send, int64_t n, double* recv) const override { std::copy(send, send + n, recv); }
  void all_to_all(const float* send, int64_t n, float* recv) const override { std::copy(send, send + n, recv); }
};

}  // namespace

std::vector<double> Collective::all_gather(const std::vector<double>& local) const {
  std::vector<double> out(local.size() * static_cast<std::size_t>(size()));
  all_gather(local.data(), static_cast<int64_t>(local.size()), out.data());
  return out;
}

const Collective& single_process() {
  static const SingleProcess job;
  return job;
}

}  // namespace mg::nn
