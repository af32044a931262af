// Reductions. The reduced axes are moved last and made contiguous, so every reduction is "M rows of R
// elements". Threads split the rows; a long row is cut into fixed chunks of kChunk elements whose partial
// results are combined in chunk order. The split depends only on the shape, never on the thread count, so
// sums are bitwise identical on 1 and N threads.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/ops.h"
#include "core/parallel.h"

namespace mg::ops {
namespace {

constexpr int64_t kChunk = 16384;

struct RowLayout {
  Tensor rows;       // contiguous (M, R)
  Shape out_shape;   // result shape (with or without kept dims)
  int64_t m = 1, r = 1;
};

RowLayout to_rows(const Tensor& a, const std::vector<int64_t>& axes_in, bool keepdim) {
  const std::vector<int64_t> axes = normalize_axes(axes_in, a.dim());
  std::vector<bool> reduced(a.dim(), false);
  for (int64_t ax : axes) reduced[ax] = true;
  std::vector<int64_t> order;
  RowLayout layout;
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (!reduced[d]) {
      order.push_back(d);
      layout.m *= a.shape()[d];
      layout.out_shape.push_back(a.shape()[d]);
    } else if (keepdim) {
      layout.out_shape.push_back(1);
    }
  }
  for (int64_t d : axes) {
    order.push_back(d);
    layout.r *= a.shape()[d];
  }
  layout.rows = a.permute(order).contiguous();
  return layout;
}

// Sum of n contiguous values in 8 interleaved lanes (vectorisable, and more accurate than one accumulator).
template <typename T>
T sum_contiguous(const T* x, int64_t n) {
  T lanes[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lanes[k] += x[i + k];
  T tail = 0;
  for (; i < n; ++i) tail += x[i];
  return ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7])) + tail;
}

template <typename T>
void sum_rows(const T* x, T* out, int64_t m, int64_t r) {
  if (r <= kChunk) {
    parallel_for(0, m, std::max<int64_t>(1, kChunk / std::max<int64_t>(r, 1)), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = sum_contiguous(x + i * r, r);
    });
    return;
  }
  const int64_t chunks = (r + kChunk - 1) / kChunk;
  std::vector<T> partial(m * chunks);
  parallel_for(0, m * chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t job = b; job < e; ++job) {
      const int64_t row = job / chunks, c = job % chunks;
      const int64_t start = c * kChunk, len = std::min(kChunk, r - start);
      partial[job] = sum_contiguous(x + row * r + start, len);
    }
  });
  for (int64_t i = 0; i < m; ++i) {
    T total = 0;
    for (int64_t c = 0; c < chunks; ++c) total += partial[i * chunks + c];
    out[i] = total;
  }
}

template <bool kMax>
Tensor extremum(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim) {
  RowLayout l = to_rows(a, axes, keepdim);
  MG_CHECK(l.r > 0, kMax ? "amax" : "amin", ": cannot reduce over an empty axis of ", describe(a));
  Tensor out = Tensor::empty(l.out_shape, a.dtype());
  visit_dtype(a.dtype(), [&]<typename T>() {
    const T* x = l.rows.data<T>();
    T* o = out.data<T>();
    parallel_for(0, l.m, std::max<int64_t>(1, kChunk / l.r), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T* row = x + i * l.r;
        T best = row[0];
        for (int64_t j = 1; j < l.r; ++j) {
          const T v = row[j];
          if (std::isnan(v)) { best = v; break; }
          best = kMax ? (v > best ? v : best) : (v < best ? v : best);
        }
        o[i] = best;
      }
    });
  });
  return out;
}

// sum_contiguous over the concatenation of `count` blocks of `len` elements (len % 8 == 0), `stride`
// apart: the same additions in the same order, without gathering the blocks first.
template <typename T>
T sum_blocks(const T* first, int64_t len, int64_t stride, int64_t count) {
  T lanes[8] = {};
  for (int64_t n = 0; n < count; ++n) {
    const T* x = first + n * stride;
    for (int64_t i = 0; i + 8 <= len; i += 8)
      for (int k = 0; k < 8; ++k) lanes[k] += x[i + k];
  }
  const T tail = 0;
  return ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7])) + tail;
}

