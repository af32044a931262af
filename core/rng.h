// Randomness: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), a
// counter-based generator. A Generator is keyed by (seed, stream) and walks a 64-bit counter, so any
// random draw is a pure function of (seed, stream, counter) — no global state, nothing time-seeded.
// Per-sample randomness uses a stream derived from (purpose, epoch, sample index): the draws a sample gets
// do not depend on which thread handles it.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace mg {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

// Mixes several integers into one stream id (SplitMix64 steps); e.g. stream_id(kAugment, epoch, index).
uint64_t stream_id(uint64_t a, uint64_t b = 0, uint64_t c = 0);

class Generator {
 public:
  explicit Generator(uint64_t seed = 0, uint64_t stream = 0);

  uint32_t next_u32();
  uint64_t next_u64();
  double uniform();                         // [0, 1), 53 random bits
  double uniform(double lo, double hi);     // [lo, hi)
  double normal();                          // N(0, 1), Box–Muller
  double gamma(double shape);               // Gamma(shape, 1), Marsaglia–Tsang; shape > 0
  double beta(double a, double b);          // Beta(a, b) = X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b)
  uint64_t below(uint64_t n);               // uniform integer in [0, n), unbiased (rejection)
  std::vector<int64_t> permutation(int64_t n);  // Fisher–Yates

  // The full state, for checkpoints: resuming from it continues the exact sequence.
  struct State {
    uint64_t seed, stream, counter;
    uint32_t buffered[4];
    uint32_t buffer_pos;
    bool has_spare_normal;
    double spare_normal;
  };
  State state() const;
  void set_state(const State& s);

 private:
  void refill();
  uint64_t seed_, stream_, counter_ = 0;
  std::array<uint32_t, 4> buffer_{};
  uint32_t buffer_pos_ = 4;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// Tensors filled from a generator (row-major order, so the same seed gives the same tensor everywhere).
Tensor rand_uniform(const Shape& shape, Generator& gen, double lo = 0.0, double hi = 1.0, DType dtype = DType::F32);
Tensor rand_normal(const Shape& shape, Generator& gen, double mean = 0.0, double std = 1.0, DType dtype = DType::F32);

}  // namespace mg
