// Matrix products: forward and backward side by side. All of them reach BLAS through the
// backend's bmm, which takes transposed operands as flags rather than copies.
#include "autograd/node.h"
#include "ops/elementwise_util.h"
#include "ops/ops.h"

namespace tg::ops {

namespace {

// PyTorch's CPU kernels refuse bool operands, each under its own name.
void check_not_bool(const Tensor& a, const char* kernel) {
  if (a.dtype() == ScalarType::Bool) throw NotImplementedError(str_cat("\"", kernel, "\" not implemented for 'Bool'"));
}

// out[B,M,N] = a[B,M,K] @ b[B,K,N] with no autograd.
Tensor bmm_kernel(const Tensor& a, const Tensor& b) {
  Tensor out = empty(DimVec{a.sizes()[0], a.sizes()[1], b.sizes()[2]}, a.dtype(), a.device());
  backend_for(a.device()).bmm(out, a, b);
  return out;
}

// A matrix [M,K] as a batch of one, and a vector [K] as a batch of one column [1,K,1].
Tensor as_batch(const Tensor& t) {
  return make_view(t, DimVec{1, t.sizes()[0], t.sizes()[1]}, DimVec{0, t.strides()[0], t.strides()[1]}, t.offset());
}
Tensor column_batch(const Tensor& v) {
  return make_view(v, DimVec{1, v.sizes()[0], 1}, DimVec{0, v.strides()[0], 1}, v.offset());
}

}  // namespace

// ---- mm ----

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
  TG_CHECK(a.dtype() == b.dtype(), "expected m1 and m2 to have the same dtype, but got: ", cpp_type_name(a.dtype()),
           " != ", cpp_type_name(b.dtype()));
  common_device(a, b);
  check_not_bool(a, "addmm_impl_cpu_");
  Tensor out3 = bmm_kernel(as_batch(a), as_batch(b));
  DimVec out_sizes{a.sizes()[0], b.sizes()[1]};
  Tensor out = make_view(out3, out_sizes, contiguous_strides(out_sizes), 0);
  if (compute_requires_grad(a, b)) {
    auto node = make_node<MmBackward0>(a, b);
    if (node->needs_input_grad(1)) node->self = SavedTensor(a, false);
    if (node->needs_input_grad(0)) node->mat2 = SavedTensor(b, false);
    set_history(out, node);
  }
  return out;
}

// ---- bmm ----

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
  TG_CHECK(a.sizes()[0] == b.sizes()[0] && a.sizes()[2] == b.sizes()[1],
           "Expected size for first two dimensions of batch2 tensor to be: [", a.sizes()[0], ", ", a.sizes()[2],
           "] but got: [", b.sizes()[0], ", ", b.sizes()[1], "].");
  TG_CHECK(a.dtype() == b.dtype(), "expected scalar type ", scalar_type_word(a.dtype()), " but found ", scalar_type_word(b.dtype()));
  common_device(a, b);
  check_not_bool(a, "bmm");
  Tensor out = bmm_kernel(a, b);
  if (compute_requires_grad(a, b)) {
    auto node = make_node<BmmBackward0>(a, b);
    if (node->needs_input_grad(1)) node->self = SavedTensor(a, false);
    if (node->needs_input_grad(0)) node->mat2 = SavedTensor(b, false);
    set_history(out, node);
  }
  return out;
}

// ---- dot ----

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

Tensor dot(const Tensor& a, const Tensor& b) {
  TG_CHECK(a.dim() == 1 && b.dim() == 1, "1D tensors expected, but got ", a.dim(), "D and ", b.dim(), "D tensors");
  TG_CHECK(a.dtype() == b.dtype(), "dot : expected both vectors to have same dtype, but found ", scalar_type_word(a.dtype()),
           " and ", scalar_type_word(b.dtype()));
  TG_CHECK(a.numel() == b.numel(), "inconsistent tensor size, expected tensor [", a.numel(), "] and src [", b.numel(),
           "] to have the same number of elements, but got ", a.numel(), " and ", b.numel(), " elements respectively");
  common_device(a, b);
  check_not_bool(a, "dot");
  Tensor lhs = make_view(a, DimVec{1, 1, a.numel()}, DimVec{0, 0, a.strides()[0]}, a.offset());
  Tensor out = make_view(bmm_kernel(lhs, column_batch(b)), DimVec(), DimVec(), 0);
  if (compute_requires_grad(a, b)) {
    auto node = make_node<DotBackward0>(a, b);
    if (node->needs_input_grad(1)) node->self = SavedTensor(a, false);
    if (node->needs_input_grad(0)) node->other = SavedTensor(b, false);
    set_history(out, node);
  }
  return out;
}

