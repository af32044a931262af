// Which path a convolution pass takes, and the forward and input-gradient passes along each.
#include "core/kernels/conv_avx512.h"
#include "core/kernels/conv_avx512/pack.h"
#include "core/kernels/conv_avx512/product.h"
#include "core/kernels/conv_avx512/winograd.h"

namespace mg::kernels::avx512 {

const char* name(ConvPath path) {
  switch (path) {
    case ConvPath::winograd: return "winograd";
    case ConvPath::in_place: return "in_place";
    case ConvPath::packed: return "packed";
    case ConvPath::scatter: return "scatter";
  }
  return "?";
}

namespace {

// A stride-1 convolution of geometry g (winograd, in_place or packed).
ConvPath stride1_path(const Geom& g) {
  if (winograd_applies(g.kh, g.kw, g.stride, g.oh, g.ow)) return ConvPath::winograd;
  if (g.stride == 1 && InPlaceLayout::applies(g.c, g.h + 2 * g.pad_h, g.w + 2 * g.pad_w, g.ow))
    return ConvPath::in_place;
  return ConvPath::packed;
}

// The input gradient is a convolution of gy when stride is 1 and the transposed padding k - 1 - p is >= 0.
bool input_grad_is_convolution(const Conv2dShape& s) {
  return s.stride == 1 && s.padding <= s.kernel_h - 1 && s.padding <= s.kernel_w - 1;
}

}  // namespace

ConvPath forward_path(const Conv2dShape& s) { return stride1_path(forward_geom(s)); }

ConvPath weight_grad_path(const Conv2dShape& s) {
  const Geom g = forward_geom(s);
  return winograd_applies(g.kh, g.kw, g.stride, g.oh, g.ow) ? ConvPath::winograd : ConvPath::in_place;
}

ConvPath input_grad_path(const Conv2dShape& s) {
  return input_grad_is_convolution(s) ? stride1_path(transposed_geom(s)) : ConvPath::scatter;
}

}  // namespace mg::kernels::avx512

