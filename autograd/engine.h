// The backward pass: an iterative topological walk over Nodes (no recursion, so deep graphs cannot
// overflow the stack), summing the gradients that reach each node before running its backward function.
#pragma once
#include <optional>
#include <vector>

#include "autograd/variable.h"

namespace mg {

// Accumulates gradients of `outputs` (seeded with `grad_outputs`; an undefined seed means ones for a
// one-element output) into the .grad of every leaf that requires grad.
void run_backward(const std::vector<Variable>& outputs, const std::vector<Variable>& grad_outputs,
                  bool retain_graph, bool create_graph);

// How grad() runs, with PyTorch's names: grad(out, in, {}, {.create_graph = true}).
struct GradOptions {
  bool create_graph = false;  // build the gradients as a differentiable graph (double backward)
  bool allow_unused = false;  // an input the outputs do not depend on gets an undefined gradient, not an error
  std::optional<bool> retain_graph;  // keep the graph for another backward pass; default: create_graph
};

// Returns d(outputs)/d(inputs) contracted with grad_outputs, without touching any .grad; parts of the
// graph that do not lead to `inputs` are not evaluated. An input the outputs do not depend on is an
// error unless options.allow_unused.
std::vector<Variable> grad(const std::vector<Variable>& outputs, const std::vector<Variable>& inputs,
                           const std::vector<Variable>& grad_outputs = {}, const GradOptions& options = {});

}  // namespace mg
