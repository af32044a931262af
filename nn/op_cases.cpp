// gradcheck cases for nn/functional.h: small f64 shapes, non-trivial parameters (BN gamma != 1, beta != 0,
// running statistics away from 0 and 1), pooling inputs without ties, fixed targets and dropout masks.
#include "nn/op_cases.h"

#include "autograd/functions.h"
#include "core/ops.h"
#include "nn/functional.h"

namespace mg {
namespace {

using Vars = std::vector<Variable>;
using Inputs = std::vector<Tensor>;

int64_t conv_out(int64_t size, int64_t k, int64_t stride, int64_t padding) {
  return (size + 2 * padding - k) / stride + 1;
}

// conv2d on x (n, c, h, w) with an (o, c, k, k) weight, with or without bias.
OpCase conv_case(std::string name, Shape x, int64_t o, int64_t k, int64_t stride, int64_t padding, bool bias) {
  const Shape w = {o, x[1], k, k};
  return {std::move(name),
          [x, w, o, bias](Generator& g) -> Inputs {
            Inputs in = {uniform64(x, g), uniform64(w, g)};
            if (bias) in.push_back(uniform64({o}, g));
            return in;
          },
          [stride, padding, bias](const Vars& v) {
            return nn::conv2d(v[0], v[1], bias ? v[2] : Variable(), stride, padding);
          }};
}

// The output-gradient shape conv2d gives for x and an (o, c, k, k) weight.
Shape conv_output(const Shape& x, int64_t o, int64_t k, int64_t stride, int64_t padding) {
  return {x[0], o, conv_out(x[2], k, stride, padding), conv_out(x[3], k, stride, padding)};
}

// conv2d_input_grad(gy, w): the op conv2d's backward (and double backward) runs through.
OpCase conv_input_grad_case(std::string name, Shape x, int64_t o, int64_t k, int64_t stride, int64_t padding) {
  const Shape gy = conv_output(x, o, k, stride, padding), w = {o, x[1], k, k};
  return {std::move(name), [gy, w](Generator& g) -> Inputs { return {uniform64(gy, g), uniform64(w, g)}; },
          [x, stride, padding](const Vars& v) { return nn::conv2d_input_grad(v[0], v[1], x, stride, padding); }};
}

// conv2d_weight_grad(x, gy).
OpCase conv_weight_grad_case(std::string name, Shape x, int64_t o, int64_t k, int64_t stride, int64_t padding) {
  const Shape gy = conv_output(x, o, k, stride, padding), w = {o, x[1], k, k};
  return {std::move(name), [x, gy](Generator& g) -> Inputs { return {uniform64(x, g), uniform64(gy, g)}; },
          [w, stride, padding](const Vars& v) { return nn::conv2d_weight_grad(v[0], v[1], w, stride, padding); }};
}

// batch_norm (or batch_norm_relu) on x (inputs: x, gamma, beta, running_mean, running_var; the running
// statistics are not differentiated). Train mode updates the running statistics, so each evaluation works on
// copies.
OpCase batch_norm_case(std::string name, Shape x, bool training, bool relu = false) {
  const int64_t c = x[1];
  return {std::move(name),
          [x, c](Generator& g) -> Inputs {
            Tensor input = ops::add(uniform64(x, g, -1.5, 1.5), 0.3);  // a mean away from 0
            return {input, uniform64({c}, g, 0.5, 1.5), uniform64({c}, g, -0.5, 0.5), uniform64({c}, g, -0.5, 0.5),
                    uniform64({c}, g, 0.5, 2.0)};
          },
          [training, relu](const Vars& v) {
            Tensor running_mean = v[3].data().clone(), running_var = v[4].data().clone();
            return relu ? nn::batch_norm_relu(v[0], v[1], v[2], running_mean, running_var, training)
                        : nn::batch_norm(v[0], v[1], v[2], running_mean, running_var, training);
          },
          {true, true, true, false, false},
          {},
          !training};  // train mode's backward is first-order only
}

OpCase pool_case(std::string name, Shape x, int64_t kernel, int64_t stride, bool max) {
  return {std::move(name), [x](Generator& g) -> Inputs { return {distinct64(x, g)}; },
          [kernel, stride, max](const Vars& v) {
            return max ? nn::max_pool2d(v[0], kernel, stride) : nn::avg_pool2d(v[0], kernel, stride);
          }};
}

OpCase linear_case(std::string name, bool bias) {
  return {std::move(name),
          [bias](Generator& g) -> Inputs {
            Inputs in = {uniform64({3, 5}, g), uniform64({4, 5}, g)};
            if (bias) in.push_back(uniform64({4}, g));
            return in;
          },
          [bias](const Vars& v) { return nn::linear(v[0], v[1], bias ? v[2] : Variable()); }};
}

}  // namespace

std::vector<OpCase> nn_op_cases() {
  std::vector<OpCase> cases;
  // conv2d: stride 1 and 2, padding 0 and 1, with and without bias, 3x3, 1x1 (the PreAct shortcut) and 2x2.
  cases.push_back(conv_case("conv2d_s1_p0_bias", {2, 3, 5, 5}, 4, 3, 1, 0, true));
  cases.push_back(conv_case("conv2d_s1_p1_bias", {2, 3, 5, 5}, 4, 3, 1, 1, true));
  cases.push_back(conv_case("conv2d_s1_p1_nobias", {2, 3, 6, 5}, 4, 3, 1, 1, false));
  cases.push_back(conv_case("conv2d_s2_p1_nobias", {2, 3, 6, 6}, 4, 3, 2, 1, false));
  cases.push_back(conv_case("conv2d_s2_p0_bias", {2, 3, 6, 6}, 4, 3, 2, 0, true));
  cases.push_back(conv_case("conv2d_s2_p1_bias_odd", {2, 3, 5, 5}, 4, 3, 2, 1, true));
  cases.push_back(conv_case("conv2d_1x1_s2_nobias", {2, 3, 6, 6}, 4, 1, 2, 0, false));
  cases.push_back(conv_case("conv2d_1x1_s1_bias", {2, 3, 5, 5}, 4, 1, 1, 0, true));
  cases.push_back(conv_case("conv2d_2x2_s2_p1_bias", {2, 3, 5, 6}, 4, 2, 2, 1, true));
  cases.push_back(conv_input_grad_case("conv2d_input_grad_s1_p1", {2, 3, 5, 5}, 4, 3, 1, 1));
  cases.push_back(conv_input_grad_case("conv2d_input_grad_s2_p1", {2, 3, 6, 6}, 4, 3, 2, 1));
  cases.push_back(conv_weight_grad_case("conv2d_weight_grad_s1_p1", {2, 3, 5, 5}, 4, 3, 1, 1));
  cases.push_back(conv_weight_grad_case("conv2d_weight_grad_s2_p0", {2, 3, 6, 6}, 4, 3, 2, 0));
  // batch_norm: train (batch statistics) and eval (running statistics); 4-d and 2-d inputs.
  cases.push_back(batch_norm_case("batch_norm_train", {4, 3, 3, 3}, true));
  cases.push_back(batch_norm_case("batch_norm_train_2d", {6, 4}, true));
  cases.push_back(batch_norm_case("batch_norm_eval", {4, 3, 3, 3}, false));
  cases.push_back(batch_norm_case("batch_norm_relu_train", {4, 3, 3, 3}, true, true));
  cases.push_back(batch_norm_case("batch_norm_relu_eval", {4, 3, 3, 3}, false, true));
  // pooling: non-overlapping, overlapping windows, windows that leave a border uncovered, global average.
  cases.push_back(pool_case("max_pool2d_k2_s2", {2, 3, 6, 6}, 2, 2, true));
  cases.push_back(pool_case("max_pool2d_k3_s2", {2, 2, 7, 6}, 3, 2, true));
  cases.push_back(pool_case("avg_pool2d_k2_s2", {2, 3, 6, 6}, 2, 2, false));
  cases.push_back(pool_case("avg_pool2d_k3_s2", {2, 2, 7, 6}, 3, 2, false));
  cases.push_back(pool_case("avg_pool2d_global", {2, 3, 4, 4}, 4, 4, false));
  cases.push_back(linear_case("linear_bias", true));
  cases.push_back(linear_case("linear_nobias", false));
  // cross_entropy: integer targets (fixed), and soft targets (softmax rows, differentiated too).
  cases.push_back({"cross_entropy_hard", [](Generator& g) -> Inputs { return {uniform64({4, 5}, g, -2.0, 2.0)}; },
                   [](const Vars& v) { return nn::cross_entropy(v[0], std::vector<int64_t>{1, 4, 0, 2}); }});
  cases.push_back({"cross_entropy_soft",
                   [](Generator& g) -> Inputs {
                     return {uniform64({4, 5}, g, -2.0, 2.0), ops::softmax(uniform64({4, 5}, g, -1.0, 1.0), 1)};
                   },
                   [](const Vars& v) { return nn::cross_entropy(v[0], v[1]); }});
  // dropout with a fixed mask of zeros and 1 / (1 - p), p = 0.3 (the mask is not differentiated).
  cases.push_back({"dropout_with_mask",
                   [](Generator& g) -> Inputs {
                     Tensor mask = Tensor::empty({3, 4}, DType::F64);
                     for (int64_t i = 0; i < mask.numel(); ++i)
                       mask.data<double>()[i] = i % 3 == 1 ? 0.0 : 1.0 / (1.0 - 0.3);
                     return {uniform64({3, 4}, g), mask};
                   },
                   [](const Vars& v) { return nn::dropout_with_mask(v[0], v[1].data()); },
                   {true, false}});
  return cases;
}

std::vector<OpDoc> nn_op_docs() {
  const std::string conv_kernels = "core/kernels/conv.cpp, core/kernels/conv_avx512/", conv = "nn/functional/conv.cpp";
  const std::string pool_kernels = "core/kernels/pool.cpp", pool = "nn/functional/pooling.cpp";
  const std::string bn_kernels = "core/kernels/batch_norm.cpp", bn = "nn/functional/batch_norm.cpp";
  return {
      {"conv2d", conv_kernels, conv},
      {"conv2d_input_grad", conv_kernels, conv},
      {"conv2d_weight_grad", conv_kernels, conv},
      {"conv2d_bf16", "core/kernels/bf16/conv.cpp, core/kernels/bf16/gemm_avx512.cpp", "nn/functional/bf16_ops.cpp",
       "tests/nn/test_autocast.cpp (bf16: against float64 and PyTorch's autocast; first-order only)"},
      {"linear", "core/ops/matmul.cpp, core/gemm.cpp", "nn/functional/linear.cpp"},
      {"linear_bf16", "core/kernels/bf16/gemm.cpp, core/kernels/bf16/gemm_avx512.cpp", "nn/functional/bf16_ops.cpp",
       "tests/nn/test_autocast.cpp (bf16: against float64 and PyTorch's autocast; first-order only)"},
      {"batch_norm", bn_kernels, bn},
      {"batch_norm_relu", bn_kernels, bn},
      {"max_pool2d", pool_kernels, pool},
      {"max_pool2d_backward", pool_kernels, pool, "max_pool2d's double backward (gradgradcheck of max_pool2d)"},
      {"max_pool2d_gather", pool_kernels, pool, "max_pool2d's double backward (gradgradcheck of max_pool2d)"},
      {"avg_pool2d", pool_kernels, pool},
      {"avg_pool2d_backward", pool_kernels, pool, "avg_pool2d's double backward (gradgradcheck of avg_pool2d)"},
      {"cross_entropy", "core/kernels/cross_entropy.cpp, core/kernels/logsumexp.h", "nn/functional/cross_entropy.cpp"},
      {"dropout", "core/ops/elementwise.cpp", "nn/functional/dropout.cpp",
       "dropout_with_mask (the same rule once the mask is drawn); tests/nn/test_functional_loss.cpp for the mask"},
      {"dropout_with_mask", "core/ops/elementwise.cpp", "nn/functional/dropout.cpp"},
  };
}

}  // namespace mg
