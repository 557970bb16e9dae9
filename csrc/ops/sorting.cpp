// Ops along one dim: cumsum, sort, argsort and topk. The kernels (cpu/sort.cpp) read a contiguous input.
#include "ops/elementwise_util.h"
#include "ops/ops.h"
#include "ops/record.h"

namespace tg::ops {

// ---- cumsum ----

struct CumsumBackward0 : Node {
  int64_t dim = 0;
  std::string name() const override { return "CumsumBackward0"; }
  // Each input element feeds every later output: the gradient is the reversed running sum.
  TensorList apply(TensorList&& grads) override {
    return {flip(cumsum(flip(grads[0], DimVec{dim}), dim), DimVec{dim})};
  }
};

Tensor cumsum(const Tensor& x, int64_t dim, std::optional<ScalarType> dtype) {
  int64_t d = wrap_dim(dim, x.dim());
  ScalarType out_dtype = dtype ? *dtype : (is_floating(x.dtype()) ? x.dtype() : ScalarType::Int64);
  auto forward = [&] {
    Tensor out = empty(x.sizes(), out_dtype, x.device());
    backend_for(x.device()).cumsum(out, contiguous(cast_for_compute(x, out_dtype)), d);
    return out;
  };
  if (!is_floating(out_dtype)) return forward();
  return record_as<CumsumBackward0>(x, forward, [&](CumsumBackward0& node) { node.dim = d; });
}

// ---- sort / topk ----

// The gradient of values picked out of x along dim: each lands back where its index says.
struct SelectedValuesBackward : Node {
  const char* op_name = "";
  int64_t dim = 0;
  DimVec input_sizes;
  SavedTensor indices;
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    if (input_sizes.empty()) return {reshape(g, input_sizes)};
    return {scatter(zeros(input_sizes, g.dtype(), g.device()), dim, indices.unpack(*this), g)};
  }
  void release_saved() override { indices.reset(); }
};

namespace {

std::pair<Tensor, Tensor> sorted_prefix(const Tensor& x, int64_t dim, int64_t k, bool descending,
                                        const char* node_name) {
  DimVec out_sizes = x.sizes();
  if (x.dim() > 0) out_sizes[dim] = k;
  Tensor indices = empty(out_sizes, ScalarType::Int64, x.device());
  Tensor values = record_as<SelectedValuesBackward>(x, [&] {
    Tensor out = empty(out_sizes, x.dtype(), x.device());
    backend_for(x.device()).sort(out, indices, contiguous(x), dim, k, descending);
    return out;
  }, [&](SelectedValuesBackward& node) {
    node.op_name = node_name;
    node.dim = dim;
    node.input_sizes = x.sizes();
    node.indices = SavedTensor(indices, false);
  });
  return {values, indices};
}

int64_t dim_size(const Tensor& x, int64_t dim) { return x.dim() == 0 ? 1 : x.sizes()[dim]; }

}  // namespace

std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending, bool stable_overload) {
  int64_t d = wrap_dim(dim, x.dim());
  return sorted_prefix(x, d, dim_size(x, d), descending, stable_overload ? "SortBackward1" : "SortBackward0");
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  AutoGradMode no_grad(false);
  return sort(x, dim, descending).second;
}

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest) {
  int64_t d = wrap_dim(dim, x.dim());
  TG_CHECK(k >= 0 && k <= dim_size(x, d), "selected index k out of range");
  return sorted_prefix(x, d, k, largest, "TopkBackward0");
}

}  // namespace tg::ops
