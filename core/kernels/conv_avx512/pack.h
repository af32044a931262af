// Moving data between NCHW tensors and the layouts the micro-kernel reads and writes: packed 32-column
// strips of B (b[kk * 32 + t]), zero-bordered copies of the input, and C blocks back into NCHW planes.
#pragma once
#include <vector>

#include "core/kernels/conv_avx512/geometry.h"
#include "core/tensor.h"

MG_AVX512_BEGIN
namespace mg::kernels::avx512 {

// dst[r * ld + t] = im2col(x)[k0 + r][column t of the segments] for r < rows; columns [nc, width) get 0.
// Row kk of im2col is (channel c, kernel row i, kernel column j) with kk = (c * kh + i) * kw + j.
void pack_im2col(const float* x, const Geom& g, int64_t k0, int64_t rows, const std::vector<Segment>& segs,
                 int64_t nc, int64_t width, float* dst, int64_t ld);

// dst[r * 32 + t] = t[sample][k0 + r][pos] for the global columns [n0, n0 + nc) of an (N, channels, p)
// tensor (the columns [nc, 32) get 0): rows k0 .. k0 + rows of the (channels, N·p) matrix.
void pack_channel_rows(const float* t, int64_t channels, int64_t p, int64_t k0, int64_t rows, int64_t n0,
                       int64_t nc, float* dst);

// dst[s][t][o % 32] (strips s = o / 32 of kc x 32 floats) = gy[sample][o][pos] for the reduction columns
// [n0, n0 + kc); channels o >= channels (up to the strip's end) get 0.
void pack_transposed(const float* gy, int64_t channels, int64_t p, int64_t n0, int64_t kc, float* dst);

// x (planes of h x w) copied into zero-bordered planes of (h + 2 ph) x (w + 2 pw); 16 floats of slack at
// the end keep every vector load inside the buffer. Threads: the planes are split.
Tensor padded_copy(const float* x, int64_t planes, int64_t h, int64_t w, int64_t ph, int64_t pw);

// y[sample][o][pos] = cbuf[o][t] (+ bias[o]) for the columns [n0, n0 + nc) of planes of p positions.
void store_planes(float* y, const float* bias, int64_t m, int64_t p, int64_t n0, int64_t nc, const float* cbuf,
                  int64_t ld);

}  // namespace mg::kernels::avx512
MG_AVX512_END
