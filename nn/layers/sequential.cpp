#include "nn/layers/sequential.h"

#include <typeinfo>

#include "nn/layers/batchnorm.h"
#include "nn/layers/simple.h"

namespace mg::nn {
namespace {

template <typename M>
bool is_a(const Module& m) {
  return typeid(m) == typeid(M);
}

}  // namespace

Sequential& Sequential::push_back(std::shared_ptr<Module> child) {
  register_module(std::to_string(children().size()), std::move(child));
  return *this;
}

Variable Sequential::forward(const Variable& x) {
  Variable out = x;
  const auto& layers = children();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    // BatchNorm2d then ReLU runs as BatchNorm2d::forward_relu: the same bits, one pass over memory in eval.
    // Exact types only: a subclass may override forward, which must then run.
    if (i + 1 < layers.size() && is_a<BatchNorm2d>(*layers[i].second) && is_a<ReLU>(*layers[i + 1].second)) {
      out = static_cast<BatchNorm2d&>(*layers[i].second).forward_relu(out);
      ++i;
      continue;
    }
    out = layers[i].second->forward(out);
  }
  return out;
}

}  // namespace mg::nn
