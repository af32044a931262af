// conv2d and its two backward halves. Each op: shape checks, the kernel call (core/kernels/conv.h), then
// the backward rule. The rules close over each other: with A_w x = conv2d(x, w),
//   conv2d            backward: gx = conv2d_input_grad(g, w),  gw = conv2d_weight_grad(x, g),  gb = sum(g)
//   conv2d_input_grad (A_w^T gy)  backward: ggy = conv2d(G, w),        gw = conv2d_weight_grad(G, gy)
//   conv2d_weight_grad            backward: gx = conv2d_input_grad(gy, G), ggy = conv2d(x, G)
// so gradients of any order are conv2d-shaped ops again. Under bf16 autocast (nn/autocast.h), float32 conv2d
// runs as conv2d_bf16 (bf16_ops.cpp) instead. In a data-parallel step it runs per micro-shard
// (nn/distributed/micro_shards.h).
#include "autograd/functions.h"
#include "core/kernels/conv.h"
#include "nn/functional.h"
#include "nn/distributed/micro_shards.h"
#include "nn/functional/bf16_ops.h"

namespace mg::nn {
namespace {

using Grads = std::vector<Variable>;
using kernels::Conv2dShape;

// Validates x (N, C, H, W) against weight (O, C, kh, kw) and returns the geometry; errors name both shapes.
Conv2dShape conv_geometry(const char* op, const Shape& x, const Shape& w, int64_t stride, int64_t padding) {
  MG_CHECK(x.size() == 4, op, ": input must be 4-d (N, C, H, W), got ", to_string(x));
  MG_CHECK(w.size() == 4, op, ": weight must be 4-d (out, in, kh, kw), got ", to_string(w));
  MG_CHECK(stride >= 1, op, ": stride must be >= 1, got ", stride);
  MG_CHECK(padding >= 0, op, ": padding must be >= 0, got ", padding);
  MG_CHECK(w[1] == x[1], op, ": weight ", to_string(w), " expects ", w[1], " input channels, but the input ",
           to_string(x), " has ", x[1]);
  MG_CHECK(w[2] >= 1 && w[3] >= 1 && w[2] <= x[2] + 2 * padding && w[3] <= x[3] + 2 * padding, op, ": kernel ",
           w[2], "x", w[3], " of weight ", to_string(w), " does not fit the input ", to_string(x), " with padding ",
           padding);
  return kernels::make_conv2d_shape(x[0], x[1], x[2], x[3], w[0], w[2], w[3], stride, padding);
}

void check_dtypes(const char* op, const Tensor& a, const Tensor& b) {
  MG_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch, ", describe(a), " vs ", describe(b));
}

// Checks that gy has the shape conv2d gives for geometry s.
void check_output_grad(const char* op, const Conv2dShape& s, const Tensor& gy) {
  const Shape expected = {s.batch, s.out_channels, s.out_h, s.out_w};
  MG_CHECK(gy.shape() == expected, op, ": output gradient ", describe(gy), " does not match the conv2d output shape ",
           to_string(expected));
}

}  // namespace

Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias, int64_t stride, int64_t padding) {
  const Conv2dShape s = conv_geometry("conv2d", x.shape(), weight.shape(), stride, padding);
  check_dtypes("conv2d", x.data(), weight.data());
  if (bias.defined()) {
    MG_CHECK(bias.shape() == Shape{s.out_channels}, "conv2d: bias ", describe(bias.data()), " does not match weight ",
             describe(weight.data()), " (expected [", s.out_channels, "])");
    check_dtypes("conv2d", x.data(), bias.data());
  }
  if (const MicroShards* shards = detail::micro_shards_for(s.batch))
    return detail::per_micro_shard("conv2d", *shards, x, {weight, bias},
                                   [stride, padding](const Variable& xs, const std::vector<Variable>& p) {
                                     return conv2d(xs, p[0], p[1], stride, padding);
                                   });
  if (detail::runs_in_bf16(x.data())) return detail::conv2d_bf16(x, weight, bias, s);
  const Tensor xc = x.data().contiguous(), wc = weight.data().contiguous();
  const Tensor bc = bias.defined() ? bias.data().contiguous() : Tensor();
  Tensor y = Tensor::empty({s.batch, s.out_channels, s.out_h, s.out_w}, x.dtype());
  detail::count_macs(s.batch * s.out_sample() * s.col_rows());
  visit_dtype(x.dtype(), [&]<typename T>() {
    kernels::conv2d_forward<T>(xc.data<T>(), wc.data<T>(), bc.defined() ? bc.data<T>() : nullptr, y.data<T>(), s);
  });
  // x is needed only for the weight gradient, the weight only for the input gradient.
  const SavedVariable sx = weight.requires_grad() ? SavedVariable(x, "conv2d") : SavedVariable();
  const SavedVariable sw = x.requires_grad() ? SavedVariable(weight, "conv2d") : SavedVariable();
  return make_result(y, {x, weight, bias}, "conv2d",
                     [sx, sw, x_shape = x.shape(), w_shape = weight.shape(), stride, padding](
                         const Variable& g, const std::vector<bool>& need) -> Grads {
                       return {need[0] ? conv2d_input_grad(g, sw.unpack(), x_shape, stride, padding) : Variable(),
                               need[1] ? conv2d_weight_grad(sx.unpack(), g, w_shape, stride, padding) : Variable(),
                               need[2] ? sum(g, {0, 2, 3}) : Variable()};
                     });
}

