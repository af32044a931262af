#include "core/rng.h"

#include <cmath>
#include <numbers>

#include "core/error.h"

namespace mg {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kMul0) * c[0];
    const uint64_t p1 = static_cast<uint64_t>(kMul1) * c[2];
    c = {static_cast<uint32_t>(p1 >> 32) ^ c[1] ^ k[0], static_cast<uint32_t>(p1),
         static_cast<uint32_t>(p0 >> 32) ^ c[3] ^ k[1], static_cast<uint32_t>(p0)};
    k[0] += kWeyl0;
    k[1] += kWeyl1;
  }
  return c;
}

uint64_t stream_id(uint64_t a, uint64_t b, uint64_t c) {
  auto mix = [](uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  return mix(mix(mix(a) ^ b) ^ c);
}

Generator::Generator(uint64_t seed, uint64_t stream) : seed_(seed), stream_(stream) {}

void Generator::refill() {
  // counter words: (counter lo, counter hi, stream lo, stream hi); key: the seed.
  buffer_ = philox4x32_10({static_cast<uint32_t>(counter_), static_cast<uint32_t>(counter_ >> 32),
                           static_cast<uint32_t>(stream_), static_cast<uint32_t>(stream_ >> 32)},
                          {static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32)});
  ++counter_;
  buffer_pos_ = 0;
}

uint32_t Generator::next_u32() {
  if (buffer_pos_ == 4) refill();
  return buffer_[buffer_pos_++];
}

uint64_t Generator::next_u64() {
  const uint64_t hi = next_u32();
  return (hi << 32) | next_u32();
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Generator::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

double Generator::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(2.0 * std::numbers::pi * u2);
  has_spare_ = true;
  return r * std::cos(2.0 * std::numbers::pi * u2);
}

double Generator::gamma(double shape) {
  MG_CHECK(shape > 0.0 && std::isfinite(shape), "gamma: shape must be positive and finite, got ", shape);
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a)  (Marsaglia & Tsang, section 6)
    const double u = 1.0 - uniform();
    return gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

double Generator::beta(double a, double b) {
  MG_CHECK(a > 0.0 && b > 0.0, "beta: parameters must be positive, got a=", a, ", b=", b);
  const double x = gamma(a);
  const double y = gamma(b);
  if (x + y == 0.0) return uniform() < a / (a + b) ? 1.0 : 0.0;  // both underflowed (tiny a, b)
  return x / (x + y);
}

uint64_t Generator::below(uint64_t n) {
  MG_CHECK(n > 0, "below: n must be positive");
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t r;
  do r = next_u64();
  while (r >= limit);
  return r % n;
}

std::vector<int64_t> Generator::permutation(int64_t n) {
  std::vector<int64_t> p(n);
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[below(static_cast<uint64_t>(i) + 1)]);
  return p;
}

Generator::State Generator::state() const {
  State s{seed_, stream_, counter_, {buffer_[0], buffer_[1], buffer_[2], buffer_[3]}, buffer_pos_, has_spare_, spare_};
  return s;
}

void Generator::set_state(const State& s) {
  seed_ = s.seed;
  stream_ = s.stream;
  counter_ = s.counter;
  for (int i = 0; i < 4; ++i) buffer_[i] = s.buffered[i];
  buffer_pos_ = s.buffer_pos;
  has_spare_ = s.has_spare_normal;
  spare_ = s.spare_normal;
}

Tensor rand_uniform(const Shape& shape, Generator& gen, double lo, double hi, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  visit_dtype(dtype, [&]<typename T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(gen.uniform(lo, hi));
  });
  return t;
}

Tensor rand_normal(const Shape& shape, Generator& gen, double mean, double std, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  visit_dtype(dtype, [&]<typename T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(mean + std * gen.normal());
  });
  return t;
}

}  // namespace mg
