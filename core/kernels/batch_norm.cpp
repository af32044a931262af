#include "core/kernels/batch_norm.h"

#include <algorithm>

#include "core/parallel.h"

namespace mg::kernels {
namespace {

// Grains: enough elements per task that it is worth scheduling.
int64_t channel_grain(int64_t n, int64_t s) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(n * s, 1)); }
int64_t plane_grain(int64_t s) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(s, 1)); }

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

}  // namespace

template <typename T>
void batch_norm_stats(const T* x, int64_t n, int64_t c, int64_t s, double* mean, double* var) {
  const double count = static_cast<double>(n * s);
  parallel_for(0, c, channel_grain(n, s), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      double total = 0;
      for (int64_t i = 0; i < n; ++i) {
        const T* p = x + (i * c + ch) * s;
        total += lane_sum(s, [p](int64_t k) { return static_cast<double>(p[k]); });
      }
      const double m = total / count;
      double squares = 0;
      for (int64_t i = 0; i < n; ++i) {
        const T* p = x + (i * c + ch) * s;
        squares += lane_sum(s, [p, m](int64_t k) {
          const double d = static_cast<double>(p[k]) - m;
          return d * d;
        });
      }
      mean[ch] = m;
      var[ch] = squares / count;
    }
  });
}

template <typename T>
void channel_affine(const T* x, const T* scale, const T* shift, T* y, int64_t n, int64_t c, int64_t s) {
  parallel_for(0, n * c, plane_grain(s), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T a = scale[p % c], b = shift[p % c];
      const T* in = x + p * s;
      T* out = y + p * s;
      for (int64_t k = 0; k < s; ++k) out[k] = in[k] * a + b;
    }
  });
}

template <typename T>
void batch_norm_backward_sums(const T* g, const T* x, const double* mean, int64_t n, int64_t c, int64_t s,
                              double* sum_g, double* sum_g_centered) {
  parallel_for(0, c, channel_grain(n, s), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const double m = mean[ch];
      double total = 0, centered = 0;
      for (int64_t i = 0; i < n; ++i) {
        const T* pg = g + (i * c + ch) * s;
        const T* px = x + (i * c + ch) * s;
        total += lane_sum(s, [pg](int64_t k) { return static_cast<double>(pg[k]); });
        centered += lane_sum(s, [pg, px, m](int64_t k) {
          return static_cast<double>(pg[k]) * (static_cast<double>(px[k]) - m);
        });
      }
      sum_g[ch] = total;
      sum_g_centered[ch] = centered;
    }
  });
}

template <typename T>
void batch_norm_backward_input(const T* g, const T* x, const double* mean, const double* invstd, const T* gamma,
                               const double* sum_g, const double* sum_g_centered, int64_t n, int64_t c, int64_t s,
                               T* gx) {
  const double count = static_cast<double>(n * s);
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
      for (int64_t i = 0; i < s; ++i) out[i] = (pg[i] - mean_g - (px[i] - m) * k) * a;
    }
  });
}

#define MG_BN_INSTANTIATE(T)                                                                                \
  template void batch_norm_stats<T>(const T*, int64_t, int64_t, int64_t, double*, double*);               \
  template void channel_affine<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t);           \
  template void batch_norm_backward_sums<T>(const T*, const T*, const double*, int64_t, int64_t, int64_t, \
                                            double*, double*);                                            \
  template void batch_norm_backward_input<T>(const T*, const T*, const double*, const double*, const T*,  \
                                             const double*, const double*, int64_t, int64_t, int64_t, T*);
MG_BN_INSTANTIATE(float)
MG_BN_INSTANTIATE(double)
#undef MG_BN_INSTANTIATE

}  // namespace mg::kernels
