#include "nn/layers/sequential.h"

namespace mg::nn {

Sequential& Sequential::push_back(std::shared_ptr<Module> child) {
  register_module(std::to_string(children().size()), std::move(child));
  return *this;
}

Variable Sequential::forward(const Variable& x) {
  Variable out = x;
  for (const auto& [name, child] : children()) out = child->forward(out);
  return out;
}

}  // namespace mg::nn
