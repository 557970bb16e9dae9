// Advanced indexing and its relatives (index_select, gather, scatter, masked ops, take, nonzero):
// forwards and backward nodes side by side. All of them lower to the kernels index and index_put.
#include <cmath>
#include <limits>
#include "autograd/node.h"
#include "core/grad_mode.h"
#include "core/dispatch.h"
#include "ops/elementwise_util.h"
#include "ops/ops.h"

namespace tg::ops {

namespace {

std::vector<SavedTensor> save_all(const TensorList& ts) {
  std::vector<SavedTensor> out;
  for (const Tensor& t : ts) out.emplace_back(t, false);
  return out;
}

TensorList unpack_all(const std::vector<SavedTensor>& saved, const Node& owner) {
  TensorList out;
  for (const SavedTensor& s : saved) out.push_back(s.unpack(owner));
  return out;
}

void reset_all(std::vector<SavedTensor>& saved) {
  for (SavedTensor& s : saved) s.reset();
}

// Bool masks become one int64 index per mask dim (their nonzero coordinates); int64 stays.
TensorList long_indices(const Tensor& self, const TensorList& indices) {
  int64_t consumed = 0;
  for (const Tensor& idx : indices) consumed += idx.defined() && idx.dtype() == ScalarType::Bool ? idx.dim() : 1;
  TG_CHECK_INDEX(consumed <= self.dim(), "too many indices for tensor of dimension ", self.dim(), " (got ",
                 consumed, ")");
  TensorList out;
  for (const Tensor& idx : indices) {
    if (!idx.defined() || idx.dtype() == ScalarType::Int64) {
      out.push_back(idx);
      continue;
    }
    TG_CHECK_INDEX(idx.dtype() == ScalarType::Bool, "tensors used as indices must be long, int, byte or bool tensors");
    int64_t first = static_cast<int64_t>(out.size());
    for (int64_t j = 0; j < idx.dim(); ++j)
      TG_CHECK_INDEX(idx.sizes()[j] == self.sizes()[first + j], "The shape of the mask ", shape_str(idx.sizes()),
                     " at index ", j, " does not match the shape of the indexed tensor ", shape_str(self.sizes()),
                     " at index ", first + j);
    Tensor coords = backend_for(idx.device()).nonzero(idx);  // [n, mask dims]
    for (int64_t j = 0; j < idx.dim(); ++j)
      out.push_back(make_view(coords, DimVec{coords.sizes()[0]}, DimVec{coords.strides()[0]}, j));
  }
  return out;
}

// The kernel geometry of self[indices]: the indexed dims made adjacent (by moving them to the front
// when they are not, NumPy's rule) and replaced in the result by the indices' broadcast shape.
struct IndexPlan {
  Tensor src;           // self, permuted when the indexed dims were not adjacent
  int64_t before = 0;   // dims of src ahead of the indexed ones
  TensorList indices;   // the defined indices, in src's order
  DimVec index_shape;   // their broadcast shape
  DimVec result_shape;

  // src seen in the result's shape, stride 0 where the indices decide the position.
  Tensor data_view() const {
    int64_t count = static_cast<int64_t>(indices.size()), span = static_cast<int64_t>(index_shape.size());
    DimVec strides;
    for (int64_t d = 0; d < before; ++d) strides.push_back(src.strides()[d]);
    for (int64_t d = 0; d < span; ++d) strides.push_back(0);
    for (int64_t d = before + count; d < src.dim(); ++d) strides.push_back(src.strides()[d]);
    return make_view(src, result_shape, strides, src.offset());
  }

