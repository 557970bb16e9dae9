// Views and shape ops: forward and backward side by side. Views share storage and the
// version counter with their base; the base is remembered for in-place ops on views.
#include <algorithm>
#include <numeric>
#include "autograd/node.h"
#include "core/grad_mode.h"
#include "ops/elementwise_util.h"
#include "ops/ops.h"

namespace tg::ops {

Tensor view_of(const Tensor& a, DimVec sizes, DimVec strides, int64_t offset) {
  Tensor out = make_view(a, std::move(sizes), std::move(strides), offset);
  out.impl()->view_base = a.impl()->view_base ? a.impl()->view_base : a.ref();
  out.impl()->view_version = a.version();
  out.impl()->grad_view = GradMode::is_enabled();
  // PyTorch's propagate_creation_meta: a view made in grad mode keeps how its base view was made.
  ViewCreation base_creation = a.is_view() ? a.impl()->view_creation : ViewCreation::InGradMode;
  out.impl()->view_creation = GradMode::is_enabled() ? base_creation : ViewCreation::InNoGradMode;
  return out;
}

namespace {

// Replaces one -1 in `shape` so that it holds `numel` elements.
DimVec infer_size(const DimVec& shape, int64_t numel) {
  DimVec out = shape;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      TG_CHECK(infer < 0, "only one dimension can be inferred");
      infer = static_cast<int>(i);
    } else {
      TG_CHECK(shape[i] >= 0, "invalid shape dimension ", shape[i], " at index ", i, " of shape ", shape_str(shape));
      known *= shape[i];
    }
  }
  if (infer >= 0 && known != 0 && numel % known == 0) {
    out[infer] = numel / known;
    return out;
  }
  if (infer < 0 && known == numel) return out;
  throw Error(str_cat("shape '", shape_str(shape), "' is invalid for input of size ", numel));
}

