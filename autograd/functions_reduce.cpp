// Reductions and softmax: forward kernel call, then the backward rule.
#include <algorithm>

#include "autograd/functions.h"
#include "core/ops.h"

namespace mg {
namespace {

using Grads = std::vector<Variable>;

// The input shape with the reduced axes kept as size 1 (where a reduced gradient broadcasts back).
Shape kept_shape(const Shape& shape, const std::vector<int64_t>& axes) {
  Shape kept = shape;
  for (int64_t ax : normalize_axes(axes, static_cast<int64_t>(shape.size()))) kept[ax] = 1;
  return kept;
}

// The input shape without the reduced axes.
Shape dropped_shape(const Shape& shape, const std::vector<int64_t>& axes) {
  const std::vector<int64_t> reduced = normalize_axes(axes, static_cast<int64_t>(shape.size()));
  Shape out;
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (std::find(reduced.begin(), reduced.end(), static_cast<int64_t>(d)) == reduced.end()) out.push_back(shape[d]);
  return out;
}

int64_t reduced_count(const Shape& shape, const std::vector<int64_t>& axes) {
  int64_t count = 1;
  for (int64_t ax : normalize_axes(axes, static_cast<int64_t>(shape.size()))) count *= shape[ax];
  return count;
}

// Shared by amax and amin: the gradient goes to the extreme positions, split evenly among ties.
Variable extremum(const Variable& a, const std::vector<int64_t>& axes, bool keepdim, bool is_max) {
  const Tensor kept = is_max ? ops::amax(a.data(), axes, true) : ops::amin(a.data(), axes, true);
  const Tensor hits = ops::eq(a.data(), kept);
  const Tensor share = ops::div(hits, ops::sum(hits, axes, true));
  const Tensor out = keepdim ? kept : kept.reshape(dropped_shape(a.shape(), axes));
  return make_result(out, {a}, is_max ? "amax" : "amin",
                     [share, shape = a.shape(), axes](const Variable& g, const std::vector<bool>&) -> Grads {
                       const Variable spread = expand(reshape(g, kept_shape(shape, axes)), shape);
                       return {spread * Variable(share)};
                     });
}

}  // namespace

Variable sum(const Variable& a, const std::vector<int64_t>& axes, bool keepdim) {
  return make_result(ops::sum(a.data(), axes, keepdim), {a}, "sum",
                     [shape = a.shape(), axes](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {expand(reshape(g, kept_shape(shape, axes)), shape)};
                     });
}

Variable mean(const Variable& a, const std::vector<int64_t>& axes, bool keepdim) {
  const double inv = 1.0 / static_cast<double>(reduced_count(a.shape(), axes));
  return make_result(ops::mean(a.data(), axes, keepdim), {a}, "mean",
                     [shape = a.shape(), axes, inv](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {expand(reshape(g * inv, kept_shape(shape, axes)), shape)};
                     });
}

Variable amax(const Variable& a, const std::vector<int64_t>& axes, bool keepdim) {
  return extremum(a, axes, keepdim, true);
}
Variable amin(const Variable& a, const std::vector<int64_t>& axes, bool keepdim) {
  return extremum(a, axes, keepdim, false);
}

Variable sum_to_shape(const Variable& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  return make_result(ops::sum_to_shape(a.data(), shape), {a}, "sum_to_shape",
                     [in_shape = a.shape()](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {expand(g, in_shape)};
                     });
}

// d/dx log_softmax(x) · g = g - softmax(x) * sum(g)
Variable log_softmax(const Variable& a, int64_t axis) {
  SavedVariable sa(a, "log_softmax");
  return make_result(ops::log_softmax(a.data(), axis), {a}, "log_softmax",
                     [sa, axis](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {g - softmax(sa.unpack(), axis) * sum(g, {axis}, true)};
                     });
}

// d/dx softmax(x) · g = s * (g - sum(g * s))
Variable softmax(const Variable& a, int64_t axis) {
  SavedVariable sa(a, "softmax");
  return make_result(ops::softmax(a.data(), axis), {a}, "softmax",
                     [sa, axis](const Variable& g, const std::vector<bool>&) -> Grads {
                       const Variable s = softmax(sa.unpack(), axis);
                       return {s * (g - sum(g * s, {axis}, true))};
                     });
}

}  // namespace mg
