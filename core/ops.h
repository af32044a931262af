// Tensor operations without autograd: the kernels that autograd's differentiable ops call. Binary ops
// broadcast (NumPy/PyTorch rules) and require equal dtypes; shape errors name both shapes.
// Implementations: core/ops/elementwise.cpp, reduce.cpp, matmul.cpp, shape_ops.cpp, softmax.cpp.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace mg::ops {

// ---- elementwise, binary (broadcasting) --------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// Comparisons return 1 or 0 in the inputs' dtype.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
// where(cond, a, b): a where cond != 0, else b; all three broadcast together.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// Scalar right-hand sides (the scalar takes the tensor's dtype).
Tensor add(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor pow(const Tensor& a, double exponent);

// ---- elementwise, unary -----------------------------------------------------------------------------
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor sign(const Tensor& a);
Tensor relu(const Tensor& a);  // as PyTorch: NaN stays NaN, -0 stays -0
Tensor sigmoid(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor clamp(const Tensor& a, double lo, double hi);
// relu's backward in one pass: g where y > 0, else 0 (y = relu(x) is positive exactly where x is).
Tensor relu_backward(const Tensor& g, const Tensor& y);
// relu of one value; every kernel that applies relu uses this.
template <typename T>
inline T relu_value(T x) {
  return x < T(0) ? T(0) : x;
}

// ---- in place (bump the destination's version) -------------------------------------------------------
void add_(Tensor& dst, const Tensor& src, double alpha = 1.0);  // dst += alpha * src (src broadcast)
void mul_(Tensor& dst, double factor);                          // dst *= factor

// ---- reductions over axes (empty list = all axes) ----------------------------------------------------
// Sums use a fixed split (independent of the thread count), so results are bitwise reproducible.
Tensor sum(const Tensor& a, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor mean(const Tensor& a, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor amax(const Tensor& a, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor amin(const Tensor& a, const std::vector<int64_t>& axes = {}, bool keepdim = false);
// Index of the first maximum along `axis`, for each position of the other axes (row-major order).
std::vector<int64_t> argmax(const Tensor& a, int64_t axis);
// Sums a broadcast result back to `shape` (the adjoint of broadcasting).
Tensor sum_to_shape(const Tensor& a, const Shape& shape);

// ---- linear algebra ----------------------------------------------------------------------------------
// (..., M, K) @ (..., K, N) -> (..., M, N), batch dimensions broadcast; 1-d operands as in torch.matmul.
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- shape ops ---------------------------------------------------------------------------------------
Tensor concat(const std::vector<Tensor>& parts, int64_t axis);
// pads[2*i], pads[2*i+1]: elements added before / after axis i (leading axes may be omitted: the list
// covers the last pads.size()/2 axes, like torch.nn.functional.pad but in natural axis order).
Tensor pad(const Tensor& a, const std::vector<int64_t>& pads, double value = 0.0);
Tensor index_select(const Tensor& a, int64_t axis, const std::vector<int64_t>& index);
// out[..., j, ...] = a[..., index[..., j, ...], ...] along `axis`; index has out's shape (index_shape).
Tensor gather(const Tensor& a, int64_t axis, const std::vector<int64_t>& index, const Shape& index_shape);
// The adjoint of gather: zeros of `shape` with src added at the gathered positions.
Tensor scatter_add(const Shape& shape, int64_t axis, const std::vector<int64_t>& index, const Tensor& src);
// The adjoint of index_select.
Tensor index_add(const Shape& shape, int64_t axis, const std::vector<int64_t>& index, const Tensor& src);

// ---- softmax -----------------------------------------------------------------------------------------
Tensor log_softmax(const Tensor& a, int64_t axis);  // stable: x - max - log(sum(exp(x - max)))
Tensor softmax(const Tensor& a, int64_t axis);

}  // namespace mg::ops
