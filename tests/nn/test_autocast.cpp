// bf16 autocast (nn/autocast.h): conv2d and linear on float32 inside the scope, against float64 and against
// PyTorch's CPU autocast on the same operands (mixgrad's error no larger than 1.5 × PyTorch's, forward and
// every gradient); vdpbf16ps and its emulation give the same bits at the op level; outside the scope and on
// float64 nothing changes; double backward and bad precision names are clear errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/bf16.h"
#include "core/kernels/bf16/gemm.h"
#include "core/cpu.h"
#include "core/ops.h"
#include "core/rng.h"
#include "nn/autocast.h"
#include "nn/functional.h"
#include "tests/nn/test_module_python.h"
#include "tests/test_util.h"

using namespace mg;

namespace {

Tensor uniform32(const Shape& shape, Generator& gen) {
  Tensor t = Tensor::empty(shape, DType::F32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(gen.uniform(-1.0, 1.0));
  return t;
}

struct Operands {
  Tensor x, w, b, r;  // r: the projection the output is contracted with
};

// The op's output and the gradients of sum(out * r) for x, w, b, flattened one after another.
using Op = std::function<Variable(const Variable&, const Variable&, const Variable&)>;
std::vector<double> results(const Op& op, const Operands& in, DType dtype) {
  Variable x(in.x.to(dtype), true), w(in.w.to(dtype), true), b(in.b.to(dtype), true);
  const Variable y = op(x, w, b);
  sum(y * Variable(in.r.to(dtype))).backward();
  std::vector<double> out;
  for (const Tensor& t : {y.data(), x.grad().data(), w.grad().data(), b.grad().data()})
    for (double v : t.to_vector()) out.push_back(v);
  return out;
}

std::string python_list(const Tensor& t) {
  std::ostringstream s;
  s.precision(9);
  s << "[";
  for (double v : t.to_vector()) s << v << ",";
  s << "]";
  return s.str();
}

// Max |got - exact| / max |exact| over [begin, end).
double relative_error(const std::vector<double>& got, const std::vector<double>& exact, std::size_t begin, std::size_t end) {
  double worst = 0, scale = 0;
  for (std::size_t i = begin; i < end; ++i) {
    worst = std::max(worst, std::abs(got[i] - exact[i]));
    scale = std::max(scale, std::abs(exact[i]));
  }
  return worst / scale;
}

void compare_with_torch(const std::string& torch_call, const Op& op, const Operands& in) {
  std::vector<double> ours;
  {
    nn::Autocast bf16(nn::Precision::bf16);
    ours = results(op, in, DType::F32);
  }
  const std::vector<double> exact = results(op, in, DType::F64);
  std::ostringstream py;
  py << "import torch, torch.nn.functional as F\n"
     << "def run(dtype, autocast):\n"
     << "    x = torch.tensor(" << python_list(in.x) << ").reshape(" << to_string(in.x.shape()) << ").to(dtype).requires_grad_()\n"
     << "    w = torch.tensor(" << python_list(in.w) << ").reshape(" << to_string(in.w.shape()) << ").to(dtype).requires_grad_()\n"
     << "    b = torch.tensor(" << python_list(in.b) << ").to(dtype).requires_grad_()\n"
     << "    r = torch.tensor(" << python_list(in.r) << ").reshape(" << to_string(in.r.shape()) << ").to(dtype)\n"
     << "    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):\n"
     << "        y = " << torch_call << "\n"
     << "    (y.to(dtype) * r).sum().backward()\n"
     << "    return [v.item() for t in (y.to(dtype), x.grad, w.grad, b.grad) for v in t.flatten()]\n"
     << "print(' '.join(repr(v) for v in run(torch.float32, True)))\n";
  const std::vector<double> torch_bf16 = test::parse_numbers(test::run_python(py.str()));
  REQUIRE(torch_bf16.size() == ours.size());
  const std::size_t ny = static_cast<std::size_t>(in.r.numel()), nx = static_cast<std::size_t>(in.x.numel()),
                    nw = static_cast<std::size_t>(in.w.numel());
  const std::vector<std::pair<const char*, std::pair<std::size_t, std::size_t>>> parts = {
      {"output", {0, ny}}, {"grad x", {ny, ny + nx}}, {"grad w", {ny + nx, ny + nx + nw}}, {"grad b", {ny + nx + nw, ours.size()}}};
  for (const auto& [what, range] : parts) {
    const double mine = relative_error(ours, exact, range.first, range.second);
    const double theirs = relative_error(torch_bf16, exact, range.first, range.second);
    CAPTURE(what, mine, theirs);
    CHECK(mine <= 1.5 * theirs + 1e-7);
    CHECK(mine > 1e-5);  // bf16, not float32 in disguise
    CHECK(mine < 2e-2);
  }
}

Operands conv_operands(uint64_t seed) {
  Generator gen(seed, 0);
  return {uniform32({2, 3, 8, 8}, gen), uniform32({4, 3, 3, 3}, gen), uniform32({4}, gen), uniform32({2, 4, 8, 8}, gen)};
}

Operands linear_operands(uint64_t seed) {
  Generator gen(seed, 0);
  return {uniform32({5, 37}, gen), uniform32({6, 37}, gen), uniform32({6}, gen), uniform32({5, 6}, gen)};
}

const Op kConv = [](const Variable& x, const Variable& w, const Variable& b) { return nn::conv2d(x, w, b, 1, 1); };
const Op kLinear = [](const Variable& x, const Variable& w, const Variable& b) { return nn::linear(x, w, b); };

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("autocast bf16: conv2d against float64 and PyTorch's autocast", "[nn][bf16][autocast][torch]") {
  compare_with_torch("F.conv2d(x, w, b, stride=1, padding=1)", kConv, conv_operands(1));
}

TEST_CASE("autocast bf16: linear against float64 and PyTorch's autocast", "[nn][bf16][autocast][torch]") {
  compare_with_torch("F.linear(x, w, b)", kLinear, linear_operands(2));
}

TEST_CASE("autocast bf16: outputs and gradients are bf16 values; f32 outside the scope and f64 inside unchanged",
          "[nn][bf16][autocast]") {
  const Operands in = conv_operands(3);
  const std::vector<double> plain = results(kConv, in, DType::F32), plain64 = results(kConv, in, DType::F64);
  std::vector<double> bf16, inside64;
  {
    nn::Autocast scope(nn::Precision::bf16);
    CHECK(nn::autocast_precision() == nn::Precision::bf16);
    bf16 = results(kConv, in, DType::F32);
    inside64 = results(kConv, in, DType::F64);
  }
  CHECK(nn::autocast_precision() == nn::Precision::f32);
  CHECK(same_bits(results(kConv, in, DType::F32), plain));
  CHECK(same_bits(inside64, plain64));
  int differ = 0;
  for (std::size_t i = 0; i < bf16.size(); ++i) {
    CHECK(static_cast<double>(mg::bf16::round(static_cast<float>(bf16[i]))) == bf16[i]);
    differ += bf16[i] != plain[i] ? 1 : 0;
  }
  CHECK(differ > static_cast<int>(bf16.size()) / 2);
}

TEST_CASE("autocast bf16: vdpbf16ps and its emulation give the same bits, conv2d and linear with gradients",
          "[nn][bf16][autocast]") {
  // Both ISAs must be on for vdpbf16ps to run (MIXGRAD_NO_AVX512 also turns it off).
  if (kernels::bf16::best_path() != kernels::bf16::Path::native)
    return test::skip("the vdpbf16ps kernels do not run here (no AVX512_BF16, or switched off): nothing to compare");
  for (const auto& [op, in] : {std::pair{kConv, conv_operands(4)}, std::pair{kLinear, linear_operands(5)}}) {
    nn::Autocast scope(nn::Precision::bf16);
    const std::vector<double> native = results(op, in, DType::F32);
    const bool previous = cpu::set_kernels_enabled(cpu::Isa::avx512_bf16, false);
    const std::vector<double> emulated = results(op, in, DType::F32);
    cpu::set_kernels_enabled(cpu::Isa::avx512_bf16, previous);
    CHECK(same_bits(native, emulated));
  }
}

TEST_CASE("autocast bf16: double backward and unknown precisions are clear errors", "[nn][bf16][autocast][errors]") {
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(nn::parse_precision("fp16"), Contains("'fp16'") && Contains("f32 or bf16"));
  CHECK(nn::parse_precision("bf16") == nn::Precision::bf16);
  const Operands in = conv_operands(6);
  nn::Autocast scope(nn::Precision::bf16);
  Variable x(in.x, true), w(in.w, true);
  const Variable loss = sum(nn::conv2d(x, w, Variable(), 1, 1) * Variable(in.r));
  REQUIRE_THROWS_WITH(grad({loss}, {x}, {}, {.create_graph = true}), Contains("double backward") && Contains("bf16"));
}
