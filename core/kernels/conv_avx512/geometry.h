// A convolution as the AVX-512 kernels see it, and the walks over its output columns. A product's columns
// are the output positions of all samples in order: global column = sample * P + oh * OW + ow.
#pragma once
#include <cstdint>
#include <vector>

#include "core/kernels/conv.h"
#include "core/kernels/conv_avx512/simd.h"

MG_AVX512_BEGIN
namespace mg::kernels::avx512 {

// Input planes (c, h, w) of each sample, read through a kh x kw window at `stride` with padding
// (pad_h, pad_w), giving an output of oh x ow.
struct Geom {
  int64_t batch, c, h, w, kh, kw, stride, pad_h, pad_w, oh, ow;
  int64_t p() const { return oh * ow; }
  int64_t k() const { return c * kh * kw; }
  int64_t in_sample() const { return c * h * w; }
};

inline Geom forward_geom(const Conv2dShape& s) {
  return {s.batch, s.in_channels, s.height, s.width, s.kernel_h, s.kernel_w, s.stride, s.padding, s.padding,
          s.out_h, s.out_w};
}

// For stride 1, the input gradient is the convolution of gy (out_channels planes of out_h x out_w) with
// the flipped, transposed weights and padding k - 1 - p; its output has the input's size.
inline Geom transposed_geom(const Conv2dShape& s) {
  return {s.batch, s.out_channels, s.out_h, s.out_w, s.kernel_h, s.kernel_w, 1, s.kernel_h - 1 - s.padding,
          s.kernel_w - 1 - s.padding, s.height, s.width};
}

// A run of consecutive output positions within one output row of one sample; t0 is its first column
// relative to the strip.
struct Segment {
  int64_t sample, oh, ow0, len, t0;
};

// Splits the global columns [n0, n0 + nc) into row segments (in a per-thread vector, valid until the
// thread's next call).
const std::vector<Segment>& row_segments(const Geom& g, int64_t n0, int64_t nc);

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

// Activations come from memory in many short rows (one per channel), which the hardware prefetchers do not
// run ahead of; the kernels ask for the next block's rows while they multiply the current one.
// The input rows (all channels) that the output columns [n0, n0 + nc) of geometry g read:
void prefetch_input(const float* x, const Geom& g, int64_t n0, int64_t nc);
// Positions [n0, n0 + nc) of every channel of an (N, channels, p) tensor:
void prefetch_planes(const float* t, int64_t channels, int64_t p, int64_t n0, int64_t nc);

}  // namespace mg::kernels::avx512
MG_AVX512_END
