#include "core/kernels/batch_norm.h"

#include <immintrin.h>

#include <algorithm>
#include <type_traits>

#include "core/cpu.h"
#include "core/ops.h"
#include "core/parallel.h"

namespace mg::kernels {
namespace {

// Grains: enough elements per task that it is worth scheduling.
int64_t channel_grain(int64_t n, int64_t s) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(n * s, 1)); }
int64_t plane_grain(int64_t s) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(s, 1)); }

// g[i], or with Masked 0 where relu_out[i] is not > 0 (relu's backward). A template parameter, so the
// unmasked loops carry no test per element.
template <bool Masked, typename T>
inline T masked(const T* g, const T* relu_out, int64_t i) {
  const T v = g[i];  // loaded unconditionally: a select, not a branch (random signs mispredict)
  if constexpr (Masked) return relu_out[i] > T(0) ? v : T(0);
  return v;
}

// Sum over i < len of term(i) in four interleaved double lanes (a fixed order the compiler can vectorise).
template <typename Term>
double lane_sum(int64_t len, Term term) {
  double lanes[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= len; i += 4)
    for (int k = 0; k < 4; ++k) lanes[k] += term(i + k);
  double tail = 0;
  for (; i < len; ++i) tail += term(i);
  return (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]) + tail;
}

// The float32 channel sums with AVX2, four planes at a time: each plane keeps lane_sum's four double
// lanes in one 256-bit register and ends with the same combination, so every plane's sum has exactly the
// bits of the scalar loop; working on four planes at once only hides the latency of the additions. The
// planes' sums are then added to the channel total in plane order, as in the scalar code. No FMA is
// enabled here, so products and sums round exactly as in the scalar loops.
#pragma GCC push_options
#pragma GCC target("avx,avx2")

inline double finish(__m256d acc, double tail) {
  alignas(32) double l[4];
  _mm256_store_pd(l, acc);
  return (l[0] + l[2]) + (l[1] + l[3]) + tail;
}

// total += lane_sum over each plane of x (squares: of (x - m)^2), planes n = 0..n_planes-1 of channel ch.
double channel_sum_avx2(const float* x, int64_t n_planes, int64_t c, int64_t ch, int64_t s, bool squares, double m) {
  const int64_t body = s / 4 * 4;
  const __m256d mv = _mm256_set1_pd(m);
  double total = 0;
  for (int64_t n0 = 0; n0 < n_planes; n0 += 4) {
    const int count = static_cast<int>(std::min<int64_t>(4, n_planes - n0));
    const float* p[4];
    for (int q = 0; q < 4; ++q) p[q] = x + ((n0 + std::min(q, count - 1)) * c + ch) * s;
    __m256d acc[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
    for (int64_t i = 0; i < body; i += 4)
      for (int q = 0; q < 4; ++q) {
        __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(p[q] + i));
        if (squares) {
          v = _mm256_sub_pd(v, mv);
          v = _mm256_mul_pd(v, v);
        }
        acc[q] = _mm256_add_pd(acc[q], v);
      }
    for (int q = 0; q < count; ++q) {
      double tail = 0;
      for (int64_t i = body; i < s; ++i) {
        const double v = static_cast<double>(p[q][i]);
        tail += squares ? (v - m) * (v - m) : v;
      }
      total += finish(acc[q], tail);
    }
  }
  return total;
}

