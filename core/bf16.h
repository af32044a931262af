// bfloat16: the upper 16 bits of a float32 (1 sign, 8 exponent, 7 mantissa bits). mixgrad's bf16 numbers
// follow the AVX512_BF16 instructions exactly, so that a CPU without them computes the same bits:
//   rounding (vcvtneps2bf16): round to nearest even; a denormal input becomes a zero of its sign (DAZ);
//     a NaN stays a NaN, made quiet. (PyTorch rounds denormals instead of flushing them; no other value differs.)
//   products (vdpbf16ps, core/kernels/bf16/): see dot_pair below.
// Stored as uint16_t; widening to float is exact.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace mg::bf16 {

inline uint32_t float_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

inline float from_float_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// float -> bf16 bits, as vcvtneps2bf16 does it.
inline uint16_t from_float(float x) {
  uint32_t u = float_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // NaN: quiet
  if ((u & 0x7f800000u) == 0) return static_cast<uint16_t>((u >> 16) & 0x8000u);         // zero, denormal: ±0
  u += 0x7fffu + ((u >> 16) & 1u);  // to nearest, ties to the even bf16 (overflow carries into the exponent)
  return static_cast<uint16_t>(u >> 16);
}

inline float to_float(uint16_t b) { return from_float_bits(static_cast<uint32_t>(b) << 16); }

// x rounded to the nearest bf16 value, as a float.
inline float round(float x) { return to_float(from_float(x)); }

// Flush-to-zero of a float denormal (the instructions' DAZ on inputs and FTZ on results).
inline float flush_denormal(float x) {
  return (float_bits(x) & 0x7f800000u) == 0 ? from_float_bits(float_bits(x) & 0x80000000u) : x;
}

// One step of vdpbf16ps for one f32 lane, with a = (a0, a1) and b = (b0, b1) two bf16 pairs: the odd products
// first, then the even ones, each added by one rounding (the product of two bf16 numbers is exact in float),
// with denormal inputs read as zero and denormal results flushed to zero. Measured on this project's CPUs
// (AMD EPYC with AVX512_BF16): bit for bit the instruction's result over millions of lanes, denormals included.
inline float dot_pair(float acc, uint16_t a0, uint16_t a1, uint16_t b0, uint16_t b1) {
  const float c = flush_denormal(acc);
  const float t = flush_denormal(std::fma(flush_denormal(to_float(a1)), flush_denormal(to_float(b1)), c));
  return flush_denormal(std::fma(flush_denormal(to_float(a0)), flush_denormal(to_float(b0)), t));
}

}  // namespace mg::bf16
