// Reductions and the softmax family: forward and backward side by side.
#include <algorithm>
#include <cmath>
#include <limits>
#include "autograd/node.h"
#include "core/dispatch.h"
#include "ops/elementwise_util.h"
#include "ops/ops.h"

namespace tg::ops {

namespace {

Tensor num(double v) { return wrapped_scalar(Scalar(v)); }
Tensor inum(int64_t v) { return wrapped_scalar(Scalar(v)); }

// Normalised, deduplicated dims; an empty list means every dim (PyTorch's dim=None / dim=()).
// A 0-dim tensor accepts dims 0 and -1 and has nothing to reduce over.
DimVec reduction_dims(const DimVec& dims, int64_t ndim) {
  DimVec out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  uint64_t seen = 0;
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, ndim);
    TG_CHECK(!(seen >> w & 1), "dim ", w, " appears multiple times in the list of dims");
    seen |= uint64_t(1) << w;
    if (ndim > 0) out.push_back(w);
  }
  return out;
}

DimVec all_dims(const Tensor& a) { return reduction_dims(DimVec(), a.dim()); }

DimVec keepdim_shape(const DimVec& sizes, const DimVec& dims) {
  DimVec out = sizes;
  for (int64_t d : dims) out[d] = 1;
  return out;
}

int64_t reduced_count(const DimVec& sizes, const DimVec& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= sizes[d];
  return n;
}

// Drops the reduced dims from a freshly computed keepdim-shaped result (a view, no history).
Tensor squeeze_dims(const Tensor& t, const DimVec& dims) {
  DimVec sizes, strides;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (std::find(dims.begin(), dims.end(), d) != dims.end()) continue;
    sizes.push_back(t.sizes()[d]);
    strides.push_back(t.strides()[d]);
  }
  return make_view(t, sizes, strides, t.offset());
}

// A 0-dim tensor seen as one element along dim 0, for kernels that walk a dim.
Tensor at_least_1d(const Tensor& t) { return t.dim() ? t : make_view(t, DimVec{1}, DimVec{1}, t.offset()); }

Tensor reduce_kernel(ReduceOp op, const Tensor& a, const DimVec& dims, bool keepdim, ScalarType out_dtype) {
  Tensor out = empty(keepdim_shape(a.sizes(), dims), out_dtype, a.device());
  if (a.numel() == 0) {
    // Only sums, products and any/all reach here with an empty input; max-like ops check first.
    backend_for(a.device()).fill(out, Scalar(int64_t(op == ReduceOp::Prod || op == ReduceOp::All ? 1 : 0)));
  } else if (out.numel() > 0) {
    backend_for(a.device()).reduce(op, out, a, dims);
  }
  return keepdim ? out : squeeze_dims(out, dims);
}

// Reductions of floating inputs to an integral dtype cannot carry gradients, as in PyTorch.
void check_differentiable(const Tensor& out) {
  TG_CHECK(is_floating(out.dtype()), "Autograd not support dtype: ", scalar_type_word(out.dtype()));
}

// The errors PyTorch gives max-like reductions of empty tensors.
void check_nonempty(const Tensor& a, const char* fn) {
  TG_CHECK(a.numel() > 0, fn, "(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
           "reduction dim with the 'dim' argument.");
}
void check_nonempty_dim(const Tensor& a, int64_t wrapped, int64_t shown, const char* fn) {
  TG_CHECK_INDEX(a.dim() == 0 || a.sizes()[wrapped] != 0, fn, "(): Expected reduction dim ", shown,
                 " to have non-zero size.");
}

// A reduction's backward: knows the input's shape and which dims were reduced.
struct ReductionNode : Node {
  DimVec input_sizes, dims;
  bool keepdim = false;
  // `t` (a reduced result or its gradient) with the reduced dims back as size 1.
  Tensor restore(const Tensor& t) const { return keepdim ? t : reshape(t, keepdim_shape(input_sizes, dims)); }
};

template <typename N>
std::shared_ptr<N> reduction_node(const Tensor& a, const DimVec& dims, bool keepdim) {
  auto node = make_node<N>(a);
  node->input_sizes = a.sizes();
  node->dims = dims;
  node->keepdim = keepdim;
  return node;
}

}  // namespace

// ---- sum / mean ----

