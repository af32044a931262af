#include "core/kernels/conv_avx512.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <list>
#include <mutex>
#include <new>
#include <vector>

#include "core/parallel.h"
#include "core/tensor.h"

namespace mg::kernels {
namespace {

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
}

// -1: not decided yet; 0 / 1: off / on.
std::atomic<int> g_enabled{-1};

int decide() {
  const char* off = std::getenv("MIXGRAD_NO_AVX512");
  return cpu_has_avx512() && !(off && *off && std::strcmp(off, "0") != 0) ? 1 : 0;
}

}  // namespace

bool conv_avx512_enabled() {
  int on = g_enabled.load(std::memory_order_relaxed);
  if (on < 0) {
    on = decide();
    g_enabled.store(on, std::memory_order_relaxed);
  }
  return on == 1;
}

bool set_conv_avx512(bool on) {
  const bool previous = conv_avx512_enabled();
  g_enabled.store(on && cpu_has_avx512() ? 1 : 0, std::memory_order_relaxed);
  return previous;
}

// Everything below is compiled for AVX-512 and runs only after conv_avx512_enabled() said yes. The
// helpers live in an anonymous namespace, so no AVX-512 code can be shared with (and picked by) code
// compiled for plain x86-64.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,fma,bmi,bmi2")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12 false positives inside the mask intrinsics

namespace {

constexpr int64_t kNR = 32;               // columns of the micro-kernel (two 16-float vectors)
constexpr int64_t kMR = 8;                // rows of the micro-kernel
constexpr int64_t kMaxDepth = 384;        // longest reduction run per packed strip (keeps it in L1/L2)
constexpr int64_t kReductionBlock = 256;  // columns of the weight-gradient reduction packed at a time
constexpr double kMinTaskFlops = 4e6;     // a parallel task does at least this much work

// ---- scratch memory: per thread, grown on demand, 64-byte aligned --------------------------------------
struct Scratch {
  float* data = nullptr;
  std::size_t size = 0;
  ~Scratch() { std::free(data); }
  float* get(std::size_t floats) {
    if (floats > size) {
      std::free(data);
      const std::size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
      data = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data) throw std::bad_alloc();
      size = floats;
    }
    return data;
  }
};
thread_local Scratch tls_b, tls_c, tls_a;

// Lanes [lo, hi) of a 16-lane mask (clamped to 0..16).
inline __mmask16 lanes(int64_t lo, int64_t hi) {
  lo = std::max<int64_t>(lo, 0);
  hi = std::min<int64_t>(hi, 16);
  if (hi <= lo) return 0;
  const uint32_t upper = hi == 16 ? 0xFFFFu : ((1u << hi) - 1u);
  return static_cast<__mmask16>(upper & ~((1u << lo) - 1u));
}

// ---- geometry -----------------------------------------------------------------------------------------
// A convolution as the kernels see it: input planes (c, h, w) of each sample, an output of oh x ow.
struct Geom {
  int64_t batch, c, h, w, kh, kw, stride, pad_h, pad_w, oh, ow;
  int64_t p() const { return oh * ow; }
  int64_t k() const { return c * kh * kw; }
  int64_t in_sample() const { return c * h * w; }
};

Geom forward_geom(const Conv2dShape& s) {
  return {s.batch, s.in_channels, s.height, s.width, s.kernel_h, s.kernel_w, s.stride, s.padding, s.padding,
          s.out_h, s.out_w};
}

// For stride 1, the input gradient is the convolution of gy (out_channels planes of out_h x out_w) with
// the flipped, transposed weights and padding k - 1 - p; its output has the input's size.
Geom transposed_geom(const Conv2dShape& s) {
  return {s.batch, s.out_channels, s.out_h, s.out_w, s.kernel_h, s.kernel_w, 1, s.kernel_h - 1 - s.padding,
          s.kernel_w - 1 - s.padding, s.height, s.width};
}

// A run of consecutive output positions within one output row of one sample; t0 is its first column
// relative to the strip. Global column index = sample * P + oh * OW + ow.
struct Segment {
  int64_t sample, oh, ow0, len, t0;
};

thread_local std::vector<Segment> tls_segments;

// Splits the global columns [n0, n0 + nc) into row segments.
const std::vector<Segment>& row_segments(const Geom& g, int64_t n0, int64_t nc) {
  std::vector<Segment>& out = tls_segments;
  out.clear();
  const int64_t p = g.p(), end = n0 + nc;
  for (int64_t col = n0; col < end;) {
    const int64_t n = col / p, pos = col % p, oh = pos / g.ow, ow = pos % g.ow;
    const int64_t len = std::min(g.ow - ow, end - col);
    out.push_back({n, oh, ow, len, col - n0});
    col += len;
  }
  return out;
}

// Calls fn(sample, pos0, len, t0) for each run of the global columns [n0, n0 + nc) inside one sample
// of `p` positions.
template <typename Fn>
void for_each_sample_run(int64_t p, int64_t n0, int64_t nc, Fn&& fn) {
  const int64_t end = n0 + nc;
  for (int64_t col = n0; col < end;) {
    const int64_t n = col / p, pos = col % p, len = std::min(p - pos, end - col);
    fn(n, pos, len, col - n0);
    col += len;
  }
}

// ---- prefetching ---------------------------------------------------------------------------------------
// Activations come from memory in many short rows (one per channel), which the hardware prefetchers do not
// run ahead of; the kernels ask for the next block's rows while they multiply the current one.
inline void prefetch_span(const float* p, int64_t floats) {
  const char* c = reinterpret_cast<const char*>(p);
  for (int64_t off = 0; off < floats * static_cast<int64_t>(sizeof(float)); off += 64) _mm_prefetch(c + off, _MM_HINT_T1);
}

// The input rows (all channels) that the output columns [n0, n0 + nc) of geometry g read.
void prefetch_input(const float* x, const Geom& g, int64_t n0, int64_t nc) {
  for_each_sample_run(g.p(), n0, nc, [&](int64_t n, int64_t pos, int64_t len, int64_t) {
    const int64_t ih_lo = std::max<int64_t>(0, pos / g.ow * g.stride - g.pad_h);
    const int64_t ih_hi = std::min<int64_t>(g.h - 1, (pos + len - 1) / g.ow * g.stride - g.pad_h + g.kh - 1);
    if (ih_hi < ih_lo) return;
    for (int64_t c = 0; c < g.c; ++c)
      prefetch_span(x + n * g.in_sample() + (c * g.h + ih_lo) * g.w, (ih_hi - ih_lo + 1) * g.w);
  });
}

