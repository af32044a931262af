#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/ops.h"
#include "core/rng.h"

namespace mg {
namespace {

double projected_loss(const DiffFn& fn, const std::vector<Tensor>& inputs, const Tensor& projection) {
  NoGradGuard no_grad;
  std::vector<Variable> vars;
  for (const Tensor& t : inputs) vars.emplace_back(t);
  const Tensor out = fn(vars).data();
  return ops::sum(ops::mul(out, projection)).item();
}

}  // namespace

GradcheckResult gradcheck(const std::string& op, const DiffFn& fn, const std::vector<Tensor>& inputs_in,
                          const std::vector<bool>& differentiable_in, const GradcheckOptions& opt) {
  GradcheckResult result;
  result.op = op;
  std::vector<Tensor> inputs;
  for (const Tensor& t : inputs_in) {
    MG_CHECK(t.dtype() == DType::F64, "gradcheck(", op, "): inputs must be f64, got ", describe(t));
    inputs.push_back(t.clone());
  }
  std::vector<bool> differentiable = differentiable_in;
  if (differentiable.empty()) differentiable.assign(inputs.size(), true);

  // Analytic gradients through the autograd engine.
  std::vector<Variable> vars, wrt;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    vars.emplace_back(inputs[i], differentiable[i]);
    if (differentiable[i]) wrt.push_back(vars.back());
  }
  const Variable out = fn(vars);
  Generator gen(opt.seed, 0);
  // R entries in ±[0.5, 1.5]: no near-zero weights that would hide an output element.
  Tensor projection = Tensor::empty(out.shape(), DType::F64);
  for (int64_t i = 0; i < projection.numel(); ++i)
    projection.data<double>()[i] = (gen.uniform() < 0.5 ? -1.0 : 1.0) * gen.uniform(0.5, 1.5);
  const Variable loss = sum(out * Variable(projection));
  const std::vector<Variable> analytic = grad({loss}, wrt, {}, {.allow_unused = true});

  const double base = projected_loss(fn, inputs, projection);
  std::ostringstream why;
  std::size_t k = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!differentiable[i]) continue;
    const Variable& a = analytic[k++];
    const Tensor a_values = a.defined() ? a.data().contiguous() : Tensor();
    Tensor x = inputs[i];
    const int64_t n = x.numel();
    double* px = x.data<double>();
    double max_abs = 0.0, max_numeric = 0.0, max_analytic = 0.0;
    int64_t skipped = 0;
    for (int64_t j = 0; j < n; ++j) {
      const double saved = px[j];
      px[j] = saved + opt.eps;
      const double plus = projected_loss(fn, inputs, projection);
      px[j] = saved - opt.eps;
      const double minus = projected_loss(fn, inputs, projection);
      px[j] = saved;
      const double numeric = (plus - minus) / (2 * opt.eps);
      const double right = (plus - base) / opt.eps, left = (base - minus) / opt.eps;
      if (std::abs(right - left) > opt.kink_tol * std::max(1.0, std::abs(numeric))) {
        ++skipped;
        continue;
      }
      const double analytic_j = a_values.defined() ? a_values.data<double>()[j] : 0.0;
      max_abs = std::max(max_abs, std::abs(analytic_j - numeric));
      max_numeric = std::max(max_numeric, std::abs(numeric));
      max_analytic = std::max(max_analytic, std::abs(analytic_j));
    }
    const double rel = max_numeric > 0 ? max_abs / max_numeric : max_abs;
    result.max_abs_err = std::max(result.max_abs_err, max_abs);
    result.max_rel_err = std::max(result.max_rel_err, rel);
    result.checked += n - skipped;
    result.skipped += skipped;
    if (max_analytic == 0.0 && max_numeric > 0.0)
      why << "input " << i << ": analytic gradient is all zeros but the numeric one is not (max "
          << max_numeric << "); ";
    else if (rel > opt.rel_tol)
      why << "input " << i << ": max relative error " << rel << " > " << opt.rel_tol << "; ";
    if (n > 0 && static_cast<double>(skipped) > opt.max_skipped * static_cast<double>(n))
      why << "input " << i << ": " << skipped << " of " << n << " points sit on kinks; choose other inputs; ";
  }
  result.message = why.str();
  result.passed = result.message.empty();
  return result;
}

GradcheckResult gradgradcheck(const std::string& op, const DiffFn& fn, const std::vector<Tensor>& inputs,
                              const std::vector<bool>& differentiable_in, const GradcheckOptions& opt) {
  std::vector<bool> differentiable = differentiable_in;
  if (differentiable.empty()) differentiable.assign(inputs.size(), true);
  Shape out_shape;
  {
    NoGradGuard no_grad;
    std::vector<Variable> vars(inputs.begin(), inputs.end());
    out_shape = fn(vars).shape();
  }
  Generator gen(opt.seed + 1, 0);
  Tensor gy = Tensor::empty(out_shape, DType::F64);
  for (int64_t i = 0; i < gy.numel(); ++i) gy.data<double>()[i] = gen.uniform(-1.0, 1.0);

  const DiffFn gradient = [fn, differentiable](const std::vector<Variable>& v) {
    GradModeGuard on(true);
    // gradcheck's finite differences pass plain values: make the differentiable ones fresh leaves.
    std::vector<Variable> args, wrt;
    for (std::size_t i = 0; i + 1 < v.size(); ++i) {
      args.push_back(differentiable[i] && !v[i].requires_grad() ? Variable(v[i].data(), true) : v[i]);
      if (differentiable[i]) wrt.push_back(args.back());
    }
    const std::vector<Variable> g = grad({fn(args)}, wrt, {v.back()}, {.create_graph = true, .allow_unused = true});
    std::vector<Variable> flat;
    for (std::size_t i = 0; i < g.size(); ++i)
      flat.push_back(g[i].defined() ? reshape(g[i], {-1}) : Variable(Tensor::zeros({wrt[i].numel()}, DType::F64)));
    return concat(flat, 0);
  };
  std::vector<Tensor> all = inputs;
  all.push_back(gy);
  differentiable.push_back(true);
  return gradcheck(op + " (double backward)", gradient, all, differentiable, opt);
}

}  // namespace mg
