#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>
#include "core/grad_mode.h"
#include "core/tensor.h"

namespace tg {

struct Node;

// Where a gradient goes: input slot `input_nr` of `node`.
struct Edge {
  std::shared_ptr<Node> node;
  uint32_t input_nr = 0;
};

// What the engine needs to know of the tensor an edge came from: the gradient it
// receives is summed down to this shape and cast to this dtype.
struct NextEdge {
  Edge edge;
  DimVec sizes;
  ScalarType dtype;
};

// A tensor kept for backward, with the version it had when saved. An op's own output is
// kept without its grad_fn (which would be a reference cycle) and gets it back on unpack.
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& t, bool is_output);
  Tensor unpack(const Node& owner) const;
  void reset();
  bool defined() const { return saved_ || released_; }

 private:
  Tensor data_;
  std::weak_ptr<Node> weak_grad_fn_;
  uint32_t output_nr_ = 0;
  uint32_t saved_version_ = 0;
  bool saved_ = false;
  bool released_ = false;
  bool is_output_ = false;
  bool owner_is_grad_fn_ = false;
  bool requires_grad_ = false;
  bool had_grad_fn_ = false;  // a saved input that was a non-leaf, which detach_() must not turn into a leaf
};

// Tensor.register_hook: called with the gradient reaching output `output_nr` of a node before the node
// runs; a defined result replaces that gradient.
struct GradHook {
  uint64_t id;
  uint32_t output_nr;
  std::function<Tensor(const Tensor&)> fn;
};

// A backward function: gradients of its outputs in, gradients of its inputs out.
struct Node : std::enable_shared_from_this<Node> {
  std::vector<NextEdge> next_edges;   // one per forward input, in order
  uint64_t sequence_nr;               // creation order; later nodes run first
  std::vector<std::pair<uint32_t, TensorImpl*>> retained_outputs;  // retain_grad() non-leaves
  std::vector<GradHook> pre_hooks;    // in registration order

  Node();
  virtual ~Node();  // releases next_edges through release_node, so long chains free iteratively
  virtual std::string name() const = 0;
  virtual uint32_t num_outputs() const { return 1; }
  // grads[i] is the gradient of output i (undefined if none flowed there).
  virtual TensorList apply(TensorList&& grads) = 0;
  // Frees what was saved for backward (after a backward without retain_graph).
  virtual void release_saved() {}
  // The op ran out of place for an in-place call (compute_inplace) and its output was written into
  // `self`: a node that saved its output saves `self` instead, so that a later in-place change of
  // `self` fails backward as in PyTorch.
  virtual void keep_output_in_place(const Tensor& self) {}

  bool needs_input_grad(size_t i) const { return i < next_edges.size() && next_edges[i].edge.node; }
  void forget_retained(TensorImpl* impl);
};

// Accumulates the incoming gradient into a leaf's .grad. The leaf owns it (so building
// graphs on a leaf reuses one node); it points back without owning, and the leaf's
// destructor clears that pointer.
struct AccumulateGrad : Node {
  explicit AccumulateGrad(TensorImpl* v) : variable_(v) {}
  std::string name() const override { return "torch::autograd::AccumulateGrad"; }
  TensorList apply(TensorList&& grads) override;
  // The leaf, or an undefined tensor once it is gone.
  Tensor variable() const;
  void forget_variable();

 private:
  TensorImpl* variable_;
  std::mutex accumulate_mutex_;  // concurrent backward calls into one leaf take turns
};

// The edge a gradient for `t` flows into: its grad_fn, or its leaf's AccumulateGrad.
Edge gradient_edge(const Tensor& t);
std::shared_ptr<Node> grad_accumulator(const Tensor& leaf);

// Drops a reference to a node. Nodes freed while another release is running are queued
// and freed by the outermost call, so a 100,000-node chain is freed without deep recursion.
void release_node(std::shared_ptr<Node>&& node) noexcept;

// A view's grad_fn is stale once its data changed under it (an in-place op on its base or
// on another view): it becomes a window (AsStridedBackward0) onto the base's current history.
void refresh_view_grad_fn(TensorImpl* view);

// True when an op on these inputs must record history.
template <typename... Ts>
bool compute_requires_grad(const Ts&... inputs) {
  return GradMode::is_enabled() && ((inputs.defined() && inputs.requires_grad()) || ...);
}

// Builds node N with edges to each input that requires grad (undefined inputs allowed).
template <typename N, typename... Ts>
std::shared_ptr<N> make_node(const Ts&... inputs) {
  auto node = std::make_shared<N>();
  node->next_edges.reserve(sizeof...(inputs));
  auto add_edge = [&](const Tensor& t) {
    NextEdge e;
    if (t.defined() && t.requires_grad()) {
      e.edge = gradient_edge(t);
      e.sizes = t.sizes();
    }
    e.dtype = t.defined() ? t.dtype() : ScalarType::Float32;
    node->next_edges.push_back(std::move(e));
  };
  (add_edge(inputs), ...);
  return node;
}

// Same, for a variable number of inputs (cat, stack).
template <typename N>
std::shared_ptr<N> make_node_list(const TensorList& inputs) {
  auto node = std::make_shared<N>();
  node->next_edges.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    NextEdge e;
    if (t.requires_grad()) {
      e.edge = gradient_edge(t);
      e.sizes = t.sizes();
    }
    e.dtype = t.dtype();
    node->next_edges.push_back(std::move(e));
  }
  return node;
}

// Makes `out` the output `output_nr` of `node`.
void set_history(const Tensor& out, const std::shared_ptr<Node>& node, uint32_t output_nr = 0);

// Tensor.retain_grad(): a non-leaf keeps the gradient that reaches it in its .grad.
void retain_grad(const Tensor& t);

// Errors for in-place ops on tensors autograd cares about, and on expanded tensors (whose elements
// share memory); call before writing. `other` is the op's other differentiable input, if any.
void check_inplace(const Tensor& self, const Tensor& other = Tensor());
// The same for the in-place ops PyTorch lets write to an expanded tensor: fill_ and zero_ with a
// number, and (deprecated there) masked_fill_ and index_put_.
void check_inplace_may_overlap(const Tensor& self, const Tensor& other = Tensor());
// After an in-place op recorded as `node`, `self` becomes that node's output.
void rebase_history(const Tensor& self, const std::shared_ptr<Node>& node);
// After an in-place view op (t_, squeeze_, ...): self takes the geometry of `view`, a view of self made by
// the out-of-place op, and its node as grad_fn; the data is unchanged but, as PyTorch, the version moves.
void adopt_view(const Tensor& self, const Tensor& view);
// An in-place op written as its out-of-place twin (self.sin_() as sin): writes
// out_of_place(self) into self and makes that op's node self's grad_fn, as PyTorch records
// SinBackward0 for sin_. The op sees a copy of self, so what it saves stays valid.
Tensor& compute_inplace(Tensor& self, const std::function<Tensor(const Tensor&)>& out_of_place);

}  // namespace tg