// Positions [n0, n0 + nc) of every channel of an (N, channels, p) tensor.
void prefetch_planes(const float* t, int64_t channels, int64_t p, int64_t n0, int64_t nc) {
  for_each_sample_run(p, n0, nc, [&](int64_t n, int64_t pos, int64_t len, int64_t) {
    for (int64_t c = 0; c < channels; ++c) prefetch_span(t + (n * channels + c) * p + pos, len);
  });
}

// ---- packing ------------------------------------------------------------------------------------------
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
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
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

// dst[r * ld + t] = im2col(x)[k0 + r][column t of the segments] for r < rows; columns [nc, width) get 0.
// Row kk of im2col is (channel c, kernel row i, kernel column j) with kk = (c * kh + i) * kw + j.
// Per segment, the lane masks of each kernel column j are computed once; each row is then one or two
// masked loads and stores per 16 columns (stride 1 and 2; other strides take copy_segment).
void pack_im2col(const float* x, const Geom& g, int64_t k0, int64_t rows, const std::vector<Segment>& segs,
                 int64_t nc, int64_t width, float* dst, int64_t ld) {
  constexpr int kMaxChunks = 8, kMaxKw = 8;
  const int64_t taps = g.kh * g.kw, plane = g.h * g.w;
  const __m512 zero = _mm512_setzero_ps();
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  if (nc < width)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t t = nc; t < width; t += 16) _mm512_mask_storeu_ps(dst + r * ld + t, lanes(0, width - t), zero);
  for (const Segment& sg : segs) {
    const int64_t ih0 = sg.oh * g.stride - g.pad_h, iwb = sg.ow0 * g.stride - g.pad_w;
    const float* sample = x + sg.sample * g.in_sample();
    const int64_t chunks = (sg.len + 15) / 16;
    int64_t c = k0 / taps, i = (k0 % taps) / g.kw, j = k0 % g.kw;
    if (chunks > kMaxChunks || g.kw > kMaxKw || (g.stride != 1 && g.stride != 2)) {
      for (int64_t r = 0; r < rows; ++r) {
        copy_segment(sample + c * plane, g, ih0 + i, iwb + j, sg.len, dst + r * ld + sg.t0);
        if (++j == g.kw) {
          j = 0;
          if (++i == g.kh) {
            i = 0;
            ++c;
          }
        }
      }
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
    for (int64_t r = 0; r < rows; ++r) {
      float* out = dst + r * ld + sg.t0;
      const int64_t ih = ih0 + i;
      if (ih < 0 || ih >= g.h) {
        for (int64_t q = 0; q < chunks; ++q) _mm512_mask_storeu_ps(out + 16 * q, keep[q], zero);
      } else {
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
      if (++j == g.kw) {
        j = 0;
        if (++i == g.kh) {
          i = 0;
          ++c;
        }
      }
    }
  }
}

// ---- the micro-kernel ---------------------------------------------------------------------------------
template <int MR>
inline void zero_tile(__m512 (&c0)[MR], __m512 (&c1)[MR]) {
  for (int r = 0; r < MR; ++r) {
    c0[r] = _mm512_setzero_ps();
    c1[r] = _mm512_setzero_ps();
  }
}

// Writes an MR x 32 tile of accumulators to C (added to C's old values when acc).
template <int MR>
inline void store_tile(__m512 (&c0)[MR], __m512 (&c1)[MR], float* c, int64_t ldc, bool acc) {
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    if (acc) {
      c0[r] = _mm512_add_ps(_mm512_loadu_ps(cr), c0[r]);
      c1[r] = _mm512_add_ps(_mm512_loadu_ps(cr + 16), c1[r]);
    }
    _mm512_storeu_ps(cr, c0[r]);
    _mm512_storeu_ps(cr + 16, c1[r]);
  }
}

// C[MR x 32] (rows ldc apart) = (acc ? C : 0) + A·B over kc steps, where A's element (r, k) is
// a[r * rs + k * ks] and B is packed as b[k * 32 + t] (64-byte aligned). Each C element is one running
// sum over k in order, then added to the old C: a fixed order.
template <int MR>
void micro(int64_t kc, const float* a, int64_t rs, int64_t ks, const float* b, float* c, int64_t ldc, bool acc) {
  __m512 c0[MR], c1[MR];
  zero_tile<MR>(c0, c1);
  const float* ak = a;
  for (int64_t k = 0; k < kc; ++k, ak += ks) {
    const __m512 b0 = _mm512_load_ps(b + k * kNR), b1 = _mm512_load_ps(b + k * kNR + 16);
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(ak[r * rs]);
      c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
    }
  }
  store_tile<MR>(c0, c1, c, ldc, acc);
}

using MicroFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, float*, int64_t, bool);
constexpr MicroFn kMicro[kMR + 1] = {nullptr,   micro<1>, micro<2>, micro<3>, micro<4>,
                                     micro<5>, micro<6>, micro<7>, micro<8>};

// ---- the product engine -------------------------------------------------------------------------------
// C (m x n) = A (m x k) · B (k x n), where A's element (r, kk) is a[r * rs + kk * ks], B is produced
// 32 columns at a time by pack(k0, kc, n0, nc, dst) as dst[kk * 32 + t] (t >= nc zero), and C reaches
// store(n0, nc, cbuf, ld) in blocks of columns (m rows, ld apart). Serial over the columns [begin, end).
struct Blocking {
  int64_t kc;      // reduction steps per packed strip
  int64_t strips;  // strips per column block (several when the reduction is split, so A is reused)
};

Blocking blocking(int64_t k) {
  const int64_t blocks = (k + kMaxDepth - 1) / kMaxDepth;
  return {(k + blocks - 1) / blocks, blocks == 1 ? 1 : 4};
}