  IndexSpec spec() const {
    IndexSpec spec;
    for (size_t k = 0; k < indices.size(); ++k) {
      Tensor b = expand_view(indices[k], index_shape);
      DimVec strides(result_shape.size(), 0);
      for (size_t d = 0; d < index_shape.size(); ++d) strides[before + d] = b.strides()[d];
      spec.indices.push_back(make_view(b, result_shape, strides, b.offset()));
      spec.sizes.push_back(src.sizes()[before + k]);
      spec.strides.push_back(src.strides()[before + k]);
    }
    return spec;
  }
};

IndexPlan plan_index(const Tensor& self, const TensorList& indices) {
  IndexPlan plan;
  std::vector<int64_t> positions;
  for (size_t i = 0; i < indices.size(); ++i)
    if (indices[i].defined()) positions.push_back(static_cast<int64_t>(i));
  TG_CHECK_INDEX(!positions.empty(), "at least one index tensor must be given");
  try {
    plan.index_shape = indices[positions[0]].sizes();
    for (int64_t p : positions) plan.index_shape = broadcast_shapes(plan.index_shape, indices[p].sizes());
  } catch (const Error&) {
    std::string shapes;
    for (int64_t p : positions) shapes += (shapes.empty() ? "" : ", ") + shape_str(indices[p].sizes());
    throw IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes " + shapes);
  }
  int64_t count = static_cast<int64_t>(positions.size());
  if (positions.back() - positions.front() + 1 == count) {
    plan.src = self;
    plan.before = positions.front();
  } else {
    DimVec order;
    for (int64_t p : positions) order.push_back(p);
    for (int64_t d = 0; d < self.dim(); ++d)
      if (d >= static_cast<int64_t>(indices.size()) || !indices[d].defined()) order.push_back(d);
    DimVec sizes, strides;
    for (int64_t d : order) {
      sizes.push_back(self.sizes()[d]);
      strides.push_back(self.strides()[d]);
    }
    plan.src = make_view(self, sizes, strides, self.offset());
  }
  for (int64_t p : positions) plan.indices.push_back(indices[p]);
  const DimVec& sizes = plan.src.sizes();
  bool empty_dim = false;
  for (int64_t d = 0; d < plan.before; ++d) plan.result_shape.push_back(sizes[d]);
  for (int64_t s : plan.index_shape) plan.result_shape.push_back(s);
  for (int64_t d = plan.before; d < plan.before + count; ++d) empty_dim |= sizes[d] == 0;
  for (int64_t d = plan.before + count; d < plan.src.dim(); ++d) plan.result_shape.push_back(sizes[d]);
  TG_CHECK_INDEX(!empty_dim || numel_of(plan.index_shape) == 0, "index is out of bounds for dimension with size 0");
  return plan;
}

// out = self[indices] for int64 (or undefined) indices; no autograd.
Tensor gather_indexed(const Tensor& self, const TensorList& indices, bool wrap_negative) {
  IndexPlan plan = plan_index(self, indices);
  Tensor out = empty(plan.result_shape, self.dtype(), self.device());
  IndexSpec spec = plan.spec();
  spec.wrap_negative = wrap_negative;
  backend_for(self.device()).index(out, plan.data_view(), spec);
  return out;
}

// PyTorch refuses writes whose source shares memory with the destination.
void check_no_overlap(const Tensor& dst, const Tensor& src) {
  if (dst.storage()->data != src.storage()->data || dst.numel() == 0 || src.numel() == 0) return;
  auto extent = [](const Tensor& t) {
    int64_t lo = t.offset(), hi = t.offset();
    for (int64_t d = 0; d < t.dim(); ++d) (t.strides()[d] < 0 ? lo : hi) += (t.sizes()[d] - 1) * t.strides()[d];
    return std::pair<int64_t, int64_t>(lo, hi);
  };
  auto [a_lo, a_hi] = extent(dst);
  auto [b_lo, b_hi] = extent(src);
  TG_CHECK(a_hi < b_lo || b_hi < a_lo, "unsupported operation: some elements of the input tensor and the written-to "
           "tensor refer to a single memory location. Please clone() the tensor before performing the operation.");
}

bool is_single_mask(const TensorList& indices) {
  int defined = 0;
  bool mask = false;
  for (const Tensor& t : indices)
    if (t.defined()) {
      ++defined;
      mask = t.dtype() == ScalarType::Bool;
    }
  return defined == 1 && mask;
}

// dst[indices] = values (or += with accumulate); no autograd. Returns the int64 indices it used.
TensorList put_indexed(const Tensor& dst, const TensorList& indices, const Tensor& values, bool accumulate) {
  // PyTorch fills through a lone mask with the single value converted, as masked_fill_ does.
  bool fill = !accumulate && is_single_mask(indices) && values.numel() == 1;
  Tensor source = fill ? cast_for_compute(make_view(values, DimVec(), DimVec(), values.offset()), dst.dtype()) : values;
  if (!fill) {
    check_no_overlap(dst, values);
    for (const Tensor& idx : indices)
      if (idx.defined()) check_no_overlap(dst, idx);
  }
  TensorList long_idx = long_indices(dst, indices);
  IndexPlan plan = plan_index(dst, long_idx);
  const DimVec& shape = plan.result_shape;
  bool fits = source.dim() <= static_cast<int64_t>(shape.size());
  for (int64_t d = 1; fits && d <= source.dim(); ++d) {
    int64_t v = source.sizes()[source.dim() - d];
    fits = v == 1 || v == shape[shape.size() - d];
  }
  TG_CHECK(fits, "shape mismatch: value tensor of shape ", shape_str(values.sizes()),
           " cannot be broadcast to indexing result of shape ", shape_str(shape));
  TG_CHECK(source.dtype() == dst.dtype(), "Index put requires the source and destination dtypes match, got ",
           scalar_type_word(dst.dtype()), " for the destination and ", scalar_type_word(values.dtype()),
           " for the source.");
  backend_for(dst.device()).index_put(plan.data_view(), expand_view(source, shape), plan.spec(), accumulate);
  return long_idx;
}

// A plain copy of t with no history, for out-of-place ops that write into their result.
Tensor fresh_copy(const Tensor& t) {
  Tensor out = empty(t.sizes(), t.dtype(), t.device());
  backend_for(t.device()).copy(out, t);
  return out;
}

// Size and stride along dim, with a 0-dim tensor seen as one element.
int64_t size_at(const Tensor& t, int64_t dim) { return t.dim() ? t.sizes()[dim] : 1; }
int64_t stride_at(const Tensor& t, int64_t dim) { return t.dim() ? t.strides()[dim] : 0; }

// gather/scatter geometry: t seen with index's shape, the index giving the position along dim.
Tensor along_dim_view(const Tensor& t, const Tensor& index, int64_t dim) {
  DimVec strides = t.strides();
  if (t.dim()) strides[dim] = 0;
  return make_view(t, index.sizes(), strides, t.offset());
}

IndexSpec along_dim_spec(const Tensor& t, const Tensor& index, int64_t dim) {
  IndexSpec spec;
  spec.indices.push_back(index);
  spec.sizes.push_back(size_at(t, dim));
  spec.strides.push_back(stride_at(t, dim));
  spec.wrap_negative = false;
  return spec;
}

// Runs an index kernel, reporting a bad index the way gather and scatter do.
template <typename F>
void with_dim_error(int64_t dim, F&& f) {
  try {
    f();
  } catch (const IndexOutOfRange& e) {
    throw Error(str_cat("index ", e.index, " is out of bounds for dimension ", dim, " with size ", e.size));
  }
}

// Writes src (or a value, as a 0-dim tensor) into self along dim at index; no autograd.
// With accumulate, values join by `reduce` (Sum, Prod, Max or Min); without, the last write wins.
void scatter_into(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, bool is_value,
                  bool accumulate, ReduceOp reduce = ReduceOp::Sum) {
  if (index.numel() == 0) return;  // as ATen, an empty index is not checked at all
  TG_CHECK(index.dtype() == ScalarType::Int64, "scatter(): Expected dtype int32/int64 for index");
  TG_CHECK(is_value || src.dtype() == self.dtype(), "scatter(): Expected self.dtype to be equal to src.dtype");
  TG_CHECK(index.dim() == self.dim(), "Index tensor must have the same number of dimensions as self tensor");
  TG_CHECK(is_value || index.dim() == src.dim(), "Index tensor must have the same number of dimensions as src tensor");
  bool fits = true;
  for (int64_t d = 0; d < index.dim(); ++d) {
    fits &= d == dim || index.sizes()[d] <= self.sizes()[d];
    if (!is_value) fits &= index.sizes()[d] <= src.sizes()[d];
  }
  if (!fits) {
    std::string msg = str_cat("Expected index ", shape_str(index.sizes()), " to be no larger than self ",
                              shape_str(self.sizes()), " apart from dimension ", dim);
    if (!is_value) msg += str_cat(" and to be no larger size than src ", shape_str(src.sizes()));
    throw Error(msg);
  }
  Tensor values = is_value ? expand_view(cast_for_compute(src, self.dtype()), index.sizes())
                           : make_view(src, index.sizes(), src.strides(), src.offset());
  check_no_overlap(self, values);
  with_dim_error(dim, [&] {
    Tensor dst = along_dim_view(self, index, dim);
    IndexSpec spec = along_dim_spec(self, index, dim);
    if (accumulate && reduce != ReduceOp::Sum) backend_for(self.device()).index_reduce(dst, values, spec, reduce);
    else backend_for(self.device()).index_put(dst, values, spec, accumulate);
  });
}

}  // namespace

// ---- x[indices] and x[indices] = values ----

struct IndexBackward0 : Node {
  DimVec self_sizes;
  std::vector<SavedTensor> indices;
  std::string name() const override { return "IndexBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    return {index_put(zeros(self_sizes, g.dtype(), g.device()), unpack_all(indices, *this), g, true)};
  }
  void release_saved() override { reset_all(indices); }
};

Tensor index(const Tensor& self, const TensorList& indices) {
  TensorList long_idx = long_indices(self, indices);
  Tensor out = gather_indexed(self, long_idx, true);
  if (compute_requires_grad(self)) {
    auto node = make_node<IndexBackward0>(self);
    node->self_sizes = self.sizes();
    node->indices = save_all(long_idx);
    set_history(out, node);
  }
  return out;
}

struct IndexPutBackward0 : Node {
  std::vector<SavedTensor> indices;
  bool accumulate = false;
  std::string name() const override { return "IndexPutBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    TensorList idx = unpack_all(indices, *this);
    TensorList out(2);
    if (needs_input_grad(0))
      out[0] = accumulate ? g : index_put(g, idx, zeros(DimVec(), g.dtype(), g.device()), false);
    if (needs_input_grad(1)) out[1] = index(g, idx);
    return out;
  }
  void release_saved() override { reset_all(indices); }
};

Tensor index_put(const Tensor& self, const TensorList& indices, const Tensor& values, bool accumulate) {
  Tensor out = fresh_copy(self);
  TensorList long_idx = put_indexed(out, indices, values, accumulate);
  if (compute_requires_grad(self, values)) {
    auto node = make_node<IndexPutBackward0>(self, values);
    node->indices = save_all(long_idx);
    node->accumulate = accumulate;
    set_history(out, node);
  }
  return out;
}

Tensor& index_put_(Tensor& self, const TensorList& indices, const Tensor& values, bool accumulate) {
  check_inplace_may_overlap(self, values);
  bool grad = compute_requires_grad(self, values);
  std::shared_ptr<IndexPutBackward0> node = grad ? make_node<IndexPutBackward0>(self, values) : nullptr;
  TensorList long_idx = put_indexed(self, indices, values, accumulate);
  self.bump_version();
  if (grad) {
    node->indices = save_all(long_idx);
    node->accumulate = accumulate;
    rebase_history(self, node);
  }
  return self;
}

// ---- alias: x[...] and x[:, :] return a new view of the whole tensor ----

struct AliasBackward0 : Node {
  std::string name() const override { return "AliasBackward0"; }
  TensorList apply(TensorList&& grads) override { return {grads[0]}; }
};

Tensor alias(const Tensor& a) {
  Tensor out = view_of(a, a.sizes(), a.strides(), a.offset());
  if (compute_requires_grad(a)) set_history(out, make_node<AliasBackward0>(a));
  return out;
}

// ---- index_select ----

struct IndexSelectBackward0 : Node {
  DimVec self_sizes;
  int64_t dim = 0;
  SavedTensor index;
  std::string name() const override { return "IndexSelectBackward0"; }
  TensorList apply(TensorList&& grads) override {
    Tensor idx = index.unpack(*this);
    TensorList indices(dim + 1);
    indices[dim] = idx.dim() ? idx : reshape(idx, DimVec{1});
    if (self_sizes.empty()) {  // a 0-dim input was indexed as one element
      Tensor g = reshape(grads[0], DimVec{indices[dim].numel()});
      return {reshape(index_put(zeros(DimVec{1}, g.dtype(), g.device()), indices, g, true), DimVec())};
    }
    return {index_put(zeros(self_sizes, grads[0].dtype(), grads[0].device()), indices, grads[0], true)};
  }
  void release_saved() override { index.reset(); }
};

Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index) {
  TG_CHECK_INDEX(index.dim() <= 1, "index_select(): Index is supposed to be a vector");
  TG_CHECK(index.dtype() == ScalarType::Int64, "index_select(): Expected dtype int32 or int64 for index");
  int64_t d = wrap_dim(dim, a.dim());
  if (a.dim() == 0)
    TG_CHECK(index.numel() == 1, "index_select(): Index to scalar can have only 1 value, got ", index.numel(),
             " value(s)");
  Tensor src = a.dim() ? a : make_view(a, DimVec{1}, DimVec{1}, a.offset());
  TensorList indices(d + 1);
  indices[d] = index.dim() ? index : make_view(index, DimVec{1}, DimVec{1}, index.offset());
  Tensor out;
  try {
    out = gather_indexed(src, indices, false);
  } catch (const IndexOutOfRange&) {
    throw IndexError("index out of range in self");
  }
  if (a.dim() == 0) out = make_view(out, DimVec(), DimVec(), 0);
  if (compute_requires_grad(a)) {
    auto node = make_node<IndexSelectBackward0>(a);
    node->self_sizes = a.sizes();
    node->dim = d;
    node->index = SavedTensor(index, false);
    set_history(out, node);
  }
  return out;
}

