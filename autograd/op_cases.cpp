#include "autograd/op_cases.h"

#include "autograd/functions.h"
#include "core/ops.h"

namespace mg {

Tensor uniform64(const Shape& shape, Generator& gen, double lo, double hi) {
  return rand_uniform(shape, gen, lo, hi, DType::F64);
}

Tensor away_from_zero64(const Shape& shape, Generator& gen, double margin, double hi) {
  Tensor t = Tensor::empty(shape, DType::F64);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<double>()[i] = (gen.uniform() < 0.5 ? -1.0 : 1.0) * gen.uniform(margin, hi);
  return t;
}

Tensor distinct64(const Shape& shape, Generator& gen) {
  const int64_t n = numel(shape);
  const std::vector<int64_t> perm = gen.permutation(n);
  Tensor t = Tensor::empty(shape, DType::F64);
  for (int64_t i = 0; i < n; ++i) t.data<double>()[i] = -1.0 + 2.0 * static_cast<double>(perm[i]) / std::max<int64_t>(n - 1, 1);
  return t;
}

GradcheckResult run_case(const OpCase& c, uint64_t seed) {
  Generator gen(seed, stream_id(std::hash<std::string>{}(c.name)));
  return gradcheck(c.name, c.fn, c.make_inputs(gen), c.differentiable, c.options);
}

namespace {

using Vars = std::vector<Variable>;
using Inputs = std::vector<Tensor>;

OpCase binary_case(std::string name, Shape a, Shape b, std::function<Variable(const Variable&, const Variable&)> f,
                   double lo = -1.0, double hi = 1.0) {
  return {std::move(name),
          [a, b, lo, hi](Generator& g) -> Inputs { return {uniform64(a, g, lo, hi), uniform64(b, g, lo, hi)}; },
          [f](const Vars& v) { return f(v[0], v[1]); }};
}

OpCase unary_case(std::string name, Shape s, std::function<Variable(const Variable&)> f,
                  std::function<Tensor(const Shape&, Generator&)> make) {
  return {std::move(name), [s, make](Generator& g) -> Inputs { return {make(s, g)}; },
          [f](const Vars& v) { return f(v[0]); }};
}

Tensor plain(const Shape& s, Generator& g) { return uniform64(s, g); }
Tensor positive(const Shape& s, Generator& g) { return uniform64(s, g, 0.5, 2.0); }
Tensor nonzero(const Shape& s, Generator& g) { return away_from_zero64(s, g); }

}  // namespace

std::vector<OpCase> core_op_cases() {
  std::vector<OpCase> cases;
  auto add_case = [&](OpCase c) { cases.push_back(std::move(c)); };
  // Binary arithmetic, broadcasting in every direction: same shape, trailing vector, leading axes, scalar.
  add_case(binary_case("add", {3, 4}, {3, 4}, [](auto& a, auto& b) { return a + b; }));
  add_case(binary_case("add_broadcast_row", {3, 4}, {4}, [](auto& a, auto& b) { return a + b; }));
  add_case(binary_case("add_broadcast_both", {3, 1}, {2, 1, 4}, [](auto& a, auto& b) { return a + b; }));
  add_case(binary_case("sub", {2, 3}, {2, 1}, [](auto& a, auto& b) { return a - b; }));
  add_case(binary_case("mul", {2, 3, 4}, {1, 3, 1}, [](auto& a, auto& b) { return a * b; }));
  add_case(binary_case("mul_scalar_tensor", {}, {3, 2}, [](auto& a, auto& b) { return a * b; }));
  add_case({"div", [](Generator& g) -> Inputs { return {uniform64({3, 4}, g), away_from_zero64({4}, g, 0.5)}; },
            [](const Vars& v) { return v[0] / v[1]; }});
  add_case(binary_case("pow", {3, 3}, {3, 3}, [](auto& a, auto& b) { return pow(a, b); }, 0.5, 2.0));
  add_case(unary_case("pow_scalar", {3, 4}, [](auto& a) { return pow(a, 3.0); }, plain));
  add_case({"maximum",
            [](Generator& g) -> Inputs {
              Tensor a = uniform64({3, 4}, g);
              return {a, ops::add(a, away_from_zero64({3, 4}, g, 0.1, 0.8))};
            },
            [](const Vars& v) { return maximum(v[0], v[1]); }});
  add_case({"minimum",
            [](Generator& g) -> Inputs {
              Tensor a = uniform64({4}, g);
              return {a, ops::add(a, away_from_zero64({3, 4}, g, 0.1, 0.8))};
            },
            [](const Vars& v) { return minimum(v[0], v[1]); }});
  add_case({"where",
            [](Generator& g) -> Inputs {
              return {ops::gt(uniform64({3, 4}, g), Tensor::scalar(0.0, DType::F64)), uniform64({3, 4}, g),
                      uniform64({4}, g)};
            },
            [](const Vars& v) { return where(v[0].data(), v[1], v[2]); },
            {false, true, true}});
  // Unary math.
  add_case(unary_case("neg", {3, 4}, [](auto& a) { return -a; }, plain));
  add_case(unary_case("exp", {3, 4}, [](auto& a) { return exp(a); }, plain));
  add_case(unary_case("log", {3, 4}, [](auto& a) { return log(a); }, positive));
  add_case(unary_case("sqrt", {3, 4}, [](auto& a) { return sqrt(a); }, positive));
  add_case(unary_case("abs", {3, 4}, [](auto& a) { return abs(a); }, nonzero));
  add_case(unary_case("sign", {3, 4}, [](auto& a) { return sign(a); }, nonzero));
  add_case(unary_case("relu", {4, 5}, [](auto& a) { return relu(a); }, nonzero));
  add_case(unary_case("sigmoid", {3, 4}, [](auto& a) { return sigmoid(a); }, plain));
  add_case(unary_case("tanh", {3, 4}, [](auto& a) { return tanh(a); }, plain));
  add_case(unary_case("clamp", {4, 5}, [](auto& a) { return clamp(a, -0.5, 0.5); },
                      [](const Shape& s, Generator& g) {
                        // values at distance >= 0.1 from the clamp bounds
                        Tensor t = away_from_zero64(s, g, 0.1, 0.4);
                        for (int64_t i = 0; i < t.numel(); i += 2) t.data<double>()[i] *= 2.5;
                        return t;
                      }));
  add_case(unary_case("scale", {3, 4}, [](auto& a) { return a * 2.5; }, plain));
  add_case(unary_case("add_scalar", {3, 4}, [](auto& a) { return a + 1.5; }, plain));
  // Reductions over each axis, all axes, keepdim.
  add_case(unary_case("sum_all", {3, 4, 2}, [](auto& a) { return sum(a); }, plain));
  add_case(unary_case("sum_axis0", {3, 4, 2}, [](auto& a) { return sum(a, {0}); }, plain));
  add_case(unary_case("sum_axis1_keepdim", {3, 4, 2}, [](auto& a) { return sum(a, {1}, true); }, plain));
  add_case(unary_case("sum_axes02", {3, 4, 2}, [](auto& a) { return sum(a, {0, 2}); }, plain));
  add_case(unary_case("mean", {3, 4, 2}, [](auto& a) { return mean(a, {-1}); }, plain));
  add_case(unary_case("amax", {3, 5}, [](auto& a) { return amax(a, {1}); }, distinct64));
  add_case(unary_case("amin_keepdim", {3, 5}, [](auto& a) { return amin(a, {0}, true); }, distinct64));
  add_case(unary_case("log_softmax", {3, 5}, [](auto& a) { return log_softmax(a, 1); }, plain));
  add_case(unary_case("log_softmax_axis0", {4, 3}, [](auto& a) { return log_softmax(a, 0); }, plain));
  add_case(unary_case("softmax", {3, 5}, [](auto& a) { return softmax(a, -1); }, plain));
  // Linear algebra.
  add_case(binary_case("matmul", {3, 4}, {4, 5}, [](auto& a, auto& b) { return matmul(a, b); }));
  add_case(binary_case("matmul_batched", {2, 3, 4}, {4, 2}, [](auto& a, auto& b) { return matmul(a, b); }));
  add_case(binary_case("matmul_vector", {4}, {2, 4, 3}, [](auto& a, auto& b) { return matmul(a, b); }));
  // Shape ops.
  add_case(unary_case("reshape", {3, 4}, [](auto& a) { return reshape(a, {2, -1}); }, plain));
  add_case(unary_case("permute", {2, 3, 4}, [](auto& a) { return permute(a, {2, 0, 1}); }, plain));
  add_case(unary_case("transpose", {3, 4}, [](auto& a) { return transpose(a, 0, 1) * transpose(a, 0, 1); }, plain));
  add_case(unary_case("expand", {3, 1}, [](auto& a) { return expand(a, {2, 3, 4}); }, plain));
  add_case(unary_case("slice", {5, 4}, [](auto& a) { return slice(a, 0, 1, 5, 2); }, plain));
  add_case(unary_case("select", {3, 4}, [](auto& a) { return select(a, 1, -1); }, plain));
  add_case(unary_case("unsqueeze", {2, 3}, [](auto& a) { return unsqueeze(a, 1) * unsqueeze(a, 1); }, plain));
  add_case(unary_case("squeeze", {2, 1, 3}, [](auto& a) { return squeeze(a, 1) * squeeze(a, 1); }, plain));
  add_case(unary_case("flatten", {2, 3, 2}, [](auto& a) { return flatten(a, 1) * flatten(a, 1); }, plain));
  add_case(unary_case("sum_to_shape", {2, 3, 4}, [](auto& a) { return sum_to_shape(a, {3, 1}); }, plain));
  add_case(unary_case("slice_backward", {2, 4}, [](auto& a) { return slice_backward(a, {5, 4}, 0, 1, 5, 2); }, plain));
  add_case(unary_case("index_add", {4, 3}, [](auto& a) { return index_add(a, {3, 3}, 0, {2, 0, 2, 1}); }, plain));
  add_case(unary_case("scatter_add", {3, 2}, [](auto& a) { return scatter_add(a, {3, 4}, 1, {0, 3, 1, 1, 2, 2}); }, plain));
  add_case({"concat", [](Generator& g) -> Inputs { return {uniform64({2, 3}, g), uniform64({2, 2}, g)}; },
            [](const Vars& v) { return concat({v[0], v[1]}, 1); }});
  add_case(unary_case("pad", {2, 3, 3}, [](auto& a) { return pad(a, {1, 2, 0, 1}, 0.5); }, plain));
  add_case(unary_case("index_select", {4, 3}, [](auto& a) { return index_select(a, 0, {3, 0, 3, 1}); }, plain));
  add_case(unary_case("gather", {3, 4}, [](auto& a) { return gather(a, 1, {0, 3, 1, 1, 2, 2}, {3, 2}); }, plain));
  add_case(unary_case("contiguous", {3, 4}, [](auto& a) { return contiguous(transpose(a, 0, 1)); }, plain));
  add_case(unary_case("variable_used_twice", {3, 4}, [](auto& a) { return a * exp(a) + sum(a, {0}, true); }, plain));
  return cases;
}

std::vector<OpDoc> core_op_docs() {
  const std::string elementwise = "core/ops/elementwise.cpp", views = "core/tensor.cpp", shape = "core/ops/shape_ops.cpp";
  const std::string reduce = "core/ops/reduce.cpp", softmax = "core/ops/softmax.cpp, core/kernels/logsumexp.h";
  const std::string f_elementwise = "autograd/functions_elementwise.cpp", f_reduce = "autograd/functions_reduce.cpp",
                    f_shape = "autograd/functions_shape.cpp";
  std::vector<OpDoc> docs;
  for (const char* op : {"add", "sub", "mul", "div", "pow", "pow_scalar", "maximum", "minimum", "where", "neg", "exp", "log", "sqrt",
                         "abs", "sign", "relu", "sigmoid", "tanh", "clamp", "scale", "add_scalar"})
    docs.push_back({op, elementwise, f_elementwise});
  docs.push_back({"relu_backward", elementwise, f_elementwise, "relu's double backward (gradgradcheck of relu)"});
  for (const char* op : {"sum", "mean", "amax", "amin", "sum_to_shape"}) docs.push_back({op, reduce, f_reduce});
  for (const char* op : {"log_softmax", "softmax"}) docs.push_back({op, softmax, f_reduce});
  docs.push_back({"matmul", "core/ops/matmul.cpp, core/gemm.cpp", "autograd/functions_linalg.cpp"});
  for (const char* op : {"reshape", "permute", "transpose", "unsqueeze", "squeeze", "flatten", "expand", "slice",
                         "select", "slice_backward", "contiguous"})
    docs.push_back({op, views, f_shape});
  for (const char* op : {"concat", "pad", "index_select", "index_add", "gather", "scatter_add"})
    docs.push_back({op, shape, f_shape});
  docs.push_back({"to_dtype", views, f_shape,
                  "tests/autograd/test_engine.cpp (a gradient in f64 comes back cast to the input's f32)"});
  docs.push_back({"variable_used_twice", "-", "autograd/engine.cpp"});  // not an op: the engine's accumulation
  return docs;
}

}  // namespace mg
