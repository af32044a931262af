#include "autograd/engine.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "autograd/functions.h"
#include "core/error.h"

namespace mg {
namespace {

// Nodes reachable from `roots`, ordered so that every node comes before the nodes it points to.
std::vector<Node*> topological_order(const std::vector<Node*>& roots) {
  std::vector<Node*> post_order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<Node*, std::size_t>> stack;
  for (Node* root : roots) {
    if (!root || !visited.insert(root).second) continue;
    stack.emplace_back(root, 0);
    while (!stack.empty()) {
      auto& [node, child] = stack.back();
      if (child < node->next.size()) {
        Node* next = node->next[child++].get();
        if (next && visited.insert(next).second) stack.emplace_back(next, 0);
      } else {
        post_order.push_back(node);
        stack.pop_back();
      }
    }
  }
  return {post_order.rbegin(), post_order.rend()};
}

Variable seed_gradient(const Variable& output, const Variable& seed) {
  if (seed.defined()) {
    MG_CHECK(seed.shape() == output.shape(), "backward: gradient ", describe(seed.data()),
             " does not match output ", describe(output.data()));
    return seed;
  }
  MG_CHECK(output.numel() == 1, "backward: a gradient can be implicitly created only for a one-element output, ",
           "got ", describe(output.data()), "; pass grad_output");
  return Variable(Tensor::ones(output.shape(), output.dtype()));
}

void accumulate(std::unordered_map<Node*, Variable>& grads, Node* node, const Variable& g) {
  auto [it, inserted] = grads.try_emplace(node, g);
  if (!inserted) it->second = it->second + g;
}

// The shared walk. targets == nullptr: accumulate into leaves. Otherwise: collect gradients at the
// target nodes only and evaluate just the part of the graph that leads to them.
void execute(const std::vector<Variable>& outputs, const std::vector<Variable>& grad_outputs, bool retain_graph,
             bool create_graph, const std::vector<Node*>* targets, std::unordered_map<Node*, Variable>* captured) {
  MG_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), "backward: ", grad_outputs.size(),
           " gradients given for ", outputs.size(), " outputs");
  GradModeGuard mode(create_graph);
  std::unordered_map<Node*, Variable> grads;
  std::vector<Node*> roots;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Variable& out = outputs[i];
    MG_CHECK(out.requires_grad(), "backward: output ", i, " (", describe(out.data()),
             ") does not require grad and has no grad_fn");
    Node* root = gradient_edge(out).get();
    roots.push_back(root);
    accumulate(grads, root, seed_gradient(out, grad_outputs.empty() ? Variable() : grad_outputs[i]));
  }
  const std::vector<Node*> order = topological_order(roots);

  std::unordered_set<Node*> needed;  // nodes whose backward must run
  if (targets) {
    std::unordered_set<Node*> target_set(targets->begin(), targets->end());
    for (auto it = order.rbegin(); it != order.rend(); ++it) {  // children before parents
      Node* node = *it;
      bool need = target_set.count(node) > 0;
      for (const auto& next : node->next) need = need || (next && needed.count(next.get()));
      if (need) needed.insert(node);
    }
  } else {
    needed.insert(order.begin(), order.end());
  }

  for (Node* node : order) {
    if (!needed.count(node)) continue;
    auto found = grads.find(node);
    if (found == grads.end()) continue;
    const Variable g = found->second;
    grads.erase(found);
    if (captured && std::find(targets->begin(), targets->end(), node) != targets->end()) (*captured)[node] = g;

    if (node->is_accumulator()) {
      if (targets) continue;
      auto leaf = node->leaf.lock();
      if (!leaf) continue;
      const Variable contribution = create_graph ? g : g.detach();
      leaf->grad = leaf->grad.defined() ? leaf->grad + contribution : contribution;
      if (!create_graph) leaf->grad = leaf->grad.detach();
      continue;
    }
    MG_CHECK(node->backward, "backward through ", node->name, " a second time: its saved values were freed; ",
             "pass retain_graph=true to the first backward");
    std::vector<bool> needs(node->next.size());
    bool any_need = false;
    for (std::size_t i = 0; i < needs.size(); ++i) {
      needs[i] = node->next[i] && needed.count(node->next[i].get());
      any_need = any_need || needs[i];
    }
    if (!any_need) continue;  // a target whose inputs lead to no other target
    const std::vector<Variable> input_grads = node->backward(g, needs);
    MG_CHECK(input_grads.size() == node->next.size(), node->name, " backward returned ", input_grads.size(),
             " gradients for ", node->next.size(), " inputs");
    if (!retain_graph) node->backward = nullptr;
    for (std::size_t i = 0; i < input_grads.size(); ++i) {
      if (!needs[i] || !input_grads[i].defined()) continue;
      MG_CHECK(input_grads[i].shape() == node->input_shapes[i], node->name, " backward: gradient for input ", i,
               " has shape ", to_string(input_grads[i].shape()), ", expected ", to_string(node->input_shapes[i]));
      accumulate(grads, node->next[i].get(), input_grads[i]);
    }
  }
}

}  // namespace

void run_backward(const std::vector<Variable>& outputs, const std::vector<Variable>& grad_outputs,
                  bool retain_graph, bool create_graph) {
  execute(outputs, grad_outputs, retain_graph || create_graph, create_graph, nullptr, nullptr);
}

std::vector<Variable> grad(const std::vector<Variable>& outputs, const std::vector<Variable>& inputs,
                           const std::vector<Variable>& grad_outputs, const GradOptions& options) {
  std::vector<Node*> targets;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    MG_CHECK(inputs[i].requires_grad(), "grad: input ", i, " (", describe(inputs[i].data()),
             ") does not require grad");
    targets.push_back(gradient_edge(inputs[i]).get());
  }
  std::unordered_map<Node*, Variable> captured;
  execute(outputs, grad_outputs, options.retain_graph.value_or(options.create_graph), options.create_graph, &targets,
          &captured);
  std::vector<Variable> result;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto it = captured.find(targets[i]);
    if (it == captured.end()) {
      MG_CHECK(options.allow_unused, "grad: input ", i, " (", describe(inputs[i].data()),
               ") was not used to compute the outputs; pass {.allow_unused = true}");
      result.emplace_back();
    } else {
      result.push_back(it->second);
    }
  }
  return result;
}

}  // namespace mg