// ---- gather / scatter / scatter_add ----

struct GatherBackward0 : Node {
  DimVec self_sizes;
  int64_t dim = 0;
  SavedTensor index;
  std::string name() const override { return "GatherBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    return {scatter_add(zeros(self_sizes, g.dtype(), g.device()), dim, index.unpack(*this), g)};
  }
  void release_saved() override { index.reset(); }
};

Tensor gather(const Tensor& a, int64_t dim_in, const Tensor& index) {
  int64_t dim = wrap_dim(dim_in, a.dim());
  if (index.numel() == 0) return empty(index.sizes(), a.dtype(), a.device());  // not checked at all, as in ATen
  TG_CHECK(index.dtype() == ScalarType::Int64, "gather(): Expected dtype int32/int64 for index");
  TG_CHECK(index.dim() == a.dim(), "Index tensor must have the same number of dimensions as input tensor");
  for (int64_t d = 0; d < a.dim(); ++d)
    TG_CHECK(d == dim || index.sizes()[d] <= a.sizes()[d], "Size does not match at dimension ", d,
             " expected index ", shape_str(index.sizes()), " to be no larger than self ", shape_str(a.sizes()),
             " apart from dimension ", dim);
  Tensor out = empty(index.sizes(), a.dtype(), a.device());
  with_dim_error(dim, [&] {
    backend_for(a.device()).index(out, along_dim_view(a, index, dim), along_dim_spec(a, index, dim));
  });
  if (compute_requires_grad(a)) {
    auto node = make_node<GatherBackward0>(a);
    node->self_sizes = a.sizes();
    node->dim = dim;
    node->index = SavedTensor(index, false);
    set_history(out, node);
  }
  return out;
}

