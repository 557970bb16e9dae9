#include "autograd/node.h"

#include <algorithm>
#include <atomic>
#include <cctype>
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

// PyTorch names the forward op in messages: "Exp" for ExpBackward0.
std::string forward_name(const std::string& node_name) {
  size_t end = node_name.size();
  while (end > 0 && std::isdigit(static_cast<unsigned char>(node_name[end - 1]))) --end;
  static const std::string suffix = "Backward";
  if (end < node_name.size() && end >= suffix.size() &&
      node_name.compare(end - suffix.size(), suffix.size(), suffix) == 0) {
    // As PyTorch: "MulBackward0" reads "Mul", but an overload keeps its number ("TBackward1" reads "T1").
    std::string overload = node_name.substr(end);
    return node_name.substr(0, end - suffix.size()) + (overload == "0" ? "" : overload);
  }
  return node_name;
}

// True when two index tuples of (sizes, strides) address the same element.
bool elements_overlap(const DimVec& sizes, const DimVec& strides) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size) of dims with more than one element
  for (size_t d = 0; d < sizes.size(); ++d)
    if (sizes[d] > 1) dims.emplace_back(strides[d], sizes[d]);
  std::sort(dims.begin(), dims.end());
  int64_t reach = 0;  // the largest offset the smaller-stride dims can address
  for (auto [stride, size] : dims) {
    if (stride <= reach) return true;
    reach += (size - 1) * stride;
  }
  return false;
}

// ATen's is_non_overlapping_and_dense: the elements fill a block of memory exactly once.
bool non_overlapping_and_dense(const Tensor& t) {
  int64_t extent = 1;
  for (int64_t d = 0; d < t.dim(); ++d) extent += (t.sizes()[d] - 1) * t.strides()[d];
  return extent == t.numel() && !elements_overlap(t.sizes(), t.strides());
}

// ATen's assert_no_partial_overlap between an in-place op's output and an input: the same memory
// with the same strides is fine (x.mul_(x)); any other sharing is refused where it can be told.
void check_no_partial_overlap(const Tensor& self, const Tensor& other) {
  if (!other.defined() || self.is_same(other) || self.numel() == 0 || other.numel() == 0) return;
  if (!non_overlapping_and_dense(self) || !non_overlapping_and_dense(other)) return;
  // Byte ranges: `.data` aliases the same memory through another Storage.
  const char* a_begin = static_cast<const char*>(self.data_ptr());
  const char* b_begin = static_cast<const char*>(other.data_ptr());
  const char* a_end = a_begin + self.numel() * itemsize(self.dtype());
  const char* b_end = b_begin + other.numel() * itemsize(other.dtype());
  bool full = a_begin == b_begin && a_end == b_end && self.strides() == other.strides();
  TG_CHECK(full || a_end <= b_begin || b_end <= a_begin, "unsupported operation: some elements of the input tensor "
           "and the written-to tensor refer to a single memory location. Please clone() the tensor before "
           "performing the operation.");
}
}  // namespace

Node::Node() : sequence_nr(g_next_sequence_nr.fetch_add(1, std::memory_order_relaxed)) {}

Node::~Node() {
  for (auto& e : next_edges)
    if (e.edge.node) release_node(std::move(e.edge.node));
}

void release_node(std::shared_ptr<Node>&& node) noexcept {
  // Only the last owner frees a node, and freeing may cascade down a long chain: queue
  // the cascade on this thread instead of recursing through destructors.
  thread_local std::vector<std::shared_ptr<Node>> pending;
  thread_local bool draining = false;
  if (node.use_count() > 1) {
    node.reset();
    return;
  }
  if (draining) {
    pending.push_back(std::move(node));
    return;
  }
  draining = true;
  node.reset();
  while (!pending.empty()) {
    std::shared_ptr<Node> last = std::move(pending.back());
    pending.pop_back();
    last.reset();
  }
  draining = false;
}

void Node::forget_retained(TensorImpl* impl) {
  auto& r = retained_outputs;
  r.erase(std::remove_if(r.begin(), r.end(), [&](const auto& p) { return p.second == impl; }), r.end());
}