template <typename Pack, typename Store, typename Prefetch>
void product_range(int64_t m, int64_t k, const float* a, int64_t rs, int64_t ks, int64_t begin, int64_t end,
                   const Pack& pack, const Store& store, const Prefetch& prefetch) {
  const Blocking bl = blocking(k);
  const int64_t block = bl.strips * kNR, mp = (m + kMR - 1) / kMR * kMR;
  float* bbuf = tls_b.get(static_cast<std::size_t>(bl.strips * bl.kc * kNR));
  float* cbuf = tls_c.get(static_cast<std::size_t>(mp * block));
  for (int64_t n0 = begin; n0 < end; n0 += block) {
    const int64_t nb = std::min(block, end - n0), strips = (nb + kNR - 1) / kNR;
    if (n0 + block < end) prefetch(n0 + block, std::min(block, end - n0 - block));
    for (int64_t k0 = 0; k0 < k; k0 += bl.kc) {
      const int64_t kc = std::min(bl.kc, k - k0);
      for (int64_t s = 0; s < strips; ++s)
        pack(k0, kc, n0 + s * kNR, std::min(kNR, nb - s * kNR), bbuf + s * kc * kNR);
      for (int64_t p = 0; p < m; p += kMR) {
        const MicroFn fn = kMicro[std::min(kMR, m - p)];
        for (int64_t s = 0; s < strips; ++s)
          fn(kc, a + p * rs + k0 * ks, rs, ks, bbuf + s * kc * kNR, cbuf + p * block + s * kNR, block, k0 > 0);
      }
    }
    store(n0, nb, cbuf, block);
  }
}

// The same over all n columns, column blocks split across threads (each C element is computed by one
// task, so the split does not change any result).
template <typename Pack, typename Store, typename Prefetch>
void product(int64_t m, int64_t k, const float* a, int64_t rs, int64_t ks, int64_t n, const Pack& pack,
             const Store& store, const Prefetch& prefetch) {
  const int64_t block = blocking(k).strips * kNR, blocks = (n + block - 1) / block;
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(block);
  const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kMinTaskFlops / flops));
  parallel_for(0, blocks, grain, [&](int64_t b0, int64_t b1) {
    product_range(m, k, a, rs, ks, b0 * block, std::min(n, b1 * block), pack, store, prefetch);
  });
}

// y[sample][o][pos] = cbuf[o][t] (+ bias[o]) for the columns [n0, n0 + nc) of planes of p positions.
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

// ---- 16 x 16 transpose --------------------------------------------------------------------------------
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

// dst[s][t][o % 32] (strips s = o / 32 of kc x 32 floats) = gy[sample][o][pos] for the reduction columns
// [n0, n0 + kc); channels o >= channels (up to the strip's end) get 0.
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

// ---- direct operands: reading the padded input instead of packing ------------------------------------
// With the input copied once into a zero-bordered tensor, every im2col element of a stride-1 convolution is
// xp[c][oh + i][ow + j]: 16 consecutive output positions of one row read 16 consecutive floats. The forward
// product then loads its B operand straight from xp (one offset per reduction step), and the weight
// gradient broadcasts its A operand straight from xp; only the small weight-side operands are packed.

// x (planes of h x w) copied into zero-bordered planes of (h + 2 ph) x (w + 2 pw); 16 floats of slack at
// the end keep every vector load inside the buffer.
Tensor padded_copy(const float* x, int64_t planes, int64_t h, int64_t w, int64_t ph, int64_t pw) {
  const int64_t hp = h + 2 * ph, wp = w + 2 * pw;
  Tensor holder = Tensor::empty({planes * hp * wp + 16});
  float* out = holder.data<float>();
  std::fill(out + planes * hp * wp, out + planes * hp * wp + 16, 0.0f);
  parallel_for(0, planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(hp * wp, 1)), [&](int64_t p0, int64_t p1) {
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

// As micro, with B read in place: row kk of the strip is h0[off[kk]..+15], h1[off[kk]..+15].
template <int MR>
void micro_direct(int64_t kc, const float* a, int64_t rs, int64_t ks, const int32_t* off, const float* h0,
                  const float* h1, float* c, int64_t ldc, bool acc) {
  __m512 c0[MR], c1[MR];
  zero_tile<MR>(c0, c1);
  const float* ak = a;
  for (int64_t k = 0; k < kc; ++k, ak += ks) {
    const int64_t o = off[k];
    const __m512 b0 = _mm512_loadu_ps(h0 + o), b1 = _mm512_loadu_ps(h1 + o);
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(ak[r * rs]);
      c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
    }
  }
  store_tile<MR>(c0, c1, c, ldc, acc);
}

using MicroDirectFn = void (*)(int64_t, const float*, int64_t, int64_t, const int32_t*, const float*, const float*,
                               float*, int64_t, bool);
constexpr MicroDirectFn kMicroDirect[kMR + 1] = {nullptr,          micro_direct<1>, micro_direct<2>,
                                                 micro_direct<3>,  micro_direct<4>, micro_direct<5>,
                                                 micro_direct<6>,  micro_direct<7>, micro_direct<8>};

// As micro, with A broadcast in place over `rows` runs of `len` steps: A(r, ro * len + t) is
// ar[r][row_off[ro] + t * step]; B is packed (b[k * 32 + t]).
template <int MR>
void micro_rows(int64_t rows, int64_t len, const float* const* ar, const int64_t* row_off, int64_t step,
                const float* b, float* c, int64_t ldc, bool acc) {
  __m512 c0[MR], c1[MR];
  zero_tile<MR>(c0, c1);
  for (int64_t ro = 0; ro < rows; ++ro) {
    const float* p[MR];
    for (int r = 0; r < MR; ++r) p[r] = ar[r] + row_off[ro];
    for (int64_t t = 0; t < len; ++t, b += kNR) {
      const int64_t idx = t * step;
      const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
      for (int r = 0; r < MR; ++r) {
        const __m512 av = _mm512_set1_ps(p[r][idx]);
        c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
        c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
      }
    }
  }
  store_tile<MR>(c0, c1, c, ldc, acc);
}

using MicroRowsFn = void (*)(int64_t, int64_t, const float* const*, const int64_t*, int64_t, const float*, float*,
                             int64_t, bool);
constexpr MicroRowsFn kMicroRows[kMR + 1] = {nullptr,        micro_rows<1>, micro_rows<2>, micro_rows<3>,
                                             micro_rows<4>,  micro_rows<5>, micro_rows<6>, micro_rows<7>,
                                             micro_rows<8>};

// A stride-1 convolution whose output rows are a multiple of 16 wide, as the direct product sees it:
// xp holds the zero-bordered input planes (hp x wp), off[kk] the offset of im2col row kk = (c, i, j).
struct Direct {
  const float* xp;
  int64_t c, hp, wp, oh, ow;
  std::vector<int32_t> off;
  Direct(const float* xp_, int64_t c_, int64_t hp_, int64_t wp_, int64_t kh, int64_t kw, int64_t oh_, int64_t ow_)
      : xp(xp_), c(c_), hp(hp_), wp(wp_), oh(oh_), ow(ow_), off(static_cast<std::size_t>(c_ * kh * kw)) {
    std::size_t kk = 0;
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = 0; j < kw; ++j) off[kk++] = static_cast<int32_t>((ci * hp + i) * wp + j);
  }
  int64_t p() const { return oh * ow; }
  // Where the 16 output columns starting at global column col (a multiple of 16) read for kk = 0.
  const float* half(int64_t col) const {
    const int64_t n = col / p(), pos = col % p();
    return xp + n * c * hp * wp + (pos / ow) * wp + pos % ow;
  }
};

