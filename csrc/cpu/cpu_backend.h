#pragma once
#include "core/dispatch.h"

namespace tg::cpu {

// The CPU backend. Its methods are spread over this folder by kernel family:
// elementwise.cpp, reduce.cpp, blas.cpp, index.cpp.
struct CpuBackend final : Backend {
  void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) override;
  void unary(UnaryOp op, const Tensor& out, const Tensor& a) override;
  void clamp(const Tensor& out, const Tensor& a, const Scalar* lo, const Scalar* hi) override;
  void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) override;
  void copy(const Tensor& dst, const Tensor& src) override;
  void fill(const Tensor& dst, Scalar value) override;
  void reduce(ReduceOp op, const Tensor& out, const Tensor& in, const DimVec& dims) override;
  void arg_reduce(ArgReduceOp op, const Tensor& values, const Tensor& indices, const Tensor& in,
                  int64_t dim) override;
  void softmax(const Tensor& out, const Tensor& in, int64_t dim, bool log) override;
  void softmax_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& out, int64_t dim,
                        bool log) override;
  void bmm(const Tensor& out, const Tensor& a, const Tensor& b) override;
  void index(const Tensor& out, const Tensor& src, const IndexSpec& spec) override;
  void index_put(const Tensor& dst, const Tensor& values, const IndexSpec& spec, bool accumulate) override;
  Tensor nonzero(const Tensor& in) override;
};

}  // namespace tg::cpu
