// conv2d and linear under bf16 autocast. Forward: the bf16 kernels (operands rounded as packed, float32
// sums), output rounded to bf16. Backward (first-order only): the output gradient is rounded to bf16 as
// autocast's bf16 output would receive it, both products run in bf16, and each gradient is rounded to bf16;
// the bias gradient is the float32 sum of the rounded output gradient, rounded.
#include "nn/functional/bf16_ops.h"

#include "autograd/functions.h"
#include "core/bf16.h"
#include "core/kernels/bf16/conv.h"
#include "core/kernels/bf16/gemm.h"
#include "core/ops.h"
#include "nn/autocast.h"
#include "nn/functional.h"

namespace mg::nn::detail {
namespace {

using Grads = std::vector<Variable>;

Tensor rounded(Tensor t) {
  kernels::bf16::round_in_place(t.data<float>(), t.numel());
  return t;
}

// The output gradient as the bf16 kernels take it: contiguous float32, rounded to bf16.
Tensor rounded_output_grad(const char* op, const Variable& g) {
  MG_CHECK(!grad_mode_enabled(), op, ": double backward through a bf16 (autocast) ", op,
           " is not supported; run it in f32 (--precision f32)");
  return rounded(g.data().to(DType::F32).clone());
}

}  // namespace

bool runs_in_bf16(const Tensor& x) { return autocast_precision() == Precision::bf16 && x.dtype() == DType::F32; }

Variable conv2d_bf16(const Variable& x, const Variable& weight, const Variable& bias, const kernels::Conv2dShape& s) {
  const Tensor xc = x.data().contiguous(), wc = weight.data().contiguous();
  const Tensor bc = bias.defined() ? bias.data().contiguous() : Tensor();
  Tensor y = Tensor::empty({s.batch, s.out_channels, s.out_h, s.out_w}, DType::F32);
  count_macs(s.batch * s.out_sample() * s.col_rows());
  kernels::bf16::conv2d_forward(xc.data<float>(), wc.data<float>(), bc.defined() ? bc.data<float>() : nullptr,
                                y.data<float>(), s);
  const SavedVariable sx = weight.requires_grad() ? SavedVariable(x, "conv2d") : SavedVariable();
  const SavedVariable sw = x.requires_grad() ? SavedVariable(weight, "conv2d") : SavedVariable();
  return make_result(rounded(y), {x, weight, bias}, "conv2d_bf16",
                     [sx, sw, s, x_shape = x.shape(), w_shape = weight.shape()](const Variable& g,
                                                                                const std::vector<bool>& need) -> Grads {
                       const Tensor gy = rounded_output_grad("conv2d", g);
                       Grads out(3);
                       if (need[0]) {
                         Tensor gx = Tensor::empty(x_shape, DType::F32);
                         const Tensor w = sw.unpack().data().contiguous();
                         kernels::bf16::conv2d_input_grad(gy.data<float>(), w.data<float>(), gx.data<float>(), s);
                         out[0] = Variable(rounded(gx));
                       }
                       if (need[1]) {
                         Tensor gw = Tensor::empty(w_shape, DType::F32);
                         const Tensor xs = sx.unpack().data().contiguous();
                         kernels::bf16::conv2d_weight_grad(xs.data<float>(), gy.data<float>(), gw.data<float>(), s);
                         out[1] = Variable(rounded(gw));
                       }
                       if (need[2]) out[2] = Variable(rounded(ops::sum(gy, {0, 2, 3})));
                       return out;
                     });
}

Variable linear_bf16(const Variable& x, const Variable& weight, const Variable& bias) {
  const int64_t n = x.size(0), in = x.size(1), out = weight.size(0);
  const Tensor xc = x.data().contiguous(), wc = weight.data().contiguous();
  Tensor y = Tensor::empty({n, out}, DType::F32);
  count_macs(n * out * in);
  kernels::bf16::matmul(xc.data<float>(), false, wc.data<float>(), true, y.data<float>(), n, out, in);
  if (bias.defined()) {
    const Tensor bc = bias.data().contiguous();
    float* py = y.data<float>();
    for (int64_t j = 0; j < out; ++j) {
      const float b = mg::bf16::round(bc.data<float>()[j]);
      for (int64_t r = 0; r < n; ++r) py[r * out + j] += b;
    }
  }
  const SavedVariable sx = weight.requires_grad() ? SavedVariable(x, "linear") : SavedVariable();
  const SavedVariable sw = x.requires_grad() ? SavedVariable(weight, "linear") : SavedVariable();
  return make_result(rounded(y), {x, weight, bias}, "linear_bf16",
                     [sx, sw, n, in, out](const Variable& g, const std::vector<bool>& need) -> Grads {
                       const Tensor gy = rounded_output_grad("linear", g);
                       Grads grads(3);
                       if (need[0]) {
                         Tensor gx = Tensor::empty({n, in}, DType::F32);
                         const Tensor w = sw.unpack().data().contiguous();
                         kernels::bf16::matmul(gy.data<float>(), false, w.data<float>(), false, gx.data<float>(), n, in, out);
                         grads[0] = Variable(rounded(gx));
                       }
                       if (need[1]) {
                         Tensor gw = Tensor::empty({out, in}, DType::F32);
                         const Tensor xs = sx.unpack().data().contiguous();
                         kernels::bf16::matmul(gy.data<float>(), true, xs.data<float>(), false, gw.data<float>(), out, in, n);
                         grads[1] = Variable(rounded(gw));
                       }
                       if (need[2]) grads[2] = Variable(rounded(ops::sum(gy, {0})));
                       return grads;
                     });
}

}  // namespace mg::nn::detail
