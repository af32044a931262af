// Differentiable ops on Variables. Each op's forward and backward sit side by side in one of:
//   functions_elementwise.cpp  arithmetic, unary math, comparisons-based ops (relu, clamp, maximum, where)
//   functions_reduce.cpp       sum, mean, amax, amin, log_softmax, softmax
//   functions_linalg.cpp       matmul
//   functions_shape.cpp        reshape, permute, slice, expand, concat, pad, index_select, gather, ...
// Backward rules use these same ops, so every rule is itself differentiable (create_graph).
#pragma once
#include <vector>

#include "autograd/variable.h"

namespace mg {

// ---- elementwise (binary ops broadcast) -----------------------------------------------------------------
Variable add(const Variable& a, const Variable& b);
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
Variable div(const Variable& a, const Variable& b);
Variable pow(const Variable& a, const Variable& b);  // a > 0 where b's gradient is needed
Variable pow(const Variable& a, double exponent);
Variable maximum(const Variable& a, const Variable& b);
Variable minimum(const Variable& a, const Variable& b);
Variable where(const Tensor& cond, const Variable& a, const Variable& b);  // cond is not differentiated
Variable neg(const Variable& a);
Variable exp(const Variable& a);
Variable log(const Variable& a);
Variable sqrt(const Variable& a);
Variable abs(const Variable& a);
Variable sign(const Variable& a);  // gradient zero
Variable relu(const Variable& a);
Variable sigmoid(const Variable& a);
Variable tanh(const Variable& a);
Variable clamp(const Variable& a, double lo, double hi);
Variable scale(const Variable& a, double factor);  // a * factor
Variable add_scalar(const Variable& a, double value);

Variable operator+(const Variable& a, const Variable& b);
Variable operator-(const Variable& a, const Variable& b);
Variable operator*(const Variable& a, const Variable& b);
Variable operator/(const Variable& a, const Variable& b);
Variable operator-(const Variable& a);
Variable operator+(const Variable& a, double b);
Variable operator-(const Variable& a, double b);
Variable operator*(const Variable& a, double b);
Variable operator/(const Variable& a, double b);
Variable operator+(double a, const Variable& b);
Variable operator-(double a, const Variable& b);
Variable operator*(double a, const Variable& b);

// ---- reductions (empty axes = all) -------------------------------------------------------------------------
Variable sum(const Variable& a, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Variable mean(const Variable& a, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Variable amax(const Variable& a, const std::vector<int64_t>& axes = {}, bool keepdim = false);  // ties share
Variable amin(const Variable& a, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Variable sum_to_shape(const Variable& a, const Shape& shape);
Variable log_softmax(const Variable& a, int64_t axis);
Variable softmax(const Variable& a, int64_t axis);

// ---- linear algebra ----------------------------------------------------------------------------------------
Variable matmul(const Variable& a, const Variable& b);

// ---- shape -------------------------------------------------------------------------------------------------
Variable reshape(const Variable& a, const Shape& shape);
Variable permute(const Variable& a, const std::vector<int64_t>& order);
Variable transpose(const Variable& a, int64_t axis0, int64_t axis1);
Variable unsqueeze(const Variable& a, int64_t axis);
Variable squeeze(const Variable& a, int64_t axis);
Variable flatten(const Variable& a, int64_t start = 0, int64_t end = -1);
Variable expand(const Variable& a, const Shape& shape);
Variable slice(const Variable& a, int64_t axis, int64_t start, int64_t end, int64_t step = 1);
Variable select(const Variable& a, int64_t axis, int64_t index);
// The adjoint of slice: zeros of `shape` with `a` written into the slice.
Variable slice_backward(const Variable& a, const Shape& shape, int64_t axis, int64_t start, int64_t end,
                        int64_t step);
Variable concat(const std::vector<Variable>& parts, int64_t axis);
Variable pad(const Variable& a, const std::vector<int64_t>& pads, double value = 0.0);
Variable index_select(const Variable& a, int64_t axis, const std::vector<int64_t>& index);
Variable index_add(const Variable& src, const Shape& shape, int64_t axis, const std::vector<int64_t>& index);
Variable gather(const Variable& a, int64_t axis, const std::vector<int64_t>& index, const Shape& index_shape);
Variable scatter_add(const Variable& src, const Shape& shape, int64_t axis, const std::vector<int64_t>& index);
Variable contiguous(const Variable& a);
Variable to_dtype(const Variable& a, DType dtype);

}  // namespace mg
