// Reductions: forward and backward side by side.
#include "autograd/node.h"
#include "core/dispatch.h"
#include "ops/elementwise_util.h"
#include "ops/ops.h"

namespace tg::ops {

namespace {

// Normalised, deduplicated dims; an empty list means every dim (PyTorch's dim=None / dim=[]).
DimVec reduction_dims(const DimVec& dims, int64_t ndim) {
  DimVec out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  bool seen[64] = {false};
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, ndim);
    if (ndim == 0) continue;
    TG_CHECK(!seen[w], "dim ", w, " appears multiple times in the list of dims");
    seen[w] = true;
    out.push_back(w);
  }
  return out;
}

DimVec keepdim_shape(const DimVec& sizes, const DimVec& dims) {
  DimVec out = sizes;
  for (int64_t d : dims) out[d] = 1;
  return out;
}

// Drops the reduced dims from a keepdim-shaped tensor (a view, no copy).
Tensor squeeze_dims(const Tensor& t, const DimVec& dims) {
  DimVec sizes, strides;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (std::find(dims.begin(), dims.end(), d) != dims.end()) continue;
    sizes.push_back(t.sizes()[d]);
    strides.push_back(t.strides()[d]);
  }
  return make_view(t, sizes, strides, t.offset());
}

// Re-inserts reduced dims (size 1) so a reduced gradient broadcasts against the input.
Tensor unsqueeze_dims(const Tensor& t, const DimVec& input_sizes, const DimVec& dims, bool keepdim) {
  if (keepdim) return t;
  DimVec shape = keepdim_shape(input_sizes, dims);
  return make_view(t, shape, contiguous_strides(shape), t.offset());
}

Tensor reduce_kernel(ReduceOp op, const Tensor& a, const DimVec& dims, bool keepdim, ScalarType out_dtype) {
  DimVec shape = keepdim_shape(a.sizes(), dims);
  Tensor out = empty(shape, out_dtype, a.device());
  if (a.numel() == 0 || out.numel() == 0) {
    backend_for(a.device()).fill(out, Scalar(int64_t(op == ReduceOp::Prod || op == ReduceOp::All ? 1 : 0)));
  } else {
    backend_for(a.device()).reduce(op, out, a, dims);
  }
  return keepdim ? out : squeeze_dims(out, dims);
}

}  // namespace

// ---- sum / mean ----

struct SumBackward : Node {
  DimVec input_sizes, dims;
  bool keepdim = false;
  bool all_dims = true;
  std::string name() const override { return all_dims ? "SumBackward0" : "SumBackward1"; }
  TensorList apply(TensorList&& grads) override {
    Tensor g = contiguous(grads[0]);
    return {expand(unsqueeze_dims(g, input_sizes, dims, keepdim), input_sizes)};
  }
};

struct MeanBackward : Node {
  DimVec input_sizes, dims;
  bool keepdim = false;
  bool all_dims = true;
  int64_t count = 1;
  std::string name() const override { return all_dims ? "MeanBackward0" : "MeanBackward1"; }
  TensorList apply(TensorList&& grads) override {
    Tensor g = div(contiguous(grads[0]), wrapped_scalar(Scalar(count)));
    return {expand(unsqueeze_dims(g, input_sizes, dims, keepdim), input_sizes)};
  }
};

static ScalarType sum_dtype(const Tensor& a, std::optional<ScalarType> dtype) {
  if (dtype) return *dtype;
  return is_floating(a.dtype()) ? a.dtype() : ScalarType::Int64;  // bools and ints sum as int64
}

template <typename N>
static void record_reduction(const Tensor& out, const Tensor& a, const DimVec& dims, bool keepdim, bool all_dims,
                             N* hint = nullptr) {
  auto node = make_node<N>(a);
  node->input_sizes = a.sizes();
  node->dims = dims;
  node->keepdim = keepdim;
  node->all_dims = all_dims;
  if constexpr (std::is_same_v<N, MeanBackward>) {
    int64_t count = 1;
    for (int64_t d : dims) count *= a.sizes()[d];
    node->count = count;
  }
  set_history(out, node);
}

Tensor sum(const Tensor& a, const DimVec& dims_in, bool keepdim, std::optional<ScalarType> dtype) {
  DimVec dims = reduction_dims(dims_in, a.dim());
  Tensor out = reduce_kernel(ReduceOp::Sum, a, dims, keepdim, sum_dtype(a, dtype));
  if (compute_requires_grad(a)) record_reduction<SumBackward>(out, a, dims, keepdim, false);
  return out;
}

Tensor sum(const Tensor& a, std::optional<ScalarType> dtype) {
  DimVec dims = reduction_dims(DimVec(), a.dim());
  Tensor out = reduce_kernel(ReduceOp::Sum, a, dims, false, sum_dtype(a, dtype));
  if (compute_requires_grad(a)) record_reduction<SumBackward>(out, a, dims, false, true);
  return out;
}

static void check_mean_dtype(const Tensor& a) {
  if (!is_floating(a.dtype()))
    throw Error(str_cat("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                        "complex dtype. Got: ", a.dtype() == ScalarType::Int64 ? "Long" : "Bool"));
}

Tensor mean(const Tensor& a, const DimVec& dims_in, bool keepdim) {
  check_mean_dtype(a);
  DimVec dims = reduction_dims(dims_in, a.dim());
  int64_t count = 1;
  for (int64_t d : dims) count *= a.sizes()[d];
  Tensor total = reduce_kernel(ReduceOp::Sum, a, dims, keepdim, a.dtype());
  Tensor out = empty(total.sizes(), a.dtype(), a.device());
  backend_for(a.device()).binary(BinaryOp::Div, out, total,
                                 expand_view(scalar_tensor(Scalar(double(count)), a.dtype(), a.device()), total.sizes()));
  if (compute_requires_grad(a)) record_reduction<MeanBackward>(out, a, dims, keepdim, false);
  return out;
}

Tensor mean(const Tensor& a) {
  Tensor out = mean(a, DimVec(), false);
  if (out.grad_fn()) static_cast<MeanBackward*>(out.grad_fn().get())->all_dims = true;
  return out;
}

Tensor sum_to_size(const Tensor& a, const DimVec& sizes) {
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

}  // namespace tg::ops
