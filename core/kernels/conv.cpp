#include "core/kernels/conv.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/cpu.h"
#include "core/gemm.h"
#include "core/kernels/conv_avx512.h"
#include "core/kernels/conv_memory.h"
#include "core/parallel.h"
#include "core/tensor.h"

namespace mg::kernels {
namespace {

constexpr int64_t kMinGemmColumns = 256;  // chunks hold enough samples for GEMMs at least this wide
constexpr int64_t kWeightGradGroups = 8;  // most partial sums the weight gradient keeps

// Output columns ow whose input column ow * stride - padding + j lies inside [0, width): [lo, hi).
struct ValidRange {
  int64_t lo, hi;
};
ValidRange valid_columns(const Conv2dShape& s, int64_t j) {
  const int64_t first = s.padding - j;               // smallest ow * stride that is inside
  const int64_t last = s.width - 1 + s.padding - j;  // largest ow * stride that is inside
  int64_t lo = first <= 0 ? 0 : (first + s.stride - 1) / s.stride;
  int64_t hi = last < 0 ? 0 : last / s.stride + 1;
  lo = std::min(lo, s.out_w);
  hi = std::max(std::min(hi, s.out_w), lo);
  return {lo, hi};
}

// Scratch memory for one parallel task; Tensors come from the caching allocator, so repeated calls with
// the same shapes reuse the same buffers.
template <typename T>
T* scratch(Tensor& holder, int64_t elements) {
  holder = Tensor::empty({elements}, dtype_of<T>());
  return holder.data<T>();
}

// Copies the output gradient of samples [n0, n0 + m) from NCHW into one (O, m * P) matrix.
template <typename T>
void gather_chunk(const T* gy, const Conv2dShape& s, int64_t n0, int64_t m, T* dst) {
  const int64_t p = s.out_plane(), ld = m * p;
  for (int64_t j = 0; j < m; ++j)
    for (int64_t o = 0; o < s.out_channels; ++o)
      std::memcpy(dst + o * ld + j * p, gy + (n0 + j) * s.out_sample() + o * p, sizeof(T) * p);
}

// The output gradient of samples [n0, n0 + m) as one (O, m * P) matrix: gy itself for a single sample,
// otherwise gathered into buffer.
template <typename T>
const T* chunk_gradient(const T* gy, const Conv2dShape& s, int64_t n0, int64_t m, T* buffer) {
  if (!buffer) return gy + n0 * s.out_sample();
  gather_chunk(gy, s, n0, m, buffer);
  return buffer;
}

// A task's two scratch matrices: the im2col columns of a chunk (none when a single pointwise sample is
// its own im2col matrix) and an (O, m * P) matrix for chunks of several samples (none for one sample).
template <typename T>
struct ChunkScratch {
  explicit ChunkScratch(const Conv2dShape& s) {
    const int64_t cs = s.chunk_samples(), p = s.out_plane();
    columns = s.pointwise() && cs == 1 ? nullptr : scratch<T>(columns_holder, s.col_rows() * cs * p);
    outputs = cs == 1 ? nullptr : scratch<T>(outputs_holder, s.out_channels * cs * p);
  }
  Tensor columns_holder, outputs_holder;
  T* columns;
  T* outputs;
};

// The im2col matrix (C*kh*kw, m * P) of samples [n0, n0 + m), or x itself when that already is it.
template <typename T>
const T* chunk_columns(const T* x, const Conv2dShape& s, int64_t n0, int64_t m, T* buffer) {
  if (s.pointwise() && m == 1) return x + n0 * s.in_sample();
  for (int64_t j = 0; j < m; ++j) im2col(x + (n0 + j) * s.in_sample(), s, buffer + j * s.out_plane(), m * s.out_plane());
  return buffer;
}

}  // namespace

int64_t Conv2dShape::chunk_samples() const {
  const int64_t p = std::max<int64_t>(out_plane(), 1);
  return std::clamp<int64_t>((kMinGemmColumns + p - 1) / p, 1, std::max<int64_t>(batch, 1));
}

int64_t Conv2dShape::chunks() const { return (batch + chunk_samples() - 1) / chunk_samples(); }

Conv2dShape make_conv2d_shape(int64_t batch, int64_t in_channels, int64_t height, int64_t width,
                              int64_t out_channels, int64_t kernel_h, int64_t kernel_w, int64_t stride,
                              int64_t padding) {
  Conv2dShape s{batch, in_channels, height, width, out_channels, kernel_h, kernel_w, stride, padding, 0, 0};
  s.out_h = (height + 2 * padding - kernel_h) / stride + 1;
  s.out_w = (width + 2 * padding - kernel_w) / stride + 1;
  return s;
}

template <typename T>
void im2col(const T* x, const Conv2dShape& s, T* col, int64_t ld) {
  for (int64_t c = 0; c < s.in_channels; ++c)
    for (int64_t i = 0; i < s.kernel_h; ++i)
      for (int64_t j = 0; j < s.kernel_w; ++j) {
        T* row = col + ((c * s.kernel_h + i) * s.kernel_w + j) * ld;
        const ValidRange cols = valid_columns(s, j);
        for (int64_t oh = 0; oh < s.out_h; ++oh) {
          T* out = row + oh * s.out_w;
          const int64_t ih = oh * s.stride - s.padding + i;
          if (ih < 0 || ih >= s.height) {
            std::fill(out, out + s.out_w, T(0));
            continue;
          }
          const T* in = x + (c * s.height + ih) * s.width;
          const int64_t shift = j - s.padding;  // iw = ow * stride + shift
          std::fill(out, out + cols.lo, T(0));
          if (s.stride == 1 && cols.hi > cols.lo) {
            std::memcpy(out + cols.lo, in + cols.lo + shift, sizeof(T) * (cols.hi - cols.lo));
          } else if (s.stride > 1) {
            for (int64_t ow = cols.lo; ow < cols.hi; ++ow) out[ow] = in[ow * s.stride + shift];
          }
          std::fill(out + cols.hi, out + s.out_w, T(0));
        }
      }
}

template <typename T>
void col2im(const T* col, int64_t ld, const Conv2dShape& s, T* x) {
  std::fill(x, x + s.in_sample(), T(0));
  for (int64_t c = 0; c < s.in_channels; ++c)
    for (int64_t i = 0; i < s.kernel_h; ++i)
      for (int64_t j = 0; j < s.kernel_w; ++j) {
        const T* row = col + ((c * s.kernel_h + i) * s.kernel_w + j) * ld;
        const ValidRange cols = valid_columns(s, j);
        for (int64_t oh = 0; oh < s.out_h; ++oh) {
          const int64_t ih = oh * s.stride - s.padding + i;
          if (ih < 0 || ih >= s.height) continue;
          const T* in = row + oh * s.out_w;
          T* out = x + (c * s.height + ih) * s.width;
          const int64_t shift = j - s.padding;  // iw = ow * stride + shift
          for (int64_t ow = cols.lo; ow < cols.hi; ++ow) out[ow * s.stride + shift] += in[ow];
        }
      }
}

// Calls fn(n0, m, scratch) for every chunk [n0, n0 + m) of samples, the chunks spread over the threads, each
// thread with its own scratch.
template <typename T, typename Fn>
void for_each_chunk(const Conv2dShape& s, Fn&& fn) {
  const int64_t cs = s.chunk_samples();
  parallel_for(0, s.chunks(), 1, [&](int64_t c0, int64_t c1) {
    ChunkScratch<T> buf(s);
    for (int64_t chunk = c0; chunk < c1; ++chunk) fn(chunk * cs, std::min(cs, s.batch - chunk * cs), buf);
  });
}

template <typename T>
void conv2d_forward(const T* x, const T* w, const T* bias, T* y, const Conv2dShape& s) {
  if constexpr (std::is_same_v<T, float>)
    if (cpu::kernels_enabled(cpu::Isa::avx512)) return avx512::conv2d_forward(x, w, bias, y, s);
  const int64_t cs = s.chunk_samples(), p = s.out_plane(), k = s.col_rows();
  for_each_chunk<T>(s, [&](int64_t n0, int64_t m, ChunkScratch<T>& buf) {
    const int64_t cols = m * p;
    const T* col = chunk_columns(x, s, n0, m, buf.columns);
    T* out = cs == 1 ? y + n0 * s.out_sample() : buf.outputs;  // (O, m * P)
    gemm_serial<T>(false, false, s.out_channels, cols, k, T(1), w, k, col, cols, T(0), out, cols);
    // Scatter (O, m * P) back to NCHW, adding the bias on the way.
    for (int64_t j = 0; j < m; ++j)
      for (int64_t o = 0; o < s.out_channels; ++o) {
        const T* src = out + o * cols + j * p;
        T* dst = y + (n0 + j) * s.out_sample() + o * p;
        const T b = bias ? bias[o] : T(0);
        if (src == dst) {
          if (bias)
            for (int64_t q = 0; q < p; ++q) dst[q] += b;
        } else {
          for (int64_t q = 0; q < p; ++q) dst[q] = src[q] + b;
        }
      }
  });
}

template <typename T>
void conv2d_input_grad(const T* gy, const T* w, T* gx, const Conv2dShape& s) {
  if constexpr (std::is_same_v<T, float>)
    if (cpu::kernels_enabled(cpu::Isa::avx512)) return avx512::conv2d_input_grad(gy, w, gx, s);
  const int64_t p = s.out_plane(), k = s.col_rows();
  for_each_chunk<T>(s, [&](int64_t n0, int64_t m, ChunkScratch<T>& buf) {
    const int64_t cols = m * p;
    const T* g = chunk_gradient(gy, s, n0, m, buf.outputs);
    T* col = buf.columns ? buf.columns : gx + n0 * s.in_sample();  // pointwise: the columns are the gradient
    gemm_serial<T>(true, false, k, cols, s.out_channels, T(1), w, k, g, cols, T(0), col, cols);
    if (buf.columns)
      for (int64_t j = 0; j < m; ++j) col2im(col + j * p, cols, s, gx + (n0 + j) * s.in_sample());
  });
}

template <typename T>
void conv2d_weight_grad(const T* x, const T* gy, T* gw, const Conv2dShape& s) {
  if constexpr (std::is_same_v<T, float>)
    if (cpu::kernels_enabled(cpu::Isa::avx512)) return avx512::conv2d_weight_grad(x, gy, gw, s);
  const int64_t cs = s.chunk_samples(), p = s.out_plane(), k = s.col_rows(), wsize = s.out_channels * k;
  const int64_t chunks = s.chunks(), groups = std::min(chunks, kWeightGradGroups);
  if (chunks == 0) {
    std::fill(gw, gw + wsize, T(0));
    return;
  }
  // Group 0 writes gw; the others write partial buffers, at most `buffers` at once (the memory cap): groups
  // run in waves, and after each wave its partial sums are added into gw in group order, so every element
  // is gw = p0 + p1 + ... + p(groups-1) left to right whatever the cap (conv_memory.h).
  const int64_t buffers =
      groups > 1 ? partial_buffers_within_limit(static_cast<std::size_t>(wsize) * sizeof(T), groups - 1) : 0;
  Tensor partial_holder;
  T* partials = buffers > 0 ? scratch<T>(partial_holder, buffers * wsize) : nullptr;
  note_weight_grad_partial_bytes(static_cast<std::size_t>(buffers * wsize) * sizeof(T));
  for_each_partial_wave(groups, buffers, [&](int64_t wave_begin, int64_t first_partial, int64_t wave_end) {
    parallel_for(wave_begin, wave_end, 1, [&](int64_t g0, int64_t g1) {
      ChunkScratch<T> buf(s);
      for (int64_t group = g0; group < g1; ++group) {
        T* dst = group == 0 ? gw : partials + (group - first_partial) * wsize;
        const int64_t first = group * chunks / groups, last = (group + 1) * chunks / groups;
        for (int64_t chunk = first; chunk < last; ++chunk) {
          const int64_t n0 = chunk * cs, m = std::min(cs, s.batch - n0), cols = m * p;
          const T* col = chunk_columns(x, s, n0, m, buf.columns);
          const T* g = chunk_gradient(gy, s, n0, m, buf.outputs);
          gemm_serial<T>(false, true, s.out_channels, k, cols, T(1), g, cols, col, cols,
                         chunk == first ? T(0) : T(1), dst, k);
        }
      }
    });
  }, [&](int64_t first_partial, int64_t wave_end) {  // threads split the weight elements
    parallel_for(0, wsize, 16384, [&](int64_t b, int64_t e) {
      for (int64_t group = first_partial; group < wave_end; ++group) {
        const T* part = partials + (group - first_partial) * wsize;
        for (int64_t i = b; i < e; ++i) gw[i] += part[i];
      }
    });
  });
}

#define MG_CONV_INSTANTIATE(T)                                                                  \
  template void im2col<T>(const T*, const Conv2dShape&, T*, int64_t);                         \
  template void col2im<T>(const T*, int64_t, const Conv2dShape&, T*);                         \
  template void conv2d_forward<T>(const T*, const T*, const T*, T*, const Conv2dShape&);      \
  template void conv2d_input_grad<T>(const T*, const T*, T*, const Conv2dShape&);             \
  template void conv2d_weight_grad<T>(const T*, const T*, T*, const Conv2dShape&);
MG_CONV_INSTANTIATE(float)
MG_CONV_INSTANTIATE(double)
#undef MG_CONV_INSTANTIATE

}  // namespace mg::kernels