// The two sums of batch_norm_backward_sums for channel ch (with Masked, g masked where relu_out is not > 0).
template <bool Masked>
void channel_grad_sums_avx2(const float* g, const float* x, const float* relu_out, int64_t n_planes, int64_t c,
                            int64_t ch, int64_t s, double m, double* sum_g, double* sum_gc) {
  const int64_t body = s / 4 * 4;
  const __m256d mv = _mm256_set1_pd(m);
  double total = 0, centered = 0;
  for (int64_t n0 = 0; n0 < n_planes; n0 += 4) {
    const int count = static_cast<int>(std::min<int64_t>(4, n_planes - n0));
    const float* pg[4];
    const float* px[4];
    const float* py[4];
    for (int q = 0; q < 4; ++q) {
      const int64_t off = ((n0 + std::min(q, count - 1)) * c + ch) * s;
      pg[q] = g + off;
      px[q] = x + off;
      py[q] = Masked ? relu_out + off : nullptr;
    }
    __m256d at[4], ac[4];
    for (int q = 0; q < 4; ++q) at[q] = ac[q] = _mm256_setzero_pd();
    for (int64_t i = 0; i < body; i += 4)
      for (int q = 0; q < 4; ++q) {
        __m128 g4 = _mm_loadu_ps(pg[q] + i);
        if constexpr (Masked) g4 = _mm_and_ps(g4, _mm_cmpgt_ps(_mm_loadu_ps(py[q] + i), _mm_setzero_ps()));
        const __m256d gv = _mm256_cvtps_pd(g4);
        const __m256d xv = _mm256_cvtps_pd(_mm_loadu_ps(px[q] + i));
        at[q] = _mm256_add_pd(at[q], gv);
        ac[q] = _mm256_add_pd(ac[q], _mm256_mul_pd(gv, _mm256_sub_pd(xv, mv)));
      }
    for (int q = 0; q < count; ++q) {
      double tail_t = 0, tail_c = 0;
      for (int64_t i = body; i < s; ++i) tail_t += static_cast<double>(masked<Masked>(pg[q], py[q], i));
      for (int64_t i = body; i < s; ++i)
        tail_c += static_cast<double>(masked<Masked>(pg[q], py[q], i)) * (static_cast<double>(px[q][i]) - m);
      total += finish(at[q], tail_t);
      centered += finish(ac[q], tail_c);
    }
  }
  *sum_g = total;
  *sum_gc = centered;
}

#pragma GCC pop_options

}  // namespace

template <typename T>
void batch_norm_channel_sums(const T* x, int64_t n, int64_t c, int64_t s, const double* center, double* out) {
  if constexpr (std::is_same_v<T, float>) {
    if (cpu::kernels_enabled(cpu::Isa::avx2)) {
      parallel_for(0, c, channel_grain(n, s), [&](int64_t c0, int64_t c1) {
        for (int64_t ch = c0; ch < c1; ++ch)
          out[ch] = channel_sum_avx2(x, n, c, ch, s, center != nullptr, center ? center[ch] : 0.0);
      });
      return;
    }
  }
  parallel_for(0, c, channel_grain(n, s), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      double total = 0;
      for (int64_t i = 0; i < n; ++i) {
        const T* p = x + (i * c + ch) * s;
        if (!center) {
          total += lane_sum(s, [p](int64_t k) { return static_cast<double>(p[k]); });
          continue;
        }
        const double m = center[ch];
        total += lane_sum(s, [p, m](int64_t k) {
          const double d = static_cast<double>(p[k]) - m;
          return d * d;
        });
      }
      out[ch] = total;
    }
  });
}

template <typename T>
void batch_norm_stats(const T* x, int64_t n, int64_t c, int64_t s, double* mean, double* var) {
  const double count = static_cast<double>(n * s);
  batch_norm_channel_sums(x, n, c, s, nullptr, mean);
  for (int64_t ch = 0; ch < c; ++ch) mean[ch] /= count;
  batch_norm_channel_sums(x, n, c, s, mean, var);
  for (int64_t ch = 0; ch < c; ++ch) var[ch] /= count;
}

namespace {

template <bool Relu, typename T>
void affine_planes(const T* x, const T* scale, const T* shift, T* y, int64_t n, int64_t c, int64_t s) {
  parallel_for(0, n * c, plane_grain(s), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T a = scale[p % c], b = shift[p % c];
      const T* in = x + p * s;
      T* out = y + p * s;
      for (int64_t k = 0; k < s; ++k) {
        const T v = in[k] * a + b;
        out[k] = Relu ? ops::relu_value(v) : v;
      }
    }
  });
}

}  // namespace

template <typename T>
void channel_affine(const T* x, const T* scale, const T* shift, T* y, int64_t n, int64_t c, int64_t s, bool relu) {
  (relu ? affine_planes<true, T> : affine_planes<false, T>)(x, scale, shift, y, n, c, s);
}

