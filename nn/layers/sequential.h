// Sequential: children named "0", "1", ... applied in order (so names read "features.0.weight" as in
// PyTorch); an empty Sequential is the identity.
#pragma once
#include <memory>

#include "nn/module.h"

namespace mg::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  // Appends a child under the next index and returns *this.
  Sequential& push_back(std::shared_ptr<Module> child);
  // Constructs a child of type M in place and appends it.
  template <typename M, typename... Args>
  Sequential& emplace(Args&&... args) {
    return push_back(std::make_shared<M>(std::forward<Args>(args)...));
  }
  // Applies the children in order to x; a BatchNorm2d followed by a ReLU runs fused (forward_relu).
  Variable forward(const Variable& x) override;
  std::size_t size() const { return children().size(); }
  Module& operator[](std::size_t i) const { return *children().at(i).second; }
};

}  // namespace mg::nn
