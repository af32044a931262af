#include "core/kernels/conv_avx512/pack.h"

#include <cstring>

#include "core/kernels/conv_avx512/blocking.h"
#include "core/parallel.h"

MG_AVX512_BEGIN
namespace mg::kernels::avx512 {
namespace {

// out[t] = plane[ih][iw0 + t * stride] for t < len, 0 outside the plane (the convolution's zero padding).
inline void copy_segment(const float* plane, const Geom& g, int64_t ih, int64_t iw0, int64_t len, float* out) {
  const __m512 zero = _mm512_setzero_ps();
  if (ih < 0 || ih >= g.h) {
    for (int64_t q = 0; q < len; q += 16) _mm512_mask_storeu_ps(out + q, lanes(0, len - q), zero);
    return;
  }
  const float* row = plane + ih * g.w;
  if (g.stride == 1) {
    for (int64_t q = 0; q < len; q += 16) {
      const int64_t base = iw0 + q;  // input column of lane 0
      const __m512 v = _mm512_maskz_loadu_ps(lanes(-base, g.w - base) & lanes(0, len - q), row + base);
      _mm512_mask_storeu_ps(out + q, lanes(0, len - q), v);
    }
  } else if (g.stride == 2) {
    const __m512i even = even_lanes();
    for (int64_t q = 0; q < len; q += 16) {
      const int64_t base = iw0 + 2 * q;  // input column of lane 0; lane t reads base + 2 t
      const __m512 lo = _mm512_maskz_loadu_ps(lanes(-base, g.w - base), row + base);
      const __m512 hi = _mm512_maskz_loadu_ps(lanes(-base - 16, g.w - base - 16), row + base + 16);
      _mm512_mask_storeu_ps(out + q, lanes(0, len - q), _mm512_permutex2var_ps(lo, even, hi));
    }
  } else {
    for (int64_t t = 0; t < len; ++t) {
      const int64_t iw = iw0 + t * g.stride;
      out[t] = iw >= 0 && iw < g.w ? row[iw] : 0.0f;
    }
  }
}

// The im2col row after (c, i, j): the next kernel column, row, then channel.
inline void next_tap(const Geom& g, int64_t& c, int64_t& i, int64_t& j) {
  if (++j == g.kw) {
    j = 0;
    if (++i == g.kh) {
      i = 0;
      ++c;
    }
  }
}

}  // namespace

// Per segment, the lane masks of each kernel column j are computed once; each row is then one or two
// masked loads and stores per 16 columns (stride 1 and 2; other strides, and segments too long or kernels
// too wide for the mask tables, take copy_segment).
void pack_im2col(const float* x, const Geom& g, int64_t k0, int64_t rows, const std::vector<Segment>& segs,
                 int64_t nc, int64_t width, float* dst, int64_t ld) {
  constexpr int kMaxChunks = 8, kMaxKw = 8;  // mask tables: segments up to 128 columns, kernels up to 8 wide
  const int64_t taps = g.kh * g.kw, plane = g.h * g.w;
  const __m512 zero = _mm512_setzero_ps();
  const __m512i even = even_lanes();
  if (nc < width)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t t = nc; t < width; t += 16) _mm512_mask_storeu_ps(dst + r * ld + t, lanes(0, width - t), zero);
  for (const Segment& sg : segs) {
    const int64_t ih0 = sg.oh * g.stride - g.pad_h, iwb = sg.ow0 * g.stride - g.pad_w;
    const float* sample = x + sg.sample * g.in_sample();
    const int64_t chunks = (sg.len + 15) / 16;
    int64_t c = k0 / taps, i = (k0 % taps) / g.kw, j = k0 % g.kw;
    if (chunks > kMaxChunks || g.kw > kMaxKw || (g.stride != 1 && g.stride != 2)) {
      for (int64_t r = 0; r < rows; ++r, next_tap(g, c, i, j))
        copy_segment(sample + c * plane, g, ih0 + i, iwb + j, sg.len, dst + r * ld + sg.t0);
      continue;
    }
    __mmask16 keep[kMaxChunks], lo_mask[kMaxKw][kMaxChunks], hi_mask[kMaxKw][kMaxChunks];
    for (int64_t q = 0; q < chunks; ++q) keep[q] = lanes(0, sg.len - 16 * q);
    for (int64_t jj = 0; jj < g.kw; ++jj)
      for (int64_t q = 0; q < chunks; ++q) {
        if (g.stride == 1) {
          const int64_t base = iwb + jj + 16 * q;  // input column of lane 0
          lo_mask[jj][q] = lanes(-base, g.w - base) & keep[q];
        } else {
          const int64_t base = iwb + jj + 32 * q;  // lane t reads base + 2 t
          lo_mask[jj][q] = lanes(-base, g.w - base);
          hi_mask[jj][q] = lanes(-base - 16, g.w - base - 16);
        }
      }
    for (int64_t r = 0; r < rows; ++r, next_tap(g, c, i, j)) {
      float* out = dst + r * ld + sg.t0;
      const int64_t ih = ih0 + i;
      if (ih < 0 || ih >= g.h) {
        for (int64_t q = 0; q < chunks; ++q) _mm512_mask_storeu_ps(out + 16 * q, keep[q], zero);
        continue;
      }
      const float* src = sample + c * plane + ih * g.w + iwb + j;
      if (g.stride == 1) {
        for (int64_t q = 0; q < chunks; ++q)
          _mm512_mask_storeu_ps(out + 16 * q, keep[q], _mm512_maskz_loadu_ps(lo_mask[j][q], src + 16 * q));
      } else {
        for (int64_t q = 0; q < chunks; ++q) {
          const __m512 lo = _mm512_maskz_loadu_ps(lo_mask[j][q], src + 32 * q);
          const __m512 hi = _mm512_maskz_loadu_ps(hi_mask[j][q], src + 32 * q + 16);
          _mm512_mask_storeu_ps(out + 16 * q, keep[q], _mm512_permutex2var_ps(lo, even, hi));
        }
      }
    }
  }
}

