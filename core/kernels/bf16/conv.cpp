#include "core/kernels/bf16/conv.h"

#include <algorithm>
#include <vector>

#include "core/bf16.h"
#include "core/kernels/bf16/gemm.h"
#include "core/parallel.h"

namespace mg::kernels::bf16 {
namespace {

std::vector<float> transposed(const float* a, int64_t rows, int64_t cols) {
  std::vector<float> t(static_cast<std::size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) t[j * rows + i] = a[i * cols + j];
  return t;
}

}  // namespace

void conv2d_forward(const float* x, const float* w, const float* bias, float* y, const Conv2dShape& s) {
  const int64_t depth = s.col_rows(), pixels = s.out_plane(), o = s.out_channels;
  const std::vector<uint32_t> weights = pack_rows(w, o, depth, depth);
  const Path path = best_path();
  parallel_for(0, s.batch, 1, [&](int64_t n0, int64_t n1) {  // samples are independent: any split, same bits
    std::vector<float> col(static_cast<std::size_t>(depth * pixels));
    for (int64_t n = n0; n < n1; ++n) {
      im2col(x + n * s.in_sample(), s, col.data(), pixels);
      const std::vector<uint32_t> cols = pack_pair_rows(col.data(), depth, pixels, pixels);
      float* out = y + n * s.out_sample();
      gemm_in_thread(path, weights.data(), cols.data(), out, o, pixels, (depth + 1) / 2, pixels);
      if (!bias) continue;
      for (int64_t c = 0; c < o; ++c) {
        const float b = mg::bf16::round(bias[c]);
        for (int64_t p = 0; p < pixels; ++p) out[c * pixels + p] += b;
      }
    }
  });
}

void conv2d_input_grad(const float* gy, const float* w, float* gx, const Conv2dShape& s) {
  const int64_t depth = s.col_rows(), pixels = s.out_plane(), o = s.out_channels;
  const std::vector<float> wt = transposed(w, o, depth);  // (depth, O)
  const std::vector<uint32_t> weights = pack_rows(wt.data(), depth, o, o);
  const Path path = best_path();
  parallel_for(0, s.batch, 1, [&](int64_t n0, int64_t n1) {  // samples are independent: any split, same bits
    std::vector<float> col(static_cast<std::size_t>(depth * pixels));
    for (int64_t n = n0; n < n1; ++n) {
      const std::vector<uint32_t> grads = pack_pair_rows(gy + n * s.out_sample(), o, pixels, pixels);
      gemm_in_thread(path, weights.data(), grads.data(), col.data(), depth, pixels, (o + 1) / 2, pixels);
      col2im(col.data(), pixels, s, gx + n * s.in_sample());
    }
  });
}

void conv2d_weight_grad(const float* x, const float* gy, float* gw, const Conv2dShape& s) {
  const int64_t depth = s.col_rows(), pixels = s.out_plane(), o = s.out_channels;
  // gwᵀ (depth × O) = Σ_n col_n · gy_nᵀ: the same pairs in the same order as gw = Σ_n gy_n · col_nᵀ (each pair
  // product has its operands swapped, which rounds the same), packed without transposing the large col.
  // Samples in chunks: their operands packed in parallel, then their products added in sample order.
  constexpr int64_t kChunk = 8;
  std::vector<std::vector<uint32_t>> cols(kChunk), grads(kChunk);
  std::vector<float> gw_t(static_cast<std::size_t>(depth * o));
  for (int64_t n0 = 0; n0 < s.batch; n0 += kChunk) {
    const int64_t count = std::min(kChunk, s.batch - n0);
    parallel_for(0, count, 1, [&](int64_t i0, int64_t i1) {
      std::vector<float> col(static_cast<std::size_t>(depth * pixels));
      for (int64_t i = i0; i < i1; ++i) {
        im2col(x + (n0 + i) * s.in_sample(), s, col.data(), pixels);
        cols[i] = pack_rows(col.data(), depth, pixels, pixels);
        grads[i] = pack_column_pairs(gy + (n0 + i) * s.out_sample(), o, pixels, pixels);  // gyᵀ in pairs
      }
    });
    for (int64_t i = 0; i < count; ++i)
      gemm(cols[i].data(), grads[i].data(), gw_t.data(), depth, o, (pixels + 1) / 2, o, /*accumulate=*/n0 + i > 0);
  }
  if (s.batch == 0) std::fill(gw_t.begin(), gw_t.end(), 0.0f);
  for (int64_t c = 0; c < o; ++c)
    for (int64_t d = 0; d < depth; ++d) gw[c * depth + d] = gw_t[d * o + c];
}

}  // namespace mg::kernels::bf16