// Strides for viewing (sizes, strides) as new_sizes without a copy, if possible (PyTorch's computeStride).
bool view_strides(const DimVec& sizes, const DimVec& strides, const DimVec& new_sizes, DimVec& out) {
  out = DimVec(new_sizes.size());
  if (sizes.empty()) {
    for (auto& s : out) s = 1;
    return true;
  }
  int64_t numel = numel_of(sizes);
  if (numel == 0) {
    out = contiguous_strides(new_sizes);
    return true;
  }
  int64_t view_d = static_cast<int64_t>(new_sizes.size()) - 1;
  int64_t chunk_base_stride = strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    tensor_numel *= sizes[d];
    if (d == 0 || (sizes[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_sizes[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_sizes[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

}  // namespace

// ---- view / reshape ----

struct ReshapeBackward : Node {
  DimVec input_sizes;
  const char* op_name = "ViewBackward0";
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& grads) override { return {reshape(grads[0], input_sizes)}; }
};

static Tensor record_reshape(Tensor out, const Tensor& a, const char* name) {
  if (compute_requires_grad(a)) {
    auto node = make_node<ReshapeBackward>(a);
    node->input_sizes = a.sizes();
    node->op_name = name;
    set_history(out, node);
  }
  return out;
}

Tensor view(const Tensor& a, const DimVec& sizes) {
  DimVec shape = infer_size(sizes, a.numel());
  DimVec strides;
  if (!view_strides(a.sizes(), a.strides(), shape, strides))
    throw Error("view size is not compatible with input tensor's size and stride (at least one dimension spans "
                "across two contiguous subspaces). Use .reshape(...) instead.");
  return record_reshape(view_of(a, shape, strides, a.offset()), a, "ViewBackward0");
}

Tensor reshape(const Tensor& a, const DimVec& sizes) {
  DimVec shape = infer_size(sizes, a.numel());
  DimVec strides;
  // PyTorch names a reshape that views a non-contiguous input _reshape_alias.
  if (view_strides(a.sizes(), a.strides(), shape, strides))
    return record_reshape(view_of(a, shape, strides, a.offset()), a,
                          a.is_contiguous() ? "ViewBackward0" : "ReshapeAliasBackward0");
  Tensor copy = empty(a.sizes(), a.dtype(), a.device());
  backend_for(a.device()).copy(copy, a);
  return record_reshape(make_view(copy, shape, contiguous_strides(shape), 0), a, "UnsafeViewBackward0");
}

Tensor unsafe_view(const Tensor& a, const DimVec& sizes, const char* grad_name) {
  DimVec shape = infer_size(sizes, a.numel());
  DimVec strides;
  TG_CHECK(view_strides(a.sizes(), a.strides(), shape, strides), "view size is not compatible with input tensor's "
           "size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.");
  return record_reshape(make_view(a, shape, strides, a.offset()), a, grad_name);
}

Tensor flatten(const Tensor& a, int64_t start_dim, int64_t end_dim) {
  int64_t start = wrap_dim(start_dim, a.dim()), end = wrap_dim(end_dim, a.dim());
  TG_CHECK(start <= end, "flatten() has invalid args: start_dim cannot come after end_dim");
  if (a.dim() == 0) return reshape(a, DimVec{1});
  if (start == end) return a;
  DimVec shape;
  for (int64_t d = 0; d < start; ++d) shape.push_back(a.sizes()[d]);
  int64_t merged = 1;
  for (int64_t d = start; d <= end; ++d) merged *= a.sizes()[d];
  shape.push_back(merged);
  for (int64_t d = end + 1; d < a.dim(); ++d) shape.push_back(a.sizes()[d]);
  return reshape(a, shape);
}

// ---- transpose / permute ----

struct PermuteBackward0 : Node {
  DimVec inverse;
  const char* op_name = "PermuteBackward0";
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& grads) override { return {permute(grads[0], inverse)}; }
};

static Tensor permute_named(const Tensor& a, const DimVec& dims_in, const char* name) {
  int64_t n = a.dim();
  TG_CHECK(static_cast<int64_t>(dims_in.size()) == n, "permute(sparse_coo): number of dimensions in the tensor input "
           "does not match the length of the desired ordering of dimensions i.e. input.dim() = ", n,
           " is not equal to len(dims) = ", dims_in.size());
  DimVec dims(n), sizes(n), strides(n), inverse(n);
  std::vector<bool> seen(n, false);
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = wrap_dim(dims_in[i], n);
    TG_CHECK(!seen[d], "permute(): duplicate dims are not allowed.");
    seen[d] = true;
    dims[i] = d;
    sizes[i] = a.sizes()[d];
    strides[i] = a.strides()[d];
    inverse[d] = i;
  }
  Tensor out = view_of(a, sizes, strides, a.offset());
  if (compute_requires_grad(a)) {
    auto node = make_node<PermuteBackward0>(a);
    node->inverse = inverse;
    node->op_name = name;
    set_history(out, node);
  }
  return out;
}

Tensor permute(const Tensor& a, const DimVec& dims) { return permute_named(a, dims, "PermuteBackward0"); }

static DimVec swap_order(int64_t n, int64_t d0, int64_t d1) {
  DimVec order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  if (n) std::swap(order[d0], order[d1]);
  return order;
}

Tensor transpose(const Tensor& a, int64_t dim0, int64_t dim1) {
  int64_t d0 = wrap_dim(dim0, a.dim()), d1 = wrap_dim(dim1, a.dim());
  return permute_named(a, swap_order(a.dim(), d0, d1), "TransposeBackward0");
}

Tensor t(const Tensor& a) {
  TG_CHECK(a.dim() <= 2, "t() expects a tensor with <= 2 dimensions, but self is ", a.dim(), "D");
  return permute_named(a, swap_order(a.dim(), 0, a.dim() - 1), "TBackward0");
}

// ---- expand ----

struct ExpandBackward0 : Node {
  DimVec input_sizes;
  std::string name() const override { return "ExpandBackward0"; }
  TensorList apply(TensorList&& grads) override { return {sum_to_size(grads[0], input_sizes)}; }
};

Tensor expand(const Tensor& a, const DimVec& sizes) {
  int64_t n = static_cast<int64_t>(sizes.size());
  TG_CHECK(n >= a.dim(), "expand(torch.FloatTensor{", shape_str(a.sizes()), "}, size=", shape_str(sizes),
           "): the number of sizes provided (", n, ") must be greater or equal to the number of dimensions in the "
           "tensor (", a.dim(), ")");
  DimVec out_sizes(n), out_strides(n);
  for (int64_t i = n - 1; i >= 0; --i) {
    int64_t ai = i - (n - a.dim());
    int64_t size = sizes[i];
    if (ai >= 0) {
      int64_t cur = a.sizes()[ai];
      if (size == -1) size = cur;
      if (cur != size) {
        TG_CHECK(cur == 1, "The expanded size of the tensor (", size, ") must match the existing size (", cur,
                 ") at non-singleton dimension ", i, ".  Target sizes: ", shape_str(sizes), ".  Tensor sizes: ",
                 shape_str(a.sizes()));
        out_strides[i] = 0;
      } else {
        out_strides[i] = a.strides()[ai];
      }
    } else {
      TG_CHECK(size >= 0, "The expanded size of the tensor (", size, ") isn't allowed in a leading, non-existing "
               "dimension ", i);
      out_strides[i] = 0;
    }
    out_sizes[i] = size;
  }
  Tensor out = view_of(a, out_sizes, out_strides, a.offset());
  if (compute_requires_grad(a)) {
    auto node = make_node<ExpandBackward0>(a);
    node->input_sizes = a.sizes();
    set_history(out, node);
  }
  return out;
}

// ---- squeeze / unsqueeze ----

static Tensor restride_view(const Tensor& a, DimVec sizes, DimVec strides, const char* name) {
  Tensor out = view_of(a, std::move(sizes), std::move(strides), a.offset());
  return record_reshape(out, a, name);
}

Tensor squeeze(const Tensor& a) {
  DimVec sizes, strides;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (a.sizes()[d] != 1) {
      sizes.push_back(a.sizes()[d]);
      strides.push_back(a.strides()[d]);
    }
  return restride_view(a, sizes, strides, "SqueezeBackward0");
}

Tensor squeeze(const Tensor& a, int64_t dim) {
  int64_t d = wrap_dim(dim, a.dim());
  if (a.dim() == 0 || a.sizes()[d] != 1) return restride_view(a, a.sizes(), a.strides(), "SqueezeBackward1");
  DimVec sizes = a.sizes(), strides = a.strides();
  sizes.erase(d);
  strides.erase(d);
  return restride_view(a, sizes, strides, "SqueezeBackward1");
}

Tensor squeeze(const Tensor& a, const DimVec& dims) {
  std::vector<bool> drop(a.dim(), false), seen(std::max<int64_t>(a.dim(), 1), false);
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, a.dim());
    TG_CHECK(!seen[w], "dim ", w, " appears multiple times in the list of dims");
    seen[w] = true;
    if (a.dim() > 0) drop[w] = a.sizes()[w] == 1;
  }
  DimVec sizes, strides;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (!drop[d]) {
      sizes.push_back(a.sizes()[d]);
      strides.push_back(a.strides()[d]);
    }
  return restride_view(a, sizes, strides, "SqueezeBackward2");
}