bool direct_ok(int64_t c, int64_t hp, int64_t wp, int64_t ow) {
  return ow % 16 == 0 && c * hp * wp < (int64_t{1} << 31);
}

// C (m x n) = A · im2col, B read in place through d; otherwise as product_range.
template <typename Store>
void product_direct_range(int64_t m, int64_t k, const float* a, int64_t rs, int64_t ks, const Direct& d,
                          int64_t begin, int64_t end, const Store& store) {
  const Blocking bl = blocking(k);
  const int64_t block = bl.strips * kNR, mp = (m + kMR - 1) / kMR * kMR;
  float* cbuf = tls_c.get(static_cast<std::size_t>(mp * block));
  const Geom pg{0, d.c, d.hp, d.wp, d.hp - d.oh + 1, d.wp - d.ow + 1, 1, 0, 0, d.oh, d.ow};
  const float* h0[8];
  const float* h1[8];
  for (int64_t n0 = begin; n0 < end; n0 += block) {
    const int64_t nb = std::min(block, end - n0), strips = (nb + kNR - 1) / kNR;
    if (n0 + block < end) prefetch_input(d.xp, pg, n0 + block, std::min(block, end - n0 - block));
    for (int64_t si = 0; si < strips; ++si) {
      const int64_t col = n0 + si * kNR;
      h0[si] = d.half(col);
      h1[si] = col + 16 < end ? d.half(col + 16) : h0[si];  // a lone last half: computed twice, stored once
    }
    for (int64_t k0 = 0; k0 < k; k0 += bl.kc) {
      const int64_t kc = std::min(bl.kc, k - k0);
      for (int64_t p = 0; p < m; p += kMR) {
        const MicroDirectFn fn = kMicroDirect[std::min(kMR, m - p)];
        for (int64_t si = 0; si < strips; ++si)
          fn(kc, a + p * rs + k0 * ks, rs, ks, d.off.data() + k0, h0[si], h1[si], cbuf + p * block + si * kNR, block,
             k0 > 0);
      }
    }
    store(n0, nb, cbuf, block);
  }
}

template <typename Store>
void product_direct(int64_t m, int64_t k, const float* a, int64_t rs, int64_t ks, const Direct& d, int64_t n,
                    const Store& store) {
  const int64_t block = blocking(k).strips * kNR, blocks = (n + block - 1) / block;
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(block);
  const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kMinTaskFlops / flops));
  parallel_for(0, blocks, grain, [&](int64_t b0, int64_t b1) {
    product_direct_range(m, k, a, rs, ks, d, b0 * block, std::min(n, b1 * block), store);
  });
}

// ---- Winograd F(2x2, 3x3) -----------------------------------------------------------------------------
// A 3x3, stride-1 convolution computes each 2x2 output tile from a 4x4 input tile d as
//   Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A,
// 16 products per tile and channel instead of 36 (2.25 times fewer multiply-adds). For a block of 32 tiles
// the input transform V = Bᵀ d B is written straight into the micro-kernel's packed strip layout (one
// strip per transform position ξ, rows = input channels); then, for each ξ, M_ξ (O x 32 tiles) =
// U_ξ (O x C) · V_ξ (C x 32) by the same 8x32 micro-kernel, and the output transform turns the 16 M_ξ into
// the 2x2 outputs. The transforms use only additions, subtractions and halvings, so the result differs
// from the direct sum by a few float32 roundings (far inside the PyTorch cross-checks' 1e-4); every tile
// is computed by one task in a fixed order, so it is bitwise identical on 1 and N threads.
//   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 -1 -1]
constexpr int64_t kWinoDepth = 128;  // input channels per packed block (16 strips of kWinoDepth x 32)
// The 16 ξ planes of V and M sit this many floats (one cache line) beyond a multiple of 4 KiB apart: at
// exact 4 KiB multiples the 16 stores of a tile's transform (or the 16 loads of the output transform)
// all map to one L1 set, more lines than it has ways.
constexpr int64_t kXiPad = 16;
int64_t xi_stride(int64_t rows) { return rows * kNR + kXiPad; }

// U[ξ][o][c] = (G w[o][c] Gᵀ)[ξ] for weights w (o, c, 3, 3).
Tensor winograd_weights(const float* w, int64_t o, int64_t c) {
  Tensor holder = Tensor::empty({16 * o * c});
  float* u = holder.data<float>();
  parallel_for(0, o, std::max<int64_t>(1, 4096 / std::max<int64_t>(c, 1)), [&](int64_t o0, int64_t o1) {
    for (int64_t oi = o0; oi < o1; ++oi)
      for (int64_t ci = 0; ci < c; ++ci) {
        const float* g = w + (oi * c + ci) * 9;
        float t[4][3];  // G g
        for (int j = 0; j < 3; ++j) {
          t[0][j] = g[j];
          t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
          t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
          t[3][j] = g[6 + j];
        }
        for (int r = 0; r < 4; ++r) {  // (G g) Gᵀ
          const float v[4] = {t[r][0], 0.5f * (t[r][0] + t[r][1] + t[r][2]), 0.5f * (t[r][0] - t[r][1] + t[r][2]),
                              t[r][2]};
          for (int q = 0; q < 4; ++q) u[((r * 4 + q) * o + oi) * c + ci] = v[q];
        }
      }
  });
  return holder;
}

