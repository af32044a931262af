#include "core/kernels/conv_avx512/winograd.h"

#include <cstring>
#include <vector>

#include "core/kernels/conv_avx512/blocking.h"
#include "core/kernels/conv_avx512/micro_kernel.h"
#include "core/kernels/conv_avx512/winograd_weight_cache.h"
#include "core/parallel.h"

MG_AVX512_BEGIN
namespace mg::kernels::avx512 {
namespace {

constexpr int64_t kWinoDepth = 128;  // input channels per packed block (16 strips of kWinoDepth x 32)
// The 16 ξ planes of V and M sit this many floats (one cache line) beyond a multiple of 4 KiB apart: at
// exact 4 KiB multiples the 16 stores of a tile's transform (or the 16 loads of the output transform)
// all map to one L1 set, more lines than it has ways.
constexpr int64_t kXiPad = 16;
// The input transform asks for the rows of the channel this many channels ahead.
constexpr int64_t kPrefetchAhead = 6;
// The weight transform gives each task at least this many 3x3 kernels.
constexpr int64_t kKernelsPerTask = 4096;

int64_t xi_stride(int64_t rows) { return rows * kNR + kXiPad; }

}  // namespace

void tile_runs(const WinogradInput& in, int64_t t0, int64_t nt, std::vector<TileRun>& runs) {
  runs.clear();
  const int64_t per_row = in.tile_cols(), per_sample = in.tile_rows() * per_row;
  for (int64_t t = t0; t < t0 + nt;) {
    const int64_t n = t / per_sample, rest = t % per_sample, th = rest / per_row, tw0 = rest % per_row;
    const int64_t len = std::min({per_row - tw0, t0 + nt - t, int64_t{16}});
    runs.push_back({n, th, tw0, len, t - t0});
    t += len;
  }
}

// Channels outside, runs inside: the runs of a block share input rows, which then come from L1; the rows
// of the channel kPrefetchAhead further on are asked for meanwhile (they come from memory, one short row
// per channel plane, which the hardware prefetchers do not run ahead of).
void input_transform(const WinogradInput& in, const std::vector<TileRun>& runs, int64_t c0, int64_t kc, float* v,
                     int64_t row_ld, int64_t stride) {
  const __m512i even = even_lanes();
  const __m512i odd = odd_lanes();
  const int64_t plane = in.h * in.w;
  for (int64_t cc = 0; cc < kc; ++cc) {
    for (const TileRun& run : runs) {
      const int64_t cols = 2 * run.len + 2;                         // input columns the run reads
      const int64_t ih0 = 2 * run.th - in.pad, iw0 = 2 * run.tw0 - in.pad;  // its first row and column
      const float* channel = in.x + (run.sample * in.c + c0 + cc) * plane;
      // Lanes inside the run's columns and inside the plane (the padding reads 0; masked lanes never load).
      const __mmask16 m0 = lanes(0, cols) & lanes(-iw0, in.w - iw0);
      const __mmask16 m1 = lanes(0, cols - 16) & lanes(-iw0 - 16, in.w - iw0 - 16);
      const __mmask16 m2 = lanes(0, cols - 2) & lanes(-iw0 - 2, in.w - iw0 - 2);
      const __mmask16 m3 = lanes(0, cols - 18) & lanes(-iw0 - 18, in.w - iw0 - 18);
      __m512 d[4][4];  // d[r][u]: input row r, column 2t + u of tile t
      for (int r = 0; r < 4; ++r) {
        const int64_t ih = ih0 + r;
        if (ih < 0 || ih >= in.h) {
          for (int u = 0; u < 4; ++u) d[r][u] = _mm512_setzero_ps();
          continue;
        }
        const float* row = channel + ih * in.w + iw0;
        if (cc + kPrefetchAhead < kc) prefetch_span(row + std::max<int64_t>(0, -iw0) + kPrefetchAhead * plane, cols);
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
      float* out = v + cc * row_ld + run.t0;
      for (int r = 0; r < 4; ++r) {  // (Bᵀ d) B
        _mm512_mask_storeu_ps(out + (r * 4 + 0) * stride, keep, _mm512_sub_ps(w[r][0], w[r][2]));
        _mm512_mask_storeu_ps(out + (r * 4 + 1) * stride, keep, _mm512_add_ps(w[r][1], w[r][2]));
        _mm512_mask_storeu_ps(out + (r * 4 + 2) * stride, keep, _mm512_sub_ps(w[r][2], w[r][1]));
        _mm512_mask_storeu_ps(out + (r * 4 + 3) * stride, keep, _mm512_sub_ps(w[r][1], w[r][3]));
      }
    }
  }
}

namespace {

// y tiles from M[ξ][o][t] (ld 32 per o, op rows per ξ, xi_stride(op) apart): Y = Aᵀ M A (+ bias).
void output_transform(const WinogradInput& in, const std::vector<TileRun>& runs, const float* m, int64_t op,
                      const float* bias, float* y) {
  const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const int64_t oh = 2 * in.tile_rows(), ow = 2 * in.tile_cols(), stride = xi_stride(op);
  for (const TileRun& run : runs) {
    const __mmask16 lo = lanes(0, 2 * run.len), hi = lanes(0, 2 * run.len - 16);
    for (int64_t oi = 0; oi < in.o; ++oi) {
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
      float* row0 = y + ((run.sample * in.o + oi) * oh + 2 * run.th) * ow + 2 * run.tw0;
      float* row1 = row0 + ow;
      _mm512_mask_storeu_ps(row0, lo, _mm512_permutex2var_ps(y00, lo_idx, y01));
      _mm512_mask_storeu_ps(row0 + 16, hi, _mm512_permutex2var_ps(y00, hi_idx, y01));
      _mm512_mask_storeu_ps(row1, lo, _mm512_permutex2var_ps(y10, lo_idx, y11));
      _mm512_mask_storeu_ps(row1 + 16, hi, _mm512_permutex2var_ps(y10, hi_idx, y11));
    }
  }
}

}  // namespace

bool winograd_applies(int64_t kh, int64_t kw, int64_t stride, int64_t oh, int64_t ow) {
  static const bool off = [] {
    const char* e = std::getenv("MIXGRAD_NO_WINOGRAD");
    return e && *e && std::strcmp(e, "0") != 0;
  }();
  return !off && kh == 3 && kw == 3 && stride == 1 && oh % 2 == 0 && ow % 2 == 0 && oh > 0 && ow > 0;
}

Tensor winograd_weights(const float* w, int64_t o, int64_t c) {
  Tensor holder = Tensor::empty({16 * o * c});
  float* u = holder.data<float>();
  parallel_for(0, o, grain_for_floats(c, kKernelsPerTask), [&](int64_t o0, int64_t o1) {
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

void winograd_conv(const WinogradInput& in, const float* w, const float* bias, float* y) {
  const Tensor u_holder = cached_winograd_weights(w, in.o, in.c);
  const float* u = u_holder.data<float>();
  const int64_t op = round_up(in.o, kMR), tiles = in.tiles(), blocks = (tiles + kNR - 1) / kNR;
  const int64_t kblocks = (in.c + kWinoDepth - 1) / kWinoDepth, kc_max = (in.c + kblocks - 1) / kblocks;
  const double flops = 2.0 * 16 * static_cast<double>(in.o) * static_cast<double>(in.c) * kNR;
  parallel_for(0, blocks, grain_for_flops(flops), [&](int64_t b0, int64_t b1) {
    float* v = scratch_b().get(static_cast<std::size_t>(16 * xi_stride(kc_max)));
    const int64_t m_stride = xi_stride(op);
    float* m = scratch_c().get(static_cast<std::size_t>(16 * m_stride));
    thread_local std::vector<TileRun> runs;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t t0 = b * kNR, nt = std::min(kNR, tiles - t0);
      tile_runs(in, t0, nt, runs);
      for (int64_t c0 = 0; c0 < in.c; c0 += kc_max) {
        const int64_t kc = std::min(kc_max, in.c - c0), v_stride = xi_stride(kc);
        if (nt < kNR) std::fill(v, v + 16 * v_stride, 0.0f);
        input_transform(in, runs, c0, kc, v, kNR, v_stride);
        for (int xi = 0; xi < 16; ++xi)
          for (int64_t p = 0; p < in.o; p += kMR)
            with_panel_rows(std::min(kMR, in.o - p), [&]<int MR>() {
              micro_packed<MR>(kc, u + (xi * in.o + p) * in.c + c0, in.c, 1, v + xi * v_stride,
                               m + xi * m_stride + p * kNR, kNR, c0 > 0);
            });
      }
      output_transform(in, runs, m, op, bias, y);
    }
  });
}

}  // namespace mg::kernels::avx512
MG_AVX512_END