Tensor unsqueeze(const Tensor& a, int64_t dim) {
  int64_t d = wrap_dim(dim, a.dim() + 1);
  DimVec sizes = a.sizes(), strides = a.strides();
  int64_t stride = d < a.dim() ? a.sizes()[d] * a.strides()[d] : 1;
  sizes.insert(d, 1);
  strides.insert(d, stride);
  return restride_view(a, sizes, strides, "UnsqueezeBackward0");
}

// ---- in-place view ops: the out-of-place view's geometry, recorded under PyTorch's in-place node names ----

void t_(Tensor& self) {
  check_inplace_may_overlap(self);
  TG_CHECK(self.dim() <= 2, "t_() expects a tensor with <= 2 dimensions, but self is ", self.dim(), "D");
  adopt_view(self, permute_named(self, swap_order(self.dim(), 0, self.dim() - 1), "TBackward1"));
}

void transpose_(Tensor& self, int64_t dim0, int64_t dim1) {
  check_inplace_may_overlap(self);
  int64_t d0 = wrap_dim(dim0, self.dim()), d1 = wrap_dim(dim1, self.dim());
  adopt_view(self, permute_named(self, swap_order(self.dim(), d0, d1), "TransposeBackward1"));
}

// Takes the geometry the out-of-place op (which checks the dims) gives, with the in-place node's name.
template <typename ViewOp>
static void restride_(Tensor& self, ViewOp view_op, const char* name) {
  check_inplace_may_overlap(self);
  Tensor geometry;
  {
    AutoGradMode no_grad(false);
    geometry = view_op(self);
  }
  adopt_view(self, restride_view(self, geometry.sizes(), geometry.strides(), name));
}