// scatter_reduce's values; its gradients are written in Python (tapegrad/_indexing.py) from these.
Tensor scatter_reduce_values(const Tensor& self, int64_t dim_in, const Tensor& index, const Tensor& src,
                             const std::string& reduce, bool include_self) {
  int64_t dim = wrap_dim(dim_in, self.dim());
  ReduceOp op = ReduceOp::Sum;
  if (reduce == "prod") op = ReduceOp::Prod;
  else if (reduce == "amax" || reduce == "max") op = ReduceOp::Max;  // max and min: PyTorch's older spellings
  else if (reduce == "amin" || reduce == "min") op = ReduceOp::Min;
  else TG_CHECK(reduce == "sum" || reduce == "mean",
                "reduce argument must be either sum, prod, mean, amax or amin, got ", reduce);
  AutoGradMode no_grad(false);
  Tensor out = fresh_copy(self);
  if (!include_self && index.numel()) {
    // The scattered-to slots start from the reduction's identity.
    bool floating = is_floating(self.dtype());
    Scalar identity = op == ReduceOp::Prod ? Scalar(int64_t(1))
                      : op == ReduceOp::Max ? (floating ? Scalar(-INFINITY) : Scalar(std::numeric_limits<int64_t>::lowest()))
                      : op == ReduceOp::Min ? (floating ? Scalar(INFINITY) : Scalar(std::numeric_limits<int64_t>::max()))
                                            : Scalar(int64_t(0));
    scatter_into(out, dim, index, wrapped_scalar(identity), true, false);
  }
  scatter_into(out, dim, index, src, false, true, op);
  if (reduce != "mean") return out;
  Tensor count = include_self ? ones_like(out) : zeros_like(out);
  scatter_into(count, dim, index, ones_like(src), false, true);
  count = where(eq(count, wrapped_scalar(Scalar(int64_t(0)))), ones_like(count), count);
  return is_floating(out.dtype()) ? div(out, count) : div(out, count, "floor");
}

