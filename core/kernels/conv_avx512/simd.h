// AVX-512 vector helpers shared by the convolution kernels: lane masks, 64-byte-aligned per-thread scratch,
// prefetching.
//
// Everything in this folder is compiled for AVX-512 between MG_AVX512_BEGIN and MG_AVX512_END (after the
// standard headers, so no standard-library code is compiled for AVX-512 and later merged with, and picked
// by, the plain x86-64 copies), and runs only after cpu::kernels_enabled(cpu::Isa::avx512) said yes.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>

// GCC 12 reports false positives of -Wmaybe-uninitialized inside the mask intrinsics.
#define MG_AVX512_BEGIN                                                   \
  _Pragma("GCC push_options")                                             \
  _Pragma("GCC target(\"avx512f,avx512dq,avx512bw,avx512vl,fma,bmi,bmi2\")") \
  _Pragma("GCC diagnostic push")                                          \
  _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define MG_AVX512_END _Pragma("GCC diagnostic pop") _Pragma("GCC pop_options")

MG_AVX512_BEGIN
namespace mg::kernels::avx512 {

// Per-thread scratch memory, grown on demand, 64-byte aligned.
class Scratch {
 public:
  ~Scratch() { std::free(data_); }
  float* get(std::size_t floats) {
    if (floats > size_) {
      std::free(data_);
      const std::size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) throw std::bad_alloc();
      size_ = floats;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  std::size_t size_ = 0;
};

// The two scratch buffers of a thread: the packed B operand (or Winograd's V) and the C block (or M).
Scratch& scratch_b();
Scratch& scratch_c();

// Lanes [lo, hi) of a 16-lane mask (clamped to 0..16).
inline __mmask16 lanes(int64_t lo, int64_t hi) {
  lo = std::max<int64_t>(lo, 0);
  hi = std::min<int64_t>(hi, 16);
  if (hi <= lo) return 0;
  const uint32_t upper = hi == 16 ? 0xFFFFu : ((1u << hi) - 1u);
  return static_cast<__mmask16>(upper & ~((1u << lo) - 1u));
}

// Lane t takes element 2t of the 32 floats (lo, hi) (with _mm512_permutex2var_ps).
inline __m512i even_lanes() {
  return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}

// Transposes the 16 x 16 floats in r (row i = r[i]) in place.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  __m512 u[16];
  for (int i = 0; i < 4; ++i) {
    const __m512d a0 = _mm512_castps_pd(t[4 * i]), a1 = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d a2 = _mm512_castps_pd(t[4 * i + 2]), a3 = _mm512_castps_pd(t[4 * i + 3]);
    u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));      // columns 0, 4, 8, 12 of rows 4i..4i+3
    u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));  // columns 1, 5, 9, 13
    u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));  // columns 2, 6, 10, 14
    u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));  // columns 3, 7, 11, 15
  }
  for (int q = 0; q < 4; ++q) {  // q: column within a 128-bit lane
    const __m512 v0 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x44), v1 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xEE);
    const __m512 w0 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x44);
    const __m512 w1 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xEE);
    r[q] = _mm512_shuffle_f32x4(v0, w0, 0x88);
    r[4 + q] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
    r[8 + q] = _mm512_shuffle_f32x4(v1, w1, 0x88);
    r[12 + q] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
  }
}

// Lane t takes element 2t + 1 of the 32 floats (lo, hi).
inline __m512i odd_lanes() {
  return _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}

// Asks for the cache lines of floats [p, p + floats) (into L2).
inline void prefetch_span(const float* p, int64_t floats) {
  const char* c = reinterpret_cast<const char*>(p);
  for (int64_t off = 0; off < floats * static_cast<int64_t>(sizeof(float)); off += 64) _mm_prefetch(c + off, _MM_HINT_T1);
}

}  // namespace mg::kernels::avx512
MG_AVX512_END
