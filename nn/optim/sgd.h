// Stochastic gradient descent exactly as torch.optim.SGD (dampening, nesterov, coupled weight decay):
//   g = grad + wd * p;  buf = g on the first step, else momentum * buf + (1 - dampening) * g;
//   g = nesterov ? g + momentum * buf : buf;  p -= lr * g.
// Updates parameter data in place and keeps one momentum buffer per parameter.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace mg::nn {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

class SGD {
 public:
  // params: (name, variable) pairs as from Module::named_parameters(); the Variables must outlive the SGD.
  SGD(std::vector<std::pair<std::string, Variable*>> params, SGDOptions options);

  // Applies one update to every parameter that has a gradient (others are skipped, as in PyTorch).
  void step();
  // Sets every parameter's gradient to undefined.
  void zero_grad();

  void set_lr(double lr) { options_.lr = lr; }
  double lr() const { return options_.lr; }
  void set_momentum(double momentum) { options_.momentum = momentum; }
  double momentum() const { return options_.momentum; }
  const SGDOptions& options() const { return options_; }

  // The momentum buffers that exist, named after their parameters (for checkpoints).
  std::vector<StateEntry> state_dict() const;
  // Restores momentum buffers by parameter name (converted to the parameter's dtype); parameters not
  // listed get none. An unknown name or a shape that differs from the parameter's throws mg::Error.
  void load_state_dict(const std::vector<StateEntry>& entries);

 private:
  std::vector<std::pair<std::string, Variable*>> params_;
  std::vector<Tensor> buffers_;  // per parameter; undefined until its first momentum step
  SGDOptions options_;
};

}  // namespace mg::nn
