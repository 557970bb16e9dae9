#include "autograd/node.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include "core/spinlock.h"
#include "core/error.h"
#include "ops/ops.h"

namespace tg {

namespace {
std::atomic<uint64_t> g_next_sequence_nr{0};
SpinLock g_accumulate_lock;

std::string describe(const Tensor& t) {
  return str_cat("[torch.", legacy_type_name(t.dtype()), " ", shape_str(t.sizes()), "]");
}
}  // namespace

Node::Node() : sequence_nr(g_next_sequence_nr.fetch_add(1, std::memory_order_relaxed)) {}

void Node::forget_retained(TensorImpl* impl) {
  auto& r = retained_outputs;
  r.erase(std::remove_if(r.begin(), r.end(), [&](const auto& p) { return p.second == impl; }), r.end());
}

SavedTensor::SavedTensor(const Tensor& t, bool is_output) : saved_(t.defined()), is_output_(is_output) {
  if (!t.defined()) return;
  saved_version_ = t.version();
  requires_grad_ = t.requires_grad();
  if (is_output && t.grad_fn()) {
    data_ = make_view(t, t.sizes(), t.strides(), t.offset());
    weak_grad_fn_ = t.grad_fn();
    output_nr_ = t.output_nr();
  } else {
    data_ = t;
  }
}

Tensor SavedTensor::unpack(const Node& owner) const {
  if (released_)
    throw Error(
        "Trying to backward through the graph a second time (or directly access saved tensors after "
        "they have already been freed). Saved intermediate values of the graph are freed when you call "
        ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
        "graph a second time or if you need to access saved tensors after calling backward.");
  if (!saved_) return Tensor();
  if (data_.version() != saved_version_) {
    std::string who = is_output_ ? str_cat(", which is output ", output_nr_, " of ", owner.name(), ",")
                                 : std::string();
    throw Error(str_cat(
        "one of the variables needed for gradient computation has been modified by an inplace operation: ",
        describe(data_), who, " is at version ", data_.version(), "; expected version ", saved_version_,
        " instead. Hint: enable anomaly detection to find the operation that failed to compute its "
        "gradient, with torch.autograd.set_detect_anomaly(True)."));
  }
  if (is_output_ && requires_grad_) {
    if (auto fn = weak_grad_fn_.lock()) {
      Tensor t = make_view(data_, data_.sizes(), data_.strides(), data_.offset());
      t.impl()->grad_fn = std::move(fn);
      t.impl()->output_nr = output_nr_;
      return t;
    }
  }
  return data_;
}

void SavedTensor::reset() {
  if (!saved_) return;
  data_ = Tensor();
  saved_ = false;
  released_ = true;
}

Tensor AccumulateGrad::variable() const {
  std::lock_guard<SpinLock> lock(g_accumulate_lock);
  return Tensor(Ref<TensorImpl>::try_retain(variable_));
}

void AccumulateGrad::forget_variable() {
  std::lock_guard<SpinLock> lock(g_accumulate_lock);
  variable_ = nullptr;
}

TensorList AccumulateGrad::apply(TensorList&& grads) {
  Tensor& incoming = grads[0];
  if (!incoming.defined()) return {};
  Tensor leaf = variable();
  if (!leaf.defined()) return {};  // the leaf is gone: nobody can read its gradient
  std::lock_guard<std::mutex> lock(accumulate_mutex_);
  TensorImpl* variable = leaf.impl();
  Tensor current(variable->grad);
  if (!current.defined()) {
    // Steal a fresh, unshared, dense gradient; anything else may alias user-visible data.
    bool stealable = !GradMode::is_enabled() && incoming.ref().use_count() == 1 &&
                     incoming.storage().use_count() == 1 && incoming.is_contiguous() &&
                     !incoming.is_wrapped_number() && incoming.offset() == 0;
    Tensor g = stealable ? incoming : ops::clone(incoming);
    if (!GradMode::is_enabled()) g.impl()->grad_fn.reset();
    variable->grad = g.ref();
  } else if (!GradMode::is_enabled()) {
    ops::add_(current, incoming);
  } else {
    variable->grad = ops::add(current, incoming).ref();
  }
  return {};
}

std::shared_ptr<Node> grad_accumulator(const Tensor& leaf) {
  TensorImpl* impl = leaf.impl();
  std::lock_guard<SpinLock> lock(g_accumulate_lock);
  if (!impl->grad_accumulator) impl->grad_accumulator = std::make_shared<AccumulateGrad>(impl);
  return impl->grad_accumulator;
}

Edge gradient_edge(const Tensor& t) {
  if (t.grad_fn()) return Edge{t.grad_fn(), t.output_nr()};
  return Edge{grad_accumulator(t), 0};
}

void set_history(const Tensor& out, const std::shared_ptr<Node>& node, uint32_t output_nr) {
  out.impl()->grad_fn = node;
  out.impl()->output_nr = output_nr;
}

void check_inplace(const Tensor& self) {
  if (!GradMode::is_enabled()) return;
  TensorImpl* base = self.impl()->view_base.get();
  if (self.is_leaf() && self.impl()->requires_grad)
    throw Error("a leaf Variable that requires grad is being used in an in-place operation.");
  if (base && !base->grad_fn && base->requires_grad)
    throw Error("a view of a leaf Variable that requires grad is being used in an in-place operation.");
}

namespace {

// An in-place op on a view rewrites its base's history: the base's gradient passes through
// the op's backward on the viewed region and straight through everywhere else.
struct CopySlices : Node {
  DimVec base_sizes, view_sizes, view_strides;
  int64_t view_offset = 0;  // relative to the base's first element
  std::shared_ptr<Node> fn;
  std::string name() const override { return "CopySlices"; }
  TensorList apply(TensorList&& grads) override {
    Tensor result = ops::clone(grads[0]);
    Tensor region = make_view(result, view_sizes, view_strides, view_offset);
    TensorList res = fn->apply({ops::clone(region)});
    if (!res.empty() && res[0].defined()) ops::copy_(region, res[0]);
    else ops::zero_(region);
    TensorList out{result};
    for (size_t i = 1; i < res.size(); ++i) out.push_back(res[i]);
    out.resize(next_edges.size());
    return out;
  }
  void release_saved() override { fn->release_saved(); }
};

// The view after the in-place op: a window onto the base's new history.
struct AsStridedBackward0 : Node {
  DimVec base_sizes, view_sizes, view_strides;
  int64_t view_offset = 0;
  std::string name() const override { return "AsStridedBackward0"; }
  TensorList apply(TensorList&& grads) override {
    Tensor result = ops::zeros(base_sizes, grads[0].dtype(), grads[0].device());
    Tensor region = make_view(result, view_sizes, view_strides, view_offset);
    ops::copy_(region, grads[0]);
    return {result};
  }
};

NextEdge edge_to(const Tensor& t) {
  NextEdge e;
  if (t.requires_grad()) {
    e.edge = gradient_edge(t);
    e.sizes = t.sizes();
  }
  e.dtype = t.dtype();
  return e;
}

}  // namespace

void rebase_history(const Tensor& self, const std::shared_ptr<Node>& node) {
  TensorImpl* impl = self.impl();
  if (impl->retains_grad && impl->grad_fn) impl->grad_fn->forget_retained(impl);
  if (self.is_view()) {
    Tensor base(impl->view_base);
    TG_CHECK(base.is_contiguous(), "an in-place operation on a view of a non-contiguous tensor that requires "
             "grad is not supported");
    auto slices = std::make_shared<CopySlices>();
    slices->next_edges.push_back(edge_to(base));
    for (size_t i = 1; i < node->next_edges.size(); ++i) slices->next_edges.push_back(node->next_edges[i]);
    slices->base_sizes = base.sizes();
    slices->view_sizes = self.sizes();
    slices->view_strides = self.strides();
    slices->view_offset = self.offset() - base.offset();
    slices->fn = node;
    set_history(base, slices);

    auto window = std::make_shared<AsStridedBackward0>();
    window->next_edges.push_back(edge_to(base));
    window->base_sizes = base.sizes();
    window->view_sizes = self.sizes();
    window->view_strides = self.strides();
    window->view_offset = slices->view_offset;
    set_history(self, window);
    if (impl->retains_grad) window->retained_outputs.emplace_back(0, impl);
    return;
  }
  set_history(self, node, 0);
  if (impl->retains_grad) node->retained_outputs.emplace_back(0, impl);
}

}  // namespace tg
