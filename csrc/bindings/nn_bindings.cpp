// tapegrad._C._nn: the ops behind tapegrad.nn.functional. The Python layer handles legacy
// arguments (size_average, reduce) and calls these with plain values.
#include "autograd/node.h"
#include "bindings/python.h"
#include "ops/nn.h"
#include "ops/ops.h"

namespace tg::py_bridge {

namespace {

using OptTensor = std::optional<Tensor>;

Tensor value_or_undefined(const OptTensor& t) { return t ? *t : Tensor(); }

// reduction: 'mean', 'sum' or 'none'; anything else (of any type) is a ValueError, as in PyTorch.
ops::Reduction reduction_from(py::handle reduction) {
  std::string name = py::str(reduction);
  if (PyUnicode_Check(reduction.ptr())) {
    if (name == "mean") return ops::Reduction::Mean;
    if (name == "sum") return ops::Reduction::Sum;
    if (name == "none") return ops::Reduction::None;
  }
  throw ValueError(name + " is not a valid value for reduction");
}

// PyTorch's warning when a pointwise loss would broadcast input against target.
void warn_if_broadcasting(const Tensor& input, const Tensor& target) {
  if (input.sizes() == target.sizes()) return;
  py::object target_size = py::reinterpret_steal<py::object>(size_to_py(target.sizes()));
  py::object input_size = py::reinterpret_steal<py::object>(size_to_py(input.sizes()));
  std::string msg = "Using a target size (" + py::repr(target_size).cast<std::string>() +
                    ") that is different to the input size (" + py::repr(input_size).cast<std::string>() +
                    "). This will likely lead to incorrect results due to broadcasting. "
                    "Please ensure they have the same size.";
  if (PyErr_WarnEx(PyExc_UserWarning, msg.c_str(), 2) < 0) throw py::error_already_set();
}

// self.op_() for an op without an in-place kernel; returns self.
py::object write_back(py::object self, const std::function<Tensor(const Tensor&)>& op) {
  Tensor t = unwrap(self.ptr());
  compute_inplace(t, op);
  return self;
}

// The fused LSTM layer's arguments: tapegrad.nn.LSTM passes consistent ones; this guards direct calls.
void check_lstm_layer(const Tensor& gates, const std::vector<Tensor>& states, const Tensor& w_hh,
                      const OptTensor& b_hh) {
  TG_CHECK(gates.dim() == 3 && gates.sizes()[2] % 4 == 0 && gates.numel() > 0,
           "LSTM layer: the gates must be a non-empty [T, B, 4H] tensor");
  TG_CHECK(is_floating(gates.dtype()), "LSTM layer: expected a floating point dtype");
  const int64_t steps = gates.sizes()[0], batch = gates.sizes()[1], gate_size = gates.sizes()[2];
  const DimVec state_shape{batch, gate_size / 4}, sequence_shape{steps, batch, gate_size / 4};
  for (const Tensor& state : states)
    TG_CHECK(state.sizes() == state_shape || state.sizes() == sequence_shape, "LSTM layer: a state of shape ",
             shape_str(state.sizes()), " does not match the gates' ", shape_str(gates.sizes()));
  TG_CHECK(w_hh.sizes() == (DimVec{gate_size, gate_size / 4}), "LSTM layer: w_hh must be [4H, H]");
  TG_CHECK(!b_hh || b_hh->sizes() == DimVec{gate_size}, "LSTM layer: b_hh must be [4H]");
  for (const Tensor& t : states) TG_CHECK(t.dtype() == gates.dtype(), "LSTM layer: dtypes differ");
  TG_CHECK(w_hh.dtype() == gates.dtype() && (!b_hh || b_hh->dtype() == gates.dtype()), "LSTM layer: dtypes differ");
}

}  // namespace

void bind_nn(py::module_& m) {
  py::module_ nn = m.def_submodule("_nn", "tapegrad.nn.functional's C++ ops");

  nn.def("linear", [](const Tensor& input, const Tensor& weight, const OptTensor& bias) {
    return ops::linear(input, weight, value_or_undefined(bias));
  }, py::arg("input"), py::arg("weight"), py::arg("bias") = py::none());

  nn.def("gelu", [](const Tensor& input, const std::string& approximate) {
    TG_CHECK(approximate == "none" || approximate == "tanh", "approximate argument must be either none or tanh.");
    return ops::gelu(input, approximate == "tanh");
  }, py::arg("input"), py::arg("approximate") = "none");
  def_both(m, "erf", [](const Tensor& input) { return ops::erf(input); }, py::arg("input"));
  nn.def("leaky_relu", [](const Tensor& input, double negative_slope) {
    return ops::leaky_relu(input, negative_slope);
  }, py::arg("input"), py::arg("negative_slope") = 0.01);
  nn.def("leaky_relu_", [](py::object self, double negative_slope) {
    Tensor t = unwrap(self.ptr());
    ops::leaky_relu_(t, negative_slope);
    return self;
  }, py::arg("input"), py::arg("negative_slope") = 0.01);
  nn.def("silu", &ops::silu, py::arg("input"));
  nn.def("elu", &ops::elu, py::arg("input"), py::arg("alpha") = 1.0);
  nn.def("softplus", &ops::softplus, py::arg("input"), py::arg("beta") = 1.0, py::arg("threshold") = 20.0);
  nn.def("hardtanh", &ops::hardtanh, py::arg("input"), py::arg("min_val") = -1.0, py::arg("max_val") = 1.0);
  nn.def("logsigmoid", &ops::logsigmoid, py::arg("input"));
  nn.def("mish", &ops::mish, py::arg("input"));
  // In place: computed out of place and written back, recording the out-of-place op's node.
  nn.def("silu_", [](py::object self) { return write_back(self, [](const Tensor& x) { return ops::silu(x); }); },
         py::arg("input"));
  nn.def("elu_", [](py::object self, double alpha) {
    return write_back(self, [alpha](const Tensor& x) { return ops::elu(x, alpha); });
  }, py::arg("input"), py::arg("alpha") = 1.0);
  nn.def("hardtanh_", [](py::object self, double min_val, double max_val) {
    return write_back(self, [=](const Tensor& x) { return ops::hardtanh(x, min_val, max_val); });
  }, py::arg("input"), py::arg("min_val") = -1.0, py::arg("max_val") = 1.0);
  nn.def("mish_", [](py::object self) { return write_back(self, [](const Tensor& x) { return ops::mish(x); }); },
         py::arg("input"));
  nn.def("conv2d", [](const Tensor& input, const Tensor& weight, const OptTensor& bias, const DimVec& stride,
                     const DimVec& padding_before, const DimVec& padding_after, const DimVec& dilation, int64_t groups) {
    return ops::conv2d(input, weight, value_or_undefined(bias), stride, padding_before, padding_after, dilation,
                       groups);
  }, py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding_before"),
     py::arg("padding_after"), py::arg("dilation"), py::arg("groups"));
  nn.def("conv_transpose", [](const Tensor& input, const Tensor& weight, const OptTensor& bias, const DimVec& stride,
                             const DimVec& padding, const DimVec& output_padding, int64_t groups,
                             const DimVec& dilation, int64_t spatial_dims) {
    return ops::conv_transpose(input, weight, value_or_undefined(bias), stride, padding, output_padding, dilation,
                               groups, spatial_dims);
  }, py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
     py::arg("output_padding"), py::arg("groups"), py::arg("dilation"), py::arg("spatial_dims"));
  // stride=None (or an empty tuple) is the kernel size.
  nn.def("max_pool2d", [](const Tensor& input, const DimVec& kernel_size, const std::optional<DimVec>& stride,
                         const DimVec& padding, const DimVec& dilation, bool ceil_mode) {
    return ops::max_pool2d(input, kernel_size, stride.value_or(DimVec()), padding, dilation, ceil_mode);
  }, py::arg("input"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
     py::arg("ceil_mode"));
  nn.def("avg_pool2d", [](const Tensor& input, const DimVec& kernel_size, const std::optional<DimVec>& stride,
                         const DimVec& padding, bool ceil_mode, bool count_include_pad,
                         std::optional<int64_t> divisor_override) {
    return ops::avg_pool2d(input, kernel_size, stride.value_or(DimVec()), padding, ceil_mode, count_include_pad,
                           divisor_override);
  }, py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
     py::arg("ceil_mode") = false, py::arg("count_include_pad") = true, py::arg("divisor_override") = py::none());
  nn.def("adaptive_avg_pool2d", &ops::adaptive_avg_pool2d, py::arg("input"), py::arg("output_size"));
  nn.def("dropout", [](py::object input, double p, bool train, bool inplace) -> py::object {
    Tensor t = py::cast<Tensor>(input);
    Tensor out = ops::dropout(t, p, train, inplace);
    return out.is_same(t) ? input : py::cast(out);
  }, py::arg("input"), py::arg("p"), py::arg("train").noconvert(), py::arg("inplace").noconvert() = false);
  nn.def("embedding", [](const Tensor& weight, const Tensor& indices, int64_t padding_idx, bool scale_grad_by_freq) {
    return ops::embedding(weight, indices, padding_idx, scale_grad_by_freq);
  }, py::arg("weight"), py::arg("indices"), py::arg("padding_idx") = -1, py::arg("scale_grad_by_freq").noconvert() = false);
  nn.def("layer_norm", [](const Tensor& input, py::handle normalized_shape, const OptTensor& weight,
                          const OptTensor& bias, double eps) {
    return ops::layer_norm(input, shape_arg(normalized_shape, "layer_norm", "normalized_shape", 2),
                           value_or_undefined(weight), value_or_undefined(bias), eps);
  }, py::arg("input"), py::arg("normalized_shape"), py::arg("weight") = py::none(), py::arg("bias") = py::none(),
     py::arg("eps") = 1e-5);
  nn.def("batch_norm", [](const Tensor& input, const OptTensor& running_mean, const OptTensor& running_var,
                          const OptTensor& weight, const OptTensor& bias, bool training, double momentum, double eps) {
    return ops::batch_norm(input, value_or_undefined(running_mean), value_or_undefined(running_var),
                           value_or_undefined(weight), value_or_undefined(bias), training, momentum, eps);
  }, py::arg("input"), py::arg("running_mean"), py::arg("running_var"), py::arg("weight") = py::none(),
     py::arg("bias") = py::none(), py::arg("training").noconvert() = false, py::arg("momentum") = 0.1, py::arg("eps") = 1e-5);
  nn.def("one_hot", [](const Tensor& indices, int64_t num_classes) { return ops::one_hot(indices, num_classes); },
         py::arg("tensor"), py::arg("num_classes") = -1);

  // ---- losses; reduction is 'mean', 'sum' or 'none' ----
  nn.def("mse_loss", [](const Tensor& input, const Tensor& target, py::handle reduction) {
    warn_if_broadcasting(input, target);
    return ops::mse_loss(input, target, reduction_from(reduction));
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean");
  nn.def("l1_loss", [](const Tensor& input, const Tensor& target, py::handle reduction) {
    warn_if_broadcasting(input, target);
    return ops::l1_loss(input, target, reduction_from(reduction));
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean");
  nn.def("smooth_l1_loss", [](const Tensor& input, const Tensor& target, py::handle reduction, double beta) {
    warn_if_broadcasting(input, target);
    return ops::smooth_l1_loss(input, target, reduction_from(reduction), beta);
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("beta") = 1.0);
  nn.def("binary_cross_entropy", [](const Tensor& input, const Tensor& target, const OptTensor& weight,
                                    py::handle reduction) {
    TG_CHECK_VALUE(input.sizes() == target.sizes(), "Using a target size (",
                   py::repr(py::reinterpret_steal<py::object>(size_to_py(target.sizes()))).cast<std::string>(),
                   ") that is different to the input size (",
                   py::repr(py::reinterpret_steal<py::object>(size_to_py(input.sizes()))).cast<std::string>(),
                   ") is deprecated. Please ensure they have the same size.");
    return ops::binary_cross_entropy(input, target, value_or_undefined(weight), reduction_from(reduction));
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("reduction") = "mean");
  nn.def("binary_cross_entropy_with_logits", [](const Tensor& input, const Tensor& target, const OptTensor& weight,
                                                const OptTensor& pos_weight, py::handle reduction) {
    TG_CHECK_VALUE(input.sizes() == target.sizes(), "Target size (",
                   py::repr(py::reinterpret_steal<py::object>(size_to_py(target.sizes()))).cast<std::string>(),
                   ") must be the same as input size (",
                   py::repr(py::reinterpret_steal<py::object>(size_to_py(input.sizes()))).cast<std::string>(), ")");
    return ops::binary_cross_entropy_with_logits(input, target, value_or_undefined(weight),
                                                 value_or_undefined(pos_weight), reduction_from(reduction));
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("pos_weight") = py::none(),
     py::arg("reduction") = "mean");
  nn.def("nll_loss", [](const Tensor& input, const Tensor& target, const OptTensor& weight,
                        py::handle reduction, int64_t ignore_index) {
    return ops::nll_loss(input, target, value_or_undefined(weight), reduction_from(reduction), ignore_index);
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("reduction") = "mean",
     py::arg("ignore_index") = -100);
  // tapegrad.nn.LSTM's fused layer: the forward without autograd, and its backward (see ops/nn.h).
  nn.def("_lstm_layer_forward", [](const Tensor& input_gates, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                                   const OptTensor& b_hh, bool reverse) {
    check_lstm_layer(input_gates, {h0, c0}, w_hh, b_hh);
    return ops::lstm_layer_forward(input_gates, h0, c0, w_hh, value_or_undefined(b_hh), reverse);
  });
  nn.def("_lstm_layer_backward", [](const OptTensor& grad_output, const OptTensor& grad_hn, const OptTensor& grad_cn,
                                    const Tensor& gates, const Tensor& cells, const Tensor& output, const Tensor& h0,
                                    const Tensor& c0, const Tensor& w_hh, bool has_bias, bool reverse) {
    std::vector<Tensor> states{cells, output, h0, c0};
    for (const OptTensor& g : {grad_output, grad_hn, grad_cn})
      if (g) states.push_back(*g);
    check_lstm_layer(gates, states, w_hh, std::nullopt);
    TG_CHECK(cells.sizes() == output.sizes() && cells.dim() == 3, "LSTM layer: cells and output must be [T, B, H]");
    return ops::lstm_layer_backward(value_or_undefined(grad_output), value_or_undefined(grad_hn),
                                    value_or_undefined(grad_cn), gates, cells, output, h0, c0, w_hh, has_bias,
                                    reverse);
  });
  nn.def("cross_entropy", [](const Tensor& input, const Tensor& target, const OptTensor& weight,
                             py::handle reduction, int64_t ignore_index, double label_smoothing) {
    return ops::cross_entropy(input, target, value_or_undefined(weight), reduction_from(reduction), ignore_index,
                              label_smoothing);
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("reduction") = "mean",
     py::arg("ignore_index") = -100, py::arg("label_smoothing") = 0.0);
}

}  // namespace tg::py_bridge
