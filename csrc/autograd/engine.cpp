#include "autograd/engine.h"

#include <queue>
#include <unordered_map>
#include "autograd/node.h"
#include "core/error.h"
#include "ops/ops.h"

namespace tg {

namespace {

struct NodeState {
  int dependencies = 0;
  bool needed = true;     // runs at all: on the way to a captured edge (always, for backward)
  bool run_apply = true;  // calls its backward function
  bool is_target = false;
  bool queued = false;
  TensorList inputs;  // the gradients arriving for each of the node's outputs
};

struct LaterFirst {
  bool operator()(Node* a, Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

// Gradients arrive with the shape and dtype of the op's computation; the input they are
// for may have been broadcast or promoted.
Tensor fit_to_input(Tensor g, const NextEdge& next) {
  if (g.sizes() != next.sizes) g = ops::sum_to_size(g, next.sizes);
  if (g.dtype() != next.dtype) g = ops::to_dtype(g, next.dtype);
  return g;
}

void accumulate(Tensor& slot, Tensor g) {
  slot = slot.defined() ? ops::add(slot, g) : std::move(g);
}

Tensor default_root_grad(const Tensor& root, size_t i) {
  if (root.numel() != 1) throw Error("grad can be implicitly created only for scalar outputs");
  TG_CHECK(is_floating(root.dtype()), "grad can be implicitly created only for real scalar outputs but got ",
           dtype_name(root.dtype()));
  return ops::ones_like(root);
}

class GraphTask {
 public:
  GraphTask(bool keep_graph, bool create_graph) : keep_graph_(keep_graph), create_graph_(create_graph) {}

  // captures: when non-null, only the paths to these edges run. Their gradients are collected
  // into `captured` when it is non-null (autograd.grad), else accumulated into the .grad of
  // those tensors only (backward(inputs=...)).
  void run(const TensorList& roots, const TensorList& grad_roots, const std::vector<Edge>* captures,
           TensorList* captured) {
    if (!grad_roots.empty() && grad_roots.size() != roots.size())
      throw Error(str_cat("got ", roots.size(), " tensors and ", grad_roots.size(), " gradients"));
    std::vector<Edge> root_edges;
    TensorList root_grads;
    for (size_t i = 0; i < roots.size(); ++i) {
      const Tensor& r = roots[i];
      if (!r.requires_grad())
        throw Error(str_cat("element ", i, " of tensors does not require grad and does not have a grad_fn"));
      Tensor g = i < grad_roots.size() && grad_roots[i].defined() ? grad_roots[i] : default_root_grad(r, i);
      if (g.sizes() != r.sizes())
        throw Error(str_cat("Mismatch in shape: grad_output[", i, "] has a shape of torch.Size(",
                            shape_str(g.sizes()), ") and output[", i, "] has a shape of torch.Size(",
                            shape_str(r.sizes()), ")."));
      Edge edge = gradient_edge(r);
      if (!edge.node) continue;  // a view made in no_grad mode: nothing to reach
      root_edges.push_back(std::move(edge));
      root_grads.push_back(g.dtype() == r.dtype() ? g : ops::to_dtype(g, r.dtype()));
    }
    discover(root_edges);
    if (captures) mark_needed(*captures);
    if (captures && !captured)
      for (auto& e : *captures)
        if (dynamic_cast<AccumulateGrad*>(e.node.get())) states_[e.node.get()].run_apply = true;

    for (size_t i = 0; i < root_edges.size(); ++i) {
      NodeState& s = states_[root_edges[i].node.get()];
      s.inputs.resize(root_edges[i].node->num_outputs());
      accumulate(s.inputs[root_edges[i].input_nr], root_grads[i]);
    }
    std::priority_queue<Node*, std::vector<Node*>, LaterFirst> ready;
    for (auto& e : root_edges) {
      NodeState& s = states_[e.node.get()];
      if (s.dependencies == 0 && s.needed && !s.queued) {
        s.queued = true;
        ready.push(e.node.get());
      }
    }

    while (!ready.empty()) {
      Node* node = ready.top();
      ready.pop();
      NodeState& state = states_[node];
      TensorList grads = std::move(state.inputs);
      grads.resize(node->num_outputs());
      run_hooks(*node, grads);
      if (captured) capture(node, grads, *captures, *captured);
      for (auto& [output_nr, impl] : node->retained_outputs) retain(impl, grads[output_nr]);

      TensorList outputs;
      bool any_grad = false;
      for (auto& g : grads) any_grad |= g.defined();
      if (any_grad && state.run_apply) {
        AutoGradMode mode(create_graph_);
        outputs = node->apply(std::move(grads));
      }
      if (!keep_graph_) node->release_saved();

      for (size_t i = 0; i < node->next_edges.size(); ++i) {
        const NextEdge& next = node->next_edges[i];
        Node* child = next.edge.node.get();
        if (!child) continue;
        auto it = states_.find(child);
        if (it == states_.end()) continue;
        NodeState& cs = it->second;
        if (i < outputs.size() && outputs[i].defined() && cs.needed) {
          AutoGradMode mode(create_graph_);
          cs.inputs.resize(child->num_outputs());
          accumulate(cs.inputs[next.edge.input_nr], fit_to_input(std::move(outputs[i]), next));
        }
        if (--cs.dependencies == 0 && cs.needed) ready.push(child);
      }
    }
  }

 private:
  // Counts, for every node reachable from the roots, how many edges lead into it.
  void discover(const std::vector<Edge>& root_edges) {
    std::vector<Node*> stack;
    for (auto& e : root_edges) {
      if (states_.emplace(e.node.get(), NodeState{}).second) stack.push_back(e.node.get());
    }
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      for (auto& next : n->next_edges) {
        Node* child = next.edge.node.get();
        if (!child) continue;
        auto [it, inserted] = states_.emplace(child, NodeState{});
        ++it->second.dependencies;
        if (inserted) stack.push_back(child);
      }
    }
  }

  // Only nodes from which a captured edge can be reached need to run, and a captured
  // node's own backward runs only if something below it is captured too.
  void mark_needed(const std::vector<Edge>& captures) {
    for (auto& e : captures)
      if (e.node) states_[e.node.get()].is_target = true;
    for (auto it = topological_order().rbegin(), end = topological_order().rend(); it != end; ++it) {
      NodeState& s = states_[*it];
      s.run_apply = false;
      for (auto& next : (*it)->next_edges)
        if (next.edge.node && states_[next.edge.node.get()].needed) s.run_apply = true;
      s.needed = s.is_target || s.run_apply;
    }
  }

  // Kahn's algorithm over the discovered graph: parents before children.
  const std::vector<Node*>& topological_order() {
    if (!topo_.empty()) return topo_;
    std::unordered_map<Node*, int> pending;
    for (auto& [node, s] : states_) pending[node] = s.dependencies;
    std::vector<Node*> stack;
    for (auto& [node, count] : pending)
      if (count == 0) stack.push_back(node);
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      topo_.push_back(n);
      for (auto& next : n->next_edges)
        if (next.edge.node && --pending[next.edge.node.get()] == 0) stack.push_back(next.edge.node.get());
    }
    return topo_;
  }