Variable conv2d_input_grad(const Variable& gy, const Variable& weight, const Shape& x_shape, int64_t stride,
                           int64_t padding) {
  const Conv2dShape s = conv_geometry("conv2d_input_grad", x_shape, weight.shape(), stride, padding);
  check_dtypes("conv2d_input_grad", gy.data(), weight.data());
  check_output_grad("conv2d_input_grad", s, gy.data());
  const Tensor gc = gy.data().contiguous(), wc = weight.data().contiguous();
  Tensor gx = Tensor::empty(x_shape, gy.dtype());
  visit_dtype(gy.dtype(), [&]<typename T>() { kernels::conv2d_input_grad<T>(gc.data<T>(), wc.data<T>(), gx.data<T>(), s); });
  const SavedVariable sg = weight.requires_grad() ? SavedVariable(gy, "conv2d_input_grad") : SavedVariable();
  const SavedVariable sw = gy.requires_grad() ? SavedVariable(weight, "conv2d_input_grad") : SavedVariable();
  return make_result(gx, {gy, weight}, "conv2d_input_grad",
                     [sg, sw, w_shape = weight.shape(), stride, padding](const Variable& G,
                                                                         const std::vector<bool>& need) -> Grads {
                       return {need[0] ? conv2d(G, sw.unpack(), Variable(), stride, padding) : Variable(),
                               need[1] ? conv2d_weight_grad(G, sg.unpack(), w_shape, stride, padding) : Variable()};
                     });
}

Variable conv2d_weight_grad(const Variable& x, const Variable& gy, const Shape& weight_shape, int64_t stride,
                            int64_t padding) {
  const Conv2dShape s = conv_geometry("conv2d_weight_grad", x.shape(), weight_shape, stride, padding);
  check_dtypes("conv2d_weight_grad", x.data(), gy.data());
  check_output_grad("conv2d_weight_grad", s, gy.data());
  const Tensor xc = x.data().contiguous(), gc = gy.data().contiguous();
  Tensor gw = Tensor::empty(weight_shape, x.dtype());
  visit_dtype(x.dtype(), [&]<typename T>() { kernels::conv2d_weight_grad<T>(xc.data<T>(), gc.data<T>(), gw.data<T>(), s); });
  const SavedVariable sx = gy.requires_grad() ? SavedVariable(x, "conv2d_weight_grad") : SavedVariable();
  const SavedVariable sg = x.requires_grad() ? SavedVariable(gy, "conv2d_weight_grad") : SavedVariable();
  return make_result(gw, {x, gy}, "conv2d_weight_grad",
                     [sx, sg, x_shape = x.shape(), stride, padding](const Variable& G,
                                                                    const std::vector<bool>& need) -> Grads {
                       return {need[0] ? conv2d_input_grad(sg.unpack(), G, x_shape, stride, padding) : Variable(),
                               need[1] ? conv2d(sx.unpack(), G, Variable(), stride, padding) : Variable()};
                     });
}

}  // namespace mg::nn
