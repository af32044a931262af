// Parameter-free layers: ReLU, MaxPool2d, AvgPool2d, Flatten, Dropout.
#pragma once
#include "core/rng.h"
#include "nn/module.h"

namespace mg::nn {

// max(x, 0) elementwise.
class ReLU : public Module {
 public:
  Variable forward(const Variable& x) override;
};

// Max over kernel x kernel windows moved by stride (default: kernel), no padding, floor mode.
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int64_t kernel, int64_t stride = 0) : kernel(kernel), stride(stride > 0 ? stride : kernel) {}
  Variable forward(const Variable& x) override;
  const int64_t kernel, stride;
};

// Mean over kernel x kernel windows moved by stride (default: kernel), no padding, floor mode.
class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel, int64_t stride = 0) : kernel(kernel), stride(stride > 0 ? stride : kernel) {}
  Variable forward(const Variable& x) override;
  const int64_t kernel, stride;
};

// Merges axes start..end into one (PyTorch's nn.Flatten: start 1, end -1).
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start = 1, int64_t end = -1) : start(start), end(end) {}
  Variable forward(const Variable& x) override;
  const int64_t start, end;
};

// Inverted dropout with its own Generator (seeded explicitly): in training each call draws a fresh mask
// zeroing elements with probability p and scaling the rest by 1/(1-p); identity in eval mode. In a
// data-parallel step (nn/distributed/micro_shards.h) it draws the mask of the whole global batch, as one
// process does, and applies this rank's rows of it.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, uint64_t seed = 0, uint64_t stream = 0);
  Variable forward(const Variable& x) override;
  // Restarts the masks at a point named by `step`: what follows depends only on (seed, stream, step), so a
  // training loop that restarts every step draws the same masks when it resumes mid-run.
  void restart_at(uint64_t step);
  const double p;

 private:
  uint64_t seed_, stream_;
  Generator gen_;
};

// Dropout::restart_at(step) on every Dropout in `model` (the training loop calls it before each step).
void restart_dropout_at(Module& model, uint64_t step);

}  // namespace mg::nn