// The per-channel sum of a contiguous (N, C, ...) tensor over every axis but 1 (a bias gradient), equal
// bit for bit to the generic path (which first copies the tensor to (C, N, ...)): each channel's row is
// the concatenation of its N planes, cut into the same kChunk pieces. Returns an undefined tensor when the
// axes or the plane size do not allow that (then the generic path runs).
Tensor sum_per_channel(const Tensor& a, const std::vector<int64_t>& axes_in, bool keepdim) {
  if (!a.defined() || a.dim() < 2 || !a.is_contiguous()) return {};
  std::vector<int64_t> axes = normalize_axes(axes_in, a.dim());
  std::sort(axes.begin(), axes.end());
  std::vector<int64_t> expected{0};
  for (int64_t d = 2; d < a.dim(); ++d) expected.push_back(d);
  if (axes != expected) return {};
  const int64_t n = a.shape()[0], c = a.shape()[1], plane = c == 0 || n == 0 ? 0 : a.numel() / (n * c), r = n * plane;
  if (plane == 0 || plane % 8 != 0 || (r > kChunk && kChunk % plane != 0)) return {};
  Shape out_shape{c};
  if (keepdim) {
    out_shape.assign(a.dim(), 1);
    out_shape[1] = c;
  }
  Tensor out = Tensor::empty(out_shape, a.dtype());
  visit_dtype(a.dtype(), [&]<typename T>() {
    const T* x = a.data<T>();
    T* o = out.data<T>();
    parallel_for(0, c, std::max<int64_t>(1, kChunk / r), [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        const T* first = x + ch * plane;
        if (r <= kChunk) {
          o[ch] = sum_blocks(first, plane, c * plane, n);
          continue;
        }
        const int64_t per_chunk = kChunk / plane;  // planes per chunk of the generic path
        T total = 0;
        for (int64_t n0 = 0; n0 < n; n0 += per_chunk)
          total += sum_blocks(first + n0 * c * plane, plane, c * plane, std::min(per_chunk, n - n0));
        o[ch] = total;
      }
    });
  });
  return out;
}

}  // namespace

Tensor sum(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim) {
  if (Tensor out = sum_per_channel(a, axes, keepdim); out.defined()) return out;
  RowLayout l = to_rows(a, axes, keepdim);
  Tensor out = Tensor::empty(l.out_shape, a.dtype());
  visit_dtype(a.dtype(), [&]<typename T>() { sum_rows(l.rows.data<T>(), out.data<T>(), l.m, l.r); });
  return out;
}

Tensor mean(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim) {
  int64_t count = 1;
  for (int64_t ax : normalize_axes(axes, a.dim())) count *= a.shape()[ax];
  Tensor out = sum(a, axes, keepdim);
  mul_(out, 1.0 / static_cast<double>(count));
  return out;
}

Tensor amax(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim) {
  return extremum<true>(a, axes, keepdim);
}
Tensor amin(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim) {
  return extremum<false>(a, axes, keepdim);
}

std::vector<int64_t> argmax(const Tensor& a, int64_t axis) {
  RowLayout l = to_rows(a, {normalize_axis(axis, a.dim())}, false);
  MG_CHECK(l.r > 0, "argmax: axis ", axis, " of ", describe(a), " is empty");
  std::vector<int64_t> out(l.m);
  visit_dtype(a.dtype(), [&]<typename T>() {
    const T* x = l.rows.data<T>();
    for (int64_t i = 0; i < l.m; ++i) {
      const T* row = x + i * l.r;
      int64_t best = 0;
      for (int64_t j = 1; j < l.r; ++j)
        if (row[j] > row[best]) best = j;
      out[i] = best;
    }
  });
  return out;
}

Tensor sum_to_shape(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  MG_CHECK(a.dim() >= static_cast<int64_t>(shape.size()), "sum_to_shape: cannot reduce ", describe(a), " to ",
           to_string(shape));
  const int64_t lead = a.dim() - static_cast<int64_t>(shape.size());
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (d < lead) {
      axes.push_back(d);
    } else if (shape[d - lead] == 1 && a.shape()[d] != 1) {
      axes.push_back(d);
    } else {
      MG_CHECK(shape[d - lead] == a.shape()[d], "sum_to_shape: cannot reduce ", describe(a), " to ",
               to_string(shape));
    }
  }
  if (axes.empty()) return a.reshape(shape);
  return sum(a, axes, true).reshape(shape);
}

}  // namespace mg::ops
