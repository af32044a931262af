#include "core/kernels/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <immintrin.h>

#include <type_traits>

#include "core/cpu.h"
#include "core/parallel.h"

namespace mg::kernels {
namespace {

// Planes per task: enough elements that a task is worth scheduling.
int64_t plane_grain(const Pool2dShape& s) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(s.in_plane(), 1)); }

// The 2x2, stride-2 max pool (every CNN here) with AVX-512: 16 outputs at a time, the four window
// elements compared in the scalar kernel's order (row by row, left to right; a later element wins only if
// it is greater or NaN), so values and argmax are exactly those of the scalar loops.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

inline __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << std::max<int64_t>(n, 0)) - 1u);
}

void max_pool_2x2_avx512(const float* x, float* y, int32_t* argmax, const Pool2dShape& s) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i twice = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const int64_t w = s.width;
  parallel_for(0, s.planes, plane_grain(s), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* in = x + p * s.in_plane();
      for (int64_t oh = 0; oh < s.out_h; ++oh) {
        const float* r0 = in + 2 * oh * w;
        const float* r1 = r0 + w;
        for (int64_t ow = 0; ow < s.out_w; ow += 16) {
          const int64_t n = std::min<int64_t>(16, s.out_w - ow);
          const __mmask16 lo = first_lanes(2 * n), hi = first_lanes(2 * n - 16), keep = first_lanes(n);
          const __m512 a0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * ow), a1 = _mm512_maskz_loadu_ps(hi, r0 + 2 * ow + 16);
          const __m512 b0 = _mm512_maskz_loadu_ps(lo, r1 + 2 * ow), b1 = _mm512_maskz_loadu_ps(hi, r1 + 2 * ow + 16);
          __m512 best = _mm512_permutex2var_ps(a0, even, a1);
          __m512i at = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(2 * oh * w + 2 * ow)), twice);
          const __m512 cand[3] = {_mm512_permutex2var_ps(a0, odd, a1), _mm512_permutex2var_ps(b0, even, b1),
                                  _mm512_permutex2var_ps(b0, odd, b1)};
          const int32_t shift[3] = {1, static_cast<int32_t>(w), static_cast<int32_t>(w + 1)};
          for (int q = 0; q < 3; ++q) {
            const __mmask16 wins =
                _mm512_cmp_ps_mask(cand[q], best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(cand[q], cand[q], _CMP_UNORD_Q);
            best = _mm512_mask_mov_ps(best, wins, cand[q]);
            if (argmax)
              at = _mm512_mask_mov_epi32(
                  at, wins,
                  _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(2 * oh * w + 2 * ow) + shift[q]), twice));
          }
          const int64_t o = p * s.out_plane() + oh * s.out_w + ow;
          _mm512_mask_storeu_ps(y + o, keep, best);
          if (argmax) _mm512_mask_storeu_epi32(argmax + o, keep, at);
        }
      }
    }
  });
}

// gx for the 2x2, stride-2 max pool: each input position gets its window's gradient if it is the argmax,
// else 0 (windows do not overlap, so this equals zero-fill + scatter-add; adding +0 keeps the sign of
// zero that the scatter-add gives).
void max_pool_2x2_backward_avx512(const float* gy, const int32_t* argmax, float* gx, const Pool2dShape& s) {
  const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512i twice = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512 zero = _mm512_setzero_ps();
  const int64_t w = s.width;
  parallel_for(0, s.planes, plane_grain(s), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float* out = gx + p * s.in_plane();
      if (s.height != 2 * s.out_h || w != 2 * s.out_w) std::fill(out, out + s.in_plane(), 0.0f);
      const float* g = gy + p * s.out_plane();
      const int32_t* idx = argmax + p * s.out_plane();
      for (int64_t oh = 0; oh < s.out_h; ++oh) {
        float* r0 = out + 2 * oh * w;
        float* r1 = r0 + w;
        for (int64_t ow = 0; ow < s.out_w; ow += 16) {
          const int64_t n = std::min<int64_t>(16, s.out_w - ow);
          const __mmask16 keep = first_lanes(n), lo = first_lanes(2 * n), hi = first_lanes(2 * n - 16);
          const int64_t o = oh * s.out_w + ow;
          const __m512 gv = _mm512_add_ps(_mm512_maskz_loadu_ps(keep, g + o), zero);
          const __m512i at = _mm512_maskz_loadu_epi32(keep, idx + o);
          const __m512i base = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(2 * oh * w + 2 * ow)), twice);
          __m512 v[4];
          const int32_t shift[4] = {0, 1, static_cast<int32_t>(w), static_cast<int32_t>(w + 1)};
          for (int q = 0; q < 4; ++q) {
            const __mmask16 hit = _mm512_cmpeq_epi32_mask(at, _mm512_add_epi32(base, _mm512_set1_epi32(shift[q])));
            v[q] = _mm512_maskz_mov_ps(hit, gv);
          }
          _mm512_mask_storeu_ps(r0 + 2 * ow, lo, _mm512_permutex2var_ps(v[0], lo_idx, v[1]));
          _mm512_mask_storeu_ps(r0 + 2 * ow + 16, hi, _mm512_permutex2var_ps(v[0], hi_idx, v[1]));
          _mm512_mask_storeu_ps(r1 + 2 * ow, lo, _mm512_permutex2var_ps(v[2], lo_idx, v[3]));
          _mm512_mask_storeu_ps(r1 + 2 * ow + 16, hi, _mm512_permutex2var_ps(v[2], hi_idx, v[3]));
        }
      }
    }
  });
}

