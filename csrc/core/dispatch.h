#pragma once
// The flat list of kernels a device backend provides. Ops (csrc/ops) check arguments,
// allocate outputs and record autograd; backends only compute. A backend never sees a
// broadcast: operands arrive already expanded to the output's shape (stride 0).
#include <cstdint>
#include "core/tensor.h"

namespace tg {

enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum, Remainder, FloorDivide, Atan2, Hypot, Zeta,
  Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr, LogicalXor,
};
enum class UnaryOp : uint8_t {
  Neg, Abs, Exp, Log, Sqrt, Rsqrt, Sin, Cos, Tanh, Sigmoid, Relu, Sign, Square,
  Reciprocal, Log1p, Expm1, Floor, Ceil, Round, Trunc, LogicalNot,
  Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh, Log2, Log10, Exp2, Erfc, Erfinv, Lgamma, Digamma,
  Trigamma,
};
enum class ReduceOp : uint8_t { Sum, Prod, Max, Min, Any, All };
enum class ArgReduceOp : uint8_t { Max, Min };
// Losses computed element by element from an input and a target (csrc/cpu/nn.cpp).
enum class PointwiseLoss : uint8_t { Mse, SmoothL1, Bce, BceWithLogits };
// binary_cross_entropy's gradient divides by max((1 - x) * x, this); PyTorch's constant is a float, so
// float64 gradients at x = 0 or 1 are 1 / 1e-12f, not 1e12.
constexpr float kBceGradEpsilon = 1e-12f;
struct PointwiseLossArgs {
  Tensor weight;      // optional, expanded to the input's shape (bce, bce_with_logits)
  Tensor pos_weight;  // optional, expanded to the input's shape (bce_with_logits)
  double beta = 1.0;  // smooth_l1
};
// Activations without a UnaryOp of their own. Their parameters (param, param2): leaky_relu's negative slope,
// elu's alpha, softplus's beta and threshold, hardtanh's min and max; the others take none.
enum class ActivationOp : uint8_t { Gelu, GeluTanh, LeakyRelu, Erf, Silu, Elu, Softplus, Hardtanh, LogSigmoid, Mish };
// Unary ops whose gradient is read off their output y: relu (threshold_backward), tanh, sigmoid.
enum class OutputGradOp : uint8_t { Relu, Tanh, Sigmoid };

// Geometry of an advanced-indexing kernel. The data operand (src or dst) and the other operand arrive
// with the iteration shape, the data operand with stride 0 on the dims the indices pick from; indices[k]
// (int64, also in the iteration shape) adds indices[k] * strides[k] to the data operand's element offset
// after a bounds check against sizes[k].
struct IndexSpec {
  TensorList indices;
  DimVec sizes, strides;
  bool wrap_negative = true;  // x[-1] counts from the end; gather and index_select reject negatives
};

// Thrown by the index kernels; each op rewords it the way PyTorch reports that op's bad index.
struct IndexOutOfRange : IndexError {
  int64_t index, size;
  size_t position;  // which of IndexSpec::indices
  IndexOutOfRange(int64_t index, int64_t size, size_t position)
      : IndexError(str_cat("index ", index, " is out of bounds for dimension ", position, " with size ", size)),
        index(index), size(size), position(position) {}
};