SavedTensor::SavedTensor(const Tensor& t, bool is_output) : saved_(t.defined()), is_output_(is_output) {
  if (!t.defined()) return;
  saved_version_ = t.version();
  requires_grad_ = t.requires_grad();
  if (is_output) {
    data_ = make_view(t, t.sizes(), t.strides(), t.offset());
    if (t.grad_fn()) {
      weak_grad_fn_ = t.grad_fn();
      output_nr_ = t.output_nr();
    } else {
      // Saved before set_history (as ops do): its grad_fn will be the node saving it, found on unpack.
      owner_is_grad_fn_ = true;
      requires_grad_ = true;
    }
  } else {
    data_ = t;
    had_grad_fn_ = static_cast<bool>(t.grad_fn());
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
  TG_CHECK(!had_grad_fn_ || data_.grad_fn(), "Trying to use a saved tensor that has been detached in-place, i.e. "
           "with .detach_().This is not supported, please use out-of-place `.detach()` instead");
  if (data_.version() != saved_version_) {
    // Like PyTorch, name the op that made the tensor: for a saved output the node that saved
    // it, for a saved input its grad_fn now.
    std::string who;
    if (is_output_) who = str_cat(", which is output ", output_nr_, " of ", forward_name(owner.name()), ",");
    else if (data_.grad_fn())
      who = str_cat(", which is output ", data_.output_nr(), " of ", forward_name(data_.grad_fn()->name()), ",");
    throw Error(str_cat(
        "one of the variables needed for gradient computation has been modified by an inplace operation: ",
        describe(data_), who, " is at version ", data_.version(), "; expected version ", saved_version_,
        " instead. Hint: enable anomaly detection to find the operation that failed to compute its "
        "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."));
  }
  if (is_output_ && requires_grad_) {
    std::shared_ptr<Node> fn =
        owner_is_grad_fn_ ? std::const_pointer_cast<Node>(owner.shared_from_this()) : weak_grad_fn_.lock();
    if (fn) {
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
  if (!t.impl()->requires_grad) return Edge{};  // a view made in no_grad mode: no gradient reaches it
  return Edge{grad_accumulator(t), 0};
}

void set_history(const Tensor& out, const std::shared_ptr<Node>& node, uint32_t output_nr) {
  out.impl()->grad_fn = node;
  out.impl()->output_nr = output_nr;
}

void retain_grad(const Tensor& t) {
  TG_CHECK(t.requires_grad(), "can't retain_grad on Tensor that has requires_grad=False");
  if (t.is_leaf() || t.impl()->retains_grad) return;
  t.impl()->retains_grad = true;
  t.grad_fn()->retained_outputs.emplace_back(t.output_nr(), t.impl());
}

namespace {

// PyTorch's handle_view_on_rebase: the message for a view whose history an in-place op may not
// rewrite, modified itself or (`indirect`) through its base or another view of it.
std::string view_rebase_error(TensorImpl* view, bool indirect) {
  std::string what = indirect ? "its base or another view of its base has been modified inplace"
                              : "is being modified inplace";
  std::string msg;
  if (view->grad_fn) {
    std::string op = forward_name(view->grad_fn->name());
    bool inherited = view->view_creation == ViewCreation::InNoGradMode;
    msg = str_cat("Output ", view->output_nr, " of ", op, " is a view ",
                  inherited ? "of a view which was created in no_grad mode and " : "and ", what,
                  inherited ? " with grad mode enabled." : ".");
  } else {
    msg = str_cat("A view was created in no_grad mode and ", what, " with grad mode enabled.");
  }
  if (view->view_creation == ViewCreation::MultiOutput)
    return msg + " This view is the output of a function that returns multiple views. Such functions do not allow "
                 "the output views to be modified inplace. You should replace the inplace operation by an "
                 "out-of-place one.";
  return msg + " Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code "
               "by moving both the view and the inplace either both inside the no_grad block (if you don't want the "
               "inplace to be tracked) or both outside (if you want the inplace to be tracked).";
}

// PyTorch's check_inplace, in its order.
void check_inplace_autograd(const Tensor& self, const Tensor& other) {
  if (!GradMode::is_enabled()) return;
  if (!self.requires_grad() && !(other.defined() && other.requires_grad())) return;
  TensorImpl* base = self.impl()->view_base.get();
  if (base && self.impl()->view_creation != ViewCreation::InGradMode)
    throw Error(view_rebase_error(self.impl(), false));
  if (base && self.requires_grad() && !base->grad_fn)
    throw Error("a view of a leaf Variable that requires grad is being used in an in-place operation.");
  if (self.requires_grad() && self.is_leaf())
    throw Error("a leaf Variable that requires grad is being used in an in-place operation.");
}

}  // namespace

void check_inplace(const Tensor& self, const Tensor& other) {
  check_inplace_autograd(self, other);
  check_no_partial_overlap(self, other);
  for (int64_t d = 0; d < self.dim() && self.numel() > 0; ++d)
    TG_CHECK(self.strides()[d] != 0 || self.sizes()[d] <= 1, "unsupported operation: more than one element of the "
             "written-to tensor refers to a single memory location. Please clone() the tensor before performing the "
             "operation.");
}

void check_inplace_may_overlap(const Tensor& self, const Tensor& other) { check_inplace_autograd(self, other); }

namespace {

// Where a view sits in its base: the view's geometry relative to the base's first element.
struct ViewGeometry {
  DimVec base_sizes, base_strides, view_sizes, view_strides;
  int64_t view_offset = 0;
  ScalarType dtype = ScalarType::Float32;
  Device device;

  ViewGeometry() = default;
  ViewGeometry(const Tensor& base, const Tensor& view)
      : base_sizes(base.sizes()), base_strides(base.strides()), view_sizes(view.sizes()),
        view_strides(view.strides()), view_offset(view.offset() - base.offset()), dtype(base.dtype()),
        device(base.device()) {
    TG_CHECK(!elements_overlap(base_sizes, base_strides), "an in-place operation on a view of a tensor whose "
             "elements overlap in memory (an expanded tensor) is not supported when it requires grad; call .clone() "
             "on it first");
  }

  // Zeros laid out like the base (same strides), so the view's geometry finds its elements;
  // returns the base-shaped tensor and the view into it.
  std::pair<Tensor, Tensor> zeros() const {
    int64_t extent = 1;
    for (size_t d = 0; d < base_sizes.size(); ++d) {
      if (base_sizes[d] == 0) extent = 0;
      if (extent) extent += (base_sizes[d] - 1) * base_strides[d];
    }
    Tensor buffer = ops::zeros(DimVec{extent}, dtype, device);
    return {make_view(buffer, base_sizes, base_strides, 0), make_view(buffer, view_sizes, view_strides, view_offset)};
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

// An in-place op on a view rewrites its base's history: the base's gradient passes through
// the op's backward on the viewed region and straight through everywhere else.
struct CopySlices : Node {
  ViewGeometry geometry;
  std::shared_ptr<Node> fn;
  std::string name() const override { return "torch::autograd::CopySlices"; }
  TensorList apply(TensorList&& grads) override {
    auto [result, region] = geometry.zeros();
    ops::copy_(result, grads[0]);
    TensorList res = fn->apply({ops::clone(region)});
    if (!res.empty() && res[0].defined()) ops::copy_(region, res[0]);
    else ops::zero_(region);
    TensorList out{result};
    for (size_t i = 1; i < res.size(); ++i) out.push_back(res[i]);
    out.resize(next_edges.size());
    return out;
  }
  void release_saved() override { fn->release_saved(); }
  ~CopySlices() override { release_node(std::move(fn)); }
};

// A view whose data changed under it: a window onto the base's current history.
struct AsStridedBackward0 : Node {
  ViewGeometry geometry;
  std::string name() const override { return "AsStridedBackward0"; }
  TensorList apply(TensorList&& grads) override {
    auto [result, region] = geometry.zeros();
    // An expanded view reads each element of the base several times: the gradients of those reads add up.
    DimVec expanded;
    for (int64_t d = 0; d < region.dim(); ++d)
      if (region.strides()[d] == 0 && region.sizes()[d] > 1) expanded.push_back(d);
    if (expanded.empty()) {
      ops::copy_(region, grads[0]);
    } else {
      DimVec sizes = region.sizes();
      for (int64_t d : expanded) sizes[d] = 1;
      Tensor once = make_view(region, sizes, region.strides(), region.offset());
      ops::copy_(once, ops::sum(grads[0], expanded, true));
    }
    return {result};
  }
};

// Makes `view` the output of a window onto its base's current history (or of nothing).
void set_view_window(TensorImpl* impl, const Tensor& base) {
  Tensor view{Ref<TensorImpl>(impl)};
  std::shared_ptr<Node> old = std::move(impl->grad_fn);
  if (old && impl->retains_grad) old->forget_retained(impl);
  if (base.requires_grad() || old) {  // as PyTorch, a view with history keeps a (maybe dead-end) window
    auto window = std::make_shared<AsStridedBackward0>();
    window->geometry = ViewGeometry(base, view);
    window->next_edges.push_back(edge_to(base));
    impl->grad_fn = window;
    impl->output_nr = 0;
    if (impl->retains_grad) window->retained_outputs.emplace_back(0, impl);
  }
  impl->view_version = impl->storage->version;
  if (old) release_node(std::move(old));
}

}  // namespace

void refresh_view_grad_fn(TensorImpl* view) {
  Tensor base(view->view_base);
  // As PyTorch, a view with no history onto a base that needs none stays stale: it is brought up to
  // date once the base requires grad.
  if (!view->grad_fn && !base.requires_grad()) return;
  if (view->view_creation != ViewCreation::InGradMode) throw Error(view_rebase_error(view, true));
  if (view->grad_view) return set_view_window(view, base);
  view->view_version = view->storage->version;  // a view made in no_grad mode follows no history
}

void rebase_history(const Tensor& self, const std::shared_ptr<Node>& node) {
  TensorImpl* impl = self.impl();
  if (impl->retains_grad && impl->grad_fn) impl->grad_fn->forget_retained(impl);
  if (self.is_view()) {
    Tensor base(impl->view_base);
    auto slices = std::make_shared<CopySlices>();
    slices->geometry = ViewGeometry(base, self);
    slices->next_edges.push_back(edge_to(base));
    for (size_t i = 1; i < node->next_edges.size(); ++i) slices->next_edges.push_back(node->next_edges[i]);
    slices->fn = node;
    set_history(base, slices);
    set_view_window(impl, base);
    return;
  }
  set_history(self, node, 0);
  if (impl->retains_grad) node->retained_outputs.emplace_back(0, impl);
}

void adopt_view(const Tensor& self, const Tensor& view) {
  TensorImpl* impl = self.impl();
  impl->sizes = view.sizes();
  impl->strides = view.strides();
  impl->offset = view.offset();
  self.bump_version();
  std::shared_ptr<Node> fn = view.impl()->grad_fn;
  if (!fn) return;
  if (impl->retains_grad && impl->grad_fn) impl->grad_fn->forget_retained(impl);
  set_history(self, fn, 0);
  if (impl->retains_grad) fn->retained_outputs.emplace_back(0, impl);
  impl->view_version = impl->storage->version;  // a view's new node already follows its base's history
}

Tensor& compute_inplace(Tensor& self, const std::function<Tensor(const Tensor&)>& out_of_place) {
  check_inplace(self);
  Tensor input = self;
  if (GradMode::is_enabled()) {
    // A private copy of self's values that carries self's history into the op.
    AutoGradMode off(false);
    input = ops::clone(self);
    input.impl()->grad_fn = self.grad_fn();
    input.impl()->output_nr = self.output_nr();
  }
  Tensor result = out_of_place(input);
  if (is_floating(result.dtype()) && !is_floating(self.dtype()))
    throw Error(str_cat("result type ", scalar_type_word(result.dtype()), " can't be cast to the desired output type ",
                        scalar_type_word(self.dtype())));
  {
    AutoGradMode off(false);
    ops::copy_(self, result);
  }
  if (std::shared_ptr<Node> fn = result.grad_fn()) {
    rebase_history(self, fn);
    fn->keep_output_in_place(self);
  }
  return self;
}

}  // namespace tg
