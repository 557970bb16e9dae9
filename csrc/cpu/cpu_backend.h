#pragma once
#include "core/dispatch.h"

namespace tg::cpu {

// The CPU backend. Its methods are spread over this folder by kernel family:
// elementwise.cpp, reduce.cpp, sort.cpp, blas.cpp, index.cpp, nn.cpp, conv.cpp.
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
  void cumsum(const Tensor& out, const Tensor& in, int64_t dim) override;
  void sort(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim, int64_t k,
            bool descending) override;
  void softmax(const Tensor& out, const Tensor& in, int64_t dim, bool log) override;
  void softmax_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& out, int64_t dim,
                        bool log) override;
  void bmm(const Tensor& out, const Tensor& a, const Tensor& b) override;
  void index(const Tensor& out, const Tensor& src, const IndexSpec& spec) override;
  void index_put(const Tensor& dst, const Tensor& values, const IndexSpec& spec, bool accumulate) override;
  void index_reduce(const Tensor& dst, const Tensor& values, const IndexSpec& spec, ReduceOp op) override;
  Tensor nonzero(const Tensor& in) override;
  void pointwise_loss(PointwiseLoss op, const Tensor& out, const Tensor& input, const Tensor& target,
                      const PointwiseLossArgs& args, bool mean) override;
  void pointwise_loss_backward(PointwiseLoss op, const Tensor& grad_input, const Tensor& grad_target,
                               const Tensor& grad_out, const Tensor& input, const Tensor& target,
                               const PointwiseLossArgs& args, double scale) override;
  void nll_loss(const Tensor& out, const Tensor& total_weight, const Tensor& input, const Tensor& target,
                const Tensor& weight, int64_t ignore_index) override;
  void nll_loss_backward(const Tensor& grad_input, const Tensor& grad_out, const Tensor& target, const Tensor& weight,
                         const Tensor& total_weight, int64_t ignore_index, bool mean) override;
  void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& in, const Tensor& weight,
                  const Tensor& bias, double eps) override;
  void layer_norm_backward(const Tensor& grad_in, const Tensor& grad_weight, const Tensor& grad_bias,
                           const Tensor& grad_out, const Tensor& in, const Tensor& mean, const Tensor& rstd,
                           const Tensor& weight) override;
  void batch_norm(const Tensor& out, const Tensor& mean, const Tensor& var, const Tensor& rstd, const Tensor& in,
                  const Tensor& weight, const Tensor& bias, double eps) override;
  void batch_norm_backward(const Tensor& grad_in, const Tensor& grad_weight, const Tensor& grad_bias,
                           const Tensor& grad_out, const Tensor& in, const Tensor& mean, const Tensor& rstd,
                           const Tensor& weight) override;
  void im2col(const Tensor& cols, const Tensor& in, const Window2d& window) override;
  void col2im(const Tensor& out, const Tensor& cols, const Window2d& window) override;
  void conv2d(const Tensor& out, const Tensor& in, const Tensor& weight, const Tensor& bias, const Window2d& window,
              int64_t groups) override;
  void conv2d_backward_input(const Tensor& grad_in, const Tensor& grad_out, const Tensor& weight,
                             const Window2d& window, int64_t groups) override;
  void conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad_out, const Tensor& in,
                              const Window2d& window, int64_t groups) override;
  void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& in, const Window2d& window) override;
  void activation(ActivationOp op, const Tensor& out, const Tensor& in, double param, double param2) override;
  void activation_backward(ActivationOp op, const Tensor& grad_in, const Tensor& grad_out, const Tensor& in,
                           double param, double param2) override;
  void output_grad(OutputGradOp op, const Tensor& grad_in, const Tensor& grad_out, const Tensor& out) override;
  void lstm_cell(const Tensor& hidden, const Tensor& cell, const Tensor& gates, const Tensor& input_gates,
                 const Tensor& bias, const Tensor& prev_cell) override;
  void lstm_cell_backward(const Tensor& grad_gates, const Tensor& grad_prev_cell, const Tensor& grad_hidden,
                          const Tensor& grad_output, const Tensor& grad_cell, const Tensor& gates,
                          const Tensor& prev_cell, const Tensor& cell) override;

 private:
  Tensor contiguous_copy(const Tensor& t);
};

}  // namespace tg::cpu