void squeeze_(Tensor& self) {
  restride_(self, [](const Tensor& a) { return squeeze(a); }, "SqueezeBackward3");
}

void squeeze_(Tensor& self, int64_t dim) {
  restride_(self, [dim](const Tensor& a) { return squeeze(a, dim); }, "SqueezeBackward4");
}

void squeeze_(Tensor& self, const DimVec& dims) {
  restride_(self, [&dims](const Tensor& a) { return squeeze(a, dims); }, "SqueezeBackward5");
}

void unsqueeze_(Tensor& self, int64_t dim) {
  restride_(self, [dim](const Tensor& a) { return unsqueeze(a, dim); }, "UnsqueezeBackward1");
}

// ---- select / slice / as_strided: gradients scatter into zeros of the input's shape ----

struct ScatterViewBackward : Node {
  DimVec input_sizes, view_sizes, view_strides;  // the view's geometry in a contiguous input
  int64_t view_offset = 0;
  const char* op_name = "";
  const char* double_backward_name = "";  // of the node recorded under create_graph
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& grads) override;
};

// Under create_graph, the scattered gradient's own gradient: the view's elements of the incoming one.
struct GatherViewBackward : Node {
  DimVec view_sizes, view_strides;
  int64_t view_offset = 0;
  const char* op_name = "";
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& grads) override {
    return {as_strided(clone(grads[0]), view_sizes, view_strides, view_offset)};
  }
};

TensorList ScatterViewBackward::apply(TensorList&& grads) {
  const Tensor& g = grads[0];
  bool record = compute_requires_grad(g);
  Tensor result = zeros(input_sizes, g.dtype(), g.device());
  {
    AutoGradMode no_grad(false);
    Tensor region = make_view(result, view_sizes, view_strides, view_offset);
    copy_(region, g);
  }
  if (record) {
    auto node = make_node<GatherViewBackward>(g);
    node->view_sizes = view_sizes;
    node->view_strides = view_strides;
    node->view_offset = view_offset;
    node->op_name = double_backward_name;
    set_history(result, node);
  }
  return {result};
}

Tensor select(const Tensor& a, int64_t dim, int64_t index) {
  TG_CHECK_INDEX(a.dim() > 0, "select() cannot be applied to a 0-dim tensor.");
  int64_t d = wrap_dim(dim, a.dim());
  int64_t size = a.sizes()[d];
  TG_CHECK_INDEX(index >= -size && index < size, "index ", index, " is out of bounds for dimension ", d,
                 " with size ", size);
  if (index < 0) index += size;
  DimVec sizes = a.sizes(), strides = a.strides();
  sizes.erase(d);
  strides.erase(d);
  Tensor out = view_of(a, sizes, strides, a.offset() + index * a.strides()[d]);
  if (compute_requires_grad(a)) {
    auto node = make_node<ScatterViewBackward>(a);
    node->op_name = "SelectBackward0";
    node->double_backward_name = "SelectBackwardBackward0";
    node->input_sizes = a.sizes();
    DimVec cs = contiguous_strides(a.sizes());
    node->view_sizes = sizes;
    node->view_offset = index * cs[d];
    cs.erase(d);
    node->view_strides = cs;
    set_history(out, node);
  }
  return out;
}

