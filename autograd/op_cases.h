// The gradcheck cases: one entry per differentiable op (some ops have several, e.g. per broadcasting
// direction). `mixgrad gradcheck` runs them all; tests/autograd/test_gradcheck.cpp does too.
// Inputs are built away from kinks (ReLU inputs away from 0, max inputs without ties).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "core/rng.h"

namespace mg {

struct OpCase {
  std::string name;
  std::function<std::vector<Tensor>(Generator&)> make_inputs;  // f64 inputs
  DiffFn fn;
  std::vector<bool> differentiable = {};  // empty: all inputs
  GradcheckOptions options = {};
};

std::vector<OpCase> core_op_cases();  // this layer's ops (autograd/op_cases.cpp)

// Input helpers for cases.
Tensor uniform64(const Shape& shape, Generator& gen, double lo = -1.0, double hi = 1.0);
Tensor away_from_zero64(const Shape& shape, Generator& gen, double margin = 0.2, double hi = 1.5);  // ±[margin, hi]
Tensor distinct64(const Shape& shape, Generator& gen);  // a shuffled, evenly spaced grid: no ties

GradcheckResult run_case(const OpCase& c, uint64_t seed = 7);

}  // namespace mg
