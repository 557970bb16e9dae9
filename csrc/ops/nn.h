#pragma once
// Ops behind tapegrad.nn.functional: layers, activations and losses, each one C++ call
// with a single backward node where PyTorch has one (nn.cpp).
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>
#include "core/tensor.h"

namespace tg::ops {

enum class Reduction : uint8_t { None, Mean, Sum };

// input @ weight.T + bias; bias may be undefined. Any leading batch dims.
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias);

Tensor gelu(const Tensor& input, bool tanh_approximation);
Tensor erf(const Tensor& input);
Tensor leaky_relu(const Tensor& input, double negative_slope);
Tensor& leaky_relu_(Tensor& self, double negative_slope);
Tensor silu(const Tensor& input);
Tensor elu(const Tensor& input, double alpha);
// x where x * beta > threshold (for stability), else log(1 + exp(beta * x)) / beta.
Tensor softplus(const Tensor& input, double beta, double threshold);
Tensor hardtanh(const Tensor& input, double min_val, double max_val);
Tensor logsigmoid(const Tensor& input);
Tensor mish(const Tensor& input);
// Zeroes elements with probability p and scales the rest by 1/(1-p), drawing the mask
// from the default generator exactly as PyTorch's CPU dropout does.
Tensor dropout(const Tensor& input, double p, bool train, bool inplace);
// weight's rows at `indices`; padding_idx < 0 means none.
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx, bool scale_grad_by_freq);
Tensor layer_norm(const Tensor& input, const DimVec& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps);
// Updates running_mean / running_var in place when training and they are defined.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps);
Tensor one_hot(const Tensor& indices, int64_t num_classes);

// ---- convolution and pooling (conv.cpp): inputs [N, C, H, W] or unbatched [C, H, W] ----
// Window parameters are one value for both dims or two (h, w). conv2d pads padding_before and padding_after
// (equal, except for padding='same' with an even kernel); weight is [O, C / groups, kh, kw], bias [O] or undefined.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const DimVec& stride,
              const DimVec& padding_before, const DimVec& padding_after, const DimVec& dilation, int64_t groups);
// conv_transpose1d or conv_transpose2d (spatial_dims 1 or 2), the adjoint of the convolution: weight is
// [C, O / groups, k...], bias [O] or undefined; the output's size per spatial dim is
// (in - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
Tensor conv_transpose(const Tensor& input, const Tensor& weight, const Tensor& bias, const DimVec& stride,
                      const DimVec& padding, const DimVec& output_padding, const DimVec& dilation, int64_t groups,
                      int64_t spatial_dims);
// (values, int64 indices of each max within its input plane); an empty stride means the kernel size.
std::pair<Tensor, Tensor> max_pool2d(const Tensor& input, const DimVec& kernel, const DimVec& stride,
                                     const DimVec& padding, const DimVec& dilation, bool ceil_mode);
Tensor avg_pool2d(const Tensor& input, const DimVec& kernel, const DimVec& stride, const DimVec& padding,
                  bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override);
Tensor adaptive_avg_pool2d(const Tensor& input, const DimVec& output_size);

// One direction of one LSTM layer over a padded batch, without recording autograd (tapegrad.nn.LSTM records
// one node for it). input_gates [T, B, 4H] = x @ w_ih.T + b_ih; h0, c0 [B, H]; w_hh [4H, H]; b_hh [4H] or
// undefined; `reverse` walks time backwards. Returns {output [T, B, H], h_n, c_n, gates [T, B, 4H]
// (activated), cells [T, B, H]}: the last two are what lstm_layer_backward needs besides the inputs.
std::vector<Tensor> lstm_layer_forward(const Tensor& input_gates, const Tensor& h0, const Tensor& c0,
                                       const Tensor& w_hh, const Tensor& b_hh, bool reverse);
// Gradients {input_gates, h0, c0, w_hh, b_hh (undefined when has_bias is false)} from those of output, h_n
// and c_n (any of them undefined for zero).
std::vector<Tensor> lstm_layer_backward(const Tensor& grad_output, const Tensor& grad_hn, const Tensor& grad_cn,
                                        const Tensor& gates, const Tensor& cells, const Tensor& output,
                                        const Tensor& h0, const Tensor& c0, const Tensor& w_hh, bool has_bias,
                                        bool reverse);

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta);
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction);
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction reduction);
// Class-index targets; input is (C), (N, C) or (N, C, d1, ...).
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                int64_t ignore_index);
// Class-index targets, or class probabilities when target has input's shape.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                     int64_t ignore_index, double label_smoothing);

}  // namespace tg::ops