namespace {

template <bool Masked, typename T>
void backward_sums(const T* g, const T* x, const double* mean, int64_t n, int64_t c, int64_t s, double* sum_g,
                   double* sum_g_centered, const T* relu_out) {
  if constexpr (std::is_same_v<T, float>) {
    if (cpu::kernels_enabled(cpu::Isa::avx2)) {
      parallel_for(0, c, channel_grain(n, s), [&](int64_t c0, int64_t c1) {
        for (int64_t ch = c0; ch < c1; ++ch)
          channel_grad_sums_avx2<Masked>(g, x, relu_out, n, c, ch, s, mean[ch], sum_g + ch, sum_g_centered + ch);
      });
      return;
    }
  }
  parallel_for(0, c, channel_grain(n, s), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const double m = mean[ch];
      double total = 0, centered = 0;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t off = (i * c + ch) * s;
        const T *pg = g + off, *px = x + off, *py = Masked ? relu_out + off : nullptr;
        total += lane_sum(s, [pg, py](int64_t k) { return static_cast<double>(masked<Masked>(pg, py, k)); });
        centered += lane_sum(s, [pg, px, py, m](int64_t k) {
          return static_cast<double>(masked<Masked>(pg, py, k)) * (static_cast<double>(px[k]) - m);
        });
      }
      sum_g[ch] = total;
      sum_g_centered[ch] = centered;
    }
  });
}

}  // namespace

template <typename T>
void batch_norm_backward_sums(const T* g, const T* x, const double* mean, int64_t n, int64_t c, int64_t s,
                              double* sum_g, double* sum_g_centered, const T* relu_out) {
  if (relu_out) return backward_sums<true>(g, x, mean, n, c, s, sum_g, sum_g_centered, relu_out);
  backward_sums<false>(g, x, mean, n, c, s, sum_g, sum_g_centered, relu_out);
}

template <typename T>
void batch_norm_backward_input(const T* g, const T* x, const double* mean, const double* invstd, const T* gamma,
                               const double* sum_g, const double* sum_g_centered, int64_t n, int64_t c, int64_t s,
                               double count, T* gx, const T* relu_out) {
  parallel_for(0, n * c, plane_grain(s), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t ch = p % c;
      const double is = invstd[ch];
      const T m = static_cast<T>(mean[ch]);
      const T mean_g = static_cast<T>(sum_g[ch] / count);
      const T k = static_cast<T>(sum_g_centered[ch] * is * is / count);
      const T a = static_cast<T>(is * (gamma ? static_cast<double>(gamma[ch]) : 1.0));
      const T* pg = g + p * s;
      const T* px = x + p * s;
      T* out = gx + p * s;
      if (relu_out) {
        const T* py = relu_out + p * s;
        for (int64_t i = 0; i < s; ++i) out[i] = (masked<true>(pg, py, i) - mean_g - (px[i] - m) * k) * a;
      } else {
        for (int64_t i = 0; i < s; ++i) out[i] = (pg[i] - mean_g - (px[i] - m) * k) * a;
      }
    }
  });
}

#define MG_BN_INSTANTIATE(T)                                                                                \
  template void batch_norm_stats<T>(const T*, int64_t, int64_t, int64_t, double*, double*);               \
  template void batch_norm_channel_sums<T>(const T*, int64_t, int64_t, int64_t, const double*, double*);  \
  template void channel_affine<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t, bool);     \
  template void batch_norm_backward_sums<T>(const T*, const T*, const double*, int64_t, int64_t, int64_t, \
                                            double*, double*, const T*);                                  \
  template void batch_norm_backward_input<T>(const T*, const T*, const double*, const double*, const T*,  \
                                             const double*, const double*, int64_t, int64_t, int64_t,     \
                                             double, T*, const T*);
MG_BN_INSTANTIATE(float)
MG_BN_INSTANTIATE(double)
#undef MG_BN_INSTANTIATE

}  // namespace mg::kernels
