// Elementwise kernels. Each op is one scalar lambda; the loops around it (broadcasting, strides, threads)
// are shared: rows of the innermost dimension are split across threads by for_each_row (core/strided.h),
// and each output element is written once, so results do not depend on the thread count.
#include <cmath>

#include "core/ops.h"
#include "core/strided.h"

namespace mg::ops {
namespace {

template <typename T, typename Op>
void binary_kernel(Tensor& out, const Tensor& a, const Tensor& b, Op op) {
  T* o = out.data<T>();
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  const Strides& so = out.strides();
  for_each_row<3>(out.shape(), {&so, &a.strides(), &b.strides()},
                  [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& s) {
                    T* po = o + off[0];
                    const T* x = pa + off[1];
                    const T* y = pb + off[2];
                    if (s[1] == 1 && s[2] == 1) {
                      for (int64_t i = 0; i < n; ++i) po[i] = op(x[i], y[i]);
                    } else if (s[1] == 1 && s[2] == 0) {
                      const T yv = *y;
                      for (int64_t i = 0; i < n; ++i) po[i] = op(x[i], yv);
                    } else if (s[1] == 0 && s[2] == 1) {
                      const T xv = *x;
                      for (int64_t i = 0; i < n; ++i) po[i] = op(xv, y[i]);
                    } else {
                      for (int64_t i = 0; i < n; ++i) po[i] = op(x[i * s[1]], y[i * s[2]]);
                    }
                  });
}

// Broadcasts a and b, allocates the output and runs `op` with T = the common dtype.
template <typename MakeOp>
Tensor binary(const char* name, const Tensor& a, const Tensor& b, MakeOp make_op) {
  MG_CHECK(a.defined() && b.defined(), name, ": undefined operand");
  MG_CHECK(a.dtype() == b.dtype(), name, ": dtype mismatch, ", describe(a), " vs ", describe(b));
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, a.dtype());
  visit_dtype(a.dtype(), [&]<typename T>() {
    binary_kernel<T>(out, a.expand(shape), b.expand(shape), make_op.template operator()<T>());
  });
  return out;
}

template <typename MakeOp>
Tensor unary(const Tensor& a, MakeOp make_op) {
  MG_CHECK(a.defined(), "unary op on an undefined tensor");
  Tensor out = Tensor::empty(a.shape(), a.dtype());
  visit_dtype(a.dtype(), [&]<typename T>() {
    auto op = make_op.template operator()<T>();
    T* o = out.data<T>();
    const T* pa = a.data<T>();
    for_each_row<2>(a.shape(), {&out.strides(), &a.strides()},
                    [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& s) {
                      T* po = o + off[0];
                      const T* x = pa + off[1];
                      if (s[1] == 1) {
                        for (int64_t i = 0; i < n; ++i) po[i] = op(x[i]);
                      } else {
                        for (int64_t i = 0; i < n; ++i) po[i] = op(x[i * s[1]]);
                      }
                    });
  });
  return out;
}

// Helpers that turn a generic lambda into the `make_op` form used above.
#define MG_BINARY(name, expr)                                                        \
  Tensor name(const Tensor& a, const Tensor& b) {                                   \
    return binary(#name, a, b, []<typename T>() { return [](T x, T y) -> T { return expr; }; }); \
  }
#define MG_UNARY(name, expr)                                                         \
  Tensor name(const Tensor& a) {                                                     \
    return unary(a, []<typename T>() { return [](T x) -> T { return expr; }; });     \
  }

}  // namespace

MG_BINARY(add, x + y)
MG_BINARY(sub, x - y)
MG_BINARY(mul, x * y)
MG_BINARY(div, x / y)
MG_BINARY(pow, std::pow(x, y))
MG_BINARY(maximum, x >= y || std::isnan(x) ? x : y)
MG_BINARY(minimum, x <= y || std::isnan(x) ? x : y)
MG_BINARY(eq, T(x == y))
MG_BINARY(ne, T(x != y))
MG_BINARY(lt, T(x < y))
MG_BINARY(le, T(x <= y))
MG_BINARY(gt, T(x > y))
MG_BINARY(ge, T(x >= y))

MG_UNARY(neg, -x)
MG_UNARY(exp, std::exp(x))
MG_UNARY(log, std::log(x))
MG_UNARY(sqrt, std::sqrt(x))
MG_UNARY(abs, std::abs(x))
MG_UNARY(sign, T((x > 0) - (x < 0)))
MG_UNARY(relu, relu_value(x))
MG_UNARY(sigmoid, x >= 0 ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x)))
MG_UNARY(tanh, std::tanh(x))

