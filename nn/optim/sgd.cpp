#include "nn/optim/sgd.h"

#include <map>

#include "core/parallel.h"

namespace mg::nn {

namespace {

// One SGD update over n contiguous elements (buf may be null when momentum is 0); the range is split
// into independent chunks across threads, each element touched by one thread.
template <typename T>
void sgd_update(T* p, const T* grad, T* buf, int64_t n, const SGDOptions& o, bool first) {
  const T lr = static_cast<T>(o.lr), wd = static_cast<T>(o.weight_decay), m = static_cast<T>(o.momentum);
  const T damp = static_cast<T>(1.0 - o.dampening);
  parallel_for(0, n, 1 << 15, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      T g = grad[i];
      if (o.weight_decay != 0.0) g = g + wd * p[i];
      if (buf) {
        buf[i] = first ? g : buf[i] * m + damp * g;
        g = o.nesterov ? g + m * buf[i] : buf[i];
      }
      p[i] = p[i] + (-lr) * g;
    }
  });
}

}  // namespace

SGD::SGD(std::vector<std::pair<std::string, Variable*>> params, SGDOptions options)
    : params_(std::move(params)), buffers_(params_.size()), options_(options) {
  MG_CHECK(options_.lr >= 0.0, "SGD: invalid learning rate ", options_.lr);
  MG_CHECK(options_.momentum >= 0.0, "SGD: invalid momentum ", options_.momentum);
  MG_CHECK(options_.weight_decay >= 0.0, "SGD: invalid weight_decay ", options_.weight_decay);
  MG_CHECK(!options_.nesterov || (options_.momentum > 0.0 && options_.dampening == 0.0),
           "SGD: nesterov momentum requires a momentum and zero dampening");
}

void SGD::step() {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Variable& param = *params_[i].second;
    if (!param.grad().defined()) continue;
    Tensor& p = param.mutable_data();
    MG_CHECK(p.is_contiguous(), "SGD: parameter '", params_[i].first, "' is not contiguous");
    const Tensor grad = param.grad().data().contiguous();
    MG_CHECK(grad.shape() == p.shape() && grad.dtype() == p.dtype(), "SGD: gradient of '", params_[i].first, "' is ",
             describe(grad), ", parameter is ", describe(p));
    bool first = false;
    if (options_.momentum != 0.0 && !buffers_[i].defined()) {
      buffers_[i] = Tensor::empty(p.shape(), p.dtype());
      first = true;
    } else if (buffers_[i].defined() && buffers_[i].dtype() != p.dtype()) {
      buffers_[i] = buffers_[i].to(p.dtype());  // the module changed dtype since the last step
    }
    Tensor* buf = options_.momentum != 0.0 ? &buffers_[i] : nullptr;
    visit_dtype(p.dtype(), [&]<typename T>() {
      sgd_update<T>(p.data<T>(), grad.data<T>(), buf ? buf->data<T>() : nullptr, p.numel(), options_, first);
    });
    p.bump_version();
  }
}

void SGD::zero_grad() {
  for (auto& [name, param] : params_) param->zero_grad();
}

std::vector<StateEntry> SGD::state_dict() const {
  std::vector<StateEntry> out;
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (buffers_[i].defined()) out.push_back({params_[i].first, buffers_[i], false});
  return out;
}

void SGD::load_state_dict(const std::vector<StateEntry>& entries) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < params_.size(); ++i) index[params_[i].first] = i;
  std::vector<Tensor> loaded(params_.size());
  for (const auto& e : entries) {
    const auto it = index.find(e.name);
    MG_CHECK(it != index.end(), "SGD::load_state_dict: momentum buffer '", e.name,
             "' names no parameter of this optimizer");
    const Tensor& p = params_[it->second].second->data();
    MG_CHECK(e.value.shape() == p.shape(), "SGD::load_state_dict: momentum buffer '", e.name, "' has shape ",
             to_string(e.value.shape()), " but the parameter has shape ", to_string(p.shape()));
    MG_CHECK(!loaded[it->second].defined(), "SGD::load_state_dict: momentum buffer '", e.name, "' appears twice");
    loaded[it->second] = e.value.to(p.dtype()).clone();
  }
  buffers_ = std::move(loaded);
}

}  // namespace mg::nn