Tensor slice(const Tensor& a, int64_t dim, std::optional<int64_t> start_in, std::optional<int64_t> end_in,
             int64_t step) {
  TG_CHECK_INDEX(a.dim() > 0, "slice() cannot be applied to a 0-dim tensor.");
  TG_CHECK_VALUE(step > 0, "step must be greater than zero");
  int64_t d = wrap_dim(dim, a.dim());
  int64_t size = a.sizes()[d];
  int64_t start = start_in.value_or(0), end = end_in.value_or(size);
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  int64_t len = (end - start + step - 1) / step;
  DimVec sizes = a.sizes(), strides = a.strides();
  sizes[d] = len;
  strides[d] = a.strides()[d] * step;
  Tensor out = view_of(a, sizes, strides, a.offset() + start * a.strides()[d]);
  if (compute_requires_grad(a)) {
    auto node = make_node<ScatterViewBackward>(a);
    node->op_name = "SliceBackward0";
    node->double_backward_name = "SliceBackwardBackward0";
    node->input_sizes = a.sizes();
    DimVec cs = contiguous_strides(a.sizes());
    node->view_sizes = sizes;
    node->view_offset = start * cs[d];
    cs[d] *= step;
    node->view_strides = cs;
    set_history(out, node);
  }
  return out;
}

Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length) {
  TG_CHECK(a.dim() > 0, "narrow() cannot be applied to a 0-dim tensor.");
  int64_t d = wrap_dim(dim, a.dim());
  int64_t size = a.sizes()[d];
  if (start < 0) start += size;
  TG_CHECK_INDEX(start >= 0 && start <= size, "start out of range (expected to be in range of [", -size, ", ",
                 size, "], but got ", start, ")");
  TG_CHECK(length >= 0 && start + length <= size, "start (", start, ") + length (", length,
           ") exceeds dimension size (", size, ").");
  return slice(a, d, start, start + length, 1);
}

// The elements a[..., i, ..., i + offset, ...] of dims dim1 and dim2, as a last dim of the view.
Tensor diagonal(const Tensor& a, int64_t offset, int64_t dim1, int64_t dim2) {
  int64_t d1 = wrap_dim(dim1, a.dim()), d2 = wrap_dim(dim2, a.dim());
  TG_CHECK(d1 != d2, "diagonal dimensions cannot be identical ", dim1, ", ", dim2);
  auto diagonal_geometry = [&](const DimVec& in_sizes, const DimVec& in_strides, int64_t& start) {
    int64_t length = offset >= 0 ? std::min(in_sizes[d1], in_sizes[d2] - offset)
                                 : std::min(in_sizes[d1] + offset, in_sizes[d2]);
    length = std::max<int64_t>(length, 0);
    if (length > 0) start += offset >= 0 ? offset * in_strides[d2] : -offset * in_strides[d1];
    DimVec sizes, strides;
    for (int64_t d = 0; d < a.dim(); ++d) {
      if (d == d1 || d == d2) continue;
      sizes.push_back(in_sizes[d]);
      strides.push_back(in_strides[d]);
    }
    sizes.push_back(length);
    strides.push_back(in_strides[d1] + in_strides[d2]);
    return std::make_pair(sizes, strides);
  };
  int64_t start = a.offset();
  auto [sizes, strides] = diagonal_geometry(a.sizes(), a.strides(), start);
  Tensor out = view_of(a, sizes, strides, start);
  if (compute_requires_grad(a)) {
    auto node = make_node<ScatterViewBackward>(a);
    node->op_name = "DiagonalBackward0";
    node->double_backward_name = "DiagonalBackwardBackward0";
    node->input_sizes = a.sizes();
    int64_t grad_start = 0;
    auto [view_sizes, view_strides] = diagonal_geometry(a.sizes(), contiguous_strides(a.sizes()), grad_start);
    node->view_sizes = view_sizes;
    node->view_strides = view_strides;
    node->view_offset = grad_start;
    set_history(out, node);
  }
  return out;
}

