// Reverse-mode autodiff, define by run. A Variable wraps a Tensor and, when it was computed from
// variables that require gradients, the Node that produced it. A Node holds one edge per input (the
// input's own Node, a gradient accumulator for a leaf, or nothing) and the backward function that maps
// the gradient of its output to gradients of its inputs. Backward functions are written with Variable
// ops themselves, so with create_graph they build a differentiable graph (Hessian-vector products).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mg {

struct Node;
struct VariableImpl;

// How Variable::backward runs: y.backward({}, {.retain_graph = true}).
struct BackwardOptions {
  bool retain_graph = false;  // keep the graph for another backward pass
  bool create_graph = false;  // build the gradients as a differentiable graph (double backward)
};

class Variable {
 public:
  Variable() = default;
  explicit Variable(Tensor data, bool requires_grad = false);

  bool defined() const { return impl_ != nullptr; }
  const Tensor& data() const;
  Tensor& mutable_data();  // for in-place updates (optimizers); bumps no version by itself

  bool requires_grad() const;
  Variable& set_requires_grad(bool flag);  // leaves only
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;

  const Variable& grad() const;  // undefined until a backward pass reaches this leaf
  void set_grad(const Variable& g);
  void zero_grad();  // sets the gradient to undefined (PyTorch's set_to_none)

  Variable detach() const;  // same data, no history, no grad

  // Accumulates d(this)/d(leaf) * grad_output into every leaf's grad(). grad_output may be omitted only
  // for a single-element output. Frees the graph unless options.retain_graph.
  void backward(const Variable& grad_output = {}, const BackwardOptions& options = {}) const;

  // Shorthands for data() properties.
  const Shape& shape() const { return data().shape(); }
  DType dtype() const { return data().dtype(); }
  int64_t dim() const { return data().dim(); }
  int64_t size(int64_t axis) const { return data().size(axis); }
  int64_t numel() const { return data().numel(); }
  double item() const { return data().item(); }

  VariableImpl* impl() const { return impl_.get(); }
  bool same(const Variable& other) const { return impl_ == other.impl_; }

 private:
  friend std::shared_ptr<Node> gradient_edge(const Variable& v);
  friend Variable make_result(Tensor, const std::vector<Variable>&, const char*,
                              std::function<std::vector<Variable>(const Variable&, const std::vector<bool>&)>);
  std::shared_ptr<VariableImpl> impl_;
};

// Maps the gradient of a node's output to gradients of its inputs; needs[i] is false when input i's
// gradient is not wanted (the function may then return an undefined Variable for it).
using BackwardFn = std::function<std::vector<Variable>(const Variable& grad_output, const std::vector<bool>& needs)>;

struct Node {
  std::string name;                          // the op, for error messages and graph dumps
  std::vector<std::shared_ptr<Node>> next;   // per input; nullptr when the input needs no gradient
  std::vector<Shape> input_shapes;           // per input, to check the shapes backward returns
  BackwardFn backward;                       // emptied when the graph is freed
  std::weak_ptr<VariableImpl> leaf;          // set for gradient accumulators
  bool is_accumulator() const { return !leaf.expired() || accumulator; }
  bool accumulator = false;

  // Frees the graph behind this node iteratively: a long chain would otherwise recurse once per node
  // (edges and the saved inputs of `backward` own the nodes before it) and overflow the stack.
  ~Node();
};

struct VariableImpl {
  Tensor data;
  Variable grad;
  std::shared_ptr<Node> grad_fn;      // null for leaves
  std::shared_ptr<Node> accumulator;  // created on first use of a leaf that requires grad
  bool requires_grad = false;
};

// The edge that gradients for `v` flow into: its grad_fn, its accumulator, or nullptr.
std::shared_ptr<Node> gradient_edge(const Variable& v);

// Whether an op on these inputs is recorded: grad mode is on and an input requires grad.
bool records_gradient(const std::vector<Variable>& inputs);

// Builds the output of a differentiable op: attaches a Node when records_gradient(inputs), otherwise
// returns a plain Variable.
Variable make_result(Tensor out, const std::vector<Variable>& inputs, const char* name, BackwardFn backward);

// ---- grad mode -----------------------------------------------------------------------------------------
bool grad_mode_enabled();
class GradModeGuard {  // sets grad mode for a scope, restores it after
 public:
  explicit GradModeGuard(bool enabled);
  ~GradModeGuard();
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;
 private:
  bool previous_;
};
struct NoGradGuard : GradModeGuard {
  NoGradGuard() : GradModeGuard(false) {}
};

// ---- saved variables ------------------------------------------------------------------------------------
// A variable saved for backward remembers its storage version; unpacking after an in-place write to it
// throws instead of computing a silently wrong gradient.
class SavedVariable {
 public:
  SavedVariable() = default;
  SavedVariable(const Variable& v, const char* op);
  const Variable& unpack() const;
 private:
  Variable var_;
  uint64_t version_ = 0;
  const char* op_ = "";
};

}  // namespace mg
