#include "core/kernels/conv_avx512/geometry.h"

MG_AVX512_BEGIN
namespace mg::kernels::avx512 {

Scratch& scratch_b() {
  thread_local Scratch scratch;
  return scratch;
}

Scratch& scratch_c() {
  thread_local Scratch scratch;
  return scratch;
}

const std::vector<Segment>& row_segments(const Geom& g, int64_t n0, int64_t nc) {
  thread_local std::vector<Segment> out;
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

void prefetch_input(const float* x, const Geom& g, int64_t n0, int64_t nc) {
  for_each_sample_run(g.p(), n0, nc, [&](int64_t n, int64_t pos, int64_t len, int64_t) {
    const int64_t ih_lo = std::max<int64_t>(0, pos / g.ow * g.stride - g.pad_h);
    const int64_t ih_hi = std::min<int64_t>(g.h - 1, (pos + len - 1) / g.ow * g.stride - g.pad_h + g.kh - 1);
    if (ih_hi < ih_lo) return;
    for (int64_t c = 0; c < g.c; ++c)
      prefetch_span(x + n * g.in_sample() + (c * g.h + ih_lo) * g.w, (ih_hi - ih_lo + 1) * g.w);
  });
}

void prefetch_planes(const float* t, int64_t channels, int64_t p, int64_t n0, int64_t nc) {
  for_each_sample_run(p, n0, nc, [&](int64_t n, int64_t pos, int64_t len, int64_t) {
    for (int64_t c = 0; c < channels; ++c) prefetch_span(t + (n * channels + c) * p + pos, len);
  });
}

}  // namespace mg::kernels::avx512
MG_AVX512_END
