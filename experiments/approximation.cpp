#include "experiments/approximation.h"

#include <cmath>
#include <numbers>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/error.h"
#include "core/ops.h"

namespace mg::experiments {
namespace {

constexpr uint64_t kApproxPurpose = 0x6d672d617070726full;  // "mg-appro"

struct Draw {
  double weight;
  int64_t i, j;  // anchor and partner
  double lam;
};

// Gauss–Legendre nodes and weights on [0, 1] (Newton's method on the Legendre polynomial P_q).
void gauss_legendre(int q, std::vector<double>& nodes, std::vector<double>& weights) {
  nodes.assign(q, 0.0);
  weights.assign(q, 0.0);
  for (int k = 0; k < q; ++k) {
    double t = std::cos(std::numbers::pi * (k + 0.75) / (q + 0.5));
    double dp = 0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1, p1 = t;
      for (int m = 2; m <= q; ++m) {
        const double p2 = ((2.0 * m - 1) * t * p1 - (m - 1.0) * p0) / m;
        p0 = p1;
        p1 = p2;
      }
      if (q == 1) { p1 = t; p0 = 1; }
      dp = q * (t * p1 - p0) / (t * t - 1);
      const double step = p1 / dp;
      t -= step;
      if (std::abs(step) < 1e-16) break;
    }
    nodes[k] = 0.5 * (1 - t);
    weights[k] = 1.0 / ((1 - t * t) * dp * dp);  // (2 / ((1-t²) P'²)) / 2 for [0, 1]
  }
}

double beta_pdf(double t, double a, double b) {
  return std::exp((a - 1) * std::log(t) + (b - 1) * std::log1p(-t) + std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b));
}

std::vector<Draw> make_draws(int64_t n, const ApproxOptions& o) {
  std::vector<Draw> draws;
  if (o.quadrature > 0) {
    std::vector<double> t, w;
    gauss_legendre(o.quadrature, t, w);
    double total = 0;
    for (int q = 0; q < o.quadrature; ++q) total += w[q] * beta_pdf(t[q], o.alpha + 1, o.alpha);
    for (int64_t i = 0; i < n; ++i)
      for (int q = 0; q < o.quadrature; ++q)
        for (int64_t j = 0; j < n; ++j)
          draws.push_back({w[q] * beta_pdf(t[q], o.alpha + 1, o.alpha) / total / static_cast<double>(n * n), i, j, t[q]});
    return draws;
  }
  MG_CHECK(o.draws > 0, "approximation: draws must be positive, got ", o.draws);
  for (int64_t i = 0; i < n; ++i) {
    Generator gen(o.seed, stream_id(kApproxPurpose, static_cast<uint64_t>(i)));
    for (int k = 0; k < o.draws; ++k) {
      const double lam = gen.beta(o.alpha + 1, o.alpha);
      draws.push_back({1.0 / static_cast<double>(n * o.draws), i, static_cast<int64_t>(gen.below(n)), lam});
    }
  }
  return draws;
}

// ℓ(z, y) per row and ∇_z ℓ = ∇h(z) − y, for logits z (P, K).
void loss_and_slope(const Tensor& z, const std::vector<int64_t>& y, ApproxLoss kind, std::vector<double>& loss,
                    Tensor& slope) {
  const int64_t p = z.size(0), k = z.size(1);
  const Tensor zd = z.to(DType::F64).contiguous();
  loss.assign(p, 0.0);
  if (kind == ApproxLoss::CrossEntropy) {
    const Tensor ls = ops::log_softmax(zd, 1);
    slope = ops::exp(ls);
    for (int64_t r = 0; r < p; ++r) loss[r] = -ls.data<double>()[r * k + y[r]];
  } else {
    slope = zd.clone();
    for (int64_t r = 0; r < p; ++r) {
      double s = 0;
      for (int64_t c = 0; c < k; ++c) s += 0.5 * zd.data<double>()[r * k + c] * zd.data<double>()[r * k + c];
      loss[r] = s - zd.data<double>()[r * k + y[r]];
    }
  }
  for (int64_t r = 0; r < p; ++r) slope.data<double>()[r * k + y[r]] -= 1.0;
}

}  // namespace

double mean_one_minus_lambda(double alpha) { return alpha / (2 * alpha + 1); }
double mean_sq_one_minus_lambda(double alpha) { return alpha / (2 * (2 * alpha + 1)); }

