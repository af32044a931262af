// Shape ops: forward (mostly views), then the backward rule, usually the inverse movement.
#include "autograd/functions.h"
#include "core/ops.h"

namespace mg {
namespace {
using Grads = std::vector<Variable>;
}

Variable reshape(const Variable& a, const Shape& shape) {
  return make_result(a.data().reshape(shape), {a}, "reshape",
                     [in = a.shape()](const Variable& g, const std::vector<bool>&) -> Grads { return {reshape(g, in)}; });
}

Variable permute(const Variable& a, const std::vector<int64_t>& order) {
  std::vector<int64_t> inverse(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) inverse[normalize_axis(order[i], a.dim())] = static_cast<int64_t>(i);
  return make_result(a.data().permute(order), {a}, "permute",
                     [inverse](const Variable& g, const std::vector<bool>&) -> Grads { return {permute(g, inverse)}; });
}

Variable transpose(const Variable& a, int64_t axis0, int64_t axis1) {
  return make_result(a.data().transpose(axis0, axis1), {a}, "transpose",
                     [axis0, axis1](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {transpose(g, axis0, axis1)};
                     });
}

Variable unsqueeze(const Variable& a, int64_t axis) { return reshape(a, a.data().unsqueeze(axis).shape()); }
Variable squeeze(const Variable& a, int64_t axis) { return reshape(a, a.data().squeeze(axis).shape()); }
Variable flatten(const Variable& a, int64_t start, int64_t end) {
  return reshape(a, a.data().flatten(start, end).shape());
}

Variable expand(const Variable& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  return make_result(a.data().expand(shape), {a}, "expand",
                     [in = a.shape()](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {sum_to_shape(g, in)};
                     });
}

Variable slice(const Variable& a, int64_t axis, int64_t start, int64_t end, int64_t step) {
  const Tensor out = a.data().slice(axis, start, end, step);
  return make_result(out, {a}, "slice",
                     [in = a.shape(), axis, start, end, step](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {slice_backward(g, in, axis, start, end, step)};
                     });
}

Variable select(const Variable& a, int64_t axis, int64_t index) {
  const int64_t ax = normalize_axis(axis, a.dim());
  const int64_t i = index < 0 ? index + a.shape()[ax] : index;
  return squeeze(slice(a, ax, i, i + 1), ax);
}

Variable slice_backward(const Variable& a, const Shape& shape, int64_t axis, int64_t start, int64_t end,
                        int64_t step) {
  Tensor out = Tensor::zeros(shape, a.dtype());
  out.slice(axis, start, end, step).copy_(a.data());
  return make_result(out, {a}, "slice_backward",
                     [axis, start, end, step](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {slice(g, axis, start, end, step)};
                     });
}

Variable concat(const std::vector<Variable>& parts, int64_t axis) {
  std::vector<Tensor> tensors;
  for (const Variable& p : parts) tensors.push_back(p.data());
  const Tensor out = ops::concat(tensors, axis);
  const int64_t ax = normalize_axis(axis, out.dim());
  std::vector<int64_t> sizes;
  for (const Variable& p : parts) sizes.push_back(p.shape()[ax]);
  return make_result(out, parts, "concat", [ax, sizes](const Variable& g, const std::vector<bool>& need) -> Grads {
    Grads grads;
    int64_t at = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      grads.push_back(need[i] ? slice(g, ax, at, at + sizes[i]) : Variable());
      at += sizes[i];
    }
    return grads;
  });
}

Variable pad(const Variable& a, const std::vector<int64_t>& pads, double value) {
  const Tensor out = ops::pad(a.data(), pads, value);
  return make_result(out, {a}, "pad", [pads, in = a.shape()](const Variable& g, const std::vector<bool>&) -> Grads {
    Variable window = g;
    const int64_t first = static_cast<int64_t>(in.size()) - static_cast<int64_t>(pads.size() / 2);
    for (std::size_t i = 0; i < pads.size() / 2; ++i) {
      const int64_t axis = first + static_cast<int64_t>(i);
      window = slice(window, axis, pads[2 * i], pads[2 * i] + in[axis]);
    }
    return {window};
  });
}

Variable index_select(const Variable& a, int64_t axis, const std::vector<int64_t>& index) {
  return make_result(ops::index_select(a.data(), axis, index), {a}, "index_select",
                     [in = a.shape(), axis, index](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {index_add(g, in, axis, index)};
                     });
}

Variable index_add(const Variable& src, const Shape& shape, int64_t axis, const std::vector<int64_t>& index) {
  return make_result(ops::index_add(shape, axis, index, src.data()), {src}, "index_add",
                     [axis, index](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {index_select(g, axis, index)};
                     });
}

Variable gather(const Variable& a, int64_t axis, const std::vector<int64_t>& index, const Shape& index_shape) {
  return make_result(ops::gather(a.data(), axis, index, index_shape), {a}, "gather",
                     [in = a.shape(), axis, index](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {scatter_add(g, in, axis, index)};
                     });
}

Variable scatter_add(const Variable& src, const Shape& shape, int64_t axis, const std::vector<int64_t>& index) {
  return make_result(ops::scatter_add(shape, axis, index, src.data()), {src}, "scatter_add",
                     [axis, index, index_shape = src.shape()](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {gather(g, axis, index, index_shape)};
                     });
}

Variable contiguous(const Variable& a) {
  if (a.data().is_contiguous()) return a;
  return make_result(a.data().contiguous(), {a}, "contiguous",
                     [](const Variable& g, const std::vector<bool>&) -> Grads { return {g}; });
}

Variable to_dtype(const Variable& a, DType dtype) {
  if (a.dtype() == dtype) return a;
  return make_result(a.data().to(dtype), {a}, "to_dtype",
                     [from = a.dtype()](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {to_dtype(g, from)};
                     });
}

}  // namespace mg