void pack_channel_rows(const float* t, int64_t channels, int64_t p, int64_t k0, int64_t rows, int64_t n0,
                       int64_t nc, float* dst) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t r = 0; r < rows; ++r) {
    float* row = dst + r * kNR;
    for_each_sample_run(p, n0, nc, [&](int64_t n, int64_t pos, int64_t len, int64_t t0) {
      const float* src = t + (n * channels + k0 + r) * p + pos;
      for (int64_t q = 0; q < len; q += 16) {
        const __mmask16 mk = lanes(0, len - q);
        _mm512_mask_storeu_ps(row + t0 + q, mk, _mm512_maskz_loadu_ps(mk, src + q));
      }
    });
    for (int64_t q = nc; q < kNR; q += 16) _mm512_mask_storeu_ps(row + q, lanes(0, kNR - q), zero);
  }
}

void pack_transposed(const float* gy, int64_t channels, int64_t p, int64_t n0, int64_t kc, float* dst) {
  const int64_t strips = (channels + kNR - 1) / kNR;
  for_each_sample_run(p, n0, kc, [&](int64_t n, int64_t pos, int64_t len, int64_t t0) {
    for (int64_t o0 = 0; o0 < strips * kNR; o0 += 16) {
      const float* src = gy + (n * channels) * p + pos;
      float* out = dst + (o0 / kNR) * kc * kNR + (o0 % kNR);
      for (int64_t q = 0; q < len; q += 16) {
        const __mmask16 mk = lanes(0, len - q);
        __m512 r[16];
        for (int i = 0; i < 16; ++i)
          r[i] = o0 + i < channels ? _mm512_maskz_loadu_ps(mk, src + (o0 + i) * p + q) : _mm512_setzero_ps();
        transpose16(r);
        const int64_t rows = std::min<int64_t>(16, len - q);
        for (int64_t i = 0; i < rows; ++i) _mm512_storeu_ps(out + (t0 + q + i) * kNR, r[i]);
      }
    }
  });
}

Tensor padded_copy(const float* x, int64_t planes, int64_t h, int64_t w, int64_t ph, int64_t pw) {
  const int64_t hp = h + 2 * ph, wp = w + 2 * pw;
  Tensor holder = Tensor::empty({planes * hp * wp + 16});
  float* out = holder.data<float>();
  std::fill(out + planes * hp * wp, out + planes * hp * wp + 16, 0.0f);
  parallel_for(0, planes, grain_for_floats(hp * wp), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float* o = out + p * hp * wp;
      const float* in = x + p * h * w;
      std::fill(o, o + ph * wp, 0.0f);
      for (int64_t r = 0; r < h; ++r) {
        float* row = o + (ph + r) * wp;
        std::fill(row, row + pw, 0.0f);
        std::memcpy(row + pw, in + r * w, sizeof(float) * w);
        std::fill(row + pw + w, row + wp, 0.0f);
      }
      std::fill(o + (ph + h) * wp, o + hp * wp, 0.0f);
    }
  });
  return holder;
}

void store_planes(float* y, const float* bias, int64_t m, int64_t p, int64_t n0, int64_t nc, const float* cbuf,
                  int64_t ld) {
  for_each_sample_run(p, n0, nc, [&](int64_t n, int64_t pos, int64_t len, int64_t t0) {
    for (int64_t o = 0; o < m; ++o) {
      float* dst = y + (n * m + o) * p + pos;
      const float* src = cbuf + o * ld + t0;
      const __m512 b = _mm512_set1_ps(bias ? bias[o] : 0.0f);
      for (int64_t q = 0; q < len; q += 16) {
        const __mmask16 mk = lanes(0, len - q);
        __m512 v = _mm512_maskz_loadu_ps(mk, src + q);
        if (bias) v = _mm512_add_ps(v, b);
        _mm512_mask_storeu_ps(dst + q, mk, v);
      }
    }
  });
}

}  // namespace mg::kernels::avx512
MG_AVX512_END