// Winograd weight transforms of recent calls, found again by content. Eval passes and FGSM steps convolve
// with the same weights batch after batch, and the transform costs ~5% of a PreAct ResNet-18 pass. An entry
// matches only when the weights themselves are equal (memcmp), never by address, so weights changed in place
// (an SGD step) can never reuse a stale transform. Least recently used entries go first beyond kCacheBytes.
class WinogradWeightCache {
 public:
  Tensor get(const float* w, int64_t o, int64_t c) {
    const std::size_t count = static_cast<std::size_t>(o * c * 9);
    {
      std::lock_guard lock(mutex_);
      for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->o == o && it->c == c && std::memcmp(it->weights.data<float>(), w, count * sizeof(float)) == 0) {
          entries_.splice(entries_.begin(), entries_, it);
          return entries_.front().u;
        }
    }
    Tensor u = winograd_weights(w, o, c);
    // The copy comes from the caching allocator: in training every step misses, and a fresh multi-megabyte
    // malloc per call would be page-faulted in again each time.
    Tensor copy = Tensor::empty({static_cast<int64_t>(count)});
    std::memcpy(copy.data<float>(), w, count * sizeof(float));
    std::lock_guard lock(mutex_);
    entries_.push_front({o, c, copy, u});
    bytes_ += entry_bytes(entries_.front());
    while (bytes_ > kCacheBytes && entries_.size() > 1) {
      bytes_ -= entry_bytes(entries_.back());
      entries_.pop_back();
    }
    return u;
  }

 private:
  static constexpr std::size_t kCacheBytes = std::size_t{256} << 20;
  struct Entry {
    int64_t o, c;
    Tensor weights, u;
  };
  static std::size_t entry_bytes(const Entry& e) {
    return static_cast<std::size_t>(e.weights.numel() + e.u.numel()) * sizeof(float);
  }
  std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
  std::size_t bytes_ = 0;
};

WinogradWeightCache& winograd_weight_cache() {
  static auto* cache = new WinogradWeightCache();  // leaked: kernels may run during static destruction
  return *cache;
}

// A run of tiles in one tile row of one sample: tiles (th, tw0 .. tw0 + len), at column t0 of the block.
struct TileRun {
  int64_t sample, th, tw0, len, t0;
};

struct Winograd {
  const float* xp;          // zero-bordered input planes (hp x wp), c per sample
  int64_t batch, c, hp, wp, o;
  int64_t th() const { return (hp - 2) / 2; }  // tile rows (output rows / 2)
  int64_t tw() const { return (wp - 2) / 2; }
  int64_t tiles() const { return batch * th() * tw(); }
};

void tile_runs(const Winograd& wg, int64_t t0, int64_t nt, std::vector<TileRun>& runs) {
  runs.clear();
  const int64_t per_row = wg.tw(), per_sample = wg.th() * per_row;
  for (int64_t t = t0; t < t0 + nt;) {
    const int64_t n = t / per_sample, rest = t % per_sample, th = rest / per_row, tw0 = rest % per_row;
    const int64_t len = std::min({per_row - tw0, t0 + nt - t, int64_t{16}});
    runs.push_back({n, th, tw0, len, t - t0});
    t += len;
  }
}

// V[ξ][cc][t] (strips of kc x 32, xi_stride(kc) apart) for input channels [c0, c0 + kc) of the runs' tiles.
// Channels outside, runs inside: the runs of a block share input rows, which then come from L1; the rows
// of the channel kPrefetchAhead further on are asked for meanwhile (they come from memory, one short row
// per channel plane, which the hardware prefetchers do not run ahead of).
void winograd_input(const Winograd& wg, const std::vector<TileRun>& runs, int64_t c0, int64_t kc, float* v) {
  constexpr int64_t kPrefetchAhead = 6;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const int64_t plane = wg.hp * wg.wp, stride = xi_stride(kc);
  for (int64_t cc = 0; cc < kc; ++cc) {
    for (const TileRun& run : runs) {
      const int64_t cols = 2 * run.len + 2;  // input columns the run reads
      const float* base = wg.xp + (run.sample * wg.c + c0 + cc) * plane + (2 * run.th) * wg.wp + 2 * run.tw0;
      if (cc + kPrefetchAhead < kc)
        for (int r = 0; r < 4; ++r) prefetch_span(base + kPrefetchAhead * plane + r * wg.wp, cols);
      const __mmask16 m0 = lanes(0, cols), m1 = lanes(0, cols - 16), m2 = lanes(0, cols - 2), m3 = lanes(0, cols - 18);
      __m512 d[4][4];  // d[r][u]: input row r, column 2t + u of tile t
      for (int r = 0; r < 4; ++r) {
        const float* row = base + r * wg.wp;
        const __m512 a0 = _mm512_maskz_loadu_ps(m0, row), a1 = _mm512_maskz_loadu_ps(m1, row + 16);
        const __m512 b0 = _mm512_maskz_loadu_ps(m2, row + 2), b1 = _mm512_maskz_loadu_ps(m3, row + 18);
        d[r][0] = _mm512_permutex2var_ps(a0, even, a1);
        d[r][1] = _mm512_permutex2var_ps(a0, odd, a1);
        d[r][2] = _mm512_permutex2var_ps(b0, even, b1);
        d[r][3] = _mm512_permutex2var_ps(b0, odd, b1);
      }
      __m512 w[4][4];  // Bᵀ d
      for (int u = 0; u < 4; ++u) {
        w[0][u] = _mm512_sub_ps(d[0][u], d[2][u]);
        w[1][u] = _mm512_add_ps(d[1][u], d[2][u]);
        w[2][u] = _mm512_sub_ps(d[2][u], d[1][u]);
        w[3][u] = _mm512_sub_ps(d[1][u], d[3][u]);
      }
      const __mmask16 keep = lanes(0, run.len);
      float* out = v + cc * kNR + run.t0;
      for (int r = 0; r < 4; ++r) {  // (Bᵀ d) B
        _mm512_mask_storeu_ps(out + (r * 4 + 0) * stride, keep, _mm512_sub_ps(w[r][0], w[r][2]));
        _mm512_mask_storeu_ps(out + (r * 4 + 1) * stride, keep, _mm512_add_ps(w[r][1], w[r][2]));
        _mm512_mask_storeu_ps(out + (r * 4 + 2) * stride, keep, _mm512_sub_ps(w[r][2], w[r][1]));
        _mm512_mask_storeu_ps(out + (r * 4 + 3) * stride, keep, _mm512_sub_ps(w[r][1], w[r][3]));
      }
    }
  }
}

