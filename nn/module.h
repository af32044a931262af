// Module: the base of every layer and model. A module owns parameters (Variables that require grad),
// buffers (Tensors such as BatchNorm's running statistics) and named child modules, in registration order,
// and names them the way PyTorch's state_dict does ("features.0.weight", "layer1.0.bn1.running_mean"), so
// weights move between mixgrad and PyTorch unchanged.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.h"

namespace mg::nn {

// One named tensor of a state_dict. integer marks whole-number buffers (num_batches_tracked), written as
// I64 in files; mixgrad keeps them as 0-d f64 tensors whatever the module's dtype (exact up to 2^53).
struct StateEntry {
  std::string name;
  Tensor value;
  bool integer = false;
};

class Module {
 public:
  Module() = default;
  virtual ~Module();
  Module(const Module&) = delete;             // parameters are registered by address: no copies or moves
  Module& operator=(const Module&) = delete;

  // Computes the module's output for input x.
  virtual Variable forward(const Variable& x) = 0;
  Variable operator()(const Variable& x) { return forward(x); }

  // Sets training mode on this module and all its descendants (BatchNorm and Dropout read it).
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Every parameter with its PyTorch name, in PyTorch's named_parameters() order; pointers stay valid
  // for the module's lifetime (to() replaces the Variable in place).
  std::vector<std::pair<std::string, Variable*>> named_parameters();
  // Every buffer with its PyTorch name and order; the tensors share storage with the module.
  std::vector<StateEntry> named_buffers();
  // Parameters and buffers interleaved per module exactly as PyTorch's state_dict(); values share storage.
  std::vector<StateEntry> state_dict();
  // Copies values into the module by name. Strict: a missing, unexpected, duplicated or mis-shaped entry
  // throws mg::Error naming the tensor (and both shapes); nothing is written unless all entries check out.
  // num_batches_tracked may be absent (it keeps its value). Values are converted to the module's dtype.
  void load_state_dict(const std::vector<StateEntry>& entries);

  // Converts every parameter and (non-integer) buffer to dtype, in place; gradients are dropped.
  void to(DType dtype);
  // The dtype of the parameters (f32 for a module without any).
  DType dtype() const;

  // Direct children with their names, in registration order.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

 protected:
  // Registers a member Variable as a parameter (marks it requires_grad); `slot` must live as long as *this.
  void register_parameter(std::string name, Variable& slot, Tensor value);
  // Registers a member Tensor as a buffer; `slot` must live as long as *this.
  void register_buffer(std::string name, Tensor& slot, Tensor value, bool integer = false);
  // Adds a named child module and returns it.
  template <typename M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> child) {
    children_.emplace_back(std::move(name), child);
    return child;
  }

 private:
  struct BufferSlot {
    std::string name;
    Tensor* tensor;
    bool integer;
  };
  // Calls fn(prefix, module) for this module and every descendant, parents before children.
  template <typename Fn>
  void visit(const std::string& prefix, Fn&& fn);

  bool training_ = true;
  std::vector<std::pair<std::string, Variable*>> params_;
  std::vector<BufferSlot> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace mg::nn