// ---- mv ----

struct MvBackward0 : Node {
  SavedTensor self, vec;
  std::string name() const override { return "MvBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    // d(self) is the outer product g vec^T; d(vec) is self^T g.
    return {needs_input_grad(0) ? mm(unsqueeze(g, 1), unsqueeze(vec.unpack(*this), 0)) : Tensor(),
            needs_input_grad(1) ? mv(t(self.unpack(*this)), g) : Tensor()};
  }
  void release_saved() override { self.reset(); vec.reset(); }
};

Tensor mv(const Tensor& a, const Tensor& v) {
  TG_CHECK_INDEX(a.dim() > 0, "Dimension specified as 0 but tensor has no dimensions");  // as ATen reads size(0)
  TG_CHECK(a.dim() == 2 && v.dim() == 1, "vector + matrix @ vector expected, got 1, ", a.dim(), ", ", v.dim());
  TG_CHECK(a.sizes()[1] == v.sizes()[0], "size mismatch, got input (", a.sizes()[0], "), mat (", a.sizes()[0], "x",
           a.sizes()[1], "), vec (", v.sizes()[0], ")");
  TG_CHECK(a.dtype() == v.dtype(), "addmv input tensors must have the same dtype, but got ", scalar_type_word(v.dtype()),
           ", ", scalar_type_word(a.dtype()), ", and ", scalar_type_word(v.dtype()));
  common_device(a, v);
  check_not_bool(a, "addmv_impl_cpu");
  Tensor out = make_view(bmm_kernel(as_batch(a), column_batch(v)), DimVec{a.sizes()[0]}, DimVec{1}, 0);
  if (compute_requires_grad(a, v)) {
    auto node = make_node<MvBackward0>(a, v);
    if (node->needs_input_grad(1)) node->self = SavedTensor(a, false);
    if (node->needs_input_grad(0)) node->vec = SavedTensor(v, false);
    set_history(out, node);
  }
  return out;
}

// ---- matmul: PyTorch's dispatch by rank, so results, gradients and grad_fns agree ----

