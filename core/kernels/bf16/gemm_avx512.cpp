// The AVX-512 paths of the bf16 product: panels of 32 columns of b packed contiguously, tiles of up to 8 rows ×
// 32 columns held in registers, k in pairs (each element's pairs in order, so any tiling gives the same bits).
// native: vdpbf16ps. emulated: the same arithmetic with AVX-512F, under MXCSR's DAZ and FTZ (what the
// instruction applies on its own), so both give bf16::dot_pair's bits.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/kernels/bf16/gemm.h"
#include "core/kernels/bf16/simd.h"

MG_BF16_AVX512_BEGIN

namespace mg::kernels::bf16 {
namespace {

constexpr int64_t kPanel = 32;  // columns per packed panel: two vectors
constexpr int kMaxRows = 8;     // rows per tile: 16 accumulators

// Rows [row, row + R) × the panel's `width` columns from c's column `col`; `panel` holds the panel's pairs
// contiguously (word [j * kPanel + l] = b's word (j, col + l), zero past the matrix).
template <int R, bool kNative>
void tile(const uint32_t* a, const uint32_t* panel, float* c, int64_t row, int64_t col, int64_t width, int64_t pairs,
          int64_t ldc, bool accumulate) {
  const __mmask16 m0 = width >= 16 ? 0xffff : static_cast<__mmask16>((1u << width) - 1);
  const __mmask16 m1 = width >= 32 ? 0xffff : width <= 16 ? 0 : static_cast<__mmask16>((1u << (width - 16)) - 1);
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) {
    acc[r][0] = accumulate ? _mm512_maskz_loadu_ps(m0, c + (row + r) * ldc + col) : _mm512_setzero_ps();
    acc[r][1] = accumulate ? _mm512_maskz_loadu_ps(m1, c + (row + r) * ldc + col + 16) : _mm512_setzero_ps();
  }
  const uint32_t* arow = a + row * pairs;
  for (int64_t j = 0; j < pairs; ++j) {
    const __m512i b0 = _mm512_loadu_si512(panel + j * kPanel);
    const __m512i b1 = _mm512_loadu_si512(panel + j * kPanel + 16);
    for (int r = 0; r < R; ++r) {
      const __m512i aw = _mm512_set1_epi32(static_cast<int>(arow[r * pairs + j]));
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
void columns(const uint32_t* a, const uint32_t* b, float* c, int64_t m, int64_t n, int64_t pairs, int64_t ldc,
             bool accumulate, int64_t col0, int64_t col1, std::vector<uint32_t>& panel) {
  panel.resize(static_cast<std::size_t>(pairs * kPanel));
  for (int64_t col = col0; col < col1; col += kPanel) {
    const int64_t width = std::min(kPanel, n - col);
    const __mmask16 m0 = width >= 16 ? 0xffff : static_cast<__mmask16>((1u << width) - 1);
    const __mmask16 m1 = width >= 32 ? 0xffff : width <= 16 ? 0 : static_cast<__mmask16>((1u << (width - 16)) - 1);
    for (int64_t j = 0; j < pairs; ++j) {  // the panel, contiguous: read once from b's strided rows
      _mm512_storeu_si512(panel.data() + j * kPanel, _mm512_maskz_loadu_epi32(m0, b + j * n + col));
      _mm512_storeu_si512(panel.data() + j * kPanel + 16, _mm512_maskz_loadu_epi32(m1, b + j * n + col + 16));
    }
    for (int64_t row = 0; row < m; row += kMaxRows) {
      switch (std::min<int64_t>(kMaxRows, m - row)) {
        case 8: tile<8, kNative>(a, panel.data(), c, row, col, width, pairs, ldc, accumulate); break;
        case 7: tile<7, kNative>(a, panel.data(), c, row, col, width, pairs, ldc, accumulate); break;
        case 6: tile<6, kNative>(a, panel.data(), c, row, col, width, pairs, ldc, accumulate); break;
        case 5: tile<5, kNative>(a, panel.data(), c, row, col, width, pairs, ldc, accumulate); break;
        case 4: tile<4, kNative>(a, panel.data(), c, row, col, width, pairs, ldc, accumulate); break;
        case 3: tile<3, kNative>(a, panel.data(), c, row, col, width, pairs, ldc, accumulate); break;
        case 2: tile<2, kNative>(a, panel.data(), c, row, col, width, pairs, ldc, accumulate); break;
        default: tile<1, kNative>(a, panel.data(), c, row, col, width, pairs, ldc, accumulate); break;
      }
    }
  }
}

}  // namespace

void pack_rows_avx512(const float* a, int64_t rows, int64_t k, int64_t lda, uint32_t* out) {
  const int64_t pairs = (k + 1) / 2;
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = a + i * lda;
    uint32_t* dst = out + i * pairs;
    for (int64_t e = 0; e < k; e += 32) {  // 32 floats -> 16 words; past k the loads read +0, whose bf16 is 0
      const int64_t left = k - e;
      const __mmask16 m0 = left >= 16 ? 0xffff : static_cast<__mmask16>((1u << left) - 1);
      const __mmask16 m1 = left >= 32 ? 0xffff : left <= 16 ? 0 : static_cast<__mmask16>((1u << (left - 16)) - 1);
      const __m256i lo = _mm512_cvtepi32_epi16(to_bf16_bits(_mm512_castps_si512(_mm512_maskz_loadu_ps(m0, row + e))));
      const __m256i hi = _mm512_cvtepi32_epi16(to_bf16_bits(_mm512_castps_si512(_mm512_maskz_loadu_ps(m1, row + e + 16))));
      const int64_t words = std::min<int64_t>(16, (left + 1) / 2);
      const __mmask8 w0 = words >= 8 ? 0xff : static_cast<__mmask8>((1u << words) - 1);
      const __mmask8 w1 = words >= 16 ? 0xff : words <= 8 ? 0 : static_cast<__mmask8>((1u << (words - 8)) - 1);
      _mm256_mask_storeu_epi32(dst + e / 2, w0, lo);
      _mm256_mask_storeu_epi32(dst + e / 2 + 8, w1, hi);
    }
  }
}

void round_in_place_avx512(float* x, int64_t count) {
  for (int64_t i = 0; i < count; i += 16) {
    const __mmask16 m = count - i >= 16 ? 0xffff : static_cast<__mmask16>((1u << (count - i)) - 1);
    const __m512i u = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, x + i));
    _mm512_mask_storeu_ps(x + i, m, _mm512_castsi512_ps(_mm512_slli_epi32(to_bf16_bits(u), 16)));
  }
}

void gemm_avx512_columns(bool native, const uint32_t* a, const uint32_t* b, float* c, int64_t m, int64_t n,
                         int64_t pairs, int64_t ldc, bool accumulate, int64_t col0, int64_t col1) {
  thread_local std::vector<uint32_t> panel;  // reused across calls: no allocation per panel
  if (native) return columns<true>(a, b, c, m, n, pairs, ldc, accumulate, col0, col1, panel);
  const DenormalsFlushed flushed;
  columns<false>(a, b, c, m, n, pairs, ldc, accumulate, col0, col1, panel);
}

}  // namespace mg::kernels::bf16

MG_BF16_AVX512_END
