// The gradcheck cases: one entry per differentiable op (some ops have several, e.g. per broadcasting
// direction), named after the op: "op" or "op_variant". `mixgrad gradcheck` runs them all;
// tests/autograd/test_gradcheck.cpp does too. Each layer also lists its ops' files (OpDoc); docs/ops.md is
// generated from both (nn/op_table.h) and a test keeps it in step.
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
  bool double_backward = true;  // create_graph works through it (checked by gradgradcheck), else a clear error
};

// Where one differentiable op lives: one row of docs/ops.md. Paths are from the repository root.
struct OpDoc {
  std::string op;               // its cases are named op or op_<variant> (the longest documented op wins)
  std::string kernel;           // the forward's loops
  std::string backward;         // the op's make_result call and its backward rule
  std::string checked_by = {};  // for an op without gradcheck cases of its own: what checks its gradient
};

std::vector<OpCase> core_op_cases();  // this layer's ops (autograd/op_cases.cpp)
std::vector<OpDoc> core_op_docs();

// Input helpers for cases.
Tensor uniform64(const Shape& shape, Generator& gen, double lo = -1.0, double hi = 1.0);
Tensor away_from_zero64(const Shape& shape, Generator& gen, double margin = 0.2, double hi = 1.5);  // ±[margin, hi]
Tensor distinct64(const Shape& shape, Generator& gen);  // a shuffled, evenly spaced grid: no ties

GradcheckResult run_case(const OpCase& c, uint64_t seed = 7);

}  // namespace mg