// ScatterBackward0 (src tensor), ScatterBackward1 (a number), ScatterAddBackward0.
struct ScatterBackward : Node {
  int64_t dim = 0;
  SavedTensor index;
  const char* op_name = "ScatterBackward0";
  bool accumulate = false;
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor idx = index.unpack(*this);
    TensorList out(next_edges.size());
    if (needs_input_grad(0))
      out[0] = accumulate ? g : scatter(g, dim, idx, wrapped_scalar(Scalar(int64_t(0))));
    if (needs_input_grad(1)) out[1] = gather(g, dim, idx);
    return out;
  }
  void release_saved() override { index.reset(); }
};

static std::shared_ptr<ScatterBackward> scatter_node(const Tensor& self, int64_t dim, const Tensor& index,
                                                     const Tensor& src, bool accumulate) {
  bool is_value = src.is_wrapped_number();
  if (!(is_value ? compute_requires_grad(self) : compute_requires_grad(self, src))) return nullptr;
  auto node = is_value ? make_node<ScatterBackward>(self) : make_node<ScatterBackward>(self, src);
  node->dim = dim;
  node->index = SavedTensor(index, false);
  node->accumulate = accumulate;
  node->op_name = accumulate ? "ScatterAddBackward0" : (is_value ? "ScatterBackward1" : "ScatterBackward0");
  return node;
}