ApproxResult mixup_approximation(const Classifier& f, const Tensor& x, const std::vector<int64_t>& y,
                                 int64_t num_classes, const ApproxOptions& o) {
  MG_CHECK(o.alpha > 0, "approximation: alpha must be positive (alpha = 0 is ERM: nothing is mixed), got ", o.alpha);
  MG_CHECK(o.scale > 0, "approximation: the segment scale must be positive, got ", o.scale);
  const int64_t n = x.size(0);
  MG_CHECK(static_cast<int64_t>(y.size()) == n && n > 0, "approximation: ", y.size(), " labels for inputs ", describe(x));
  ApproxResult res;
  res.alpha = o.alpha;
  res.scale = o.scale;
  res.samples = n;

  // Anchors: ℓ(xᵢ) and the slope ∇h − y (constant in every expansion term of sample i).
  std::vector<double> anchor_loss;
  Tensor anchor_slope;
  {
    NoGradGuard no_grad;
    loss_and_slope(f(Variable(x)).data(), y, o.loss, anchor_loss, anchor_slope);
  }
  for (double l : anchor_loss) res.l_std += l / static_cast<double>(n);

  const std::vector<Draw> draws = make_draws(n, o);
  res.pairs = static_cast<int64_t>(draws.size());
  for (std::size_t start = 0; start < draws.size(); start += static_cast<std::size_t>(o.batch)) {
    const std::size_t stop = std::min(draws.size(), start + static_cast<std::size_t>(o.batch));
    const int64_t p = static_cast<int64_t>(stop - start);
    std::vector<int64_t> anchors(p), partners(p), labels(p);
    std::vector<double> one_minus(p);
    for (int64_t r = 0; r < p; ++r) {
      const Draw& d = draws[start + r];
      anchors[r] = d.i;
      partners[r] = d.j;
      labels[r] = y[d.i];
      one_minus[r] = 1.0 - d.lam;
    }
    const Tensor xa = ops::index_select(x, 0, anchors);
    const Tensor dir = ops::mul(ops::sub(ops::index_select(x, 0, partners), xa), o.scale);  // s (r − xᵢ)
    Shape col(x.dim(), 1);
    col[0] = p;
    const Tensor mixed = ops::add(xa, ops::mul(dir, Tensor::from_vector(one_minus, col, x.dtype())));

    std::vector<double> mixed_loss;
    Tensor unused_slope;
    {
      NoGradGuard no_grad;
      loss_and_slope(f(Variable(mixed)).data(), labels, o.loss, mixed_loss, unused_slope);
    }
    // J d by double backward: g(u) = Jᵀu is linear in u, and ∂(g(u)·d)/∂u = J d.
    Variable xv(xa, true);
    const Variable logits = f(xv);
    Variable u(Tensor::zeros(logits.shape(), logits.dtype()), true);
    const Variable jt_u = grad({sum(logits * u)}, {xv}, {}, {.create_graph = true})[0];
    const Tensor jd = grad({sum(jt_u * Variable(dir))}, {u}, {}, {.retain_graph = true})[0].data().to(DType::F64);
    // dᵀ ∇²(slopeᵀ f) d by double backward, with the slope held constant.
    const Tensor slope = ops::index_select(anchor_slope, 0, anchors);
    const Variable weighted_grad = grad({sum(logits * Variable(slope.to(logits.dtype())))}, {xv}, {}, {.create_graph = true})[0];
    const Variable directional = sum(weighted_grad * Variable(dir), {}, false);
    std::vector<double> hess(p, 0.0);
    // For a piecewise-linear net the gradient may still depend on parameters but not on x: then the
    // Hessian term is exactly zero and grad() reports x as unused.
    const Variable hd = directional.requires_grad() ? grad({directional}, {xv}, {}, {.allow_unused = true})[0] : Variable();
    if (hd.defined()) {
      const Tensor per_row = ops::sum(ops::mul(hd.data(), dir).reshape({p, -1}), {1}).to(DType::F64);
      for (int64_t r = 0; r < p; ++r) hess[r] = per_row.data<double>()[r];
    }
    const int64_t k = num_classes;
    for (int64_t r = 0; r < p; ++r) {
      const Draw& d = draws[start + r];
      const double* v = jd.data<double>() + r * k;
      const double* c = slope.data<double>() + r * k;
      double first = 0, curvature = 0;
      for (int64_t m = 0; m < k; ++m) first += c[m] * v[m];
      if (o.loss == ApproxLoss::CrossEntropy) {
        // p = slope + onehot(y): vᵀ(diag p − ppᵀ)v = Σ p v² − (p·v)²
        double pv = 0, pv2 = 0;
        for (int64_t m = 0; m < k; ++m) {
          const double pm = c[m] + (m == labels[r] ? 1.0 : 0.0);
          pv += pm * v[m];
          pv2 += pm * v[m] * v[m];
        }
        curvature = pv2 - pv * pv;
      } else {
        for (int64_t m = 0; m < k; ++m) curvature += v[m] * v[m];
      }
      const double a = one_minus[r];
      res.l_mix += d.weight * mixed_loss[r];
      res.r1 += d.weight * a * first;
      res.r2 += d.weight * a * a * 0.5 * curvature;
      res.r3 += d.weight * a * a * 0.5 * hess[r];
    }
  }
  const double approx = res.l_std + res.r1 + res.r2 + res.r3;
  res.rel_error = std::abs(approx - res.l_mix) / std::abs(res.l_mix);
  const double reg = res.l_mix - res.l_std;
  res.rel_error_reg = std::abs(res.r1 + res.r2 + res.r3 - reg) / std::abs(reg);
  res.rel_error_second = std::abs((reg - res.r1) - (res.r2 + res.r3)) / std::abs(res.r2 + res.r3);
  return res;
}

EpsMix eps_mix(const Classifier& f, const Tensor& x, const std::vector<int64_t>& y, double alpha) {
  const int64_t n = x.size(0);
  const Tensor g = input_gradient(f, x, y).reshape({n, -1}).to(DType::F64);
  const Tensor xf = x.reshape({n, -1}).to(DType::F64);
  const int64_t d = xf.size(1);
  EpsMix out;
  out.min_cos = 1.0;
  out.c_x = 1e300;
  for (int64_t i = 0; i < n; ++i) {
    const double* gi = g.data<double>() + i * d;
    const double* xi = xf.data<double>() + i * d;
    double dot = 0, gg = 0, xx = 0;
    for (int64_t m = 0; m < d; ++m) {
      dot += gi[m] * xi[m];
      gg += gi[m] * gi[m];
      xx += xi[m] * xi[m];
    }
    if (gg > 0 && xx > 0) out.min_cos = std::min(out.min_cos, std::abs(dot) / std::sqrt(gg * xx));
    out.c_x = std::min(out.c_x, std::sqrt(xx / static_cast<double>(d)));
  }
  out.mean_one_minus_lambda = mean_one_minus_lambda(alpha);
  out.eps_mix = out.min_cos * out.c_x * out.mean_one_minus_lambda;
  return out;
}

}  // namespace mg::experiments
