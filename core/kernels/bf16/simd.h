// AVX-512 helpers shared by the bf16 kernels (gemm_avx512.cpp, conv_avx512.cpp): the pair product in its two
// forms, the MXCSR flushes the emulation needs, and float -> bf16 rounding on 16 lanes. Include after the
// standard headers; everything here is compiled for AVX-512 with AVX512_BF16 between MG_BF16_AVX512_BEGIN
// and MG_BF16_AVX512_END, and runs only after cpu::kernels_enabled said yes (the native form: avx512_bf16).
#pragma once
#include <immintrin.h>

#define MG_BF16_AVX512_BEGIN                                                             \
  _Pragma("GCC push_options")                                                            \
  _Pragma("GCC target(\"avx512f,avx512dq,avx512bw,avx512vl,avx512bf16,fma,bmi,bmi2\")") \
  _Pragma("GCC diagnostic push")                                                         \
  _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define MG_BF16_AVX512_END _Pragma("GCC diagnostic pop") _Pragma("GCC pop_options")

MG_BF16_AVX512_BEGIN
namespace mg::kernels::bf16 {

// Sets MXCSR's denormals-are-zero and flush-to-zero bits for this thread while alive: what vdpbf16ps applies
// on its own, so that the emulation's FMAs round as the instruction does.
class DenormalsFlushed {
 public:
  DenormalsFlushed() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kDaz | kFtz); }
  ~DenormalsFlushed() { _mm_setcsr(saved_); }
  DenormalsFlushed(const DenormalsFlushed&) = delete;
  DenormalsFlushed& operator=(const DenormalsFlushed&) = delete;

 private:
  static constexpr unsigned kDaz = 0x0040, kFtz = 0x8000;
  unsigned saved_;
};

// acc += the pair products of a and b (16 words each: element 2j in the low half, 2j + 1 in the high half),
// odd elements first. native: vdpbf16ps; emulated: two FMAs in that order (under DenormalsFlushed).
template <bool kNative>
__attribute__((always_inline)) inline __m512 dot_pairs(__m512 acc, __m512i a, __m512i b) {
  if constexpr (kNative) {
    return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b);
  } else {
    const __m512i high = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
    acc = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(a, high)),
                          _mm512_castsi512_ps(_mm512_and_si512(b, high)), acc);
    return _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(a, 16)), _mm512_castsi512_ps(_mm512_slli_epi32(b, 16)),
                           acc);
  }
}

// bf16::from_float on 16 lanes: the bf16 bits in the low half of each 32-bit lane, the high half zero.
inline __m512i to_bf16_bits(__m512i u) {
  const __m512i abs = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(abs, _mm512_set1_epi32(0x7f800000));
  const __mmask16 tiny =
      _mm512_cmpeq_epi32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7f800000)), _mm512_setzero_si512());
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), odd)), 16);
  r = _mm512_mask_mov_epi32(r, tiny, _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x8000)));
  r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x0040)));
  return r;
}

// The pair words of two float rows: word t = (bf16(even[t]), bf16(odd[t])), for 16 lanes.
inline __m512i pair_words(__m512 even, __m512 odd) {
  return _mm512_or_si512(to_bf16_bits(_mm512_castps_si512(even)),
                         _mm512_slli_epi32(to_bf16_bits(_mm512_castps_si512(odd)), 16));
}

}  // namespace mg::kernels::bf16
MG_BF16_AVX512_END