namespace {

// SumBackward0: sum(x); SumBackward1: sum(x, dim). Likewise for mean.
struct SumBackward : ReductionNode {
  int variant = 1;
  std::string name() const override { return "SumBackward" + std::to_string(variant); }
  TensorList apply(TensorList&& grads) override { return {expand(restore(grads[0]), input_sizes)}; }
};

struct MeanBackward : ReductionNode {
  int variant = 1;
  int64_t count = 1;
  std::string name() const override { return "MeanBackward" + std::to_string(variant); }
  TensorList apply(TensorList&& grads) override {
    return {expand(restore(div(grads[0], inum(count))), input_sizes)};
  }
};

Tensor sum_impl(const Tensor& a, const DimVec& dims, bool keepdim, std::optional<ScalarType> dtype,
                int variant) {
  ScalarType out_dtype = dtype ? *dtype : (is_floating(a.dtype()) ? a.dtype() : ScalarType::Int64);
  // A requested dtype converts the input first (sum([0.5, 0.5], dtype=int64) is 0).
  Tensor out = reduce_kernel(ReduceOp::Sum, cast_for_compute(a, out_dtype), dims, keepdim, out_dtype);
  if (compute_requires_grad(a)) {
    check_differentiable(out);
    auto node = reduction_node<SumBackward>(a, dims, keepdim);
    node->variant = variant;
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& a, const DimVec& dims, bool keepdim, std::optional<ScalarType> dtype) {
  return sum_impl(a, reduction_dims(dims, a.dim()), keepdim, dtype, 1);
}

Tensor sum(const Tensor& a, std::optional<ScalarType> dtype) { return sum_impl(a, all_dims(a), false, dtype, 0); }

// Checked before the dims, as in PyTorch.
static void check_mean_dtype(const Tensor& a, std::optional<ScalarType> dtype) {
  if (dtype)
    TG_CHECK(is_floating(*dtype), "mean(): could not infer output dtype. Optional dtype must be either a floating "
             "point or complex dtype. Got: ", scalar_type_word(*dtype));
  else
    TG_CHECK(is_floating(a.dtype()), "mean(): could not infer output dtype. Input dtype must be either a floating "
             "point or complex dtype. Got: ", scalar_type_word(a.dtype()));
}

static Tensor mean_impl(const Tensor& a, const DimVec& dims, bool keepdim, std::optional<ScalarType> dtype,
                        int variant) {
  ScalarType dt = dtype.value_or(a.dtype());
  int64_t count = reduced_count(a.sizes(), dims);
  Tensor out = reduce_kernel(ReduceOp::Sum, cast_for_compute(a, dt), dims, keepdim, dt);
  backend_for(a.device()).binary(BinaryOp::Div, out, out,
                                 expand_view(scalar_tensor(Scalar(double(count)), dt, a.device()), out.sizes()));
  if (compute_requires_grad(a)) {
    auto node = reduction_node<MeanBackward>(a, dims, keepdim);
    node->variant = variant;
    node->count = count;
    set_history(out, node);
  }
  return out;
}

Tensor mean(const Tensor& a, const DimVec& dims, bool keepdim, std::optional<ScalarType> dtype) {
  check_mean_dtype(a, dtype);
  return mean_impl(a, reduction_dims(dims, a.dim()), keepdim, dtype, 1);
}

Tensor mean(const Tensor& a, std::optional<ScalarType> dtype) {
  check_mean_dtype(a, dtype);
  return mean_impl(a, all_dims(a), false, dtype, 0);
}

Tensor sum_to_size(const Tensor& a, const DimVec& sizes) {
  if (sizes.empty()) return sum(a);  // as ATen's sum_to: a new tensor even when `a` is 0-dim
  if (a.sizes() == sizes) return a;
  int64_t lead = a.dim() - static_cast<int64_t>(sizes.size());
  TG_CHECK(lead >= 0, "size {", shape_str(sizes), "} is not expandable to size {", shape_str(a.sizes()), "}.");
  DimVec dims;
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (d < lead) dims.push_back(d);
    else if (sizes[d - lead] == 1 && a.sizes()[d] != 1) dims.push_back(d);
    else TG_CHECK(sizes[d - lead] == a.sizes()[d], "size {", shape_str(sizes), "} is not expandable to size {",
                  shape_str(a.sizes()), "}.");
  }
  Tensor out = dims.empty() ? a : sum(a, dims, true);
  if (lead == 0) return out;
  return reshape(out, sizes);
}

// ---- prod ----

namespace {

// The product of every other element along `dim`, as running products from both ends: no division,
// so zeros are exact and an infinity meeting a zero gives nan (PyTorch's prod_safe_zeros_backward).
Tensor products_of_others(const Tensor& x, int64_t dim) {
  int64_t n = x.sizes()[dim];
  TensorList before(n), after(n);
  Tensor one = ones_like(narrow(x, dim, 0, 1));
  before[0] = after[n - 1] = one;
  for (int64_t k = 1; k < n; ++k) before[k] = mul(before[k - 1], narrow(x, dim, k - 1, 1));
  for (int64_t k = n - 1; k > 0; --k) after[k - 1] = mul(after[k], narrow(x, dim, k, 1));
  for (int64_t k = 0; k < n; ++k) before[k] = mul(before[k], after[k]);
  return cat(before, dim);
}

// PyTorch's choice of formula, so that nan and inf come out where they do there: result / x while the
// input has no zero at all; else the products of the others (for a full product, zeros past one zero).
struct ProdBackward : ReductionNode {
  SavedTensor self, result;
  int variant = 1;
  std::string name() const override { return "ProdBackward" + std::to_string(variant); }
  TensorList apply(TensorList&& grads) override {
    Tensor x = self.unpack(*this);
    Tensor g = restore(grads[0]);
    if (x.dim() == 0) return {g};
    int64_t zeros = sum(eq(x, inum(0))).item().to_int();
    if (zeros == 0) return {mul(g, div(restore(result.unpack(*this)), x))};
    if (variant == 1) return {mul(g, products_of_others(x, dims[0]))};
    if (zeros > 1) return {zeros_like(x)};
    return {mul(g, reshape(products_of_others(reshape(x, DimVec{x.numel()}), 0), x.sizes()))};
  }
  void release_saved() override { self.reset(); result.reset(); }
};

Tensor prod_impl(const Tensor& a, const DimVec& dims, bool keepdim, std::optional<ScalarType> dtype,
                 int variant) {
  ScalarType out_dtype = dtype ? *dtype : (is_floating(a.dtype()) ? a.dtype() : ScalarType::Int64);
  Tensor out = reduce_kernel(ReduceOp::Prod, cast_for_compute(a, out_dtype), dims, keepdim, out_dtype);
  if (compute_requires_grad(a)) {
    check_differentiable(out);
    auto node = reduction_node<ProdBackward>(a, dims, keepdim);
    node->variant = variant;
    node->self = SavedTensor(a, false);
    node->result = SavedTensor(out, true);
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor prod(const Tensor& a, std::optional<ScalarType> dtype) { return prod_impl(a, all_dims(a), false, dtype, 0); }

Tensor prod(const Tensor& a, int64_t dim, bool keepdim, std::optional<ScalarType> dtype) {
  return prod_impl(a, reduction_dims(DimVec{dim}, a.dim()), keepdim, dtype, 1);
}

// ---- max / min over everything ----

namespace {

// Ties share the gradient evenly; a NaN result sends it to the NaNs.
struct MaxMinAllBackward : Node {
  SavedTensor self, result;
  bool is_max = true;
  std::string name() const override { return is_max ? "MaxBackward1" : "MinBackward1"; }
  TensorList apply(TensorList&& grads) override {
    Tensor x = self.unpack(*this), v = result.unpack(*this);
    Tensor mask = logical_or(eq(x, v), logical_and(ne(x, x), ne(v, v)));
    return {where(mask, div(grads[0], sum(mask)), num(0.0))};
  }
  void release_saved() override { self.reset(); result.reset(); }
};

Tensor max_min_all(const Tensor& a, bool is_max) {
  check_nonempty(a, is_max ? "max" : "min");
  Tensor out = reduce_kernel(is_max ? ReduceOp::Max : ReduceOp::Min, a, all_dims(a), false, a.dtype());
  if (compute_requires_grad(a)) {
    auto node = make_node<MaxMinAllBackward>(a);
    node->is_max = is_max;
    node->self = SavedTensor(a, false);
    node->result = SavedTensor(out, true);
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor max(const Tensor& a) { return max_min_all(a, true); }
Tensor min(const Tensor& a) { return max_min_all(a, false); }

// ---- max / min / argmax / argmin along one dim ----

namespace {

// The gradient goes to the selected index of each row.
struct MaxMinDimBackward : Node {
  SavedTensor indices;
  DimVec input_sizes;
  int64_t dim = 0;
  bool keepdim = false;
  bool is_max = true;
  std::string name() const override { return is_max ? "MaxBackward0" : "MinBackward0"; }
  TensorList apply(TensorList&& grads) override {
    if (input_sizes.empty()) return {grads[0]};  // a 0-dim input is its own maximum
    DimVec kept = input_sizes;
    kept[dim] = 1;
    Tensor g = keepdim ? grads[0] : reshape(grads[0], kept);
    Tensor idx = indices.unpack(*this);
    if (!keepdim) idx = reshape(idx, kept);
    DimVec position_shape(input_sizes.size(), 1);
    position_shape[dim] = input_sizes[dim];
    Tensor positions = reshape(arange(Scalar(int64_t(0)), Scalar(input_sizes[dim]), Scalar(int64_t(1)),
                                      ScalarType::Int64, g.device()), position_shape);
    return {where(eq(positions, idx), g, num(0.0))};
  }
  void release_saved() override { indices.reset(); }
};

// Values and indices of the max/min along `dim`, without autograd.
std::pair<Tensor, Tensor> arg_reduce_kernel(ArgReduceOp op, const Tensor& a, int64_t dim, bool keepdim,
                                            const char* fn) {
  int64_t d = wrap_dim(dim, a.dim());
  check_nonempty_dim(a, d, d, fn);
  Tensor x = at_least_1d(a);
  DimVec shape = x.sizes();
  shape[d] = 1;
  Tensor values = empty(shape, a.dtype(), a.device());
  Tensor indices = empty(shape, ScalarType::Int64, a.device());
  if (values.numel() > 0) backend_for(a.device()).arg_reduce(op, values, indices, x, d);
  if (keepdim && a.dim() > 0) return {values, indices};
  return {squeeze_dims(values, DimVec{d}), squeeze_dims(indices, DimVec{d})};
}

std::pair<Tensor, Tensor> max_min_dim(const Tensor& a, int64_t dim, bool keepdim, bool is_max) {
  auto [values, indices] =
      arg_reduce_kernel(is_max ? ArgReduceOp::Max : ArgReduceOp::Min, a, dim, keepdim, is_max ? "max" : "min");
  if (compute_requires_grad(a)) {
    auto node = make_node<MaxMinDimBackward>(a);
    node->is_max = is_max;
    node->indices = SavedTensor(indices, false);
    node->input_sizes = a.sizes();
    node->dim = a.dim() ? wrap_dim(dim, a.dim()) : 0;
    node->keepdim = keepdim;
    set_history(values, node);
  }
  return {values, indices};
}

}  // namespace

std::pair<Tensor, Tensor> max(const Tensor& a, int64_t dim, bool keepdim) { return max_min_dim(a, dim, keepdim, true); }
std::pair<Tensor, Tensor> min(const Tensor& a, int64_t dim, bool keepdim) { return max_min_dim(a, dim, keepdim, false); }

namespace {

Tensor arg_extreme(const Tensor& a, std::optional<int64_t> dim, bool keepdim, bool is_max) {
  const char* fn = is_max ? "argmax" : "argmin";
  ArgReduceOp op = is_max ? ArgReduceOp::Max : ArgReduceOp::Min;
  TG_CHECK(a.dtype() != ScalarType::Bool, fn, "(): does not support bool input");
  if (dim) return arg_reduce_kernel(op, a, *dim, keepdim, fn).second;
  // No dim: the index into the flattened input.
  TG_CHECK_INDEX(a.numel() > 0, fn, "(): Expected reduction dim to be specified for input.numel() == 0.");
  AutoGradMode no_grad(false);
  Tensor flat = reshape(a, DimVec{-1});
  Tensor index = arg_reduce_kernel(op, flat, 0, false, fn).second;
  if (!keepdim) return index;
  DimVec ones(a.dim(), 1);
  return make_view(index, ones, contiguous_strides(ones), index.offset());
}

}  // namespace

Tensor argmax(const Tensor& a, std::optional<int64_t> dim, bool keepdim) { return arg_extreme(a, dim, keepdim, true); }
Tensor argmin(const Tensor& a, std::optional<int64_t> dim, bool keepdim) { return arg_extreme(a, dim, keepdim, false); }

// ---- amax / amin ----

namespace {

// Ties along the reduced dims share the gradient evenly.
struct AmaxAminBackward : ReductionNode {
  SavedTensor self, result;
  bool is_max = true;
  std::string name() const override { return is_max ? "AmaxBackward0" : "AminBackward0"; }
  TensorList apply(TensorList&& grads) override {
    Tensor mask = eq(self.unpack(*this), restore(result.unpack(*this)));
    return {mul(div(restore(grads[0]), sum(mask, dims, true)), mask)};
  }
  void release_saved() override { self.reset(); result.reset(); }
};

Tensor amax_amin(const Tensor& a, const DimVec& dims_in, bool keepdim, bool is_max) {
  const char* fn = is_max ? "amax" : "amin";
  DimVec dims = reduction_dims(dims_in, a.dim());
  if (a.numel() == 0) {
    if (dims_in.empty()) check_nonempty(a, fn);
    for (int64_t d : dims_in) check_nonempty_dim(a, wrap_dim(d, a.dim()), d, fn);
  }
  Tensor out = reduce_kernel(is_max ? ReduceOp::Max : ReduceOp::Min, a, dims, keepdim, a.dtype());
  if (compute_requires_grad(a)) {
    auto node = reduction_node<AmaxAminBackward>(a, dims, keepdim);
    node->is_max = is_max;
    node->self = SavedTensor(a, false);
    node->result = SavedTensor(out, true);
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor amax(const Tensor& a, const DimVec& dims, bool keepdim) { return amax_amin(a, dims, keepdim, true); }
Tensor amin(const Tensor& a, const DimVec& dims, bool keepdim) { return amax_amin(a, dims, keepdim, false); }

// ---- var / std ----

namespace {

// d var / dx = 2 (x - mean) / (N - correction); std scales that by 1 / (2 std), and by 0 where std is 0.
// As PyTorch, a reduction over all elements (no dim given) with N <= correction gives NaN where x is
// the mean and inf elsewhere.
struct VarStdBackward : ReductionNode {
  SavedTensor self, result;
  double correction = 1;
  bool is_std = false;
  bool all_elements = false;
  std::string name() const override { return is_std ? "StdBackward0" : "VarBackward0"; }
  TensorList apply(TensorList&& grads) override {
    Tensor x = self.unpack(*this);
    Tensor g = restore(grads[0]);
    if (is_std) {
      Tensor r = restore(result.unpack(*this));
      g = where(eq(r, inum(0)), num(0.0), div(g, mul(r, inum(2))));
    }
    double dof = double(reduced_count(input_sizes, dims)) - correction;
    Tensor centered = sub(x, mean(x, dims, true));
    if (all_elements && dof <= 0)
      return {mul(g, where(eq(centered, inum(0)), num(std::nan("")), num(INFINITY)))};
    return {mul(mul(num(2.0 / dof), g), centered)};
  }
  void release_saved() override { self.reset(); result.reset(); }
};

Tensor var_std(const Tensor& a, const std::optional<DimVec>& dims_in, double correction, bool keepdim,
               bool is_std) {
  TG_CHECK(is_floating(a.dtype()), "std and var only support floating point and complex dtypes");
  DimVec dims = reduction_dims(dims_in.value_or(DimVec()), a.dim());
  // A non-positive number of degrees of freedom divides by zero, giving inf or nan as in PyTorch.
  double dof = std::max(0.0, double(reduced_count(a.sizes(), dims)) - correction);
  Tensor out;
  {
    AutoGradMode no_grad(false);
    // The mean, corrected by the mean residual: exact for constant data, whose variance is then exactly
    // 0 (as with PyTorch's Welford kernel), so std's gradient there is 0, not noise over a tiny std.
    Tensor m = mean(a, dims, true);
    m = add(m, mean(sub(a, m), dims, true));
    Tensor centered = sub(a, m);
    out = div(sum(mul(centered, centered), dims, keepdim), num(dof));
    if (is_std) out = sqrt(out);
  }
  if (compute_requires_grad(a)) {
    auto node = reduction_node<VarStdBackward>(a, dims, keepdim);
    node->is_std = is_std;
    node->all_elements = !dims_in || a.dim() == 0;
    node->correction = correction;
    node->self = SavedTensor(a, false);
    if (is_std) node->result = SavedTensor(out, true);
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor var(const Tensor& a, const std::optional<DimVec>& dims, double correction, bool keepdim) {
  return var_std(a, dims, correction, keepdim, false);
}
Tensor std(const Tensor& a, const std::optional<DimVec>& dims, double correction, bool keepdim) {
  return var_std(a, dims, correction, keepdim, true);
}

// ---- logsumexp ----

namespace {

struct LogsumexpBackward0 : ReductionNode {
  SavedTensor self, result;
  std::string name() const override { return "LogsumexpBackward0"; }
  TensorList apply(TensorList&& grads) override {
    return {mul(restore(grads[0]), exp(sub(self.unpack(*this), restore(result.unpack(*this)))))};
  }
  void release_saved() override { self.reset(); result.reset(); }
};

}  // namespace

Tensor logsumexp(const Tensor& a, const DimVec& dims_in, bool keepdim) {
  DimVec dims = reduction_dims(dims_in, a.dim());
  Tensor x = cast_for_compute(a, float_result_type(a.dtype()));
  Tensor out;
  {
    AutoGradMode no_grad(false);
    // Shifting by the maximum keeps exp() in range; an infinite maximum is not subtracted (inf - inf is nan).
    Tensor shift = x.numel() == 0 ? zeros(keepdim_shape(x.sizes(), dims), x.dtype(), x.device())
                                  : amax(x, dims, true);
    shift = where(eq(abs(shift), num(std::numeric_limits<double>::infinity())), num(0.0), shift);
    out = add(log(sum(exp(sub(x, shift)), dims, true)), shift);
    if (!keepdim) out = squeeze_dims(out, dims);
  }
  if (compute_requires_grad(a)) {
    auto node = reduction_node<LogsumexpBackward0>(a, dims, keepdim);
    node->self = SavedTensor(a, false);
    node->result = SavedTensor(out, true);
    set_history(out, node);
  }
  return out;
}

// ---- softmax / log_softmax ----

namespace {

struct SoftmaxBackward : Node {
  SavedTensor result;
  int64_t dim = 0;
  bool log = false;
  std::string name() const override { return log ? "LogSoftmaxBackward0" : "SoftmaxBackward0"; }
  TensorList apply(TensorList&& grads) override {
    Tensor y = result.unpack(*this);
    Tensor g = cast_for_compute(grads[0], y.dtype());
    if (GradMode::is_enabled()) {
      // create_graph: the same formula written with differentiable ops.
      DimVec d{dim};
      if (log) return {sub(g, mul(exp(y), sum(g, d, true)))};
      return {mul(y, sub(g, sum(mul(g, y), d, true)))};
    }
    Tensor grad_in = empty(y.sizes(), y.dtype(), y.device());
    backend_for(y.device()).softmax_backward(at_least_1d(grad_in), at_least_1d(g), at_least_1d(y), dim, log);
    return {grad_in};
  }
  void release_saved() override { result.reset(); }
};

Tensor softmax_impl(const Tensor& a, int64_t dim, std::optional<ScalarType> dtype, bool log) {
  Tensor x = dtype ? to_dtype(a, *dtype) : a;
  int64_t d = wrap_dim(dim, x.dim());
  if (!is_floating(x.dtype()))
    throw NotImplementedError(str_cat("\"", log ? "log_softmax" : "softmax", d >= x.dim() - 1 ? "_lastdim" : "",
                                      "_kernel_impl\" not implemented for '", scalar_type_word(x.dtype()), "'"));
  Tensor out = empty(x.sizes(), x.dtype(), x.device());
  backend_for(x.device()).softmax(at_least_1d(out), at_least_1d(x), d, log);
  if (compute_requires_grad(x)) {
    auto node = make_node<SoftmaxBackward>(x);
    node->dim = d;
    node->log = log;
    node->result = SavedTensor(out, true);
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor softmax(const Tensor& a, int64_t dim, std::optional<ScalarType> dtype) {
  return softmax_impl(a, dim, dtype, false);
}
Tensor log_softmax(const Tensor& a, int64_t dim, std::optional<ScalarType> dtype) {
  return softmax_impl(a, dim, dtype, true);
}

// ---- any / all ----

Tensor any(const Tensor& a) { return reduce_kernel(ReduceOp::Any, a, all_dims(a), false, ScalarType::Bool); }
Tensor all(const Tensor& a) { return reduce_kernel(ReduceOp::All, a, all_dims(a), false, ScalarType::Bool); }
Tensor any(const Tensor& a, const DimVec& dims, bool keepdim) {
  return reduce_kernel(ReduceOp::Any, a, reduction_dims(dims, a.dim()), keepdim, ScalarType::Bool);
}
Tensor all(const Tensor& a, const DimVec& dims, bool keepdim) {
  return reduce_kernel(ReduceOp::All, a, reduction_dims(dims, a.dim()), keepdim, ScalarType::Bool);
}

// ---- comparisons of whole tensors ----

bool equal(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  AutoGradMode no_grad(false);
  return all(eq(a, b)).item().to<bool>();
}

Tensor isclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  TG_CHECK(a.dtype() == b.dtype(), scalar_type_word(a.dtype()), " did not match ", scalar_type_word(b.dtype()));
  TG_CHECK(rtol >= 0, "rtol must be greater than or equal to zero, but got ", rtol);
  TG_CHECK(atol >= 0, "atol must be greater than or equal to zero, but got ", atol);
  AutoGradMode no_grad(false);
  Tensor close = eq(a, b);
  if (equal_nan && is_floating(a.dtype())) close = logical_or(close, logical_and(ne(a, a), ne(b, b)));
  if (rtol == 0 && atol == 0) return close;
  ScalarType dt = a.dtype() == ScalarType::Bool ? default_dtype() : a.dtype();
  Tensor x = cast_for_compute(a, dt), y = cast_for_compute(b, dt);
  Tensor allowed = add(num(atol), abs(mul(num(rtol), y)));
  Tensor actual = abs(sub(x, y));
  // actual - actual is 0 exactly when actual is finite.
  Tensor finite = eq(sub(actual, actual), inum(0));
  return logical_or(close, logical_and(finite, le(actual, allowed)));
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  return all(isclose(a, b, rtol, atol, equal_nan)).item().to<bool>();
}

// ---- vector norms ----

namespace {

struct LinalgVectorNormBackward0 : ReductionNode {
  SavedTensor self, result;
  double p = 2;
  std::string name() const override { return "LinalgVectorNormBackward0"; }
  TensorList apply(TensorList&& grads) override {
    Tensor x = self.unpack(*this);
    Tensor g = restore(grads[0]), r = restore(result.unpack(*this));
    if (p == 0) return {zeros_like(x)};
    if (std::isinf(p)) {
      // As amax/amin of |x|: ties share the gradient.
      Tensor mask = eq(abs(x), r);
      return {mul(sign(x), mul(div(g, sum(mask, dims, true)), mask))};
    }
    if (p == 1) return {mul(sign(x), g)};
    if (p == 2) return {where(eq(r, inum(0)), num(0.0), mul(x, div(g, r)))};
    // d|x|_p / dx = sign(x) |x|^(p-1) / |x|_p^(p-1), taken as 0 at x = 0 and where the norm is 0.
    Tensor d = div(mul(sign(x), pow(abs(x), num(p - 1))), pow(r, num(p - 1)));
    return {where(logical_or(eq(x, inum(0)), eq(r, inum(0))), num(0.0), mul(g, d))};
  }
  void release_saved() override { self.reset(); result.reset(); }
};

}  // namespace

Tensor norm(const Tensor& a, double p, const std::optional<DimVec>& dims_in, bool keepdim,
            std::optional<ScalarType> dtype) {
  TG_CHECK(is_floating(a.dtype()), "linalg.vector_norm: Expected a floating point or complex tensor as input. Got ",
           scalar_type_word(a.dtype()));
  Tensor x = dtype ? to_dtype(a, *dtype) : a;
  DimVec dims = reduction_dims(dims_in.value_or(DimVec()), x.dim());
  Tensor out;
  {
    AutoGradMode no_grad(false);
    Tensor ax = abs(x);
    if (p == std::numeric_limits<double>::infinity()) out = amax(ax, dims, keepdim);
    else if (p == -std::numeric_limits<double>::infinity()) out = amin(ax, dims, keepdim);
    else if (p == 0) out = sum(ne(x, inum(0)), dims, keepdim, x.dtype());
    else if (p == 1) out = sum(ax, dims, keepdim);
    else if (p == 2) out = sqrt(sum(mul(x, x), dims, keepdim));
    else out = pow(sum(pow(ax, num(p)), dims, keepdim), num(1.0 / p));
  }
  if (compute_requires_grad(x)) {
    auto node = reduction_node<LinalgVectorNormBackward0>(x, dims, keepdim);
    node->p = p;
    node->self = SavedTensor(x, false);
    node->result = SavedTensor(out, true);
    set_history(out, node);
  }
  return out;
}

}  // namespace tg::ops