static Tensor scatter_out_of_place(const Tensor& self, int64_t dim_in, const Tensor& index, const Tensor& src,
                                   bool accumulate) {
  int64_t dim = wrap_dim(dim_in, self.dim());
  Tensor out = fresh_copy(self);
  scatter_into(out, dim, index, src, src.is_wrapped_number(), accumulate);
  if (auto node = scatter_node(self, dim, index, src, accumulate)) set_history(out, node);
  return out;
}

static Tensor& scatter_in_place(Tensor& self, int64_t dim_in, const Tensor& index, const Tensor& src,
                                bool accumulate) {
  int64_t dim = wrap_dim(dim_in, self.dim());
  check_inplace(self, src);
  auto node = scatter_node(self, dim, index, src, accumulate);
  scatter_into(self, dim, index, src, src.is_wrapped_number(), accumulate);
  self.bump_version();
  if (node) rebase_history(self, node);
  return self;
}

Tensor scatter(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_out_of_place(a, dim, index, src, false);
}
Tensor scatter_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_out_of_place(a, dim, index, src, true);
}
Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_in_place(self, dim, index, src, false);
}
Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_in_place(self, dim, index, src, true);
}

// ---- masked_fill / masked_select ----

// MaskedFillBackward0 (a number), MaskedFillBackward1 (a 0-dim tensor value, which gets a gradient too).
struct MaskedFillBackward : Node {
  SavedTensor mask;
  bool tensor_value = false;
  std::string name() const override { return tensor_value ? "MaskedFillBackward1" : "MaskedFillBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor m = mask.unpack(*this), zero = wrapped_scalar(Scalar(int64_t(0)));
    TensorList out(next_edges.size());
    if (needs_input_grad(0)) out[0] = where(m, zero, g);
    if (needs_input_grad(1)) out[1] = sum(where(m, g, zero));
    return out;
  }
  void release_saved() override { mask.reset(); }
};

static void check_masked_fill(const Tensor& self, const Tensor& mask, const Tensor& value) {
  if (value.is_wrapped_number()) check_fill_value(value.item(), self.dtype());
  static const char* names[] = {"bool", "long int", "float", "double"};
  TG_CHECK(mask.dtype() == ScalarType::Bool, "masked_fill_ only supports boolean masks, but got mask with dtype ",
           names[static_cast<int>(mask.dtype())]);
  TG_CHECK(value.dim() == 0, "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with ",
           value.dim(), " dimension(s).");
}

