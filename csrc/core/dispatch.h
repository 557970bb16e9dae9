#pragma once
// The flat list of kernels a device backend provides. Ops (csrc/ops) check arguments,
// allocate outputs and record autograd; backends only compute. A backend never sees a
// broadcast: operands arrive already expanded to the output's shape (stride 0).
#include <cstdint>
#include "core/tensor.h"

namespace tg {

enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum, Remainder, FloorDivide,
  Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr, LogicalXor,
};
enum class UnaryOp : uint8_t {
  Neg, Abs, Exp, Log, Sqrt, Rsqrt, Sin, Cos, Tanh, Sigmoid, Relu, Sign, Square,
  Reciprocal, Log1p, Expm1, Floor, Ceil, Round, Trunc, LogicalNot,
};
enum class ReduceOp : uint8_t { Sum, Prod, Max, Min, Any, All };
enum class ArgReduceOp : uint8_t { Max, Min };

struct Backend {
  virtual ~Backend() = default;
  // Elementwise. `out` may alias `a` (in-place ops). Comparisons write bool outputs.
  virtual void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) = 0;
  virtual void unary(UnaryOp op, const Tensor& out, const Tensor& a) = 0;
  // out = clamp(a, lo, hi); a missing bound is +-infinity (or the integer limit).
  virtual void clamp(const Tensor& out, const Tensor& a, const Scalar* lo, const Scalar* hi) = 0;
  virtual void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) = 0;
  // dst[i] = src[i] converted to dst's dtype; shapes equal (src may be expanded).
  virtual void copy(const Tensor& dst, const Tensor& src) = 0;
  virtual void fill(const Tensor& dst, Scalar value) = 0;

  // Reductions over `dims` of `in`; `out` has in's shape with those dims set to 1.
  virtual void reduce(ReduceOp op, const Tensor& out, const Tensor& in, const DimVec& dims) = 0;
  // Values and int64 indices of the max/min along one dim (out shapes keep that dim as 1).
  virtual void arg_reduce(ArgReduceOp op, const Tensor& values, const Tensor& indices,
                          const Tensor& in, int64_t dim) = 0;
  virtual void softmax(const Tensor& out, const Tensor& in, int64_t dim, bool log) = 0;
  // grad_in = backward of (log_)softmax given its output and the incoming gradient.
  virtual void softmax_backward(const Tensor& grad_in, const Tensor& grad_out,
                                const Tensor& out, int64_t dim, bool log) = 0;

  // out[b] = a[b] @ b[b] for 3-D operands [B,M,K] x [B,K,N]; out is contiguous.
  virtual void bmm(const Tensor& out, const Tensor& a, const Tensor& b) = 0;

  // out = in.index_select(dim, index); index is 1-D int64.
  virtual void index_select(const Tensor& out, const Tensor& in, int64_t dim, const Tensor& index) = 0;
  // out.index_add_(dim, index, src): repeated indices accumulate.
  virtual void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) = 0;
};

Backend& backend_for(Device device);
void register_backend(DeviceType type, Backend* backend);

}  // namespace tg