namespace {

DimVec batch_dims(const Tensor& t) { return DimVec(t.sizes().begin(), t.sizes().end() - 2); }

// Folding the larger operand's batch dims into its rows lets one mm/mv do the work (PyTorch's should_fold).
bool should_fold(const Tensor& a, const Tensor& b) {
  bool a_larger = a.dim() >= b.dim();
  int64_t dim_large = a_larger ? a.dim() : b.dim(), dim_small = a_larger ? b.dim() : a.dim();
  if (!(dim_large >= 3 && dim_small <= 2)) return false;
  // The smaller operand's gradient is then one mm, not a sum over an expanded batch.
  if ((a_larger ? b : a).requires_grad()) return true;
  if (a.dim() == 2) return false;
  Tensor large = a_larger ? a : transpose(detach(b), -1, -2);
  if (large.numel() == 0) return true;
  for (int64_t i = 0; i + 2 < dim_large; ++i)
    if (large.strides()[i] != large.strides()[i + 1] * large.sizes()[i + 1]) return false;
  return true;
}

Tensor folded_matmul(const Tensor& a, const Tensor& b) {
  bool swap = b.dim() > a.dim();
  // With the larger operand on the right, compute (b^T a^T)^T.
  Tensor t1 = swap ? transpose(b, -1, -2) : a;
  Tensor t2 = !swap ? b : (a.dim() == 2 ? t(a) : a);
  DimVec out_shape(t1.sizes().begin(), t1.sizes().end() - 1);
  int64_t rows = numel_of(out_shape);
  Tensor folded = reshape(t1, DimVec{rows, t1.sizes()[t1.dim() - 1]});
  if (t2.dim() == 1) return unsafe_view(mv(folded, t2), out_shape);
  out_shape.push_back(t2.sizes()[1]);
  Tensor out = unsafe_view(mm(folded, t2), out_shape);
  return swap ? contiguous(transpose(out, -1, -2)) : out;
}

Tensor batched_matmul(const Tensor& a, const Tensor& b) {
  int64_t n = a.dim() > 1 ? a.sizes()[a.dim() - 2] : 1, k = a.sizes()[a.dim() - 1];
  int64_t k2 = b.dim() > 1 ? b.sizes()[b.dim() - 2] : b.sizes()[0], p = b.dim() > 1 ? b.sizes()[b.dim() - 1] : 1;
  DimVec a_batch = a.dim() > 2 ? batch_dims(a) : DimVec(), b_batch = b.dim() > 2 ? batch_dims(b) : DimVec();
  DimVec out_shape = broadcast_shapes(a_batch, b_batch);
  int64_t batch = numel_of(out_shape);
  DimVec a_size = out_shape, b_size = out_shape;
  a_size.push_back(n);
  a_size.push_back(k);
  b_size.push_back(k2);
  if (b.dim() > 1) b_size.push_back(p);
  Tensor x = reshape(expand(a, a_size), DimVec{batch, n, k});
  Tensor y = b.dim() == 1 ? unsqueeze(reshape(expand(b, b_size), DimVec{batch, k2}), 2)
                          : reshape(expand(b, b_size), DimVec{batch, k2, p});
  if (a.dim() > 1) out_shape.push_back(n);
  if (b.dim() > 1) out_shape.push_back(p);
  Tensor out = bmm(x, y);
  return unsafe_view(b.dim() == 1 ? squeeze(out, -1) : out, out_shape);
}

const char* python_type_name(const Tensor& t) {
  if (!t.is_wrapped_number()) return "Tensor";
  return t.dtype() == ScalarType::Bool ? "bool" : (t.dtype() == ScalarType::Int64 ? "int" : "float");
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  // `tensor @ number` reaches here through the operator slot; Python refuses it with a TypeError.
  TG_CHECK_TYPE(!a.is_wrapped_number() && !b.is_wrapped_number(), "unsupported operand type(s) for @: '",
                python_type_name(a), "' and '", python_type_name(b), "'");
  TG_CHECK(a.dim() > 0 && b.dim() > 0, "both arguments to matmul need to be at least 1D, but they are ", a.dim(),
           "D and ", b.dim(), "D");
  if (a.dim() == 1 && b.dim() == 1) return dot(a, b);
  if (a.dim() == 2 && b.dim() == 1) return mv(a, b);
  if (a.dim() == 1 && b.dim() == 2)
    return unsafe_view(mm(unsqueeze(a, 0), b), DimVec{b.sizes()[1]}, "SqueezeBackward4");
  if (a.dim() == 2 && b.dim() == 2) return mm(a, b);
  // A 3-D operand with a batch of one that requires grad is used as a matrix, so its gradient is one mm.
  if (a.dim() == 3 && b.dim() == 3 && (a.sizes()[0] == 1) != (b.sizes()[0] == 1)) {
    if (a.sizes()[0] == 1 && a.requires_grad()) return matmul(squeeze(a, 0), b);
    if (b.sizes()[0] == 1 && b.requires_grad()) return matmul(a, squeeze(b, 0));
  }
  return should_fold(a, b) ? folded_matmul(a, b) : batched_matmul(a, b);
}

// ---- outer ----

Tensor outer(const Tensor& a, const Tensor& b) {
  TG_CHECK(a.dim() == 1, "outer: Expected 1-D argument self, but got ", a.dim(), "-D");
  TG_CHECK(b.dim() == 1, "outer: Expected 1-D argument vec2, but got ", b.dim(), "-D");
  return mul(reshape(a, DimVec{a.sizes()[0], 1}), b);
}

}  // namespace tg::ops
