// The backward pass: an iterative topological walk over Nodes (no recursion, so deep graphs cannot
// overflow the stack), summing the gradients that reach each node before running its backward function.
#pragma once
#include <vector>

#include "autograd/variable.h"

namespace mg {

// Accumulates gradients of `outputs` (seeded with `grad_outputs`; an undefined seed means ones for a
// one-element output) into the .grad of every leaf that requires grad.
void run_backward(const std::vector<Variable>& outputs, const std::vector<Variable>& grad_outputs,
                  bool retain_graph, bool create_graph);

// Returns d(outputs)/d(inputs) contracted with grad_outputs, without touching any .grad; parts of the
// graph that do not lead to `inputs` are not evaluated. An input the outputs do not depend on is an
// error unless allow_unused (then its gradient is undefined). retain_graph defaults to create_graph.
std::vector<Variable> grad(const std::vector<Variable>& outputs, const std::vector<Variable>& inputs,
                           const std::vector<Variable>& grad_outputs = {}, bool create_graph = false,
                           bool allow_unused = false);
std::vector<Variable> grad(const std::vector<Variable>& outputs, const std::vector<Variable>& inputs,
                           const std::vector<Variable>& grad_outputs, bool create_graph, bool allow_unused,
                           bool retain_graph);

}  // namespace mg
