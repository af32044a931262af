#include "autograd/variable.h"

#include <algorithm>

#include "autograd/engine.h"
#include "core/error.h"

namespace mg {

Variable::Variable(Tensor data, bool requires_grad) : impl_(std::make_shared<VariableImpl>()) {
  MG_CHECK(data.defined(), "Variable: cannot wrap an undefined tensor");
  impl_->data = std::move(data);
  impl_->requires_grad = requires_grad;
}

const Tensor& Variable::data() const {
  MG_CHECK(impl_, "use of an undefined Variable");
  return impl_->data;
}

Tensor& Variable::mutable_data() {
  MG_CHECK(impl_, "use of an undefined Variable");
  return impl_->data;
}

bool Variable::requires_grad() const { return impl_ && (impl_->requires_grad || impl_->grad_fn); }

Variable& Variable::set_requires_grad(bool flag) {
  MG_CHECK(impl_ && !impl_->grad_fn, "set_requires_grad: only leaf variables can change requires_grad");
  impl_->requires_grad = flag;
  return *this;
}

bool Variable::is_leaf() const { return !impl_ || !impl_->grad_fn; }

const std::shared_ptr<Node>& Variable::grad_fn() const {
  static const std::shared_ptr<Node> none;
  return impl_ ? impl_->grad_fn : none;
}

const Variable& Variable::grad() const {
  static const Variable none;
  return impl_ ? impl_->grad : none;
}

void Variable::set_grad(const Variable& g) {
  MG_CHECK(impl_, "set_grad on an undefined Variable");
  if (g.defined())
    MG_CHECK(g.shape() == shape(), "set_grad: gradient ", describe(g.data()), " does not match ", describe(data()));
  impl_->grad = g;
}

void Variable::zero_grad() {
  if (impl_) impl_->grad = Variable();
}

Variable Variable::detach() const { return Variable(data(), false); }

void Variable::backward(const Variable& grad_output, const BackwardOptions& options) const {
  run_backward({*this}, {grad_output}, options.retain_graph, options.create_graph);
}

std::shared_ptr<Node> gradient_edge(const Variable& v) {
  if (!v.impl_) return nullptr;
  if (v.impl_->grad_fn) return v.impl_->grad_fn;
  if (!v.impl_->requires_grad) return nullptr;
  if (!v.impl_->accumulator) {
    auto acc = std::make_shared<Node>();
    acc->name = "AccumulateGrad";
    acc->leaf = v.impl_;
    acc->accumulator = true;
    v.impl_->accumulator = acc;
  }
  return v.impl_->accumulator;
}

namespace {
// What the Node destructors of this thread still have to drop. The outermost ~Node drains it; a ~Node run
// while draining only hands over what it owns, so the stack depth stays constant however long the graph.
struct GraphReleaseQueue {
  std::vector<std::shared_ptr<Node>> edges;
  std::vector<BackwardFn> backward_fns;  // their captures hold saved Variables, and through them nodes
  bool draining = false;
};
thread_local GraphReleaseQueue g_release;
}  // namespace

Node::~Node() {
  GraphReleaseQueue& q = g_release;
  for (std::shared_ptr<Node>& edge : next)
    if (edge) q.edges.push_back(std::move(edge));
  if (backward) q.backward_fns.emplace_back().swap(backward);
  if (q.draining) return;
  q.draining = true;
  while (!q.edges.empty() || !q.backward_fns.empty()) {
    if (!q.edges.empty()) {
      const std::shared_ptr<Node> edge = std::move(q.edges.back());
      q.edges.pop_back();
    } else {
      BackwardFn fn;
      fn.swap(q.backward_fns.back());
      q.backward_fns.pop_back();
    }  // the popped edge or function is released here; nodes it frees enqueue what they own
  }
  q.draining = false;
}

bool records_gradient(const std::vector<Variable>& inputs) {
  return grad_mode_enabled() &&
         std::any_of(inputs.begin(), inputs.end(), [](const Variable& in) { return in.requires_grad(); });
}

Variable make_result(Tensor out, const std::vector<Variable>& inputs, const char* name, BackwardFn backward) {
  Variable result(std::move(out));
  if (!records_gradient(inputs)) return result;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->next.reserve(inputs.size());
  for (const Variable& in : inputs) {
    node->next.push_back(in.requires_grad() ? gradient_edge(in) : nullptr);
    node->input_shapes.push_back(in.defined() ? in.shape() : Shape{});
  }
  node->backward = std::move(backward);
  result.impl_->grad_fn = std::move(node);
  return result;
}

namespace {
thread_local bool g_grad_mode = true;
}

bool grad_mode_enabled() { return g_grad_mode; }
GradModeGuard::GradModeGuard(bool enabled) : previous_(g_grad_mode) { g_grad_mode = enabled; }
GradModeGuard::~GradModeGuard() { g_grad_mode = previous_; }

SavedVariable::SavedVariable(const Variable& v, const char* op) : var_(v), version_(v.data().version()), op_(op) {}

const Variable& SavedVariable::unpack() const {
  if (var_.defined())
    MG_CHECK(var_.data().version() == version_, "one of the variables needed for gradient computation has been ",
             "modified by an in-place operation: ", describe(var_.data()), " saved by ", op_, " is at version ",
             var_.data().version(), "; expected version ", version_, " (it was modified after it was saved)");
  return var_;
}

}  // namespace mg
