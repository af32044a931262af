// Learning-rate (and momentum) schedules as pure functions of the step number, so resuming from a
// checkpoint at step t gives exactly the values of an uninterrupted run. "step" is whatever the trainer
// counts (epochs or iterations); lr_at(t) is the value PyTorch's scheduler holds after t calls to step().
#pragma once
#include <memory>
#include <optional>
#include <vector>

namespace mg::nn {

class SGD;

class Schedule {
 public:
  virtual ~Schedule() = default;
  // The learning rate for step t (t >= 0).
  virtual double lr_at(int64_t step) const = 0;
  // The momentum for step t, or nothing when the schedule leaves momentum alone.
  virtual std::optional<double> momentum_at(int64_t step) const { return std::nullopt; }
  // Sets the optimizer's learning rate (and momentum, if scheduled) for step t.
  void apply(SGD& optimizer, int64_t step) const;
};

// A fixed learning rate.
class ConstantLR : public Schedule {
 public:
  explicit ConstantLR(double lr) : lr_(lr) {}
  double lr_at(int64_t) const override { return lr_; }

 private:
  double lr_;
};

// torch.optim.lr_scheduler.MultiStepLR: base_lr * gamma^(number of milestones <= t). Milestones past the
// last step never apply (as in PyTorch); a negative milestone is an error.
class MultiStepLR : public Schedule {
 public:
  MultiStepLR(double base_lr, std::vector<int64_t> milestones, double gamma = 0.1);
  double lr_at(int64_t step) const override;

 private:
  double base_lr_, gamma_;
  std::vector<int64_t> milestones_;  // sorted
};

// torch.optim.lr_scheduler.CosineAnnealingLR (closed form):
// eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2.
class CosineAnnealingLR : public Schedule {
 public:
  CosineAnnealingLR(double base_lr, int64_t t_max, double eta_min = 0.0);
  double lr_at(int64_t step) const override;

 private:
  double base_lr_, eta_min_;
  int64_t t_max_;
};

// torch.optim.lr_scheduler.OneCycleLR (two phases, cosine annealing, cycle_momentum): the lr rises from
// max_lr/div_factor to max_lr over the first pct_start of total_steps while momentum falls from
// max_momentum to base_momentum, then lr anneals to initial_lr/final_div_factor and momentum returns.
// The warm-up phase ends at step pct_start * total_steps - 1; when that is 0 (e.g. 4 steps, pct_start 0.25)
// or total_steps - 1, one phase has no length and the constructor throws, naming the step counts, where
// PyTorch raises ZeroDivisionError. When it is below 0 (e.g. total_steps 1) there is no warm-up phase,
// as in PyTorch.
struct OneCycleOptions {
  double max_lr = 0.1;
  int64_t total_steps = 1;
  double pct_start = 0.3;
  double div_factor = 25.0;
  double final_div_factor = 1e4;
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
};

class OneCycleLR : public Schedule {
 public:
  explicit OneCycleLR(OneCycleOptions options);
  double lr_at(int64_t step) const override;  // step in [0, total_steps]
  std::optional<double> momentum_at(int64_t step) const override;

 private:
  // The (lr, momentum) pair PyTorch's get_lr computes at step t.
  std::pair<double, double> at(int64_t step) const;
  OneCycleOptions o_;
};

// Linear warm-up around another schedule: inner.lr_at(t) times a factor going linearly from start_factor
// at t = 0 to 1 at t = warmup_steps (then 1) — PyTorch's ChainedScheduler of LinearLR(start_factor, 1.0,
// warmup_steps) with the inner schedule. Momentum comes from the inner schedule.
class LinearWarmup : public Schedule {
 public:
  LinearWarmup(std::shared_ptr<const Schedule> inner, int64_t warmup_steps, double start_factor = 1.0 / 3.0);
  double lr_at(int64_t step) const override;
  std::optional<double> momentum_at(int64_t step) const override { return inner_->momentum_at(step); }

 private:
  std::shared_ptr<const Schedule> inner_;
  int64_t warmup_steps_;
  double start_factor_;
};

}  // namespace mg::nn
