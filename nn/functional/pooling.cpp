// max_pool2d and avg_pool2d (square windows, no padding, floor mode), each with its backward as a
// differentiable op so that gradients of gradients work (create_graph):
//   max_pool2d:           y = x[argmax]            backward: max_pool2d_backward(g) (scatter-add at argmax)
//   max_pool2d_backward:  linear in gy             backward: gather at the same argmax
//   avg_pool2d:           window means             backward: avg_pool2d_backward(g)
//   avg_pool2d_backward:  linear in gy             backward: avg_pool2d (its adjoint)
#include <limits>
#include <memory>

#include "autograd/functions.h"
#include "core/kernels/pool.h"
#include "nn/functional.h"

namespace mg::nn {
namespace {

using Grads = std::vector<Variable>;
using kernels::Pool2dShape;
// Argmax positions (int32) kept for backward. They live in a float32 tensor of the same element count so
// that the buffer comes from the caching allocator: a fresh multi-megabyte malloc every training step
// would be returned to the OS and page-faulted in again.
struct ArgmaxBuffer {
  Tensor holder;
  explicit ArgmaxBuffer(int64_t n) : holder(Tensor::empty({n})) {}
  int32_t* data() const { return reinterpret_cast<int32_t*>(const_cast<float*>(holder.data<float>())); }
};
static_assert(sizeof(float) == sizeof(int32_t));
using Argmax = std::shared_ptr<const ArgmaxBuffer>;

Pool2dShape pool_geometry(const char* op, const Tensor& x, int64_t kernel, int64_t stride) {
  MG_CHECK(x.dim() == 4, op, ": input must be 4-d (N, C, H, W), got ", describe(x));
  MG_CHECK(kernel >= 1 && stride >= 1, op, ": kernel and stride must be >= 1, got kernel ", kernel, ", stride ",
           stride);
  MG_CHECK(kernel <= x.size(2) && kernel <= x.size(3), op, ": kernel ", kernel, " is larger than the input ",
           describe(x));
  MG_CHECK(x.size(2) * x.size(3) <= std::numeric_limits<int32_t>::max(), op, ": input planes too large, ", describe(x));
  return kernels::make_pool2d_shape(x.size(0) * x.size(1), x.size(2), x.size(3), kernel, stride);
}

Shape output_shape(const Shape& x, const Pool2dShape& s) { return {x[0], x[1], s.out_h, s.out_w}; }

Variable max_pool2d_gather(const Variable& x, const Argmax& argmax, const Pool2dShape& s);

// The gradient of dot(max_pool2d(x), gy) with respect to x: gy scattered (added) to the argmax positions.
Variable max_pool2d_backward(const Variable& gy, const Argmax& argmax, const Pool2dShape& s, const Shape& x_shape) {
  const Tensor gc = gy.data().contiguous();
  Tensor gx = Tensor::empty(x_shape, gy.dtype());
  visit_dtype(gy.dtype(), [&]<typename T>() {
    kernels::max_pool2d_backward<T>(gc.data<T>(), argmax->data(), gx.data<T>(), s);
  });
  return make_result(gx, {gy}, "max_pool2d_backward",
                     [argmax, s](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {max_pool2d_gather(g, argmax, s)};
                     });
}

// x gathered at the argmax positions: the adjoint of max_pool2d_backward.
Variable max_pool2d_gather(const Variable& x, const Argmax& argmax, const Pool2dShape& s) {
  const Tensor xc = x.data().contiguous();
  Tensor y = Tensor::empty(output_shape(x.shape(), s), x.dtype());
  visit_dtype(x.dtype(), [&]<typename T>() {
    kernels::max_pool2d_gather<T>(xc.data<T>(), argmax->data(), y.data<T>(), s);
  });
  return make_result(y, {x}, "max_pool2d_gather",
                     [argmax, s, x_shape = x.shape()](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {max_pool2d_backward(g, argmax, s, x_shape)};
                     });
}

// The gradient of dot(avg_pool2d(x), gy) with respect to x.
Variable avg_pool2d_backward(const Variable& gy, const Pool2dShape& s, const Shape& x_shape) {
  const Tensor gc = gy.data().contiguous();
  Tensor gx = Tensor::empty(x_shape, gy.dtype());
  visit_dtype(gy.dtype(), [&]<typename T>() { kernels::avg_pool2d_backward<T>(gc.data<T>(), gx.data<T>(), s); });
  return make_result(gx, {gy}, "avg_pool2d_backward", [s](const Variable& g, const std::vector<bool>&) -> Grads {
    return {avg_pool2d(g, s.kernel, s.stride)};
  });
}

}  // namespace

Variable max_pool2d(const Variable& x, int64_t kernel, int64_t stride) {
  const Pool2dShape s = pool_geometry("max_pool2d", x.data(), kernel, stride);
  const Tensor xc = x.data().contiguous();
  Tensor y = Tensor::empty(output_shape(x.shape(), s), x.dtype());
  // The argmax positions are kept only when a backward pass can need them.
  const bool record = grad_mode_enabled() && x.requires_grad();
  auto argmax = std::make_shared<ArgmaxBuffer>(record ? y.numel() : 0);
  visit_dtype(x.dtype(), [&]<typename T>() {
    kernels::max_pool2d_forward<T>(xc.data<T>(), y.data<T>(), record ? argmax->data() : nullptr, s);
  });
  return make_result(y, {x}, "max_pool2d",
                     [argmax = Argmax(argmax), s, x_shape = x.shape()](const Variable& g,
                                                                       const std::vector<bool>&) -> Grads {
                       return {max_pool2d_backward(g, argmax, s, x_shape)};
                     });
}

Variable avg_pool2d(const Variable& x, int64_t kernel, int64_t stride) {
  const Pool2dShape s = pool_geometry("avg_pool2d", x.data(), kernel, stride);
  const Tensor xc = x.data().contiguous();
  Tensor y = Tensor::empty(output_shape(x.shape(), s), x.dtype());
  visit_dtype(x.dtype(), [&]<typename T>() { kernels::avg_pool2d_forward<T>(xc.data<T>(), y.data<T>(), s); });
  return make_result(y, {x}, "avg_pool2d",
                     [s, x_shape = x.shape()](const Variable& g, const std::vector<bool>&) -> Grads {
                       return {avg_pool2d_backward(g, s, x_shape)};
                     });
}

}  // namespace mg::nn
