#include "core/kernels/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/parallel.h"

namespace mg::kernels {
namespace {

// Planes per task: enough elements that a task is worth scheduling.
int64_t plane_grain(const Pool2dShape& s) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(s.in_plane(), 1)); }

}  // namespace

Pool2dShape make_pool2d_shape(int64_t planes, int64_t height, int64_t width, int64_t kernel, int64_t stride) {
  return {planes, height, width, kernel, stride, (height - kernel) / stride + 1, (width - kernel) / stride + 1};
}

template <typename T>
void max_pool2d_forward(const T* x, T* y, int32_t* argmax, const Pool2dShape& s) {
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