#pragma GCC diagnostic pop
#pragma GCC pop_options

bool fast_2x2(const Pool2dShape& s) { return s.kernel == 2 && s.stride == 2 && cpu::kernels_enabled(cpu::Isa::avx512); }

}  // namespace

Pool2dShape make_pool2d_shape(int64_t planes, int64_t height, int64_t width, int64_t kernel, int64_t stride) {
  return {planes, height, width, kernel, stride, (height - kernel) / stride + 1, (width - kernel) / stride + 1};
}

template <typename T>
void max_pool2d_forward(const T* x, T* y, int32_t* argmax, const Pool2dShape& s) {
  if constexpr (std::is_same_v<T, float>)
    if (fast_2x2(s)) return max_pool_2x2_avx512(x, y, argmax, s);
  parallel_for(0, s.planes, plane_grain(s), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* in = x + p * s.in_plane();
      for (int64_t oh = 0; oh < s.out_h; ++oh)
        for (int64_t ow = 0; ow < s.out_w; ++ow) {
          const int64_t h0 = oh * s.stride, w0 = ow * s.stride;
          int64_t best_at = h0 * s.width + w0;
          T best = -std::numeric_limits<T>::infinity();
          for (int64_t i = 0; i < s.kernel; ++i)
            for (int64_t j = 0; j < s.kernel; ++j) {
              const int64_t at = (h0 + i) * s.width + w0 + j;
              const T v = in[at];
              if (v > best || std::isnan(v)) {
                best = v;
                best_at = at;
              }
            }
          const int64_t o = p * s.out_plane() + oh * s.out_w + ow;
          y[o] = best;
          if (argmax) argmax[o] = static_cast<int32_t>(best_at);
        }
    }
  });
}

template <typename T>
void max_pool2d_backward(const T* gy, const int32_t* argmax, T* gx, const Pool2dShape& s) {
  if constexpr (std::is_same_v<T, float>)
    if (fast_2x2(s)) return max_pool_2x2_backward_avx512(gy, argmax, gx, s);
  parallel_for(0, s.planes, plane_grain(s), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* out = gx + p * s.in_plane();
      std::fill(out, out + s.in_plane(), T(0));
      const T* g = gy + p * s.out_plane();
      const int32_t* idx = argmax + p * s.out_plane();
      for (int64_t o = 0; o < s.out_plane(); ++o) out[idx[o]] += g[o];
    }
  });
}

template <typename T>
void max_pool2d_gather(const T* x, const int32_t* argmax, T* y, const Pool2dShape& s) {
  parallel_for(0, s.planes, plane_grain(s), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* in = x + p * s.in_plane();
      T* out = y + p * s.out_plane();
      const int32_t* idx = argmax + p * s.out_plane();
      for (int64_t o = 0; o < s.out_plane(); ++o) out[o] = in[idx[o]];
    }
  });
}

template <typename T>
void avg_pool2d_forward(const T* x, T* y, const Pool2dShape& s) {
  const T area = static_cast<T>(s.kernel * s.kernel);
  parallel_for(0, s.planes, plane_grain(s), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* in = x + p * s.in_plane();
      T* out = y + p * s.out_plane();
      for (int64_t oh = 0; oh < s.out_h; ++oh)
        for (int64_t ow = 0; ow < s.out_w; ++ow) {
          T total = 0;
          for (int64_t i = 0; i < s.kernel; ++i) {
            const T* row = in + (oh * s.stride + i) * s.width + ow * s.stride;
            for (int64_t j = 0; j < s.kernel; ++j) total += row[j];
          }
          out[oh * s.out_w + ow] = total / area;
        }
    }
  });
}

template <typename T>
void avg_pool2d_backward(const T* gy, T* gx, const Pool2dShape& s) {
  const T area = static_cast<T>(s.kernel * s.kernel);
  parallel_for(0, s.planes, plane_grain(s), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* out = gx + p * s.in_plane();
      std::fill(out, out + s.in_plane(), T(0));
      const T* g = gy + p * s.out_plane();
      for (int64_t oh = 0; oh < s.out_h; ++oh)
        for (int64_t ow = 0; ow < s.out_w; ++ow) {
          const T share = g[oh * s.out_w + ow] / area;
          for (int64_t i = 0; i < s.kernel; ++i) {
            T* row = out + (oh * s.stride + i) * s.width + ow * s.stride;
            for (int64_t j = 0; j < s.kernel; ++j) row[j] += share;
          }
        }
    }
  });
}

#define MG_POOL_INSTANTIATE(T)                                                                   \
  template void max_pool2d_forward<T>(const T*, T*, int32_t*, const Pool2dShape&);             \
  template void max_pool2d_backward<T>(const T*, const int32_t*, T*, const Pool2dShape&);      \
  template void max_pool2d_gather<T>(const T*, const int32_t*, T*, const Pool2dShape&);        \
  template void avg_pool2d_forward<T>(const T*, T*, const Pool2dShape&);                       \
  template void avg_pool2d_backward<T>(const T*, T*, const Pool2dShape&);
MG_POOL_INSTANTIATE(float)
MG_POOL_INSTANTIATE(double)
#undef MG_POOL_INSTANTIATE

}  // namespace mg::kernels
