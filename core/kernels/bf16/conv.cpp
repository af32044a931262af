#include "core/kernels/bf16/conv.h"

#include <algorithm>
#include <vector>

#include "core/bf16.h"
#include "core/kernels/bf16/conv_avx512.h"
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

// A stride-1 convolution with a square kernel and padding below its size has an input gradient that is the
// convolution of gy (O planes of out_h x out_w) with the flipped, transposed weights and padding k - 1 - p.
bool input_grad_is_convolution(const Conv2dShape& s) {
  return s.stride == 1 && s.kernel_h == s.kernel_w && s.padding <= s.kernel_h - 1;
}

Conv2dShape transposed_shape(const Conv2dShape& s) {
  return make_conv2d_shape(s.batch, s.out_channels, s.out_h, s.out_w, s.in_channels, s.kernel_h, s.kernel_w, 1,
                           s.kernel_h - 1 - s.padding);
}

// W'[c][(o, i, j)] = w[o][c][kh-1-i][kw-1-j].
std::vector<float> flipped_transposed(const float* w, int64_t o, int64_t c, int64_t taps) {
  std::vector<float> wt(static_cast<std::size_t>(c * o * taps));
  for (int64_t ci = 0; ci < c; ++ci)
    for (int64_t oi = 0; oi < o; ++oi)
      for (int64_t t = 0; t < taps; ++t) wt[(ci * o + oi) * taps + t] = w[(oi * c + ci) * taps + taps - 1 - t];
  return wt;
}

}  // namespace

void conv2d_forward_reference(const float* x, const float* w, const float* bias, float* y, const Conv2dShape& s) {
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

void conv2d_input_grad_reference(const float* gy, const float* w, float* gx, const Conv2dShape& s) {
  if (input_grad_is_convolution(s) && s.out_channels > 0) {
    const std::vector<float> wt = flipped_transposed(w, s.out_channels, s.in_channels, s.kernel_h * s.kernel_w);
    return conv2d_forward_reference(gy, wt.data(), nullptr, gx, transposed_shape(s));
  }
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

void conv2d_weight_grad_reference(const float* x, const float* gy, float* gw, const Conv2dShape& s) {
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

// The AVX-512 kernels (conv_avx512.h) give the reference's bits on every shape they take.
void conv2d_forward(const float* x, const float* w, const float* bias, float* y, const Conv2dShape& s) {
  const Path path = best_path();
  if (path == Path::scalar || s.col_rows() == 0) return conv2d_forward_reference(x, w, bias, y, s);
  conv2d_forward_avx512(path == Path::native, x, w, bias, y, s);
}

void conv2d_input_grad(const float* gy, const float* w, float* gx, const Conv2dShape& s) {
  const Path path = best_path();
  if (path == Path::scalar || s.out_channels == 0) return conv2d_input_grad_reference(gy, w, gx, s);
  if (input_grad_is_convolution(s)) {
    const std::vector<float> wt = flipped_transposed(w, s.out_channels, s.in_channels, s.kernel_h * s.kernel_w);
    return conv2d_forward_avx512(path == Path::native, gy, wt.data(), nullptr, gx, transposed_shape(s));
  }
  conv2d_input_grad_avx512(path == Path::native, gy, w, gx, s);
}

void conv2d_weight_grad(const float* x, const float* gy, float* gw, const Conv2dShape& s) {
  const Path path = best_path();
  if (path == Path::scalar) return conv2d_weight_grad_reference(x, gy, gw, s);
  conv2d_weight_grad_avx512(path == Path::native, x, gy, gw, s);
}

}  // namespace mg::kernels::bf16