static std::shared_ptr<MaskedFillBackward> masked_fill_node(const Tensor& self, const Tensor& mask,
                                                             const Tensor& value) {
  bool tensor_value = !value.is_wrapped_number();
  if (!(tensor_value ? compute_requires_grad(self, value) : compute_requires_grad(self))) return nullptr;
  auto node = tensor_value ? make_node<MaskedFillBackward>(self, value) : make_node<MaskedFillBackward>(self);
  node->mask = SavedTensor(mask, false);
  node->tensor_value = tensor_value;
  return node;
}

Tensor masked_fill(const Tensor& a, const Tensor& mask, const Tensor& value) {
  check_masked_fill(a, mask, value);
  DimVec shape = broadcast_shapes(mask.sizes(), a.sizes());
  Tensor out = empty(shape, a.dtype(), a.device());
  backend_for(a.device()).where(out, expand_view(mask, shape), expand_view(cast_for_compute(value, a.dtype()), shape),
                                expand_view(a, shape));
  if (auto node = masked_fill_node(a, mask, value)) set_history(out, node);
  return out;
}

Tensor& masked_fill_(Tensor& self, const Tensor& mask, const Tensor& value) {
  check_masked_fill(self, mask, value);
  DimVec shape = broadcast_shapes(mask.sizes(), self.sizes());
  TG_CHECK(shape == self.sizes(), "output with shape ", shape_str(self.sizes()), " doesn't match the broadcast shape ",
           shape_str(shape));
  check_inplace_may_overlap(self, value);
  auto node = masked_fill_node(self, mask, value);
  backend_for(self.device()).where(self, expand_view(mask, shape),
                                   expand_view(cast_for_compute(value, self.dtype()), shape), self);
  self.bump_version();
  if (node) rebase_history(self, node);
  return self;
}

struct MaskedSelectBackward0 : Node {
  DimVec shape;  // the broadcast shape of input and mask
  SavedTensor mask;
  std::string name() const override { return "MaskedSelectBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor m = expand_view(mask.unpack(*this), shape);
    return {index_put(zeros(shape, g.dtype(), g.device()), TensorList{m}, g, true)};
  }
  void release_saved() override { mask.reset(); }
};

Tensor masked_select(const Tensor& a, const Tensor& mask) {
  TG_CHECK(mask.dtype() == ScalarType::Bool, "masked_select: expected BoolTensor for mask");
  DimVec shape = broadcast_shapes(mask.sizes(), a.sizes());
  Tensor src = expand_view(a, shape), m = expand_view(mask, shape);
  Tensor out = gather_indexed(src, long_indices(src, TensorList{m}), true);
  if (compute_requires_grad(a)) {
    auto node = make_node<MaskedSelectBackward0>(a);
    node->shape = shape;
    node->mask = SavedTensor(mask, false);
    set_history(out, node);
  }
  return out;
}

// ---- take / nonzero ----

struct TakeBackward0 : Node {
  DimVec self_sizes;
  SavedTensor index;
  std::string name() const override { return "TakeBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor flat = zeros(DimVec{numel_of(self_sizes)}, g.dtype(), g.device());
    return {reshape(index_put(flat, TensorList{index.unpack(*this)}, g, true), self_sizes)};
  }
  void release_saved() override { index.reset(); }
};

Tensor take(const Tensor& a, const Tensor& index) {
  TG_CHECK(index.dtype() == ScalarType::Int64, "take(): Expected a long tensor for index, but got ",
           scalar_type_word(index.dtype()));
  Tensor flat = a.is_contiguous() ? a : fresh_copy(a);
  IndexSpec spec;
  spec.indices.push_back(index);
  spec.sizes.push_back(a.numel());
  spec.strides.push_back(1);
  Tensor out = empty(index.sizes(), a.dtype(), a.device());
  try {
    backend_for(a.device()).index(out, make_view(flat, index.sizes(), DimVec(index.dim(), 0), flat.offset()), spec);
  } catch (const IndexOutOfRange& e) {
    throw IndexError(str_cat("out of range: tried to access index ", e.index, " on a tensor of ", a.numel(),
                             " elements."));
  }
  if (compute_requires_grad(a)) {
    auto node = make_node<TakeBackward0>(a);
    node->self_sizes = a.sizes();
    node->index = SavedTensor(index, false);
    set_history(out, node);
  }
  return out;
}

Tensor nonzero(const Tensor& a) { return backend_for(a.device()).nonzero(a); }

}  // namespace tg::ops
