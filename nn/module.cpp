#include "nn/module.h"

#include <map>
#include <set>

namespace mg::nn {

Module::~Module() = default;

template <typename Fn>
void Module::visit(const std::string& prefix, Fn&& fn) {
  fn(prefix, *this);
  for (auto& [name, child] : children_) child->visit(prefix + name + ".", fn);
}

void Module::train(bool on) {
  visit("", [on](const std::string&, Module& m) { m.training_ = on; });
}

std::vector<std::pair<std::string, Variable*>> Module::named_parameters() {
  std::vector<std::pair<std::string, Variable*>> out;
  visit("", [&](const std::string& prefix, Module& m) {
    for (auto& [name, slot] : m.params_) out.emplace_back(prefix + name, slot);
  });
  return out;
}

std::vector<StateEntry> Module::named_buffers() {
  std::vector<StateEntry> out;
  visit("", [&](const std::string& prefix, Module& m) {
    for (auto& b : m.buffers_) out.push_back({prefix + b.name, *b.tensor, b.integer});
  });
  return out;
}

std::vector<StateEntry> Module::state_dict() {
  std::vector<StateEntry> out;
  visit("", [&](const std::string& prefix, Module& m) {
    for (auto& [name, slot] : m.params_) out.push_back({prefix + name, slot->data(), false});
    for (auto& b : m.buffers_) out.push_back({prefix + b.name, *b.tensor, b.integer});
  });
  return out;
}

namespace {

// The last component of a dotted name ("layer1.0.bn1.num_batches_tracked" -> "num_batches_tracked").
std::string leaf_name(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

}  // namespace

void Module::load_state_dict(const std::vector<StateEntry>& entries) {
  std::map<std::string, const StateEntry*> given;
  for (const auto& e : entries) {
    MG_CHECK(e.value.defined(), "load_state_dict: tensor '", e.name, "' is undefined");
    MG_CHECK(given.emplace(e.name, &e).second, "load_state_dict: tensor '", e.name, "' appears twice");
  }
  // Destinations: a parameter's data or a buffer, with whether it is an integer buffer.
  struct Target {
    std::string name;
    Tensor* tensor;
    bool integer;
  };
  std::vector<Target> targets;
  visit("", [&](const std::string& prefix, Module& m) {
    for (auto& [name, slot] : m.params_) targets.push_back({prefix + name, &slot->mutable_data(), false});
    for (auto& b : m.buffers_) targets.push_back({prefix + b.name, b.tensor, b.integer});
  });

  // Check everything first, so a bad state_dict leaves the module untouched.
  std::set<std::string> expected;
  std::vector<std::pair<Tensor*, const Tensor*>> copies;
  for (const auto& t : targets) {
    expected.insert(t.name);
    const auto it = given.find(t.name);
    if (it == given.end()) {
      if (t.integer && leaf_name(t.name) == "num_batches_tracked") continue;
      MG_FAIL("load_state_dict: missing tensor '", t.name, "' (the model expects shape ", to_string(t.tensor->shape()),
              ")");
    }
    const Tensor& value = it->second->value;
    const bool shape_ok = t.integer ? value.numel() == 1 : value.shape() == t.tensor->shape();
    MG_CHECK(shape_ok, "load_state_dict: tensor '", t.name, "' has shape ", to_string(value.shape()),
             " but the model expects shape ", to_string(t.tensor->shape()));
    copies.emplace_back(t.tensor, &value);
  }
  for (const auto& e : entries)
    MG_CHECK(expected.count(e.name), "load_state_dict: unexpected tensor '", e.name, "' with shape ",
             to_string(e.value.shape()), " (the model has no parameter or buffer of that name)");

  for (auto& [dst, src] : copies) {
    const Tensor value = src->to(dst->dtype()).reshape(dst->shape());
    dst->copy_(value);
  }
}

void Module::to(DType dtype) {
  visit("", [dtype](const std::string&, Module& m) {
    for (auto& [name, slot] : m.params_)
      if (slot->dtype() != dtype) *slot = Variable(slot->data().to(dtype), true);
    for (auto& b : m.buffers_)
      if (!b.integer && b.tensor->dtype() != dtype) *b.tensor = b.tensor->to(dtype);
  });
}

DType Module::dtype() const {
  auto* self = const_cast<Module*>(this);
  const auto params = self->named_parameters();
  return params.empty() ? DType::F32 : params.front().second->dtype();
}

void Module::register_parameter(std::string name, Variable& slot, Tensor value) {
  slot = Variable(std::move(value), true);
  params_.emplace_back(std::move(name), &slot);
}

void Module::register_buffer(std::string name, Tensor& slot, Tensor value, bool integer) {
  slot = std::move(value);
  buffers_.push_back({std::move(name), &slot, integer});
}

}  // namespace mg::nn