#undef MG_BINARY
#undef MG_UNARY

Tensor add(const Tensor& a, double b) { return add(a, Tensor::scalar(b, a.dtype())); }
Tensor mul(const Tensor& a, double b) { return mul(a, Tensor::scalar(b, a.dtype())); }

Tensor pow(const Tensor& a, double exponent) {
  if (exponent == 2.0) return unary(a, []<typename T>() { return [](T x) -> T { return x * x; }; });
  return pow(a, Tensor::scalar(exponent, a.dtype()));
}

Tensor clamp(const Tensor& a, double lo, double hi) {
  MG_CHECK(lo <= hi, "clamp: lower bound ", lo, " is above upper bound ", hi);
  return unary(a, [lo, hi]<typename T>() {
    return [l = T(lo), h = T(hi)](T x) -> T { return x < l ? l : (x > h ? h : x); };
  });
}

Tensor relu_backward(const Tensor& g, const Tensor& y) {
  MG_CHECK(g.shape() == y.shape(), "relu_backward: gradient ", describe(g), " does not match the output ", describe(y));
  return binary("relu_backward", g, y, []<typename T>() { return [](T gv, T yv) -> T { return yv > T(0) ? gv : T(0); }; });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  MG_CHECK(cond.dtype() == a.dtype() && a.dtype() == b.dtype(), "where: dtype mismatch, ", describe(cond), ", ",
           describe(a), ", ", describe(b));
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(shape, a.dtype());
  const Tensor c = cond.expand(shape), x = a.expand(shape), y = b.expand(shape);
  visit_dtype(a.dtype(), [&]<typename T>() {
    T* o = out.data<T>();
    const T *pc = c.data<T>(), *px = x.data<T>(), *py = y.data<T>();
    for_each_row<4>(shape, {&out.strides(), &c.strides(), &x.strides(), &y.strides()},
                    [&](const std::array<int64_t, 4>& off, int64_t n, const std::array<int64_t, 4>& s) {
                      for (int64_t i = 0; i < n; ++i)
                        o[off[0] + i * s[0]] = pc[off[1] + i * s[1]] != T(0) ? px[off[2] + i * s[2]]
                                                                             : py[off[3] + i * s[3]];
                    });
  });
  return out;
}

void add_(Tensor& dst, const Tensor& src, double alpha) {
  MG_CHECK(dst.dtype() == src.dtype(), "add_: dtype mismatch, ", describe(dst), " vs ", describe(src));
  const Tensor s = src.expand(dst.shape());
  visit_dtype(dst.dtype(), [&]<typename T>() {
    T* o = dst.data<T>();
    const T* p = s.data<T>();
    const T k = static_cast<T>(alpha);
    for_each_row<2>(dst.shape(), {&dst.strides(), &s.strides()},
                    [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& st) {
                      T* d = o + off[0];
                      const T* x = p + off[1];
                      if (st[0] == 1 && st[1] == 1) {
                        for (int64_t i = 0; i < n; ++i) d[i] += k * x[i];
                      } else {
                        for (int64_t i = 0; i < n; ++i) d[i * st[0]] += k * x[i * st[1]];
                      }
                    });
  });
  dst.bump_version();
}

void mul_(Tensor& dst, double factor) {
  visit_dtype(dst.dtype(), [&]<typename T>() {
    T* o = dst.data<T>();
    const T k = static_cast<T>(factor);
    for_each_row<1>(dst.shape(), {&dst.strides()},
                    [&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& st) {
                      for (int64_t i = 0; i < n; ++i) o[off[0] + i * st[0]] *= k;
                    });
  });
  dst.bump_version();
}

}  // namespace mg::ops
