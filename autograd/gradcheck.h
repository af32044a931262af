// gradcheck: compares analytic gradients with float64 central differences.
//
// The op's output is contracted with a fixed random tensor R (so every output element matters):
// L(x) = sum(f(x) * R). For each input element, numeric = (L(x + h) - L(x - h)) / 2h. A point where the
// one-sided slopes (L(x+h) - L(x)) / h and (L(x) - L(x-h)) / h disagree sits on a kink (ReLU at 0, a max
// tie) and is skipped. Errors per input: max_abs_err = max |analytic - numeric|, max_rel_err =
// max_abs_err / max |numeric| (relative to the input's largest gradient entry). The check fails when the
// analytic gradient is all zeros where the numeric one is not, whatever the tolerance.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace mg {

using DiffFn = std::function<Variable(const std::vector<Variable>&)>;

struct GradcheckOptions {
  double eps = 1e-6;          // finite-difference step
  double rel_tol = 1e-6;      // pass when max_rel_err <= rel_tol
  double kink_tol = 1e-3;     // one-sided slopes differing by more than this (relative) mark a kink
  double max_skipped = 0.25;  // fail when a larger share of points sits on kinks
  uint64_t seed = 1234;       // for the projection R
};

struct GradcheckResult {
  std::string op;
  double max_abs_err = 0.0;
  double max_rel_err = 0.0;
  int64_t checked = 0;        // input elements compared
  int64_t skipped = 0;        // input elements skipped as kinks
  bool passed = false;
  std::string message;        // why it failed, empty when passed
};

// inputs: float64 tensors; differentiable[i] false excludes input i (empty = all differentiable).
GradcheckResult gradcheck(const std::string& op, const DiffFn& fn, const std::vector<Tensor>& inputs,
                          const std::vector<bool>& differentiable = {}, const GradcheckOptions& options = {});

// PyTorch's gradgradcheck: gradcheck of the gradient. With gy a fixed random tensor shaped like fn's output,
// checks G(inputs, gy) = d dot(fn(inputs), gy) / d(differentiable inputs), built with create_graph, so the
// backward rules are differentiated in turn (with respect to the inputs and to gy).
GradcheckResult gradgradcheck(const std::string& op, const DiffFn& fn, const std::vector<Tensor>& inputs,
                              const std::vector<bool>& differentiable = {}, const GradcheckOptions& options = {});

}  // namespace mg
