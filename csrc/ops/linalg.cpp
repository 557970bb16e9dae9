// Matrix products: forward and backward side by side. All of them reach BLAS through the
// backend's bmm, which takes transposed operands as flags rather than copies.
#include "autograd/node.h"
#include "ops/elementwise_util.h"
#include "ops/ops.h"

namespace tg::ops {

namespace {

const char* blas_type_name(ScalarType t) {
  switch (t) {
    case ScalarType::Float32: return "float";
    case ScalarType::Float64: return "double";
    case ScalarType::Int64: return "long int";
    default: return "bool";
  }
}

void check_same_dtype(const Tensor& a, const Tensor& b) {
  TG_CHECK(a.dtype() == b.dtype(), "expected m1 and m2 to have the same dtype, but got: ", blas_type_name(a.dtype()),
           " != ", blas_type_name(b.dtype()));
  common_device(a, b);
}

// out[B,M,N] = a[B,M,K] @ b[B,K,N] with no autograd.
Tensor bmm_kernel(const Tensor& a, const Tensor& b) {
  Tensor out = empty(DimVec{a.sizes()[0], a.sizes()[1], b.sizes()[2]}, a.dtype(), a.device());
  backend_for(a.device()).bmm(out, a, b);
  return out;
}

Tensor as_batch(const Tensor& t) {
  return make_view(t, DimVec{1, t.sizes()[0], t.sizes()[1]}, DimVec{0, t.strides()[0], t.strides()[1]}, t.offset());
}

}  // namespace

struct MmBackward0 : Node {
  SavedTensor self, mat2;
  std::string name() const override { return "MmBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    return {needs_input_grad(0) ? mm(g, t(mat2.unpack(*this))) : Tensor(),
            needs_input_grad(1) ? mm(t(self.unpack(*this)), g) : Tensor()};
  }
  void release_saved() override { self.reset(); mat2.reset(); }
};

Tensor mm(const Tensor& a, const Tensor& b) {
  TG_CHECK(a.dim() == 2, "self must be a matrix");
  TG_CHECK(b.dim() == 2, "mat2 must be a matrix");
  TG_CHECK(a.sizes()[1] == b.sizes()[0], "mat1 and mat2 shapes cannot be multiplied (", a.sizes()[0], "x",
           a.sizes()[1], " and ", b.sizes()[0], "x", b.sizes()[1], ")");
  check_same_dtype(a, b);
  Tensor out3 = bmm_kernel(as_batch(a), as_batch(b));
  Tensor out = make_view(out3, DimVec{a.sizes()[0], b.sizes()[1]}, DimVec{b.sizes()[1], 1}, 0);
  if (compute_requires_grad(a, b)) {
    auto node = make_node<MmBackward0>(a, b);
    if (node->needs_input_grad(1)) node->self = SavedTensor(a, false);
    if (node->needs_input_grad(0)) node->mat2 = SavedTensor(b, false);
    set_history(out, node);
  }
  return out;
}

struct BmmBackward0 : Node {
  SavedTensor self, mat2;
  std::string name() const override { return "BmmBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    return {needs_input_grad(0) ? bmm(g, transpose(mat2.unpack(*this), 1, 2)) : Tensor(),
            needs_input_grad(1) ? bmm(transpose(self.unpack(*this), 1, 2), g) : Tensor()};
  }
  void release_saved() override { self.reset(); mat2.reset(); }
};

Tensor bmm(const Tensor& a, const Tensor& b) {
  TG_CHECK(a.dim() == 3, "batch1 must be a 3D tensor");
  TG_CHECK(b.dim() == 3, "batch2 must be a 3D tensor");
  TG_CHECK(a.sizes()[0] == b.sizes()[0] && a.sizes()[2] == b.sizes()[1], "Expected size for first two dimensions of batch2 tensor to be: [",
           a.sizes()[0], ", ", a.sizes()[2], "] but got: [", b.sizes()[0], ", ", b.sizes()[1], "].");
  check_same_dtype(a, b);
  Tensor out = bmm_kernel(a, b);
  if (compute_requires_grad(a, b)) {
    auto node = make_node<BmmBackward0>(a, b);
    if (node->needs_input_grad(1)) node->self = SavedTensor(a, false);
    if (node->needs_input_grad(0)) node->mat2 = SavedTensor(b, false);
    set_history(out, node);
  }
  return out;
}