Tensor as_strided(const Tensor& a, const DimVec& sizes, const DimVec& strides, int64_t offset) {
  TG_CHECK(sizes.size() == strides.size(), "mismatch in length of strides and shape");
  TG_CHECK(offset >= 0, "Tensor: invalid storage offset ", offset);
  int64_t last = offset;
  for (size_t i = 0; i < sizes.size(); ++i) {
    TG_CHECK(sizes[i] >= 0 && strides[i] >= 0, "as_strided: negative sizes and strides are not supported");
    if (sizes[i] > 0) last += (sizes[i] - 1) * strides[i];
  }
  int64_t capacity = static_cast<int64_t>(a.storage()->nbytes / itemsize(a.dtype()));
  TG_CHECK(numel_of(sizes) == 0 || last < capacity, "setStorage: sizes ", shape_str(sizes), ", strides ",
           shape_str(strides), ", storage offset ", offset, ", and itemsize ", itemsize(a.dtype()),
           " requiring a storage size of ", (last + 1) * itemsize(a.dtype()), " are out of bounds for storage of size ",
           a.storage()->nbytes);
  Tensor out = view_of(a, sizes, strides, offset);
  if (compute_requires_grad(a)) {
    TG_CHECK(a.is_contiguous(), "as_strided on a non-contiguous tensor that requires grad is not supported");
    auto node = make_node<ScatterViewBackward>(a);
    node->op_name = "AsStridedBackward0";
    node->double_backward_name = "AsStridedBackward0";
    node->input_sizes = a.sizes();
    node->view_sizes = sizes;
    node->view_strides = strides;
    node->view_offset = offset - a.offset();
    set_history(out, node);
  }
  return out;
}

// ---- cat / stack ----

struct CatBackward0 : Node {
  int64_t dim = 0;
  std::vector<int64_t> lengths;  // each input's size along dim; -1 for skipped legacy empties
  std::string name() const override { return "CatBackward0"; }
  TensorList apply(TensorList&& grads) override {
    TensorList out(lengths.size());
    int64_t start = 0;
    for (size_t i = 0; i < lengths.size(); ++i) {
      if (lengths[i] < 0) {
        if (needs_input_grad(i)) out[i] = zeros(DimVec{0}, grads[0].dtype(), grads[0].device());
        continue;
      }
      if (needs_input_grad(i)) out[i] = narrow(grads[0], dim, start, lengths[i]);
      start += lengths[i];
    }
    return out;
  }
};

// PyTorch skips 1-D empty tensors in cat, a legacy rule scripts rely on.
static bool legacy_empty(const Tensor& t) { return t.dim() == 1 && t.sizes()[0] == 0; }

Tensor cat(const TensorList& tensors, int64_t dim_in) {
  TG_CHECK_VALUE(!tensors.empty(), "torch.cat(): expected a non-empty list of Tensors");
  const Tensor* ref = nullptr;
  ScalarType dtype = tensors[0].dtype();
  for (const Tensor& t : tensors) {
    dtype = promote_types(dtype, t.dtype());
    if (!ref && !legacy_empty(t)) ref = &t;
  }
  auto record = [&](const Tensor& out, int64_t dim, std::vector<int64_t> lengths) {
    if (!GradMode::is_enabled()) return;
    bool any = false;
    for (const Tensor& t : tensors) any |= t.requires_grad();
    if (!any) return;
    auto node = make_node_list<CatBackward0>(tensors);
    node->dim = dim;
    node->lengths = std::move(lengths);
    set_history(out, node);
  };
  if (!ref) {
    Tensor out = empty(DimVec{0}, dtype, tensors[0].device());
    record(out, 0, std::vector<int64_t>(tensors.size(), -1));
    return out;
  }
  TG_CHECK(ref->dim() > 0, "zero-dimensional tensor (at position ", ref - tensors.data(), ") cannot be concatenated");
  int64_t dim = wrap_dim(dim_in, ref->dim());
  DimVec shape = ref->sizes();
  int64_t total = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (legacy_empty(t)) continue;
    TG_CHECK(t.dim() == ref->dim(), "Tensors must have same number of dimensions: got ", ref->dim(), " and ",
             t.dim());
    TG_CHECK(t.device() == ref->device(), "Expected all tensors to be on the same device, but found at least two "
             "devices, ", ref->device().str(), " and ", t.device().str(), "!");
    for (int64_t d = 0; d < t.dim(); ++d)
      TG_CHECK(d == dim || t.sizes()[d] == shape[d], "Sizes of tensors must match except in dimension ", dim,
               ". Expected size ", shape[d], " but got size ", t.sizes()[d], " for tensor number ", i,
               " in the list.");
    total += t.sizes()[dim];
  }
  shape[dim] = total;
  Tensor out = empty(shape, dtype, ref->device());
  std::vector<int64_t> lengths;
  int64_t start = 0;
  for (const Tensor& t : tensors) {
    int64_t len = legacy_empty(t) ? -1 : t.sizes()[dim];
    lengths.push_back(len);
    if (len <= 0) continue;
    DimVec sizes = out.sizes();
    sizes[dim] = len;
    Tensor region = make_view(out, sizes, out.strides(), start * out.strides()[dim]);
    backend_for(out.device()).copy(region, t);
    start += len;
  }
  record(out, dim, std::move(lengths));
  return out;
}

