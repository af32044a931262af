#include "core/kernels/bf16/conv.h"

#include <vector>

#include "core/bf16.h"
#include "core/kernels/bf16/gemm.h"

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
  std::vector<float> col(static_cast<std::size_t>(depth * pixels));
  for (int64_t n = 0; n < s.batch; ++n) {
    im2col(x + n * s.in_sample(), s, col.data(), pixels);
    const std::vector<uint32_t> cols = pack_pair_rows(col.data(), depth, pixels, pixels);
    float* out = y + n * s.out_sample();
    gemm(weights.data(), cols.data(), out, o, pixels, (depth + 1) / 2, pixels);
    if (!bias) continue;
    for (int64_t c = 0; c < o; ++c) {
      const float b = mg::bf16::round(bias[c]);
      for (int64_t p = 0; p < pixels; ++p) out[c * pixels + p] += b;
    }
  }
}

void conv2d_input_grad(const float* gy, const float* w, float* gx, const Conv2dShape& s) {
  const int64_t depth = s.col_rows(), pixels = s.out_plane(), o = s.out_channels;
  const std::vector<float> wt = transposed(w, o, depth);  // (depth, O)
  const std::vector<uint32_t> weights = pack_rows(wt.data(), depth, o, o);
  std::vector<float> col(static_cast<std::size_t>(depth * pixels));
  for (int64_t n = 0; n < s.batch; ++n) {
    const std::vector<uint32_t> grads = pack_pair_rows(gy + n * s.out_sample(), o, pixels, pixels);
    gemm(weights.data(), grads.data(), col.data(), depth, pixels, (o + 1) / 2, pixels);
    col2im(col.data(), pixels, s, gx + n * s.in_sample());
  }
}

void conv2d_weight_grad(const float* x, const float* gy, float* gw, const Conv2dShape& s) {
  const int64_t depth = s.col_rows(), pixels = s.out_plane(), o = s.out_channels;
  std::vector<float> col(static_cast<std::size_t>(depth * pixels));
  for (int64_t n = 0; n < s.batch; ++n) {
    im2col(x + n * s.in_sample(), s, col.data(), pixels);
    const std::vector<float> col_t = transposed(col.data(), depth, pixels);  // (pixels, depth)
    const std::vector<uint32_t> grads = pack_rows(gy + n * s.out_sample(), o, pixels, pixels);
    const std::vector<uint32_t> cols = pack_pair_rows(col_t.data(), pixels, depth, depth);
    gemm(grads.data(), cols.data(), gw, o, depth, (pixels + 1) / 2, depth, /*accumulate=*/n > 0);
  }
}

}  // namespace mg::kernels::bf16
