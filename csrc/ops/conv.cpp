// Convolution and pooling over [N, C, H, W] (or unbatched [C, H, W]) inputs. conv2d and its gradients are
// the backend's kernels (a GEMM per sample); a backward that is itself recorded takes im2col, matmul and
// col2im instead, ops of their own (each the other's gradient), so every backward here is differentiable again.
#include <algorithm>
#include "ops/elementwise_util.h"
#include "ops/nn.h"
#include "ops/ops.h"
#include "ops/record.h"

namespace tg::ops {

namespace {

int64_t plane_rows(const Tensor& x) { return x.sizes()[x.dim() - 2]; }
int64_t plane_cols(const Tensor& x) { return x.sizes()[x.dim() - 1]; }

Tensor im2col(const Tensor& x, const Window2d& window);
Tensor col2im(const Tensor& cols, const Window2d& window, int64_t channels, int64_t height, int64_t width);

struct Im2ColBackward0 : Node {
  Window2d window{};
  int64_t channels = 0, height = 0, width = 0;
  std::string name() const override { return "Im2ColBackward0"; }
  TensorList apply(TensorList&& grads) override { return {col2im(grads[0], window, channels, height, width)}; }
};

struct Col2ImBackward0 : Node {
  Window2d window{};
  std::string name() const override { return "Col2ImBackward0"; }
  TensorList apply(TensorList&& grads) override { return {im2col(grads[0], window)}; }
};

// [N, C, H, W] -> [N, C * kh * kw, oh * ow].
Tensor im2col(const Tensor& x, const Window2d& window) {
  return record_as<Im2ColBackward0>(x, [&] {
    int64_t n = x.sizes()[0], rows = x.sizes()[1] * window.kernel[0] * window.kernel[1];
    Tensor cols = empty(DimVec{n, rows, window.out[0] * window.out[1]}, x.dtype(), x.device());
    backend_for(x.device()).im2col(cols, contiguous(x), window);
    return cols;
  }, [&](Im2ColBackward0& node) {
    node.window = window;
    node.channels = x.sizes()[1];
    node.height = x.sizes()[2];
    node.width = x.sizes()[3];
  });
}

// [N, C * kh * kw, oh * ow] -> [N, C, H, W], summing overlapping windows.
Tensor col2im(const Tensor& cols, const Window2d& window, int64_t channels, int64_t height, int64_t width) {
  return record_as<Col2ImBackward0>(cols, [&] {
    Tensor out = empty(DimVec{cols.sizes()[0], channels, height, width}, cols.dtype(), cols.device());
    backend_for(cols.device()).col2im(out, contiguous(cols), window);
    return out;
  }, [&](Col2ImBackward0& node) { node.window = window; });
}

// A size-2 window parameter from one value or two, as PyTorch's _pair.
DimVec pair_of(const DimVec& v, const char* name) {
  TG_CHECK(v.size() == 1 || v.size() == 2, "expected ", name,
           " to be a single integer value or a list of 2 values to match the convolution dimensions, but got ",
           name, "=", shape_str(v));
  return v.size() == 1 ? DimVec{v[0], v[0]} : v;
}

}  // namespace

// ---- conv2d and conv_transpose2d ----

namespace {

// The gradient of a convolution of `in` by a weight of weight_sizes with respect to the weight, given that of
// its output, as differentiable ops.
Tensor weight_grad_as_ops(const Tensor& grad_out, const Tensor& in, const Window2d& window, int64_t groups,
                          const DimVec& weight_sizes) {
  int64_t n = in.sizes()[0], out_channels = weight_sizes[0], positions = window.out[0] * window.out[1];
  int64_t patch = weight_sizes[1] * window.kernel[0] * window.kernel[1];
  Tensor g = reshape(grad_out, DimVec{n, groups, out_channels / groups, positions});
  Tensor cols = reshape(im2col(in, window), DimVec{n, groups, patch, positions});
  return reshape(sum(matmul(g, transpose(cols, -1, -2)), DimVec{0}, false), weight_sizes);
}

// The same with the backend's kernel.
Tensor weight_grad_kernel(const Tensor& grad_out, const Tensor& in, const Window2d& window, int64_t groups,
                          const Tensor& weight) {
  Tensor grad = empty(weight.sizes(), weight.dtype(), weight.device());
  backend_for(in.device()).conv2d_backward_weight(grad, contiguous(grad_out), contiguous(in), window, groups);
  return grad;
}

// The bias gradient of a [N, C, H, W] output: the spatial sums first, as each is a sum of adjacent dims, which
// runs far faster than one over (0, 2, 3).
Tensor bias_grad(const Tensor& grad_out) { return sum(sum(grad_out, DimVec{2, 3}, false), DimVec{0}, false); }

// The gradients of a node with no samples, positions or channels to sum over.
TensorList zero_grads(const Tensor& x, const Tensor& w, bool has_bias, int64_t bias_size) {
  Tensor grad_bias = has_bias ? zeros(DimVec{bias_size}, w.dtype(), w.device()) : Tensor();
  return {zeros_like(x), zeros_like(w), grad_bias};
}

}  // namespace

struct ConvolutionBackward0 : Node {
  SavedTensor input, weight;
  Window2d window{};
  int64_t groups = 1;
  bool has_bias = false;
  std::string name() const override { return "ConvolutionBackward0"; }
  TensorList apply(TensorList&& grads) override {
    Tensor x = input.unpack(*this), w = weight.unpack(*this);
    if (grads[0].numel() == 0) return zero_grads(x, w, has_bias, w.sizes()[0]);
    TensorList out = GradMode::is_enabled() ? differentiable_grads(grads[0], x, w) : kernel_grads(grads[0], x, w);
    if (has_bias && needs_input_grad(2)) out[2] = bias_grad(grads[0]);
    return out;
  }
  // The backend's kernels: a GEMM per sample, its columns kept in cache.
  TensorList kernel_grads(const Tensor& grad, const Tensor& x, const Tensor& w) {
    TensorList out(3);
    Tensor dense_grad = contiguous(grad);
    if (needs_input_grad(0)) {
      out[0] = empty(x.sizes(), x.dtype(), x.device());
      backend_for(x.device()).conv2d_backward_input(out[0], dense_grad, contiguous(w), window, groups);
    }
    if (needs_input_grad(1)) out[1] = weight_grad_kernel(dense_grad, x, window, groups, w);
    return out;
  }
  // The same as differentiable ops, for a backward that is itself recorded (create_graph).
  TensorList differentiable_grads(const Tensor& grad, const Tensor& x, const Tensor& w) {
    int64_t n = x.sizes()[0], channels = x.sizes()[1], out_channels = w.sizes()[0];
    int64_t positions = window.out[0] * window.out[1];
    int64_t patch = channels / groups * window.kernel[0] * window.kernel[1];
    TensorList out(3);
    if (needs_input_grad(0)) {
      Tensor g = reshape(grad, DimVec{n, groups, out_channels / groups, positions});
      Tensor cols_grad = matmul(transpose(reshape(w, DimVec{groups, out_channels / groups, patch}), -1, -2), g);
      out[0] = col2im(reshape(cols_grad, DimVec{n, groups * patch, positions}), window, channels, x.sizes()[2],
                      x.sizes()[3]);
    }
    if (needs_input_grad(1)) out[1] = weight_grad_as_ops(grad, x, window, groups, w.sizes());
    return out;
  }
  void release_saved() override {
    input.reset();
    weight.reset();
  }
};

namespace {

// A checked [N, C, H, W] input convolved over `window` (its output size included), recorded.
Tensor convolve(const Tensor& input, const Tensor& weight, const Tensor& bias, const Window2d& window,
                int64_t groups) {
  const DimVec& sizes = input.sizes();
  // As ATen, an input without channels gives an output without channels.
  DimVec out_sizes{sizes[0], sizes[1] == 0 ? 0 : weight.sizes()[0], window.out[0], window.out[1]};
  Tensor out = empty(out_sizes, input.dtype(), input.device());
  {
    AutoGradMode no_grad(false);
    if (out.numel() > 0)
      backend_for(out.device()).conv2d(out, contiguous(input), contiguous(weight), bias, window, groups);
  }
  if (compute_requires_grad(input, weight, bias)) {
    auto node = make_node<ConvolutionBackward0>(input, weight, bias);
    node->input = SavedTensor(input, false);
    node->weight = SavedTensor(weight, false);
    node->window = window;
    node->groups = groups;
    node->has_bias = bias.defined();
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const DimVec& stride_in,
              const DimVec& padding_before_in, const DimVec& padding_after_in, const DimVec& dilation_in,
              int64_t groups) {
  TG_CHECK(input.dim() == 3 || input.dim() == 4, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got "
           "input of size: ", shape_str(input.sizes()));
  TG_CHECK(weight.dim() == 4, "expected stride to be a single integer value or a list of ", weight.dim() - 2,
           " values to match the convolution dimensions, but got stride=", shape_str(pair_of(stride_in, "stride")));
  DimVec stride = pair_of(stride_in, "stride"), dilation = pair_of(dilation_in, "dilation");
  DimVec padding_before = pair_of(padding_before_in, "padding"), padding_after = pair_of(padding_after_in, "padding");
  for (int64_t d = 0; d < 2; ++d) {
    TG_CHECK(stride[d] > 0, "non-positive stride is not supported");
    TG_CHECK(padding_before[d] >= 0 && padding_after[d] >= 0, "negative padding is not supported");
    TG_CHECK(dilation[d] > 0, "non-positive dilation is not supported");
  }
  TG_CHECK(groups > 0, "non-positive groups is not supported");
  // As ATen, an unbatched input is a batch of one, recorded as such.
  if (input.dim() == 3)
    return squeeze(conv2d(unsqueeze(input, 0), weight, bias, stride, padding_before, padding_after, dilation, groups),
                   0);
  const DimVec& batched_sizes = input.sizes();
  int64_t out_channels = weight.sizes()[0];
  TG_CHECK(out_channels >= groups, "Given groups=", groups, ", expected weight to be at least ", groups,
           " at dimension 0, but got weight of size ", shape_str(weight.sizes()), " instead");
  // ATen's own message doubles the brackets here.
  TG_CHECK(out_channels % groups == 0, "Given groups=", groups, ", expected weight to be divisible by ", groups,
           " at dimension 0, but got weight of size [", shape_str(weight.sizes()), "] instead");
  TG_CHECK(batched_sizes[1] == weight.sizes()[1] * groups, "Given groups=", groups, ", weight of size ",
           shape_str(weight.sizes()), ", expected input", shape_str(batched_sizes), " to have ",
           weight.sizes()[1] * groups, " channels, but got ", batched_sizes[1], " channels instead");
  TG_CHECK(!bias.defined() || (bias.dim() == 1 && bias.numel() == out_channels), "Given weight of size ",
           shape_str(weight.sizes()), ", expected bias to be 1-dimensional with ", out_channels,
           " elements, but got bias of size ", shape_str(bias.sizes()), " instead");
  Window2d window{};
  int64_t padded[2], effective_kernel[2];
  for (int64_t d = 0; d < 2; ++d) {
    padded[d] = batched_sizes[2 + d] + padding_before[d] + padding_after[d];
    effective_kernel[d] = dilation[d] * (weight.sizes()[2 + d] - 1) + 1;
  }
  TG_CHECK(padded[0] >= effective_kernel[0] && padded[1] >= effective_kernel[1],
           "Calculated padded input size per channel: (", padded[0], " x ", padded[1], "). Kernel size: (",
           effective_kernel[0], " x ", effective_kernel[1], "). Kernel size can't be greater than actual input size");
  TG_CHECK(input.dtype() == weight.dtype(), "Input type (torch.", legacy_type_name(input.dtype()),
           ") and weight type (torch.", legacy_type_name(weight.dtype()),
           ") should be the same or input should be a MKLDNN tensor and weight is a dense tensor");
  TG_CHECK(!bias.defined() || bias.dtype() == input.dtype(), "Input type (", cpp_type_name(input.dtype()),
           ") and bias type (", cpp_type_name(bias.dtype()), ") should be the same");
  for (int64_t d = 0; d < 2; ++d) {
    window.kernel[d] = weight.sizes()[2 + d];
    window.stride[d] = stride[d];
    window.padding[d] = padding_before[d];
    window.dilation[d] = dilation[d];
    window.out[d] = (padded[d] - effective_kernel[d]) / stride[d] + 1;
  }
  return convolve(input, weight, bias, window, groups);
}

// The adjoint of a convolution: each input position spreads its channels' values, weighted by the kernel, over
// a window of the output. Its input gradient is that convolution of the output gradient, and its weight
// gradient the convolution's weight gradient with input and output gradient swapped; `window` is that
// convolution's, whose input is this op's output and whose output is this op's input.
struct ConvolutionTransposeBackward : Node {
  SavedTensor input, weight;
  Window2d window{};
  int64_t groups = 1;
  bool has_bias = false;
  bool unit_height = false;  // a 1-d op, computed in 2-d over a height of one
  std::string name() const override { return "ConvolutionBackward0"; }
  TensorList apply(TensorList&& grads) override {
    Tensor x = input.unpack(*this), w = weight.unpack(*this);
    int64_t out_channels = w.sizes()[1] * groups;
    if (grads[0].numel() == 0 || x.numel() == 0) return zero_grads(x, w, has_bias, out_channels);
    auto as_2d = [&](const Tensor& t) { return unit_height ? unsqueeze(t, 2) : t; };
    auto as_given = [&](const Tensor& t) { return unit_height ? squeeze(t, 2) : t; };
    Tensor grad = as_2d(grads[0]);
    TensorList out(3);
    // Recorded as a convolution (differentiable again) when the backward is itself recorded.
    if (needs_input_grad(0)) out[0] = as_given(convolve(grad, as_2d(w), Tensor(), window, groups));
    if (needs_input_grad(1)) {
      DimVec weight_sizes = as_2d(w).sizes();
      out[1] = as_given(GradMode::is_enabled() ? weight_grad_as_ops(as_2d(x), grad, window, groups, weight_sizes)
                                               : weight_grad_kernel(as_2d(x), grad, window, groups, as_2d(w)));
    }
    if (has_bias && needs_input_grad(2)) out[2] = bias_grad(grad);
    return out;
  }
  void release_saved() override {
    input.reset();
    weight.reset();
  }
};

namespace {

// A window parameter for `dims` spatial dims, from one value or `dims`, as ATen's expand_param_if_needed.
DimVec expand_param(const DimVec& v, const char* name, int64_t dims) {
  TG_CHECK(v.size() == 1 || int64_t(v.size()) == dims, "expected ", name, " to be a single integer value or a list of ",
           dims, " values to match the convolution dimensions, but got ", name, "=", shape_str(v));
  return v.size() == 1 ? DimVec(dims, v[0]) : v;
}

// A 1-d window parameter as its 2-d form over a unit height, whose height takes `height_value`.
DimVec with_unit_height(const DimVec& v, int64_t height_value) { return DimVec{height_value, v[0]}; }

}  // namespace

Tensor conv_transpose(const Tensor& input, const Tensor& weight, const Tensor& bias, const DimVec& stride_in,
                      const DimVec& padding_in, const DimVec& output_padding_in, const DimVec& dilation_in,
                      int64_t groups, int64_t spatial_dims) {
  TG_CHECK(input.dim() == spatial_dims + 1 || input.dim() == spatial_dims + 2, "Expected ", spatial_dims + 1,
           "D (unbatched) or ", spatial_dims + 2, "D (batched) input to conv_transpose", spatial_dims,
           "d, but got input of size: ", shape_str(input.sizes()));
  TG_CHECK(weight.dim() >= 3, "weight should have at least three dimensions");
  // As PyTorch's argument parser, one value stands for each of the function's dims; the weight decides how many
  // the convolution has.
  int64_t weight_dims = weight.dim() - 2;
  DimVec stride = expand_param(expand_param(stride_in, "stride", spatial_dims), "stride", weight_dims);
  DimVec padding = expand_param(expand_param(padding_in, "padding", spatial_dims), "padding", weight_dims);
  DimVec dilation = expand_param(expand_param(dilation_in, "dilation", spatial_dims), "dilation", weight_dims);
  DimVec output_padding = expand_param(expand_param(output_padding_in, "output_padding", spatial_dims),
                                       "output_padding", weight_dims);
  TG_CHECK(groups > 0, "non-positive groups is not supported");
  for (int64_t d = 0; d < weight_dims; ++d) {
    TG_CHECK(padding[d] >= 0, "negative padding is not supported");
    TG_CHECK(output_padding[d] >= 0, "negative output_padding is not supported");
    TG_CHECK(stride[d] > 0, "non-positive stride is not supported");
    TG_CHECK(dilation[d] >= 0, "dilation should be greater than zero");
  }
  // As ATen, an unbatched input is a batch of one, recorded as such.
  if (input.dim() == spatial_dims + 1)
    return squeeze(conv_transpose(unsqueeze(input, 0), weight, bias, stride_in, padding_in, output_padding_in,
                                  dilation_in, groups, spatial_dims), 0);
  const DimVec& sizes = input.sizes();
  const DimVec& weight_sizes = weight.sizes();
  TG_CHECK(weight.dim() == input.dim(), "Expected ", weight.dim(), "-dimensional input for ", weight.dim(),
           "-dimensional weight ", shape_str(weight_sizes), ", but got ", input.dim(), "-dimensional input of size ",
           shape_str(sizes), " instead");
  int64_t in_channels = weight_sizes[0], out_channels = weight_sizes[1] * groups;
  TG_CHECK(in_channels >= groups, "Given groups=", groups, ", expected weight to be at least ", groups,
           " at dimension 0, but got weight of size ", shape_str(weight_sizes), " instead");
  // ATen's own message doubles the brackets here.
  TG_CHECK(in_channels % groups == 0, "Given groups=", groups, ", expected weight to be divisible by ", groups,
           " at dimension 0, but got weight of size [", shape_str(weight_sizes), "] instead");
  TG_CHECK(sizes[1] == in_channels, "Given transposed=1, weight of size ", shape_str(weight_sizes),
           ", expected input", shape_str(sizes), " to have ", in_channels, " channels, but got ", sizes[1],
           " channels instead");
  TG_CHECK(!bias.defined() || (bias.dim() == 1 && bias.numel() == out_channels), "Given transposed=1, weight of size ",
           shape_str(weight_sizes), ", expected bias to be 1-dimensional with ", out_channels,
           " elements, but got bias of size ", shape_str(bias.sizes()), " instead");
  for (int64_t d = 2; d < input.dim(); ++d)
    TG_CHECK(sizes[d] > 0, "Only zero batch or zero channel inputs are supported, but got input shape: ",
             shape_str(sizes));
  // As ATen's slow kernel, 1-d runs as 2-d over a unit height (and reports that height in its messages); it is
  // recorded as one node of the 1-d tensors, as PyTorch's.
  bool unit_height = spatial_dims == 1;
  Tensor input_2d = input, weight_2d = weight;
  if (unit_height) {
    AutoGradMode no_grad(false);
    input_2d = unsqueeze(input, 2);
    weight_2d = unsqueeze(weight, 2);
    stride = with_unit_height(stride, 1);
    padding = with_unit_height(padding, 0);
    output_padding = with_unit_height(output_padding, 0);
    dilation = with_unit_height(dilation, 1);
  }
  const DimVec& sizes_2d = input_2d.sizes();
  const DimVec& weight_sizes_2d = weight_2d.sizes();
  TG_CHECK(dilation[0] > 0 && dilation[1] > 0, "dilation should be greater than zero, but got dilation_height: ",
           dilation[0], ", dilation_width: ", dilation[1]);
  TG_CHECK((output_padding[0] < stride[0] || output_padding[0] < dilation[0]) &&
           (output_padding[1] < stride[1] || output_padding[1] < dilation[1]),
           "output padding must be smaller than either stride or dilation, but got output_padding_height: ",
           output_padding[0], " output_padding_width: ", output_padding[1], " stride_height: ", stride[0],
           " stride_width: ", stride[1], " dilation_height: ", dilation[0], " dilation_width: ", dilation[1]);
  TG_CHECK(weight.numel() > 0, "non-empty 2D or 4D weight tensor expected, but got: ", shape_str(weight_sizes_2d));
  Window2d window{};
  int64_t out_size[2];
  for (int64_t d = 0; d < 2; ++d) {
    out_size[d] = (sizes_2d[2 + d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (weight_sizes_2d[2 + d] - 1) +
                  output_padding[d] + 1;
    window.kernel[d] = weight_sizes_2d[2 + d];
    window.stride[d] = stride[d];
    window.padding[d] = padding[d];
    window.dilation[d] = dilation[d];
    window.out[d] = sizes_2d[2 + d];
  }
  TG_CHECK(out_size[0] >= 1 && out_size[1] >= 1, "Given input size per channel: (", sizes_2d[2], " x ", sizes_2d[3],
           "). Calculated output size per channel: (", out_size[0], " x ", out_size[1], "). Output size is too small");
  // ATen's messages: the float32 path checks the weight as its oneDNN kernel does, the others as the slow one.
  if (input.dtype() == ScalarType::Float32)
    TG_CHECK(weight.dtype() == input.dtype(), "Input type (torch.", legacy_type_name(input.dtype()),
             ") and weight type (torch.", legacy_type_name(weight.dtype()),
             ") should be the same or input should be a MKLDNN tensor and weight is a dense tensor");
  TG_CHECK(weight.dtype() == input.dtype(), "expected scalar type ", scalar_type_word(input.dtype()),
           " but found ", scalar_type_word(weight.dtype()));
  if (!is_floating(input.dtype()))
    throw NotImplementedError(str_cat("\"conv_transpose", spatial_dims, "d\" not implemented for '",
                                      dtype_name(input.dtype()), "'"));
  // A float32 bias is converted for a float64 input, as ATen's slow kernel does; the oneDNN one refuses a mismatch.
  TG_CHECK(!bias.defined() || bias.dtype() == input.dtype() || input.dtype() == ScalarType::Float64,
           "Input type (torch.", legacy_type_name(input.dtype()), ") and bias type (torch.",
           legacy_type_name(bias.dtype()), ") should be the same or input should be a MKLDNN tensor and bias is a "
           "dense tensor");
  Tensor out = empty(DimVec{sizes[0], out_channels, out_size[0], out_size[1]}, input.dtype(), input.device());
  {
    AutoGradMode no_grad(false);
    if (out.numel() > 0) {
      backend_for(out.device()).conv2d_backward_input(out, contiguous(input_2d), contiguous(weight_2d), window,
                                                      groups);
      if (bias.defined()) add_(out, reshape(to_dtype(bias, input.dtype()), DimVec{out_channels, 1, 1}));
    }
    if (unit_height) out = own_result(squeeze(out, 2));
  }
  if (compute_requires_grad(input, weight, bias)) {
    auto node = make_node<ConvolutionTransposeBackward>(input, weight, bias);
    node->input = SavedTensor(input, false);
    node->weight = SavedTensor(weight, false);
    node->window = window;
    node->groups = groups;
    node->has_bias = bias.defined();
    node->unit_height = unit_height;
    set_history(out, node);
  }
  return out;
}

// ---- pooling ----

namespace {

// PyTorch's pooling_output_shape for one dim, with its checks.
int64_t pooled_size(int64_t size, int64_t kernel, int64_t pad, int64_t stride, int64_t dilation, bool ceil_mode) {
  TG_CHECK(stride != 0, "stride should not be zero");
  TG_CHECK(pad >= 0, "pad must be non-negative, but got pad: ", pad);
  TG_CHECK(pad <= ((kernel - 1) * dilation + 1) / 2, "pad should be at most half of effective kernel size, but got pad=",
           pad, ", kernel_size=", kernel, " and dilation=", dilation);
  int64_t span = size + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;  // floor division
  // The last window must start inside the input or its left padding.
  if (ceil_mode && (out - 1) * stride >= size + pad) --out;
  return out;
}

// A pooling window over the last two dims of x (3-D or 4-D), checked as ATen's pool2d_shape_check does.
Window2d pool_window(const Tensor& x, const char* fn, const DimVec& kernel_in, const DimVec& stride_in,
                     const DimVec& padding_in, const DimVec& dilation_in, bool ceil_mode) {
  auto two = [fn](const DimVec& v, const char* rule) {
    TG_CHECK(v.size() == 1 || v.size() == 2, fn, ": ", rule);
    return v.size() == 1 ? DimVec{v[0], v[0]} : v;
  };
  DimVec kernel = two(kernel_in, "kernel_size must either be a single int, or a tuple of two ints");
  DimVec stride = stride_in.empty() ? kernel
                                    : two(stride_in, "stride must either be omitted, a single int, or a tuple of two ints");
  DimVec padding = two(padding_in, "padding must either be a single int, or a tuple of two ints");
  DimVec dilation = two(dilation_in, "dilation must be either a single int, or a tuple of two ints");
  Window2d window{};
  int64_t sizes[2] = {plane_rows(x), plane_cols(x)};
  for (int d = 0; d < 2; ++d) {
    window.out[d] = pooled_size(sizes[d], kernel[d], padding[d], stride[d], dilation[d], ceil_mode);
    window.kernel[d] = kernel[d];
    window.stride[d] = stride[d];
    window.padding[d] = padding[d];
    window.dilation[d] = dilation[d];
  }
  TG_CHECK(kernel[0] > 0 && kernel[1] > 0, "kernel size should be greater than zero, but got kH: ", kernel[0],
           " kW: ", kernel[1]);
  TG_CHECK(stride[0] > 0 && stride[1] > 0, "stride should be greater than zero, but got dH: ", stride[0], " dW: ",
           stride[1]);
  TG_CHECK(dilation[0] > 0 && dilation[1] > 0, "dilation should be greater than zero, but got dilationH: ",
           dilation[0], " dilationW: ", dilation[1]);
  int64_t channels = x.sizes()[x.dim() - 3];
  TG_CHECK(window.out[0] >= 1 && window.out[1] >= 1, "Given input size: (", channels, "x", sizes[0], "x", sizes[1],
           "). Calculated output size: (", channels, "x", window.out[0], "x", window.out[1],
           "). Output size is too small");
  return window;
}

// x's sizes with the last two replaced by the window's output size.
DimVec pooled_sizes(const Tensor& x, const Window2d& window) {
  DimVec sizes = x.sizes();
  sizes[x.dim() - 2] = window.out[0];
  sizes[x.dim() - 1] = window.out[1];
  return sizes;
}

// Every [H, W] plane of x as the channels of one sample: [1, planes, H, W], contiguous, without history.
Tensor as_planes(const Tensor& x) {
  Tensor c = contiguous(x);
  DimVec sizes{1, c.numel() / (plane_rows(c) * plane_cols(c)), plane_rows(c), plane_cols(c)};
  return make_view(c, sizes, contiguous_strides(sizes), c.offset());
}

}  // namespace

struct MaxPool2DWithIndicesBackward0 : Node {
  DimVec input_sizes;
  SavedTensor indices;
  std::string name() const override { return "MaxPool2DWithIndicesBackward0"; }
  // Each output's gradient lands on the input element that won its window (windows may share one).
  TensorList apply(TensorList&& grads) override {
    int64_t plane = input_sizes[input_sizes.size() - 2] * input_sizes.back();
    int64_t planes = numel_of(input_sizes) / plane;
    const Tensor& g = grads[0];
    Tensor flat_grad = scatter_add(zeros(DimVec{planes, plane}, g.dtype(), g.device()), 1,
                                   reshape(indices.unpack(*this), DimVec{planes, -1}), reshape(g, DimVec{planes, -1}));
    return {reshape(flat_grad, input_sizes)};
  }
  void release_saved() override { indices.reset(); }
};

std::pair<Tensor, Tensor> max_pool2d(const Tensor& input, const DimVec& kernel, const DimVec& stride,
                                     const DimVec& padding, const DimVec& dilation, bool ceil_mode) {
  bool nonempty = input.dim() == 3 || input.dim() == 4;
  for (int64_t d = input.dim() - 3; nonempty && d < input.dim(); ++d) nonempty = input.sizes()[d] > 0;
  TG_CHECK(nonempty, "non-empty 3D or 4D (batch mode) tensor expected for input");
  Window2d window = pool_window(input, "max_pool2d", kernel, stride, padding, dilation, ceil_mode);
  DimVec out_sizes = pooled_sizes(input, window);
  Tensor indices = empty(out_sizes, ScalarType::Int64, input.device());
  Tensor values = record_as<MaxPool2DWithIndicesBackward0>(input, [&] {
    Tensor out = empty(out_sizes, input.dtype(), input.device());
    backend_for(input.device()).max_pool2d(out, indices, as_planes(input), window);
    return out;
  }, [&](MaxPool2DWithIndicesBackward0& node) {
    node.input_sizes = input.sizes();
    node.indices = SavedTensor(indices, false);
  });
  return {values, indices};
}

struct AvgPool2DBackward0 : Node {
  DimVec input_sizes;
  Window2d window{};
  Tensor divisor;  // [oh * ow]: what each window's sum was divided by
  std::string name() const override { return "AvgPool2DBackward0"; }
  // Each window spreads its gradient, divided like its sum was, over the elements it covered.
  TensorList apply(TensorList&& grads) override {
    int64_t height = input_sizes[input_sizes.size() - 2], width = input_sizes.back();
    int64_t planes = numel_of(input_sizes) / (height * width), positions = divisor.numel();
    int64_t kernel = window.kernel[0] * window.kernel[1];
    Tensor per_window = div(reshape(grads[0], DimVec{planes, 1, positions}), divisor);
    Tensor cols = reshape(expand(per_window, DimVec{planes, kernel, positions}), DimVec{1, planes * kernel, positions});
    return {reshape(col2im(cols, window, planes, height, width), input_sizes)};
  }
};

namespace {

// ATen's avg_pool2d divisor for each output position: the window's size within the padded input, or only
// within the input without count_include_pad, or the override.
Tensor average_divisors(const Window2d& w, int64_t height, int64_t width, bool count_include_pad,
                        std::optional<int64_t> divisor_override, ScalarType dtype, Device device) {
  Tensor divisors = empty(DimVec{w.out[0] * w.out[1]}, ScalarType::Float64);
  double* out = divisors.data<double>();
  for (int64_t oh = 0; oh < w.out[0]; ++oh)
    for (int64_t ow = 0; ow < w.out[1]; ++ow) {
      int64_t h0 = oh * w.stride[0] - w.padding[0], w0 = ow * w.stride[1] - w.padding[1];
      int64_t h1 = std::min(h0 + w.kernel[0], height + w.padding[0]);
      int64_t w1 = std::min(w0 + w.kernel[1], width + w.padding[1]);
      int64_t padded_count = (h1 - h0) * (w1 - w0);
      h0 = std::max<int64_t>(h0, 0);
      w0 = std::max<int64_t>(w0, 0);
      h1 = std::min(h1, height);
      w1 = std::min(w1, width);
      int64_t count = count_include_pad ? padded_count : (h1 - h0) * (w1 - w0);
      // A window entirely in the padding sums nothing; any divisor leaves its 0.
      out[oh * w.out[1] + ow] = double(divisor_override ? *divisor_override : (count > 0 ? count : 1));
    }
  return to_device(to_dtype(divisors, dtype), device);
}

}  // namespace

Tensor avg_pool2d(const Tensor& input, const DimVec& kernel, const DimVec& stride, const DimVec& padding,
                  bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override) {
  wrap_dim(-3, input.dim());  // fewer than 3 dims: PyTorch's IndexError
  TG_CHECK(input.dim() == 3 || input.dim() == 4, "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch "
           "size for input, but got:", shape_str(input.sizes()));
  TG_CHECK(!divisor_override || *divisor_override != 0, "divisor must be not zero");
  Window2d window = pool_window(input, "avg_pool2d", kernel, stride, padding, DimVec{1}, ceil_mode);
  Tensor divisor = average_divisors(window, plane_rows(input), plane_cols(input), count_include_pad,
                                    divisor_override, input.dtype(), input.device());
  return record_as<AvgPool2DBackward0>(input, [&] {
    Tensor cols = im2col(as_planes(input), window);
    int64_t planes = cols.sizes()[1] / (window.kernel[0] * window.kernel[1]);
    Tensor sums = sum(reshape(cols, DimVec{planes, window.kernel[0] * window.kernel[1], divisor.numel()}),
                      DimVec{1}, false);
    return reshape(div(sums, divisor), pooled_sizes(input, window));
  }, [&](AvgPool2DBackward0& node) {
    node.input_sizes = input.sizes();
    node.window = window;
    node.divisor = divisor;
  });
}

struct AdaptiveAvgPool2DBackward0 : Node {
  Tensor row_pool, col_pool;  // see adaptive_avg_pool2d
  std::string name() const override { return "AdaptiveAvgPool2DBackward0"; }
  TensorList apply(TensorList&& grads) override {
    return {matmul(matmul(transpose(row_pool, 0, 1), grads[0]), col_pool)};
  }
};

namespace {

// [out, in]: row i averages PyTorch's adaptive window [floor(i * in / out), ceil((i + 1) * in / out)).
Tensor adaptive_pool_matrix(int64_t out, int64_t in, ScalarType dtype, Device device) {
  Tensor m = zeros(DimVec{out, in}, ScalarType::Float64);
  double* data = m.data<double>();
  for (int64_t i = 0; i < out; ++i) {
    int64_t start = (i * in) / out, end = ((i + 1) * in + out - 1) / out;
    for (int64_t j = start; j < end; ++j) data[i * in + j] = 1.0 / double(end - start);
  }
  return to_device(to_dtype(m, dtype), device);
}

}  // namespace

Tensor adaptive_avg_pool2d(const Tensor& input, const DimVec& output_size) {
  TG_CHECK(output_size.size() == 2, "adaptive_avg_pool2d: output_size must be 2");
  TG_CHECK(output_size[0] >= 0 && output_size[1] >= 0, "adaptive_avg_pool2d: elements of output_size must be greater "
           "than or equal to 0 but received {", output_size[0], ", ", output_size[1], "}");
  TG_CHECK(input.dim() == 3 || input.dim() == 4, "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got ",
           shape_str(input.sizes()));
  // As ATen: a 1x1 output is the mean over the plane.
  if (output_size[0] == 1 && output_size[1] == 1) return mean(input, DimVec{-2, -1}, true);
  if (!is_floating(input.dtype()))
    throw NotImplementedError(str_cat("\"adaptive_avg_pool2d\" not implemented for '", dtype_name(input.dtype()), "'"));
  // out = row_pool @ x @ col_pool.T, each pool matrix averaging the windows along one dim.
  Tensor row_pool = adaptive_pool_matrix(output_size[0], plane_rows(input), input.dtype(), input.device());
  Tensor col_pool = adaptive_pool_matrix(output_size[1], plane_cols(input), input.dtype(), input.device());
  return record_as<AdaptiveAvgPool2DBackward0>(input, [&] {
    return contiguous(matmul(matmul(row_pool, input), transpose(col_pool, 0, 1)));
  }, [&](AdaptiveAvgPool2DBackward0& node) {
    node.row_pool = row_pool;
    node.col_pool = col_pool;
  });
}

}  // namespace tg::ops