struct StackBackward0 : Node {
  int64_t dim = 0;
  std::string name() const override { return "StackBackward0"; }
  TensorList apply(TensorList&& grads) override {
    TensorList out(next_edges.size());
    for (size_t i = 0; i < out.size(); ++i)
      if (needs_input_grad(i)) out[i] = select(grads[0], dim, static_cast<int64_t>(i));
    return out;
  }
};

Tensor stack(const TensorList& tensors, int64_t dim_in) {
  TG_CHECK(!tensors.empty(), "stack expects a non-empty TensorList");
  int64_t dim = wrap_dim(dim_in, tensors[0].dim() + 1);
  TensorList parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    TG_CHECK(tensors[i].sizes() == tensors[0].sizes(), "stack expects each tensor to be equal size, but got ",
             shape_str(tensors[0].sizes()), " at entry 0 and ", shape_str(tensors[i].sizes()), " at entry ", i);
    parts.push_back(unsqueeze(detach(tensors[i]), dim));
  }
  Tensor out;
  {
    AutoGradMode no_grad(false);
    out = cat(parts, dim);
  }
  if (GradMode::is_enabled()) {
    bool any = false;
    for (const Tensor& t : tensors) any |= t.requires_grad();
    if (any) {
      auto node = make_node_list<StackBackward0>(tensors);
      node->dim = dim;
      set_history(out, node);
    }
  }
  return out;
}

// ---- split / chunk / unbind: one node for all the pieces, as in PyTorch ----

struct SplitBackward : Node {
  int64_t dim = 0;
  DimVec input_sizes;
  std::vector<int64_t> lengths;  // each piece's size along dim
  const char* op_name = "SplitBackward0";
  std::string name() const override { return op_name; }
  uint32_t num_outputs() const override { return static_cast<uint32_t>(lengths.size()); }
  TensorList apply(TensorList&& grads) override {
    // Pieces that received no gradient contribute zeros.
    const Tensor& any = *std::find_if(grads.begin(), grads.end(), [](const Tensor& g) { return g.defined(); });
    TensorList parts;
    for (size_t i = 0; i < lengths.size(); ++i) {
      if (grads[i].defined()) {
        parts.push_back(grads[i]);
      } else {
        DimVec sizes = input_sizes;
        sizes[dim] = lengths[i];
        parts.push_back(zeros(sizes, any.dtype(), any.device()));
      }
    }
    return {cat(parts, dim)};
  }
};

// The pieces of split and unbind share one node: an in-place op on one could not rewrite it.
static void mark_multi_output(const TensorList& views) {
  for (const Tensor& v : views)
    v.impl()->view_creation = GradMode::is_enabled() ? ViewCreation::MultiOutput : ViewCreation::InNoGradMode;
}

static TensorList split_pieces(const Tensor& a, int64_t d, const std::vector<int64_t>& lengths, const char* name) {
  TensorList out;
  int64_t start = 0;
  for (int64_t len : lengths) {
    DimVec sizes = a.sizes();
    sizes[d] = len;
    out.push_back(view_of(a, sizes, a.strides(), a.offset() + start * a.strides()[d]));
    start += len;
  }
  mark_multi_output(out);
  if (compute_requires_grad(a)) {
    auto node = make_node<SplitBackward>(a);
    node->dim = d;
    node->input_sizes = a.sizes();
    node->lengths = lengths;
    node->op_name = name;
    for (size_t i = 0; i < out.size(); ++i) set_history(out[i], node, static_cast<uint32_t>(i));
  }
  return out;
}