struct DotBackward0 : Node {
  SavedTensor self, other;
  std::string name() const override { return "DotBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    return {needs_input_grad(0) ? mul(g, other.unpack(*this)) : Tensor(),
            needs_input_grad(1) ? mul(g, self.unpack(*this)) : Tensor()};
  }
  void release_saved() override { self.reset(); other.reset(); }
};

static Tensor dot(const Tensor& a, const Tensor& b) {
  TG_CHECK(a.numel() == b.numel(), "inconsistent tensor size, expected tensor [", a.numel(), "] and src [", b.numel(),
           "] to have the same number of elements, but got ", a.numel(), " and ", b.numel(), " elements respectively");
  check_same_dtype(a, b);
  Tensor lhs = make_view(a, DimVec{1, 1, a.numel()}, DimVec{0, 0, a.strides()[0]}, a.offset());
  Tensor rhs = make_view(b, DimVec{1, b.numel(), 1}, DimVec{0, b.strides()[0], 0}, b.offset());
  Tensor out3 = bmm_kernel(lhs, rhs);
  Tensor out = make_view(out3, DimVec(), DimVec(), 0);
  if (compute_requires_grad(a, b)) {
    auto node = make_node<DotBackward0>(a, b);
    node->self = SavedTensor(a, false);
    node->other = SavedTensor(b, false);
    set_history(out, node);
  }
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  TG_CHECK(a.dim() > 0 && b.dim() > 0, "both arguments to matmul need to be at least 1D, but they are ", a.dim(),
           "D and ", b.dim(), "D");
  if (a.dim() == 1 && b.dim() == 1) return dot(a, b);
  if (a.dim() == 2 && b.dim() == 2) return mm(a, b);
  if (a.dim() == 2 && b.dim() == 1) {
    TG_CHECK(a.sizes()[1] == b.sizes()[0], "size mismatch, got input (", a.sizes()[0], "), mat (", a.sizes()[0], "x",
             a.sizes()[1], "), vec (", b.sizes()[0], ")");
    return squeeze(mm(a, unsqueeze(b, 1)), 1);
  }
  if (a.dim() == 1 && b.dim() == 2) {
    TG_CHECK(a.sizes()[0] == b.sizes()[0], "mat1 and mat2 shapes cannot be multiplied (1x", a.sizes()[0], " and ",
             b.sizes()[0], "x", b.sizes()[1], ")");
    return squeeze(mm(unsqueeze(a, 0), b), 0);
  }
  // Batched: vectors become matrices, batch dims broadcast, and the product runs as one bmm.
  Tensor x = a.dim() == 1 ? unsqueeze(a, 0) : a;
  Tensor y = b.dim() == 1 ? unsqueeze(b, 1) : b;
  int64_t m = x.sizes()[x.dim() - 2], k = x.sizes()[x.dim() - 1];
  int64_t k2 = y.sizes()[y.dim() - 2], n = y.sizes()[y.dim() - 1];
  TG_CHECK(k == k2, "Expected size for first two dimensions of batch2 tensor to be: [", numel_of(DimVec(x.sizes().begin(), x.sizes().end() - 2)),
           ", ", k, "] but got: [", numel_of(DimVec(y.sizes().begin(), y.sizes().end() - 2)), ", ", k2, "].");
  DimVec xb(x.sizes().begin(), x.sizes().end() - 2), yb(y.sizes().begin(), y.sizes().end() - 2);
  DimVec batch = broadcast_shapes(xb, yb);
  int64_t bn = numel_of(batch);
  DimVec xs = batch, ys = batch;
  xs.push_back(m); xs.push_back(k);
  ys.push_back(k); ys.push_back(n);
  Tensor x3 = reshape(expand(x, xs), DimVec{bn, m, k});
  Tensor y3 = reshape(expand(y, ys), DimVec{bn, k, n});
  Tensor out = bmm(x3, y3);
  DimVec out_shape = batch;
  if (a.dim() > 1) out_shape.push_back(m);
  if (b.dim() > 1) out_shape.push_back(n);
  return reshape(out, out_shape);
}

}  // namespace tg::ops
