// The weight gradient: Winograd's form where the forward pass uses Winograd (winograd.h), otherwise
// gWᵀ (K x O) = im2col(x) (K x cols) · gyᵀ (cols x O), cols = batch * P, with A read in place from the
// zero-bordered input and gyᵀ packed.
#include "core/kernels/conv_avx512.h"
#include "core/kernels/conv_avx512/blocking.h"
#include "core/kernels/conv_avx512/geometry.h"
#include "core/kernels/conv_avx512/micro_kernel.h"
#include "core/kernels/conv_avx512/pack.h"
#include "core/kernels/conv_avx512/winograd.h"
#include "core/kernels/conv_memory.h"
#include "core/parallel.h"

MG_AVX512_BEGIN
namespace mg::kernels::avx512 {

void conv2d_weight_grad(const float* x, const float* gy, float* gw, const Conv2dShape& s) {
  const Geom g = forward_geom(s);
  const int64_t k = g.k(), o = s.out_channels, p = g.p();
  const int64_t op = round_up(o, kNR), strips = op / kNR, panels = (k + kMR - 1) / kMR;
  if (k == 0 || o == 0) return;
  if (g.batch == 0 || p == 0) {
    std::fill(gw, gw + o * k, 0.0f);
    return;
  }
  if (weight_grad_path(s) == ConvPath::winograd) return winograd_weight_grad({x, g.batch, g.c, g.h, g.w, s.padding, o}, gy, gw);
  // Fixed splits (shape only): ranges of row panels, and sample groups (whose partial sums are added in
  // order) when that gives fewer than kWeightGradTasks tasks.
  const int64_t ranges =
      std::clamp<int64_t>(k * op / kWeightGradShareFloats, 1, std::min<int64_t>(panels, kWeightGradTasks));
  const int64_t groups = std::clamp<int64_t>(kWeightGradTasks / ranges, 1, g.batch);
  // Slot 0 holds group 0 and then the running total; the other groups run in waves of at most `buffers`
  // slots (the memory cap, conv_memory.h), each wave added into slot 0 in group order, so every element is
  // p0 + p1 + ... + p(groups-1) left to right whatever the cap.
  const int64_t buffers =
      groups > 1 ? partial_buffers_within_limit(static_cast<std::size_t>(k * op) * sizeof(float), groups - 1) : 0;
  Tensor partial_holder = Tensor::empty({(1 + buffers) * k * op});
  float* partial = partial_holder.data<float>();
  note_weight_grad_partial_bytes(static_cast<std::size_t>((1 + buffers) * k * op) * sizeof(float));
  // A is read in place from the zero-bordered input: im2col row (c, i, j) at output (n, oh, ow) is
  // xp[n][c][oh * stride + i][ow * stride + j]. The reduction runs over blocks of whole output rows
  // (about kReductionBlock columns, possibly spanning samples), for which gyᵀ is packed.
  const int64_t hp = g.h + 2 * g.pad_h, wp = g.w + 2 * g.pad_w, taps = g.kh * g.kw;
  const Tensor xp_holder = padded_copy(x, g.batch * g.c, g.h, g.w, g.pad_h, g.pad_w);
  const float* xp = xp_holder.data<float>();
  const Geom pg{g.batch, g.c, hp, wp, g.kh, g.kw, g.stride, 0, 0, g.oh, g.ow};
  const int64_t rows_per_block = std::max<int64_t>(1, kReductionBlock / g.ow), max_block = rows_per_block * g.ow;
  for_each_partial_wave(groups, buffers, [&](int64_t wave_begin, int64_t first_partial, int64_t wave_end) {
    parallel_for(wave_begin * ranges, wave_end * ranges, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t task = t0; task < t1; ++task) {
        const int64_t gi = task / ranges, ri = task % ranges;
        const int64_t row_begin = gi * g.batch / groups * g.oh, row_end = (gi + 1) * g.batch / groups * g.oh;
        const int64_t p_begin = ri * panels / ranges, p_end = (ri + 1) * panels / ranges;
        float* c = partial + (gi == 0 ? 0 : gi - first_partial + 1) * k * op;
        float* bt = scratch_b().get(static_cast<std::size_t>(strips * max_block * kNR));
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
            with_panel_rows(mr, [&]<int MR>() {
              for (int64_t si = 0; si < strips; ++si)
                micro_in_place_a<MR>(rows, g.ow, ar, row_off, g.stride, bt + si * kc * kNR, c + pi * kMR * op + si * kNR,
                                     op, r0 > row_begin);
            });
          }
        }
      }
    });
  }, [&](int64_t first_partial, int64_t wave_end) {  // into slot 0 in group order
    parallel_for(0, k, grain_for_floats(op * (wave_end - first_partial + 1), kGroupSumFloatsPerTask),
                 [&](int64_t k0, int64_t k1) {
                   for (int64_t gi = first_partial; gi < wave_end; ++gi) {
                     const float* part = partial + (gi - first_partial + 1) * k * op;
                     for (int64_t i = k0 * op; i < k1 * op; ++i) partial[i] += part[i];
                   }
                 });
  });
  // gw[o][kk] = the total (slot 0), transposed.
  parallel_for(0, o, grain_for_floats(k, kGroupSumFloatsPerTask), [&](int64_t o0, int64_t o1) {
    for (int64_t oi = o0; oi < o1; ++oi)
      for (int64_t kk = 0; kk < k; ++kk) gw[oi * k + kk] = partial[kk * op + oi];
  });
}

}  // namespace mg::kernels::avx512
MG_AVX512_END