// y tiles from M[ξ][o][t] (ld 32 per o, op rows per ξ, xi_stride(op) apart): Y = Aᵀ M A (+ bias), for
// output planes oh x ow.
void winograd_output(const Winograd& wg, const std::vector<TileRun>& runs, const float* m, int64_t op,
                     const float* bias, float* y) {
  const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const int64_t oh = 2 * wg.th(), ow = 2 * wg.tw(), stride = xi_stride(op);
  for (const TileRun& run : runs) {
    const __mmask16 lo = lanes(0, 2 * run.len), hi = lanes(0, 2 * run.len - 16);
    for (int64_t oi = 0; oi < wg.o; ++oi) {
      const float* src = m + oi * kNR + run.t0;
      __m512 t[4][4];
      for (int xi = 0; xi < 16; ++xi) t[xi / 4][xi % 4] = _mm512_loadu_ps(src + xi * stride);
      __m512 r0[4], r1[4];  // Aᵀ M
      for (int q = 0; q < 4; ++q) {
        r0[q] = _mm512_add_ps(_mm512_add_ps(t[0][q], t[1][q]), t[2][q]);
        r1[q] = _mm512_sub_ps(_mm512_sub_ps(t[1][q], t[2][q]), t[3][q]);
      }
      __m512 y00 = _mm512_add_ps(_mm512_add_ps(r0[0], r0[1]), r0[2]);  // (Aᵀ M) A
      __m512 y01 = _mm512_sub_ps(_mm512_sub_ps(r0[1], r0[2]), r0[3]);
      __m512 y10 = _mm512_add_ps(_mm512_add_ps(r1[0], r1[1]), r1[2]);
      __m512 y11 = _mm512_sub_ps(_mm512_sub_ps(r1[1], r1[2]), r1[3]);
      if (bias) {
        const __m512 b = _mm512_set1_ps(bias[oi]);
        y00 = _mm512_add_ps(y00, b);
        y01 = _mm512_add_ps(y01, b);
        y10 = _mm512_add_ps(y10, b);
        y11 = _mm512_add_ps(y11, b);
      }
      float* row0 = y + ((run.sample * wg.o + oi) * oh + 2 * run.th) * ow + 2 * run.tw0;
      float* row1 = row0 + ow;
      _mm512_mask_storeu_ps(row0, lo, _mm512_permutex2var_ps(y00, lo_idx, y01));
      _mm512_mask_storeu_ps(row0 + 16, hi, _mm512_permutex2var_ps(y00, hi_idx, y01));
      _mm512_mask_storeu_ps(row1, lo, _mm512_permutex2var_ps(y10, lo_idx, y11));
      _mm512_mask_storeu_ps(row1 + 16, hi, _mm512_permutex2var_ps(y10, hi_idx, y11));
    }
  }
}

thread_local std::vector<TileRun> tls_runs;

// y (batch, o, hp - 2, wp - 2) = the valid 3x3 convolution of the zero-bordered input in wg with weights
// w (o, c, 3, 3), plus bias (or nullptr). Requires even output sizes.
void winograd_conv(const Winograd& wg, const float* w, const float* bias, float* y) {
  const Tensor u_holder = winograd_weight_cache().get(w, wg.o, wg.c);
  const float* u = u_holder.data<float>();
  const int64_t op = (wg.o + kMR - 1) / kMR * kMR, tiles = wg.tiles(), blocks = (tiles + kNR - 1) / kNR;
  const int64_t kblocks = (wg.c + kWinoDepth - 1) / kWinoDepth, kc_max = (wg.c + kblocks - 1) / kblocks;
  const double flops = 2.0 * 16 * static_cast<double>(wg.o) * static_cast<double>(wg.c) * kNR;
  const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kMinTaskFlops / flops));
  parallel_for(0, blocks, grain, [&](int64_t b0, int64_t b1) {
    float* v = tls_b.get(static_cast<std::size_t>(16 * xi_stride(kc_max)));
    const int64_t m_stride = xi_stride(op);
    float* m = tls_c.get(static_cast<std::size_t>(16 * m_stride));
    std::vector<TileRun>& runs = tls_runs;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t t0 = b * kNR, nt = std::min(kNR, tiles - t0);
      tile_runs(wg, t0, nt, runs);
      for (int64_t c0 = 0; c0 < wg.c; c0 += kc_max) {
        const int64_t kc = std::min(kc_max, wg.c - c0), v_stride = xi_stride(kc);
        if (nt < kNR) std::fill(v, v + 16 * v_stride, 0.0f);
        winograd_input(wg, runs, c0, kc, v);
        for (int xi = 0; xi < 16; ++xi)
          for (int64_t p = 0; p < wg.o; p += kMR)
            kMicro[std::min(kMR, wg.o - p)](kc, u + (xi * wg.o + p) * wg.c + c0, wg.c, 1, v + xi * v_stride,
                                            m + xi * m_stride + p * kNR, kNR, c0 > 0);
      }
      winograd_output(wg, runs, m, op, bias, y);
    }
  });
}

