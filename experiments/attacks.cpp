#include "experiments/attacks.h"

#include <cmath>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/error.h"
#include "core/ops.h"
#include "nn/functional.h"
#include "nn/module.h"

namespace mg::experiments {

Variable in_model_dtype(const Variable& pixels, const nn::Module& model) { return to_dtype(pixels, model.dtype()); }

Classifier normalized(nn::Module& model, const std::vector<double>& mean, const std::vector<double>& std) {
  MG_CHECK(mean.size() == std.size() && !mean.empty(), "normalized: ", mean.size(), " means and ", std.size(),
           " standard deviations");
  return [&model, mean, std](const Variable& pixels) {
    const Variable x = in_model_dtype(pixels, model);
    const int64_t c = static_cast<int64_t>(mean.size());
    MG_CHECK(x.dim() == 4 && x.size(1) == c, "normalized: expected images (N, ", c, ", H, W), got ",
             describe(x.data()));
    std::vector<double> inv(std.size());
    for (std::size_t i = 0; i < std.size(); ++i) inv[i] = 1.0 / std[i];
    const Variable m(Tensor::from_vector(mean, {1, c, 1, 1}, x.dtype()));
    const Variable s(Tensor::from_vector(inv, {1, c, 1, 1}, x.dtype()));
    return model((x - m) * s);
  };
}

AttackKind parse_attack(const std::string& name) {
  if (name == "fgsm") return AttackKind::FGSM;
  if (name == "fgm-l2") return AttackKind::FGM_L2;
  if (name == "pgd") return AttackKind::PGD;
  MG_FAIL("unknown attack '", name, "'; expected fgsm, fgm-l2 or pgd");
}

const char* attack_name(AttackKind kind) {
  switch (kind) {
    case AttackKind::FGSM: return "fgsm";
    case AttackKind::FGM_L2: return "fgm-l2";
    case AttackKind::PGD: return "pgd";
  }
  return "?";
}

Tensor input_gradient(const Classifier& f, const Tensor& x, const std::vector<int64_t>& labels) {
  Variable input(x, true);
  const Variable loss = nn::cross_entropy(f(input), labels);
  return grad({loss}, {input})[0].data();
}

namespace {

// x + step * direction, kept inside the ε-ball around `center` (L∞) and inside [0, 1].
Tensor step_and_project(const Tensor& x, const Tensor& direction, double step, const Tensor& center, double eps) {
  Tensor moved = ops::add(x, ops::mul(direction, step));
  if (center.defined()) {
    moved = ops::minimum(ops::maximum(moved, ops::add(center, -eps)), ops::add(center, eps));
  }
  return ops::clamp(moved, 0.0, 1.0);
}

// Per-sample L2-normalised gradient: g / ‖g‖₂ (zero where g is zero).
Tensor l2_direction(const Tensor& g) {
  const Tensor flat = g.reshape({g.size(0), -1});
  Tensor norm = ops::sqrt(ops::sum(ops::mul(flat, flat), {1}, true));
  norm = ops::maximum(norm, Tensor::scalar(1e-30, g.dtype()));
  return ops::div(flat, norm).reshape(g.shape());
}

}  // namespace

Tensor attack(const Classifier& f, const Tensor& x, const std::vector<int64_t>& labels, const AttackSpec& spec,
              Generator& gen) {
  MG_CHECK(spec.eps >= 0.0, "attack: eps must be >= 0, got ", spec.eps);
  MG_CHECK(static_cast<int64_t>(labels.size()) == x.size(0), "attack: ", labels.size(), " labels for images ",
           describe(x));
  if (spec.eps == 0.0) return x;
  const double sign = spec.targeted ? -1.0 : 1.0;  // targeted: descend the target's loss
  switch (spec.kind) {
    case AttackKind::FGSM:
      return step_and_project(x, ops::sign(input_gradient(f, x, labels)), sign * spec.eps, Tensor(), 0.0);
    case AttackKind::FGM_L2:
      return step_and_project(x, l2_direction(input_gradient(f, x, labels)), sign * spec.eps, Tensor(), 0.0);
    case AttackKind::PGD: {
      MG_CHECK(spec.steps > 0, "pgd: steps must be positive, got ", spec.steps);
      const double step = spec.step_size > 0 ? spec.step_size : 2.5 * spec.eps / spec.steps;
      Tensor adv = x;
      if (spec.random_start)
        adv = step_and_project(x, rand_uniform(x.shape(), gen, -1.0, 1.0, x.dtype()), spec.eps, x, spec.eps);
      for (int i = 0; i < spec.steps; ++i)
        adv = step_and_project(adv, ops::sign(input_gradient(f, adv, labels)), sign * step, x, spec.eps);
      return adv;
    }
  }
  return x;
}

}  // namespace mg::experiments