// A 2-D sliding window (convolution, pooling) over the last two dims of [N, C, H, W]; each array is (h, w).
// `padding` is the padding before each dim; the padding after it is implied by `out`, the output's size.
struct Window2d {
  int64_t kernel[2], stride[2], padding[2], dilation[2], out[2];
};

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
  // Along `dim` of a contiguous `in`: out (contiguous, in's dtype) = the running sum.
  virtual void cumsum(const Tensor& out, const Tensor& in, int64_t dim) = 0;
  // The k first elements of each row along `dim` of a contiguous `in` once sorted (NaN above every number, ties
  // in their original order) into contiguous values and int64 indices whose `dim` has size k.
  virtual void sort(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim, int64_t k,
                    bool descending) = 0;
  virtual void softmax(const Tensor& out, const Tensor& in, int64_t dim, bool log) = 0;
  // grad_in = backward of (log_)softmax given its output and the incoming gradient.
  virtual void softmax_backward(const Tensor& grad_in, const Tensor& grad_out,
                                const Tensor& out, int64_t dim, bool log) = 0;

  // out[b] = a[b] @ b[b] for 3-D operands [B,M,K] x [B,K,N]; out is contiguous.
  virtual void bmm(const Tensor& out, const Tensor& a, const Tensor& b) = 0;

  // Advanced indexing (x[idx], gather, scatter, take, ...): out[i] = src[i + offset(i)] and
  // dst[i + offset(i)] = values[i] (or += with accumulate: repeated indices add up). See IndexSpec.
  virtual void index(const Tensor& out, const Tensor& src, const IndexSpec& spec) = 0;
  virtual void index_put(const Tensor& dst, const Tensor& values, const IndexSpec& spec, bool accumulate) = 0;
  // dst[i + offset(i)] = op(dst[...], values[i]) for op Prod, Max or Min (a NaN value wins Max and Min).
  virtual void index_reduce(const Tensor& dst, const Tensor& values, const IndexSpec& spec, ReduceOp op) = 0;
  // The int64 [n, in.dim()] coordinates of the nonzero elements of `in`, in C order.
  virtual Tensor nonzero(const Tensor& in) = 0;

  // ---- nn kernels ----
  // out = loss(input, target) per element, or, for a 0-dim out, their sum (their mean if `mean`).
  // Operands share one shape; broadcast ones have stride 0.
  virtual void pointwise_loss(PointwiseLoss op, const Tensor& out, const Tensor& input, const Tensor& target,
                              const PointwiseLossArgs& args, bool mean) = 0;
  // d(loss)/d(input) and d(loss)/d(target) times grad_out times scale; either output may be undefined.
  virtual void pointwise_loss_backward(PointwiseLoss op, const Tensor& grad_input, const Tensor& grad_target,
                                       const Tensor& grad_out, const Tensor& input, const Tensor& target,
                                       const PointwiseLossArgs& args, double scale) = 0;
  // Negative log likelihood of input [N, C, D] at int64 targets [N, D] with optional class weights [C]:
  // out gets -weight[t] * input[n, t, d] per element ([N, D]) or their sum (0-dim); total_weight (0-dim)
  // gets the summed weight of the targets that are not ignore_index. A target outside [0, C) throws.
  virtual void nll_loss(const Tensor& out, const Tensor& total_weight, const Tensor& input, const Tensor& target,
                        const Tensor& weight, int64_t ignore_index) = 0;
  // grad_input [N, C, D] = 0 except -weight[t] * grad_out[n, d] (divided by total_weight if `mean`) at each target.
  virtual void nll_loss_backward(const Tensor& grad_input, const Tensor& grad_out, const Tensor& target,
                                 const Tensor& weight, const Tensor& total_weight, int64_t ignore_index, bool mean) = 0;
  // Each of the M contiguous rows of `in` ([M, N]) normalised: out = (x - mean) * rstd * weight + bias,
  // with the rows' mean and 1/sqrt(var + eps) written to mean and rstd ([M]). weight and bias ([N]) may be undefined.
  virtual void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& in,
                          const Tensor& weight, const Tensor& bias, double eps) = 0;
  // Gradients of layer_norm for the inputs that are defined among grad_in, grad_weight and grad_bias.
  virtual void layer_norm_backward(const Tensor& grad_in, const Tensor& grad_weight, const Tensor& grad_bias,
                                   const Tensor& grad_out, const Tensor& in, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& weight) = 0;
  // Training-mode batch norm of a contiguous [N, C, ...] input: each channel's mean, biased variance and
  // 1/sqrt(var + eps) over its values ([C] each), and out = x * alpha + beta with alpha = rstd * weight and
  // beta = bias - mean * alpha, as ATen computes it. weight and bias may be undefined.
  virtual void batch_norm(const Tensor& out, const Tensor& mean, const Tensor& var, const Tensor& rstd,
                          const Tensor& in, const Tensor& weight, const Tensor& bias, double eps) = 0;
  // Its gradients (grad_out contiguous like in) for those of grad_in, grad_weight and grad_bias that are defined.
  virtual void batch_norm_backward(const Tensor& grad_in, const Tensor& grad_weight, const Tensor& grad_bias,
                                   const Tensor& grad_out, const Tensor& in, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& weight) = 0;
  // cols [N, C * kh * kw, oh * ow] = the window's elements at each output position, zero outside the input
  // (row c * kh * kw + i * kw + j holds kernel position (i, j) of channel c). in [N, C, H, W] is contiguous.
  virtual void im2col(const Tensor& cols, const Tensor& in, const Window2d& window) = 0;
  // The adjoint of im2col: out [N, C, H, W] = the sum of the elements of cols that came from each position.
  virtual void col2im(const Tensor& out, const Tensor& cols, const Window2d& window) = 0;
  // out [N, Cout, oh * ow] = the convolution of in [N, C, H, W] with weight [Cout, C / groups, kh, kw] (both
  // contiguous), plus bias [Cout] where defined.
  virtual void conv2d(const Tensor& out, const Tensor& in, const Tensor& weight, const Tensor& bias,
                      const Window2d& window, int64_t groups) = 0;
  // grad_in [N, C, H, W] = the gradient of that convolution with respect to its input, for a contiguous
  // grad_out [N, Cout, oh * ow].
  virtual void conv2d_backward_input(const Tensor& grad_in, const Tensor& grad_out, const Tensor& weight,
                                     const Window2d& window, int64_t groups) = 0;
  // grad_weight [Cout, C / groups, kh, kw] = its gradient with respect to the weight, summed over the samples in
  // an order that depends on the shapes alone.
  virtual void conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad_out, const Tensor& in,
                                      const Window2d& window, int64_t groups) = 0;
  // The max of each window (padding never wins; NaN does) into out [N, C, oh, ow], with its position h * W + w
  // in the input plane in indices (int64). in is contiguous.
  virtual void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& in, const Window2d& window) = 0;
  virtual void activation(ActivationOp op, const Tensor& out, const Tensor& in, double param, double param2) = 0;
  // grad_in = grad_out * op'(in).
  virtual void activation_backward(ActivationOp op, const Tensor& grad_in, const Tensor& grad_out, const Tensor& in,
                                   double param, double param2) = 0;
  // grad_in = grad_out * op'(x), from the op's output y = op(x); grad_out arrives expanded to y's shape.
  virtual void output_grad(OutputGradOp op, const Tensor& grad_in, const Tensor& grad_out, const Tensor& out) = 0;
  // One LSTM time step over contiguous [B, 4H] gates in PyTorch's order (input, forget, cell, output): gates
  // holds h @ w_hh.T on entry and input_gates + (gates + bias) activated on exit (tanh for the cell block,
  // sigmoid for the others); then cell = f * prev_cell + i * g and hidden = o * tanh(cell). bias may be undefined.
  virtual void lstm_cell(const Tensor& hidden, const Tensor& cell, const Tensor& gates, const Tensor& input_gates,
                         const Tensor& bias, const Tensor& prev_cell) = 0;
  // Its gradient: grad_gates (before the activations) and grad_prev_cell, from the gradients reaching the step's
  // hidden state (grad_hidden, plus grad_output when defined) and its cell (grad_cell), given the activated gates.
  virtual void lstm_cell_backward(const Tensor& grad_gates, const Tensor& grad_prev_cell, const Tensor& grad_hidden,
                                  const Tensor& grad_output, const Tensor& grad_cell, const Tensor& gates,
                                  const Tensor& prev_cell, const Tensor& cell) = 0;
};

Backend& backend_for(Device device);
void register_backend(DeviceType type, Backend* backend);

}  // namespace tg