// Winograd applies to 3x3, stride-1 convolutions with even output sizes (and is not switched off).
bool winograd_ok(int64_t kh, int64_t kw, int64_t stride, int64_t oh, int64_t ow) {
  static const bool off = [] {
    const char* e = std::getenv("MIXGRAD_NO_WINOGRAD");
    return e && *e && std::strcmp(e, "0") != 0;
  }();
  return !off && kh == 3 && kw == 3 && stride == 1 && oh % 2 == 0 && ow % 2 == 0 && oh > 0 && ow > 0;
}

}  // namespace

namespace avx512 {

void conv2d_forward(const float* x, const float* w, const float* bias, float* y, const Conv2dShape& s) {
  const Geom g = forward_geom(s);
  const int64_t m = s.out_channels, k = g.k(), n = g.batch * g.p();
  if (n == 0 || m == 0) return;
  const auto store = [&](int64_t n0, int64_t nc, const float* cbuf, int64_t ld) {
    store_planes(y, bias, m, g.p(), n0, nc, cbuf, ld);
  };
  const int64_t hp = g.h + 2 * g.pad_h, wp = g.w + 2 * g.pad_w;
  if (winograd_ok(g.kh, g.kw, g.stride, g.oh, g.ow)) {
    const Tensor xp = padded_copy(x, g.batch * g.c, g.h, g.w, g.pad_h, g.pad_w);
    winograd_conv({xp.data<float>(), g.batch, g.c, hp, wp, m}, w, bias, y);
    return;
  }
  if (g.stride == 1 && direct_ok(g.c, hp, wp, g.ow)) {
    const Tensor xp = padded_copy(x, g.batch * g.c, g.h, g.w, g.pad_h, g.pad_w);
    const Direct d(xp.data<float>(), g.c, hp, wp, g.kh, g.kw, g.oh, g.ow);
    product_direct(m, k, w, k, 1, d, n, store);
    return;
  }
  const auto pack = [&](int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) {
    pack_im2col(x, g, k0, kc, row_segments(g, n0, nc), nc, kNR, dst, kNR);
  };
  const auto prefetch = [&](int64_t n0, int64_t nc) { prefetch_input(x, g, n0, nc); };
  product(m, k, w, k, 1, n, pack, store, prefetch);
}

void conv2d_input_grad(const float* gy, const float* w, float* gx, const Conv2dShape& s) {
  const int64_t c = s.in_channels, o = s.out_channels, taps = s.kernel_h * s.kernel_w;
  if (s.batch == 0 || c == 0) return;
  if (s.stride == 1 && s.padding <= s.kernel_h - 1 && s.padding <= s.kernel_w - 1) {
    // gx = conv(gy, W') with W'[c][(o, i, j)] = w[o][c][kh-1-i][kw-1-j].
    const Geom g = transposed_geom(s);
    const int64_t k = o * taps;
    Tensor holder = Tensor::empty({c * k});
    float* wt = holder.data<float>();
    parallel_for(0, c, std::max<int64_t>(1, 16384 / std::max<int64_t>(k, 1)), [&](int64_t c0, int64_t c1) {
      for (int64_t ci = c0; ci < c1; ++ci)
        for (int64_t oi = 0; oi < o; ++oi) {
          const float* src = w + (oi * c + ci) * taps;
          float* dst = wt + ci * k + oi * taps;
          for (int64_t t = 0; t < taps; ++t) dst[t] = src[taps - 1 - t];
        }
    });
    const auto store = [&](int64_t n0, int64_t nc, const float* cbuf, int64_t ld) {
      store_planes(gx, nullptr, c, g.p(), n0, nc, cbuf, ld);
    };
    const int64_t hp = g.h + 2 * g.pad_h, wp = g.w + 2 * g.pad_w;
    if (winograd_ok(g.kh, g.kw, 1, g.oh, g.ow)) {
      const Tensor gp = padded_copy(gy, g.batch * g.c, g.h, g.w, g.pad_h, g.pad_w);
      winograd_conv({gp.data<float>(), g.batch, g.c, hp, wp, c}, wt, nullptr, gx);
      return;
    }
    if (direct_ok(g.c, hp, wp, g.ow)) {
      const Tensor gp = padded_copy(gy, g.batch * g.c, g.h, g.w, g.pad_h, g.pad_w);
      const Direct d(gp.data<float>(), g.c, hp, wp, g.kh, g.kw, g.oh, g.ow);
      product_direct(c, k, wt, k, 1, d, g.batch * g.p(), store);
      return;
    }
    const auto pack = [&](int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) {
      pack_im2col(gy, g, k0, kc, row_segments(g, n0, nc), nc, kNR, dst, kNR);
    };
    const auto prefetch = [&](int64_t n0, int64_t nc) { prefetch_input(gy, g, n0, nc); };
    product(c, k, wt, k, 1, g.batch * g.p(), pack, store, prefetch);
    return;
  }
  // cols (C·kh·kw, columns) = Wᵀ · gy, then scattered back (col2im). Samples are handled in fixed groups
  // of at least 32 columns; each group's gx is written by one task in column order.
  const Geom g = forward_geom(s);
  const int64_t kc_rows = g.k(), p = g.p();
  const int64_t group = std::max<int64_t>(1, (kNR + p - 1) / p), groups = (g.batch + group - 1) / group;
  const auto pack = [&](int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) {
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t r = 0; r < kc; ++r) {
      float* row = dst + r * kNR;
      for_each_sample_run(p, n0, nc, [&](int64_t n, int64_t pos, int64_t len, int64_t t0) {
        const float* src = gy + (n * o + k0 + r) * p + pos;
        for (int64_t q = 0; q < len; q += 16) {
          const __mmask16 mk = lanes(0, len - q);
          _mm512_mask_storeu_ps(row + t0 + q, mk, _mm512_maskz_loadu_ps(mk, src + q));
        }
      });
      for (int64_t t = nc; t < kNR; t += 16) _mm512_mask_storeu_ps(row + t, lanes(0, kNR - t), zero);
    }
  };
  const auto store = [&](int64_t n0, int64_t nc, const float* cbuf, int64_t ld) {
    const std::vector<Segment>& segs = row_segments(g, n0, nc);
    for (int64_t kk = 0; kk < kc_rows; ++kk) {
      const int64_t ci = kk / taps, i = (kk % taps) / s.kernel_w, j = kk % s.kernel_w;
      const float* src = cbuf + kk * ld;
      for (const Segment& sg : segs) {
        const int64_t ih = sg.oh * g.stride - g.pad_h + i;
        if (ih < 0 || ih >= g.h) continue;
        float* row = gx + sg.sample * g.in_sample() + (ci * g.h + ih) * g.w;
        for (int64_t t = 0; t < sg.len; ++t) {
          const int64_t iw = (sg.ow0 + t) * g.stride - g.pad_w + j;
          if (iw >= 0 && iw < g.w) row[iw] += src[sg.t0 + t];
        }
      }
    }
  };
  parallel_for(0, groups, 1, [&](int64_t g0, int64_t g1) {
    for (int64_t gi = g0; gi < g1; ++gi) {
      const int64_t first = gi * group, last = std::min(g.batch, first + group);
      std::fill(gx + first * g.in_sample(), gx + last * g.in_sample(), 0.0f);
      product_range(kc_rows, o, w, 1, kc_rows, first * p, last * p, pack, store,
                    [&](int64_t n0, int64_t nc) { prefetch_planes(gy, o, p, n0, nc); });
    }
  });
}