TensorList split(const Tensor& a, int64_t split_size, int64_t dim) {
  TG_CHECK(a.dim() > 0, "split expects at least a 1-dimensional tensor");
  TG_CHECK(split_size >= 0, "split expects split_size be non-negative, but got split_size=", split_size);
  int64_t d = wrap_dim(dim, a.dim());
  int64_t size = a.sizes()[d];
  TG_CHECK(split_size > 0 || size == 0, "split_size can only be 0 if dimension size is 0, but got dimension size of ",
           size);
  std::vector<int64_t> lengths;
  for (int64_t start = 0; start < size; start += split_size) lengths.push_back(std::min(split_size, size - start));
  if (lengths.empty()) lengths.push_back(0);
  return split_pieces(a, d, lengths, "SplitBackward0");
}

TensorList split_with_sizes(const Tensor& a, const DimVec& split_sizes, int64_t dim) {
  TG_CHECK(a.dim() > 0, "split expects at least a 1-dimensional tensor");
  int64_t d = wrap_dim(dim, a.dim());
  int64_t total = 0;
  for (int64_t len : split_sizes) {
    TG_CHECK(len >= 0, "split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes=",
             shape_str(split_sizes));
    total += len;
  }
  TG_CHECK(total == a.sizes()[d], "split_with_sizes expects split_sizes to sum exactly to ", a.sizes()[d],
           " (input tensor's size at dimension ", d, "), but got split_sizes=", shape_str(split_sizes));
  return split_pieces(a, d, std::vector<int64_t>(split_sizes.begin(), split_sizes.end()), "SplitWithSizesBackward0");
}

TensorList chunk(const Tensor& a, int64_t chunks, int64_t dim) {
  TG_CHECK(a.dim() > 0, "chunk expects at least a 1-dimensional tensor");
  TG_CHECK(chunks > 0, "chunk expects `chunks` to be greater than 0, got: ", chunks);
  int64_t size = a.sizes()[wrap_dim(dim, a.dim())];
  // An empty dim still gives `chunks` (empty) pieces.
  if (size == 0) return split_with_sizes(a, DimVec(static_cast<size_t>(chunks), 0), dim);
  return split(a, (size + chunks - 1) / chunks, dim);
}

struct UnbindBackward0 : Node {
  int64_t dim = 0;
  DimVec piece_sizes;
  uint32_t count = 0;
  std::string name() const override { return "UnbindBackward0"; }
  uint32_t num_outputs() const override { return count; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& any = *std::find_if(grads.begin(), grads.end(), [](const Tensor& g) { return g.defined(); });
    TensorList parts;
    for (Tensor& g : grads) parts.push_back(g.defined() ? g : zeros(piece_sizes, any.dtype(), any.device()));
    return {stack(parts, dim)};
  }
};

TensorList unbind(const Tensor& a, int64_t dim) {
  TG_CHECK_INDEX(a.dim() > 0, "Dimension specified as 0 but tensor has no dimensions");
  int64_t d = wrap_dim(dim, a.dim());
  DimVec sizes = a.sizes(), strides = a.strides();
  sizes.erase(d);
  strides.erase(d);
  TensorList out;
  for (int64_t i = 0; i < a.sizes()[d]; ++i) out.push_back(view_of(a, sizes, strides, a.offset() + i * a.strides()[d]));
  mark_multi_output(out);
  if (compute_requires_grad(a) && !out.empty()) {
    auto node = make_node<UnbindBackward0>(a);
    node->dim = d;
    node->piece_sizes = sizes;
    node->count = static_cast<uint32_t>(out.size());
    for (size_t i = 0; i < out.size(); ++i) set_history(out[i], node, static_cast<uint32_t>(i));
  }
  return out;
}

}  // namespace tg::ops