  // Hooks see (and may replace) a gradient before it is captured, retained or passed on, as in PyTorch.
  void run_hooks(const Node& node, TensorList& grads) {
    if (node.pre_hooks.empty()) return;
    AutoGradMode mode(create_graph_);
    std::vector<GradHook> hooks = node.pre_hooks;  // a hook may remove itself
    for (const GradHook& hook : hooks) {
      Tensor& g = grads[hook.output_nr];
      if (!g.defined()) continue;
      Tensor replacement = hook.fn(g);
      if (replacement.defined()) g = std::move(replacement);
    }
  }

  void capture(Node* node, const TensorList& grads, const std::vector<Edge>& captures, TensorList& out) {
    for (size_t i = 0; i < captures.size(); ++i) {
      if (captures[i].node.get() != node) continue;
      const Tensor& g = grads[captures[i].input_nr];
      if (g.defined()) out[i] = out[i].defined() ? ops::add(out[i], g) : g;
    }
  }

  void retain(TensorImpl* impl, const Tensor& g) {
    if (!g.defined()) return;
    Tensor current(impl->grad);
    if (!current.defined()) impl->grad = ops::clone(g).ref();
    else impl->grad = ops::add(current, g).ref();
  }

  bool keep_graph_;
  bool create_graph_;
  std::unordered_map<Node*, NodeState> states_;
  std::vector<Node*> topo_;
};

}  // namespace

void backward(const TensorList& roots, const TensorList& grad_roots, bool retain_graph, bool create_graph,
              const TensorList& inputs) {
  GraphTask task(retain_graph || create_graph, create_graph);
  if (inputs.empty()) return task.run(roots, grad_roots, nullptr, nullptr);
  // As in PyTorch, a non-leaf named in inputs retains its grad.
  std::vector<Edge> captures;
  for (const Tensor& t : inputs) {
    retain_grad(t);
    captures.push_back(gradient_edge(t));
  }
  task.run(roots, grad_roots, &captures, nullptr);
}

TensorList grad(const TensorList& roots, const TensorList& grad_roots, const TensorList& inputs,
                bool retain_graph, bool create_graph, bool allow_unused) {
  TG_CHECK(!inputs.empty(), "`inputs` argument to `grad()` cannot be empty.");
  std::vector<Edge> captures;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad())
      throw Error(str_cat("One of the differentiated Tensors does not require grad"));
    captures.push_back(gradient_edge(inputs[i]));
  }
  TensorList captured(inputs.size());
  GraphTask(retain_graph || create_graph, create_graph).run(roots, grad_roots, &captures, &captured);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!captured[i].defined() && !allow_unused)
      throw Error(str_cat("The differentiated Tensor at index ", i, " appears to not have been used in the graph. "
                          "Set allow_unused=True if this is the desired behavior."));
    if (captured[i].defined() && captured[i].sizes() != inputs[i].sizes())
      captured[i] = ops::sum_to_size(captured[i], inputs[i].sizes());
  }
  return captured;
}

}  // namespace tg