void conv2d_weight_grad(const float* x, const float* gy, float* gw, const Conv2dShape& s) {
  // gWᵀ (K x O) = im2col(x) (K x cols) · gyᵀ (cols x O), cols = batch * P.
  const Geom g = forward_geom(s);
  const int64_t k = g.k(), o = s.out_channels, p = g.p();
  const int64_t op = (o + kNR - 1) / kNR * kNR, strips = op / kNR, panels = (k + kMR - 1) / kMR;
  if (k == 0 || o == 0) return;
  if (g.batch == 0 || p == 0) {
    std::fill(gw, gw + o * k, 0.0f);
    return;
  }
  // Fixed splits (shape only): at most 8 ranges of row panels, each task's share of gWᵀ at least about
  // 64K floats (every task packs gyᵀ for its columns, so fewer, larger ranges repack less), and sample
  // groups, whose partial sums are added in order, when that gives fewer than 8 tasks.
  const int64_t ranges = std::clamp<int64_t>(k * op / 65536, 1, std::min<int64_t>(panels, 8));
  const int64_t groups = std::clamp<int64_t>(8 / ranges, 1, g.batch);
  Tensor partial_holder = Tensor::empty({groups * k * op});
  float* partial = partial_holder.data<float>();
  // A is read in place from the zero-bordered input: im2col row (c, i, j) at output (n, oh, ow) is
  // xp[n][c][oh * stride + i][ow * stride + j]. The reduction runs over blocks of whole output rows
  // (about kReductionBlock columns, possibly spanning samples), for which gyᵀ is packed.
  const int64_t hp = g.h + 2 * g.pad_h, wp = g.w + 2 * g.pad_w, taps = g.kh * g.kw;
  const Tensor xp_holder = padded_copy(x, g.batch * g.c, g.h, g.w, g.pad_h, g.pad_w);
  const float* xp = xp_holder.data<float>();
  const Geom pg{g.batch, g.c, hp, wp, g.kh, g.kw, g.stride, 0, 0, g.oh, g.ow};
  const int64_t rows_per_block = std::max<int64_t>(1, kReductionBlock / g.ow), max_block = rows_per_block * g.ow;
  parallel_for(0, groups * ranges, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t task = t0; task < t1; ++task) {
      const int64_t gi = task / ranges, ri = task % ranges;
      const int64_t row_begin = gi * g.batch / groups * g.oh, row_end = (gi + 1) * g.batch / groups * g.oh;
      const int64_t p_begin = ri * panels / ranges, p_end = (ri + 1) * panels / ranges;
      float* c = partial + gi * k * op;
      float* bt = tls_b.get(static_cast<std::size_t>(strips * max_block * kNR));
      int64_t row_off[kReductionBlock];
      for (int64_t r0 = row_begin; r0 < row_end; r0 += rows_per_block) {  // r = n * oh + output row
        const int64_t rows = std::min(rows_per_block, row_end - r0), kc = rows * g.ow, n0 = r0 * g.ow;
        const int64_t next = std::min(max_block, row_end * g.ow - n0 - kc);
        if (next > 0) {  // ask for the next block's gy and input rows while this one is multiplied
          prefetch_planes(gy, o, p, n0 + kc, next);
          prefetch_input(xp, pg, n0 + kc, next);
        }
        for (int64_t ro = 0; ro < rows; ++ro) {
          const int64_t n = (r0 + ro) / g.oh, oh = (r0 + ro) % g.oh;
          row_off[ro] = (n * g.c * hp + oh * g.stride) * wp;
        }
        pack_transposed(gy, o, p, n0, kc, bt);
        for (int64_t pi = p_begin; pi < p_end; ++pi) {
          const int64_t mr = std::min(kMR, k - pi * kMR);
          const float* ar[kMR];
          for (int64_t r = 0; r < mr; ++r) {
            const int64_t kk = pi * kMR + r, ci = kk / taps, i = (kk % taps) / g.kw, j = kk % g.kw;
            ar[r] = xp + (ci * hp + i) * wp + j;
          }
          for (int64_t si = 0; si < strips; ++si)
            kMicroRows[mr](rows, g.ow, ar, row_off, g.stride, bt + si * kc * kNR, c + pi * kMR * op + si * kNR, op,
                           r0 > row_begin);
        }
      }
    }
  });
  // gw[o][kk] = the partial sums of the groups, added in group order.
  parallel_for(0, o, std::max<int64_t>(1, 65536 / std::max<int64_t>(k * groups, 1)), [&](int64_t o0, int64_t o1) {
    for (int64_t oi = o0; oi < o1; ++oi)
      for (int64_t kk = 0; kk < k; ++kk) {
        float total = partial[kk * op + oi];
        for (int64_t gi = 1; gi < groups; ++gi) total += partial[(gi * k + kk) * op + oi];
        gw[oi * k + kk] = total;
      }
  });
}

}  // namespace avx512

#pragma GCC diagnostic pop
#pragma GCC pop_options

}  // namespace mg::kernels
