// The AVX-512 paths of the bf16 product: tiles of up to 4 rows × 32 columns held in registers, k in pairs.
// native: vdpbf16ps. emulated: the same arithmetic with AVX-512F, under MXCSR's DAZ and FTZ (what the
// instruction applies on its own), so both give bf16::dot_pair's bits.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "core/kernels/bf16/gemm.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512bf16,fma")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's false positives inside the mask intrinsics

namespace mg::kernels::bf16 {
namespace {

// Sets MXCSR's denormals-are-zero and flush-to-zero bits for this thread while alive.
class DenormalsFlushed {
 public:
  DenormalsFlushed() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kDaz | kFtz); }
  ~DenormalsFlushed() { _mm_setcsr(saved_); }

 private:
  static constexpr unsigned kDaz = 0x0040, kFtz = 0x8000;
  unsigned saved_;
};

// acc += the pair products of a (one word broadcast) and b (16 words), odd elements first.
template <bool kNative>
inline __m512 dot_pairs(__m512 acc, __m512i a, __m512i b) {
  if constexpr (kNative) {
    return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b);
  } else {
    const __m512i high = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
    acc = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(a, high)), _mm512_castsi512_ps(_mm512_and_si512(b, high)), acc);
    return _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(a, 16)), _mm512_castsi512_ps(_mm512_slli_epi32(b, 16)), acc);
  }
}

// Rows [row, row + R) × columns [col, col + 32) (lanes past n masked off).
template <int R, bool kNative>
void tile(const uint32_t* a, const uint32_t* b, float* c, int64_t row, int64_t col, int64_t n, int64_t pairs, int64_t ldc,
          bool accumulate) {
  const int64_t left = n - col;
  const __mmask16 m0 = left >= 16 ? 0xffff : static_cast<__mmask16>((1u << left) - 1);
  const __mmask16 m1 = left >= 32 ? 0xffff : left <= 16 ? 0 : static_cast<__mmask16>((1u << (left - 16)) - 1);
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) {
    acc[r][0] = accumulate ? _mm512_maskz_loadu_ps(m0, c + (row + r) * ldc + col) : _mm512_setzero_ps();
    acc[r][1] = accumulate ? _mm512_maskz_loadu_ps(m1, c + (row + r) * ldc + col + 16) : _mm512_setzero_ps();
  }
  for (int64_t j = 0; j < pairs; ++j) {
    const __m512i b0 = _mm512_maskz_loadu_epi32(m0, b + j * n + col);
    const __m512i b1 = _mm512_maskz_loadu_epi32(m1, b + j * n + col + 16);
    for (int r = 0; r < R; ++r) {
      const __m512i aw = _mm512_set1_epi32(static_cast<int>(a[(row + r) * pairs + j]));
      acc[r][0] = dot_pairs<kNative>(acc[r][0], aw, b0);
      acc[r][1] = dot_pairs<kNative>(acc[r][1], aw, b1);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_mask_storeu_ps(c + (row + r) * ldc + col, m0, acc[r][0]);
    _mm512_mask_storeu_ps(c + (row + r) * ldc + col + 16, m1, acc[r][1]);
  }
}

template <bool kNative>
void rows(const uint32_t* a, const uint32_t* b, float* c, int64_t row0, int64_t row1, int64_t n, int64_t pairs, int64_t ldc,
          bool accumulate) {
  for (int64_t row = row0; row < row1; row += 4) {
    const int64_t height = std::min<int64_t>(4, row1 - row);
    for (int64_t col = 0; col < n; col += 32) {
      switch (height) {
        case 4: tile<4, kNative>(a, b, c, row, col, n, pairs, ldc, accumulate); break;
        case 3: tile<3, kNative>(a, b, c, row, col, n, pairs, ldc, accumulate); break;
        case 2: tile<2, kNative>(a, b, c, row, col, n, pairs, ldc, accumulate); break;
        default: tile<1, kNative>(a, b, c, row, col, n, pairs, ldc, accumulate); break;
      }
    }
  }
}

}  // namespace

void gemm_avx512_rows(bool native, const uint32_t* a, const uint32_t* b, float* c, int64_t row0, int64_t row1,
                      int64_t n, int64_t pairs, int64_t ldc, bool accumulate) {
  if (native) return rows<true>(a, b, c, row0, row1, n, pairs, ldc, accumulate);
  const DenormalsFlushed flushed;
  rows<false>(a, b, c, row0, row1, n, pairs, ldc, accumulate);
}

}  // namespace mg::kernels::bf16

#pragma GCC diagnostic pop
#pragma GCC pop_options
