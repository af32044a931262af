#include "nn/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"
#include "nn/optim/sgd.h"

namespace mg::nn {

void Schedule::apply(SGD& optimizer, int64_t step) const {
  optimizer.set_lr(lr_at(step));
  if (const auto m = momentum_at(step)) optimizer.set_momentum(*m);
}

MultiStepLR::MultiStepLR(double base_lr, std::vector<int64_t> milestones, double gamma)
    : base_lr_(base_lr), gamma_(gamma), milestones_(std::move(milestones)) {
  // PyTorch never reaches a negative milestone and silently ignores it; here it is a mistake to report.
  for (int64_t m : milestones_) MG_CHECK(m >= 0, "MultiStepLR: milestones must be >= 0, got ", m);
  std::sort(milestones_.begin(), milestones_.end());
}

double MultiStepLR::lr_at(int64_t step) const {
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), step) - milestones_.begin();
  double lr = base_lr_;
  for (int64_t i = 0; i < passed; ++i) lr *= gamma_;  // repeated products, as PyTorch's chained updates
  return lr;
}

CosineAnnealingLR::CosineAnnealingLR(double base_lr, int64_t t_max, double eta_min)
    : base_lr_(base_lr), eta_min_(eta_min), t_max_(t_max) {
  MG_CHECK(t_max > 0, "CosineAnnealingLR: t_max must be positive, got ", t_max);
}

double CosineAnnealingLR::lr_at(int64_t step) const {
  const double t = static_cast<double>(step) / static_cast<double>(t_max_);
  return eta_min_ + (base_lr_ - eta_min_) * (1.0 + std::cos(std::numbers::pi * t)) / 2.0;
}

OneCycleLR::OneCycleLR(OneCycleOptions options) : o_(options) {
  MG_CHECK(o_.total_steps > 0, "OneCycleLR: total_steps must be positive, got ", o_.total_steps);
  MG_CHECK(o_.pct_start >= 0.0 && o_.pct_start <= 1.0, "OneCycleLR: pct_start must be in [0, 1], got ",
           o_.pct_start);
  // PyTorch's phase boundaries; interpolating inside a phase of zero length divides by zero (PyTorch raises
  // ZeroDivisionError, a plain reading of its formula gives a NaN lr), so such a schedule is refused.
  const double total = static_cast<double>(o_.total_steps), peak = o_.pct_start * total - 1.0;
  MG_CHECK(peak != 0.0, "OneCycleLR: pct_start ", o_.pct_start, " of total_steps ", o_.total_steps,
           " puts the peak at step 0, where the warm-up starts, so the warm-up has no length (PyTorch refuses this "
           "too); use more steps or a pct_start with pct_start x total_steps != 1");
  MG_CHECK(total - 1.0 != peak, "OneCycleLR: pct_start ", o_.pct_start, " of total_steps ", o_.total_steps,
           " puts the peak at the last step ", o_.total_steps - 1, ", leaving no steps to anneal (PyTorch refuses "
           "this too); use a pct_start below 1");
}

namespace {

// PyTorch's _annealing_cos: cosine from start (pct 0) to end (pct 1).
double annealing_cos(double start, double end, double pct) {
  const double cos_out = std::cos(std::numbers::pi * pct) + 1.0;
  return end + (start - end) / 2.0 * cos_out;
}

}  // namespace

std::pair<double, double> OneCycleLR::at(int64_t step) const {
  MG_CHECK(step >= 0 && step <= o_.total_steps, "OneCycleLR: step ", step, " is outside [0, ", o_.total_steps, "]");
  const double initial_lr = o_.max_lr / o_.div_factor;
  const double min_lr = initial_lr / o_.final_div_factor;
  struct Phase {
    double end_step, start_lr, end_lr, start_m, end_m;
  };
  const Phase phases[2] = {
      {o_.pct_start * static_cast<double>(o_.total_steps) - 1.0, initial_lr, o_.max_lr, o_.max_momentum,
       o_.base_momentum},
      {static_cast<double>(o_.total_steps) - 1.0, o_.max_lr, min_lr, o_.base_momentum, o_.max_momentum},
  };
  const double t = static_cast<double>(step);
  double start_step = 0.0;
  for (int i = 0; i < 2; ++i) {
    const Phase& ph = phases[i];
    if (t <= ph.end_step || i == 1) {
      const double pct = (t - start_step) / (ph.end_step - start_step);
      return {annealing_cos(ph.start_lr, ph.end_lr, pct), annealing_cos(ph.start_m, ph.end_m, pct)};
    }
    start_step = ph.end_step;
  }
  return {};  // unreachable
}

double OneCycleLR::lr_at(int64_t step) const { return at(step).first; }

std::optional<double> OneCycleLR::momentum_at(int64_t step) const {
  if (!o_.cycle_momentum) return std::nullopt;
  return at(step).second;
}

LinearWarmup::LinearWarmup(std::shared_ptr<const Schedule> inner, int64_t warmup_steps, double start_factor)
    : inner_(std::move(inner)), warmup_steps_(warmup_steps), start_factor_(start_factor) {
  MG_CHECK(inner_ != nullptr, "LinearWarmup: no inner schedule");
  MG_CHECK(warmup_steps > 0, "LinearWarmup: warmup_steps must be positive, got ", warmup_steps);
  MG_CHECK(start_factor > 0.0 && start_factor <= 1.0, "LinearWarmup: start_factor must be in (0, 1], got ",
           start_factor);
}

double LinearWarmup::lr_at(int64_t step) const {
  const double t = static_cast<double>(std::min(step, warmup_steps_));
  const double factor = start_factor_ + (1.0 - start_factor_) * t / static_cast<double>(warmup_steps_);
  return inner_->lr_at(step) * factor;
}

}  // namespace mg::nn
