// Elementwise ops: forward kernel call, then the backward rule. Broadcasting is undone by sum_to_shape.
#include "autograd/functions.h"
#include "core/ops.h"

namespace mg {
namespace {

using Grads = std::vector<Variable>;
Variable constant(const Tensor& t) { return Variable(t); }
Variable reduce_to(const Variable& g, const Shape& shape) { return sum_to_shape(g, shape); }

}  // namespace

Variable add(const Variable& a, const Variable& b) {
  return make_result(ops::add(a.data(), b.data()), {a, b}, "add",
                     [sa = a.shape(), sb = b.shape()](const Variable& g, const std::vector<bool>& need) -> Grads {
                       return {need[0] ? reduce_to(g, sa) : Variable(), need[1] ? reduce_to(g, sb) : Variable()};
                     });
}

Variable sub(const Variable& a, const Variable& b) {
  return make_result(ops::sub(a.data(), b.data()), {a, b}, "sub",
                     [sa = a.shape(), sb = b.shape()](const Variable& g, const std::vector<bool>& need) -> Grads {
                       return {need[0] ? reduce_to(g, sa) : Variable(), need[1] ? reduce_to(-g, sb) : Variable()};
                     });
}

Variable mul(const Variable& a, const Variable& b) {
  SavedVariable sa(a, "mul"), sb(b, "mul");
  return make_result(ops::mul(a.data(), b.data()), {a, b}, "mul",
                     [sa, sb](const Variable& g, const std::vector<bool>& need) -> Grads {
                       const Variable &x = sa.unpack(), &y = sb.unpack();
                       return {need[0] ? reduce_to(g * y, x.shape()) : Variable(),
                               need[1] ? reduce_to(g * x, y.shape()) : Variable()};
                     });
}

Variable div(const Variable& a, const Variable& b) {
  SavedVariable sa(a, "div"), sb(b, "div");
  return make_result(ops::div(a.data(), b.data()), {a, b}, "div",
                     [sa, sb](const Variable& g, const std::vector<bool>& need) -> Grads {
                       const Variable &x = sa.unpack(), &y = sb.unpack();
                       return {need[0] ? reduce_to(g / y, x.shape()) : Variable(),
                               need[1] ? reduce_to(-(g * x) / (y * y), y.shape()) : Variable()};
                     });
}

Variable pow(const Variable& a, const Variable& b) {
  SavedVariable sa(a, "pow"), sb(b, "pow");
  return make_result(ops::pow(a.data(), b.data()), {a, b}, "pow",
                     [sa, sb](const Variable& g, const std::vector<bool>& need) -> Grads {
                       const Variable &x = sa.unpack(), &y = sb.unpack();
                       return {need[0] ? reduce_to(g * y * pow(x, y - 1.0), x.shape()) : Variable(),
                               need[1] ? reduce_to(g * pow(x, y) * log(x), y.shape()) : Variable()};
                     });
}

Variable pow(const Variable& a, double exponent) {
  SavedVariable sa(a, "pow_scalar");
  return make_result(ops::pow(a.data(), exponent), {a}, "pow_scalar",
                     [sa, exponent](const Variable& g, const std::vector<bool>&) -> Grads {
                       if (exponent == 0.0) return {g * 0.0};
                       return {g * (exponent * pow(sa.unpack(), exponent - 1.0))};
                     });
}

// Ties (a == b) send the gradient to a, like a subgradient choice; gradcheck avoids ties.
Variable maximum(const Variable& a, const Variable& b) {
  const Tensor take_a = ops::ge(a.data(), b.data());
  return make_result(ops::maximum(a.data(), b.data()), {a, b}, "maximum",
                     [take_a, sa = a.shape(), sb = b.shape()](const Variable& g, const std::vector<bool>& need) -> Grads {
                       const Variable mask = constant(take_a);
                       return {need[0] ? reduce_to(g * mask, sa) : Variable(),
                               need[1] ? reduce_to(g * (1.0 - mask), sb) : Variable()};
                     });
}

Variable minimum(const Variable& a, const Variable& b) {
  const Tensor take_a = ops::le(a.data(), b.data());
  return make_result(ops::minimum(a.data(), b.data()), {a, b}, "minimum",
                     [take_a, sa = a.shape(), sb = b.shape()](const Variable& g, const std::vector<bool>& need) -> Grads {
                       const Variable mask = constant(take_a);
                       return {need[0] ? reduce_to(g * mask, sa) : Variable(),
                               need[1] ? reduce_to(g * (1.0 - mask), sb) : Variable()};
                     });
}

Variable where(const Tensor& cond, const Variable& a, const Variable& b) {
  return make_result(ops::where(cond, a.data(), b.data()), {a, b}, "where",
                     [cond, sa = a.shape(), sb = b.shape()](const Variable& g, const std::vector<bool>& need) -> Grads {
                       const Variable zero(Tensor::zeros({}, g.dtype()));
                       return {need[0] ? reduce_to(where(cond, g, zero), sa) : Variable(),
                               need[1] ? reduce_to(where(cond, zero, g), sb) : Variable()};
                     });
}

Variable neg(const Variable& a) {
  return make_result(ops::neg(a.data()), {a}, "neg",
                     [](const Variable& g, const std::vector<bool>&) -> Grads { return {-g}; });
}

Variable exp(const Variable& a) {
  SavedVariable sa(a, "exp");
  return make_result(ops::exp(a.data()), {a}, "exp",
                     [sa](const Variable& g, const std::vector<bool>&) -> Grads { return {g * exp(sa.unpack())}; });
}

Variable log(const Variable& a) {
  SavedVariable sa(a, "log");
  return make_result(ops::log(a.data()), {a}, "log",
                     [sa](const Variable& g, const std::vector<bool>&) -> Grads { return {g / sa.unpack()}; });
}

Variable sqrt(const Variable& a) {
  SavedVariable sa(a, "sqrt");
  return make_result(ops::sqrt(a.data()), {a}, "sqrt", [sa](const Variable& g, const std::vector<bool>&) -> Grads {
    return {g / (2.0 * sqrt(sa.unpack()))};
  });
}

Variable abs(const Variable& a) {
  SavedVariable sa(a, "abs");
  return make_result(ops::abs(a.data()), {a}, "abs",
                     [sa](const Variable& g, const std::vector<bool>&) -> Grads { return {g * sign(sa.unpack())}; });
}

Variable sign(const Variable& a) {
  return make_result(ops::sign(a.data()), {a}, "sign",
                     [](const Variable& g, const std::vector<bool>&) -> Grads { return {g * 0.0}; });
}

namespace {
// relu's backward as an op of its own: g where y > 0, else 0. Linear in g, so its backward is itself.
Variable relu_backward(const Variable& g, const Tensor& y) {
  return make_result(ops::relu_backward(g.data(), y), {g}, "relu_backward",
                     [y](const Variable& gg, const std::vector<bool>&) -> Grads { return {relu_backward(gg, y)}; });
}
}  // namespace

Variable relu(const Variable& a) {
  const Tensor y = ops::relu(a.data());
  // The output is saved (not a mask): x > 0 exactly where relu(x) > 0, and the next layer usually keeps
  // y alive anyway. SavedVariable turns an in-place write to y before backward into an error.
  const SavedVariable sy(Variable(y), "relu");
  return make_result(y, {a}, "relu", [sy](const Variable& g, const std::vector<bool>&) -> Grads {
    return {relu_backward(g, sy.unpack().data())};
  });
}

Variable sigmoid(const Variable& a) {
  SavedVariable sa(a, "sigmoid");
  return make_result(ops::sigmoid(a.data()), {a}, "sigmoid", [sa](const Variable& g, const std::vector<bool>&) -> Grads {
    const Variable s = sigmoid(sa.unpack());
    return {g * s * (1.0 - s)};
  });
}

Variable tanh(const Variable& a) {
  SavedVariable sa(a, "tanh");
  return make_result(ops::tanh(a.data()), {a}, "tanh", [sa](const Variable& g, const std::vector<bool>&) -> Grads {
    const Variable t = tanh(sa.unpack());
    return {g * (1.0 - t * t)};
  });
}

Variable clamp(const Variable& a, double lo, double hi) {
  const Tensor inside = ops::mul(ops::ge(a.data(), Tensor::scalar(lo, a.dtype())),
                                 ops::le(a.data(), Tensor::scalar(hi, a.dtype())));
  return make_result(ops::clamp(a.data(), lo, hi), {a}, "clamp",
                     [inside](const Variable& g, const std::vector<bool>&) -> Grads { return {g * constant(inside)}; });
}

Variable scale(const Variable& a, double factor) {
  return make_result(ops::mul(a.data(), factor), {a}, "scale",
                     [factor](const Variable& g, const std::vector<bool>&) -> Grads { return {scale(g, factor)}; });
}

Variable add_scalar(const Variable& a, double value) {
  return make_result(ops::add(a.data(), value), {a}, "add_scalar",
                     [](const Variable& g, const std::vector<bool>&) -> Grads { return {g}; });
}

Variable operator+(const Variable& a, const Variable& b) { return add(a, b); }
Variable operator-(const Variable& a, const Variable& b) { return sub(a, b); }
Variable operator*(const Variable& a, const Variable& b) { return mul(a, b); }
Variable operator/(const Variable& a, const Variable& b) { return div(a, b); }
Variable operator-(const Variable& a) { return neg(a); }
Variable operator+(const Variable& a, double b) { return add_scalar(a, b); }
Variable operator-(const Variable& a, double b) { return add_scalar(a, -b); }
Variable operator*(const Variable& a, double b) { return scale(a, b); }
Variable operator/(const Variable& a, double b) { return scale(a, 1.0 / b); }
Variable operator+(double a, const Variable& b) { return add_scalar(b, a); }
Variable operator-(double a, const Variable& b) { return add_scalar(neg(b), a); }
Variable operator*(double a, const Variable& b) { return scale(b, a); }

}  // namespace mg