MG_AVX512_BEGIN
namespace mg::kernels::avx512 {
namespace {

// out (n, m, g.oh, g.ow) = the convolution of geometry g of `in` with weights a (m rows of g.k(), row
// stride rs, step ks), plus bias, along `path` (winograd, in_place or packed).
void convolve(ConvPath path, const float* in, const Geom& g, int64_t m, const float* a, const float* bias,
              float* out) {
  const int64_t k = g.k(), n = g.batch * g.p();
  const auto store = [&](int64_t n0, int64_t nc, const float* cbuf, int64_t ld) {
    store_planes(out, bias, m, g.p(), n0, nc, cbuf, ld);
  };
  const int64_t hp = g.h + 2 * g.pad_h, wp = g.w + 2 * g.pad_w;
  switch (path) {
    case ConvPath::winograd:  // pad_h == pad_w: 3x3, stride 1 (winograd_applies)
      winograd_conv({in, g.batch, g.c, g.h, g.w, g.pad_h, m}, a, bias, out);
      return;
    case ConvPath::in_place: {
      const Tensor xp = padded_copy(in, g.batch * g.c, g.h, g.w, g.pad_h, g.pad_w);
      const InPlaceLayout layout(xp.data<float>(), g.c, hp, wp, g.kh, g.kw, g.oh, g.ow);
      product(m, k, a, k, 1, n, InPlaceB(layout), store);
      return;
    }
    default: {
      const auto pack = [&](int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) {
        pack_im2col(in, g, k0, kc, row_segments(g, n0, nc), nc, kNR, dst, kNR);
      };
      const auto prefetch = [&](int64_t n0, int64_t nc) { prefetch_input(in, g, n0, nc); };
      product(m, k, a, k, 1, n, PackedB(pack, prefetch), store);
    }
  }
}

// W'[c][(o, i, j)] = w[o][c][kh-1-i][kw-1-j]: the weights of the input gradient as a convolution of gy.
Tensor flipped_transposed_weights(const float* w, int64_t o, int64_t c, int64_t taps) {
  const int64_t k = o * taps;
  Tensor holder = Tensor::empty({c * k});
  float* wt = holder.data<float>();
  parallel_for(0, c, grain_for_floats(k), [&](int64_t c0, int64_t c1) {
    for (int64_t ci = c0; ci < c1; ++ci)
      for (int64_t oi = 0; oi < o; ++oi) {
        const float* src = w + (oi * c + ci) * taps;
        float* dst = wt + ci * k + oi * taps;
        for (int64_t t = 0; t < taps; ++t) dst[t] = src[taps - 1 - t];
      }
  });
  return holder;
}

// gx += col2im of the C block cbuf (C·kh·kw rows, ld apart) for the columns [n0, n0 + nc).
void scatter_columns(const Geom& g, const float* cbuf, int64_t ld, int64_t n0, int64_t nc, float* gx) {
  const std::vector<Segment>& segs = row_segments(g, n0, nc);
  const int64_t taps = g.kh * g.kw;
  for (int64_t kk = 0; kk < g.k(); ++kk) {
    const int64_t ci = kk / taps, i = (kk % taps) / g.kw, j = kk % g.kw;
    const float* src = cbuf + kk * ld;
    for (const Segment& sg : segs) {
      const int64_t ih = sg.oh * g.stride - g.pad_h + i;
      if (ih < 0 || ih >= g.h) continue;
      float* row = gx + sg.sample * g.in_sample() + (ci * g.h + ih) * g.w;
      for (int64_t t = 0; t < sg.len; ++t) {
        const int64_t iw = (sg.ow0 + t) * g.stride - g.pad_w + j;
        if (iw >= 0 && iw < g.w) row[iw] += src[sg.t0 + t];
      }
    }
  }
}

// cols (C·kh·kw, columns) = Wᵀ · gy, then scattered back (col2im). Samples are handled in fixed groups
// of at least 32 columns; each group's gx is written by one task in column order.
void input_grad_by_scatter(const float* gy, const float* w, float* gx, const Conv2dShape& s) {
  const Geom g = forward_geom(s);
  const int64_t o = s.out_channels, p = g.p();
  const int64_t group = std::max<int64_t>(1, (kNR + p - 1) / p), groups = (g.batch + group - 1) / group;
  const auto pack = [&](int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) {
    pack_channel_rows(gy, o, p, k0, kc, n0, nc, dst);
  };
  const auto prefetch = [&](int64_t n0, int64_t nc) { prefetch_planes(gy, o, p, n0, nc); };
  const auto store = [&](int64_t n0, int64_t nc, const float* cbuf, int64_t ld) {
    scatter_columns(g, cbuf, ld, n0, nc, gx);
  };
  parallel_for(0, groups, 1, [&](int64_t g0, int64_t g1) {
    PackedB b(pack, prefetch);
    for (int64_t gi = g0; gi < g1; ++gi) {
      const int64_t first = gi * group, last = std::min(g.batch, first + group);
      std::fill(gx + first * g.in_sample(), gx + last * g.in_sample(), 0.0f);
      product_range(g.k(), o, w, 1, g.k(), first * p, last * p, b, store);
    }
  });
}

}  // namespace

void conv2d_forward(const float* x, const float* w, const float* bias, float* y, const Conv2dShape& s) {
  if (s.batch * s.out_plane() == 0 || s.out_channels == 0) return;
  convolve(forward_path(s), x, forward_geom(s), s.out_channels, w, bias, y);
}

void conv2d_input_grad(const float* gy, const float* w, float* gx, const Conv2dShape& s) {
  if (s.batch == 0 || s.in_channels == 0) return;
  const ConvPath path = input_grad_path(s);
  if (path == ConvPath::scatter) return input_grad_by_scatter(gy, w, gx, s);
  const Tensor wt = flipped_transposed_weights(w, s.out_channels, s.in_channels, s.kernel_h * s.kernel_w);
  convolve(path, gy, transposed_geom(s), s.in_channels, wt.data<float>(), nullptr, gx);
}

}  // namespace mg::kernels::avx512
MG_AVX512_END
