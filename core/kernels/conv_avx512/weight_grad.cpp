// The weight gradient: gWᵀ (K x O) = im2col(x) (K x cols) · gyᵀ (cols x O), cols = batch * P, with A read
// in place from the zero-bordered input and gyᵀ packed.
#include "core/kernels/conv_avx512.h"
#include "core/kernels/conv_avx512/blocking.h"
#include "core/kernels/conv_avx512/geometry.h"
#include "core/kernels/conv_avx512/micro_kernel.h"
#include "core/kernels/conv_avx512/pack.h"
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
  // Fixed splits (shape only): ranges of row panels, and sample groups (whose partial sums are added in
  // order) when that gives fewer than kWeightGradTasks tasks.
  const int64_t ranges =
      std::clamp<int64_t>(k * op / kWeightGradShareFloats, 1, std::min<int64_t>(panels, kWeightGradTasks));
  const int64_t groups = std::clamp<int64_t>(kWeightGradTasks / ranges, 1, g.batch);
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
  // gw[o][kk] = the partial sums of the groups, added in group order.
  parallel_for(0, o, grain_for_floats(k * groups, kGroupSumFloatsPerTask), [&](int64_t o0, int64_t o1) {
    for (int64_t oi = o0; oi < o1; ++oi)
      for (int64_t kk = 0; kk < k; ++kk) {
        float total = partial[kk * op + oi];
        for (int64_t gi = 1; gi < groups; ++gi) total += partial[(gi * k + kk) * op + oi];
        gw[oi * k + kk] = total;
      }
  });
}

}  // namespace mg::kernels::avx512
MG_AVX512_END
