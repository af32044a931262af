// Shape ops that move data: concat, pad, index_select / index_add, gather / scatter_add.
// Copies go through Tensor::copy_ into views, so strides and threading are handled in one place.
#include "core/ops.h"
#include "core/parallel.h"

namespace mg::ops {

Tensor concat(const std::vector<Tensor>& parts, int64_t axis) {
  MG_CHECK(!parts.empty(), "concat: no tensors given");
  const Tensor& first = parts[0];
  axis = normalize_axis(axis, first.dim());
  Shape shape = first.shape();
  shape[axis] = 0;
  for (const Tensor& p : parts) {
    MG_CHECK(p.dtype() == first.dtype() && p.dim() == first.dim(), "concat: cannot join ", describe(first),
             " and ", describe(p));
    for (int64_t d = 0; d < p.dim(); ++d)
      MG_CHECK(d == axis || p.shape()[d] == first.shape()[d], "concat: shapes ", to_string(first.shape()), " and ",
               to_string(p.shape()), " differ outside axis ", axis);
    shape[axis] += p.shape()[axis];
  }
  Tensor out = Tensor::empty(shape, first.dtype());
  int64_t at = 0;
  for (const Tensor& p : parts) {
    out.slice(axis, at, at + p.shape()[axis]).copy_(p);
    at += p.shape()[axis];
  }
  return out;
}

Tensor pad(const Tensor& a, const std::vector<int64_t>& pads, double value) {
  MG_CHECK(pads.size() % 2 == 0 && static_cast<int64_t>(pads.size() / 2) <= a.dim(), "pad: ", pads.size(),
           " padding values do not fit ", describe(a), " (two per axis)");
  const int64_t first_axis = a.dim() - static_cast<int64_t>(pads.size() / 2);
  Shape shape = a.shape();
  Tensor inner_view;
  for (std::size_t i = 0; i < pads.size() / 2; ++i) {
    const int64_t axis = first_axis + static_cast<int64_t>(i);
    MG_CHECK(pads[2 * i] >= 0 && pads[2 * i + 1] >= 0, "pad: negative padding for axis ", axis);
    shape[axis] += pads[2 * i] + pads[2 * i + 1];
  }
  Tensor out = Tensor::full(shape, value, a.dtype());
  Tensor window = out;
  for (std::size_t i = 0; i < pads.size() / 2; ++i) {
    const int64_t axis = first_axis + static_cast<int64_t>(i);
    window = window.slice(axis, pads[2 * i], pads[2 * i] + a.shape()[axis]);
  }
  window.copy_(a);
  return out;
}

Tensor index_select(const Tensor& a, int64_t axis, const std::vector<int64_t>& index) {
  axis = normalize_axis(axis, a.dim());
  Shape shape = a.shape();
  shape[axis] = static_cast<int64_t>(index.size());
  Tensor out = Tensor::empty(shape, a.dtype());
  for (std::size_t i = 0; i < index.size(); ++i) {
    MG_CHECK(index[i] >= 0 && index[i] < a.shape()[axis], "index_select: index ", index[i],
             " out of range for axis ", axis, " of ", describe(a));
    out.select(axis, static_cast<int64_t>(i)).copy_(a.select(axis, index[i]));
  }
  return out;
}

Tensor index_add(const Shape& shape, int64_t axis, const std::vector<int64_t>& index, const Tensor& src) {
  axis = normalize_axis(axis, static_cast<int64_t>(shape.size()));
  Tensor out = Tensor::zeros(shape, src.dtype());
  for (std::size_t i = 0; i < index.size(); ++i) {
    MG_CHECK(index[i] >= 0 && index[i] < shape[axis], "index_add: index ", index[i], " out of range for axis ",
             axis, " of shape ", to_string(shape));
    Tensor dst = out.select(axis, index[i]);
    add_(dst, src.select(axis, static_cast<int64_t>(i)));
  }
  return out;
}

namespace {

// Visits every position of `index_shape`; calls fn(linear position, offset in a tensor of `target` strides
// with the axis coordinate replaced by the index value).
template <typename Fn>
void for_each_gather(const Shape& index_shape, const Strides& target_strides, const Shape& target_shape,
                     int64_t axis, const std::vector<int64_t>& index, Fn&& fn) {
  const int64_t n = numel(index_shape);
  const int64_t ndim = static_cast<int64_t>(index_shape.size());
  for (int64_t pos = 0; pos < n; ++pos) {
    int64_t rest = pos, off = 0;
    for (int64_t d = ndim - 1; d >= 0; --d) {
      const int64_t coord = rest % index_shape[d];
      rest /= index_shape[d];
      if (d == axis) {
        const int64_t v = index[pos];
        MG_CHECK(v >= 0 && v < target_shape[axis], "gather: index ", v, " out of range for axis ", axis,
                 " of size ", target_shape[axis]);
        off += v * target_strides[d];
      } else {
        off += coord * target_strides[d];
      }
    }
    fn(pos, off);
  }
}

void check_gather_shapes(const char* op, const Shape& target, int64_t axis, const std::vector<int64_t>& index,
                         const Shape& index_shape) {
  MG_CHECK(index_shape.size() == target.size(), op, ": index shape ", to_string(index_shape),
           " must have as many dimensions as ", to_string(target));
  MG_CHECK(static_cast<int64_t>(index.size()) == numel(index_shape), op, ": ", index.size(),
           " indices do not fill index shape ", to_string(index_shape));
  for (std::size_t d = 0; d < target.size(); ++d)
    MG_CHECK(static_cast<int64_t>(d) == axis || index_shape[d] <= target[d], op, ": index shape ",
             to_string(index_shape), " exceeds ", to_string(target), " at axis ", d);
}

}  // namespace

Tensor gather(const Tensor& a, int64_t axis, const std::vector<int64_t>& index, const Shape& index_shape) {
  axis = normalize_axis(axis, a.dim());
  check_gather_shapes("gather", a.shape(), axis, index, index_shape);
  Tensor out = Tensor::empty(index_shape, a.dtype());
  visit_dtype(a.dtype(), [&]<typename T>() {
    const T* src = a.data<T>();
    T* dst = out.data<T>();
    for_each_gather(index_shape, a.strides(), a.shape(), axis, index,
                    [&](int64_t pos, int64_t off) { dst[pos] = src[off]; });
  });
  return out;
}

Tensor scatter_add(const Shape& shape, int64_t axis, const std::vector<int64_t>& index, const Tensor& src) {
  axis = normalize_axis(axis, static_cast<int64_t>(shape.size()));
  check_gather_shapes("scatter_add", shape, axis, index, src.shape());
  Tensor out = Tensor::zeros(shape, src.dtype());
  const Tensor s = src.contiguous();
  visit_dtype(src.dtype(), [&]<typename T>() {
    const T* from = s.data<T>();
    T* dst = out.data<T>();
    for_each_gather(src.shape(), out.strides(), shape, axis, index,
                    [&](int64_t pos, int64_t off) { dst[off] += from[pos]; });
  });
  return out;
}

}  // namespace mg::ops
