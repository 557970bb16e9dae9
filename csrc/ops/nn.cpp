// nn ops: linear, activations, dropout, embedding, normalisation and losses, forward and
// backward side by side. Hot paths (linear, mse_loss, nll_loss) run fused kernels; under
// create_graph every backward switches to the same formula written with differentiable ops.
#include "ops/nn.h"
#include <algorithm>
#include <cmath>
#include <mutex>
#include "autograd/node.h"
#include "core/grad_mode.h"
#include "core/rng.h"
#include "ops/elementwise_util.h"
#include "ops/ops.h"

namespace tg::ops {

namespace {

Tensor num(double v) { return wrapped_scalar(Scalar(v)); }

void check_floating(const Tensor& t, const char* kernel) {
  if (!is_floating(t.dtype()))
    throw NotImplementedError(str_cat("\"", kernel, "\" not implemented for '", scalar_type_word(t.dtype()), "'"));
}

void check_not_differentiable(const Tensor& t, const char* fn, const char* arg) {
  TG_CHECK(!compute_requires_grad(t), "The function '", fn, "' is not differentiable with respect to argument '", arg,
           "'. This input cannot have requires_grad True.");
}

// [1, ..., C, ..., 1] with C at `dim` of `ndim` dims: per-channel values broadcast against an input.
DimVec channel_shape(int64_t channels, int64_t dim, int64_t ndim) {
  DimVec shape(static_cast<size_t>(ndim), 1);
  shape[dim] = channels;
  return shape;
}

Tensor channel_view(const Tensor& t, int64_t dim, int64_t ndim) {
  return reshape(t, channel_shape(t.numel(), dim, ndim));
}

// t / divisor, recorded as ATen's division by a Scalar (DivBackward1).
struct DivBackward1 : Node {
  double divisor = 1;
  std::string name() const override { return "DivBackward1"; }
  TensorList apply(TensorList&& grads) override { return {div(grads[0], wrapped_scalar(Scalar(divisor)))}; }
};

Tensor div_scalar(const Tensor& t, double divisor) {
  Tensor out = empty(t.sizes(), t.dtype(), t.device());
  Tensor d = scalar_tensor(Scalar(divisor), t.dtype(), t.device());
  backend_for(t.device()).binary(BinaryOp::Div, out, t, expand_view(d, t.sizes()));
  if (compute_requires_grad(t)) {
    auto node = make_node<DivBackward1>(t);
    node->divisor = divisor;
    set_history(out, node);
  }
  return out;
}

DimVec range_dims(int64_t begin, int64_t end) {
  DimVec dims;
  for (int64_t d = begin; d < end; ++d) dims.push_back(d);
  return dims;
}

}  // namespace

// ---- linear ----

struct LinearBackward : Node {
  SavedTensor input, weight;
  bool has_bias = false;
  std::string name() const override { return has_bias ? "AddmmBackward0" : "MmBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    return {needs_input_grad(0) ? mm(g, weight.unpack(*this)) : Tensor(),
            needs_input_grad(1) ? mm(t(g), input.unpack(*this)) : Tensor(),
            has_bias && needs_input_grad(2) ? sum(g, DimVec{0}, false) : Tensor()};
  }
  void release_saved() override { input.reset(); weight.reset(); }
};

namespace {

// x [N, K] @ w.T [K, M] + bias in one BLAS call plus a broadcast add; w.T is a strided view.
Tensor linear_2d(const Tensor& x, const Tensor& w, const Tensor& bias) {
  int64_t n = x.sizes()[0], k = x.sizes()[1], m = w.sizes()[0];
  TG_CHECK(k == w.sizes()[1], "mat1 and mat2 shapes cannot be multiplied (", n, "x", k, " and ", w.sizes()[1], "x", m,
           ")");
  TG_CHECK(x.dtype() == w.dtype(), "expected m1 and m2 to have the same dtype, but got: ", cpp_type_name(x.dtype()),
           " != ", cpp_type_name(w.dtype()));
  Device device = common_device(x, w);
  DimVec out_shape{n, m};
  Tensor b;
  if (bias.defined()) {
    TG_CHECK(bias.dtype() == x.dtype(), "self and mat2 must have the same dtype, but got ",
             scalar_type_word(bias.dtype()), " and ", scalar_type_word(w.dtype()));
    // ATen's addmm expands the bias to the output's shape.
    TG_CHECK(bias.dim() <= 2, "expand(torch.", legacy_type_name(bias.dtype()), "{", shape_str(bias.sizes()),
             "}, size=", shape_str(out_shape), "): the number of sizes provided (2) must be greater or equal to the "
             "number of dimensions in the tensor (", bias.dim(), ")");
    for (int64_t i = 1; i <= bias.dim(); ++i) {
      int64_t have = bias.sizes()[bias.dim() - i], want = out_shape[2 - i];
      TG_CHECK(have == want || have == 1, "The expanded size of the tensor (", want, ") must match the existing size (",
               have, ") at non-singleton dimension ", 2 - i, ".  Target sizes: ", shape_str(out_shape),
               ".  Tensor sizes: ", shape_str(bias.sizes()));
    }
    b = expand_view(bias, out_shape);
  }
  Tensor out = empty(out_shape, x.dtype(), device);
  Tensor lhs = make_view(x, DimVec{1, n, k}, DimVec{0, x.strides()[0], x.strides()[1]}, x.offset());
  Tensor rhs = make_view(w, DimVec{1, k, m}, DimVec{0, w.strides()[1], w.strides()[0]}, w.offset());
  Backend& backend = backend_for(device);
  backend.bmm(make_view(out, DimVec{1, n, m}, DimVec{0, m, 1}, 0), lhs, rhs);
  if (b.defined()) backend.binary(BinaryOp::Add, out, out, b);
  if (compute_requires_grad(x, w, bias)) {
    auto node = make_node<LinearBackward>(x, w, bias);
    node->has_bias = bias.defined();
    if (node->needs_input_grad(1)) node->input = SavedTensor(x, false);
    if (node->needs_input_grad(0)) node->weight = SavedTensor(w, false);
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  TG_CHECK(input.dim() >= 1 && weight.dim() >= 1, "both arguments to linear need to be at least 1D, but they are ",
           input.dim(), "D and ", weight.dim(), "D");
  if (input.dim() == 2 && weight.dim() == 2) return linear_2d(input, weight, bias);
  // ATen's addmm path for a 2-D input with a bias wants weight.t() to be a matrix.
  TG_CHECK(input.dim() != 2 || !bias.defined(), "mat2 must be a matrix, got ", weight.dim(), "-D tensor");
  // As ATen: a contiguous input with a bias runs flattened through the fused 2-D path; anything else
  // is matmul, plus the bias.
  if (bias.defined() && bias.dim() == 1 && weight.dim() == 2 && input.is_contiguous()) {
    DimVec out_shape = input.sizes();
    out_shape.back() = weight.sizes()[0];
    int64_t rows = 1;  // counted, not inferred with -1, which an empty input leaves ambiguous
    for (int64_t d = 0; d + 1 < input.dim(); ++d) rows *= input.sizes()[d];
    return view(linear_2d(view(input, DimVec{rows, input.sizes().back()}), weight, bias), out_shape);
  }
  Tensor out = matmul(input, weight.dim() == 1 ? weight : t(weight));
  return bias.defined() ? add_(out, bias) : out;  // in place, as ATen: the bias may not widen the output
}

// ---- the LSTM layer ----

namespace {

// Row t of a contiguous [T, rows, cols] tensor as a [rows, cols] matrix, or as a batch of one [1, rows, cols].
Tensor step_matrix(const Tensor& seq, int64_t t) {
  const int64_t rows = seq.sizes()[1], cols = seq.sizes()[2];
  return make_view(seq, DimVec{rows, cols}, DimVec{cols, 1}, seq.offset() + t * rows * cols);
}

Tensor as_batch(const Tensor& m) {
  return make_view(m, DimVec{1, m.sizes()[0], m.sizes()[1]}, DimVec{0, m.strides()[0], m.strides()[1]}, m.offset());
}

Tensor transposed_batch(const Tensor& m) {
  return make_view(m, DimVec{1, m.sizes()[1], m.sizes()[0]}, DimVec{0, m.strides()[1], m.strides()[0]}, m.offset());
}

}  // namespace

std::vector<Tensor> lstm_layer_forward(const Tensor& input_gates, const Tensor& h0, const Tensor& c0,
                                       const Tensor& w_hh, const Tensor& b_hh, bool reverse) {
  const int64_t steps = input_gates.sizes()[0], batch = input_gates.sizes()[1], gate_size = input_gates.sizes()[2];
  const int64_t hidden_size = gate_size / 4;
  const ScalarType dtype = input_gates.dtype();
  const Device device = input_gates.device();
  Backend& backend = backend_for(device);
  Tensor x = contiguous(input_gates), bias = b_hh.defined() ? contiguous(b_hh) : Tensor();
  Tensor output = empty(DimVec{steps, batch, hidden_size}, dtype, device);
  Tensor cells = empty(DimVec{steps, batch, hidden_size}, dtype, device);
  Tensor gates = empty(DimVec{steps, batch, gate_size}, dtype, device);
  Tensor w_hh_t = transposed_batch(w_hh);
  Tensor hidden = contiguous(h0), cell = contiguous(c0);
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = reverse ? steps - 1 - s : s;
    Tensor step_gates = step_matrix(gates, t);
    backend.bmm(as_batch(step_gates), as_batch(hidden), w_hh_t);
    Tensor next_hidden = step_matrix(output, t), next_cell = step_matrix(cells, t);
    backend.lstm_cell(next_hidden, next_cell, step_gates, step_matrix(x, t), bias, cell);
    hidden = next_hidden;
    cell = next_cell;
  }
  return {output, clone(hidden), clone(cell), gates, cells};
}

std::vector<Tensor> lstm_layer_backward(const Tensor& grad_output, const Tensor& grad_hn, const Tensor& grad_cn,
                                        const Tensor& saved_gates, const Tensor& saved_cells,
                                        const Tensor& saved_output, const Tensor& h0, const Tensor& c0,
                                        const Tensor& w_hh, bool has_bias, bool reverse) {
  Tensor gates = contiguous(saved_gates), cells = contiguous(saved_cells), output = contiguous(saved_output);
  const int64_t steps = gates.sizes()[0], batch = gates.sizes()[1], gate_size = gates.sizes()[2];
  const int64_t hidden_size = gate_size / 4;
  const ScalarType dtype = gates.dtype();
  const Device device = gates.device();
  Backend& backend = backend_for(device);
  const DimVec state_shape{batch, hidden_size};
  Tensor grad_out = grad_output.defined() ? contiguous(grad_output) : Tensor();
  // The gradients reaching the current step's hidden state through the recurrence, and its cell.
  Tensor grad_hidden = grad_hn.defined() ? clone(contiguous(grad_hn)) : zeros(state_shape, dtype, device);
  Tensor grad_cell = grad_cn.defined() ? clone(contiguous(grad_cn)) : zeros(state_shape, dtype, device);
  Tensor grad_prev_cell = empty(state_shape, dtype, device);
  Tensor grad_gates = empty(gates.sizes(), dtype, device);
  Tensor first_cell = contiguous(c0), first_hidden = contiguous(h0);
  for (int64_t s = steps - 1; s >= 0; --s) {
    const int64_t t = reverse ? steps - 1 - s : s;
    const int64_t previous = reverse ? t + 1 : t - 1;
    Tensor step_grad_gates = step_matrix(grad_gates, t);
    backend.lstm_cell_backward(step_grad_gates, grad_prev_cell, grad_hidden,
                               grad_out.defined() ? step_matrix(grad_out, t) : Tensor(), grad_cell,
                               step_matrix(gates, t), s == 0 ? first_cell : step_matrix(cells, previous),
                               step_matrix(cells, t));
    backend.bmm(as_batch(grad_hidden), as_batch(step_grad_gates), as_batch(w_hh));
    std::swap(grad_cell, grad_prev_cell);
  }
  // grad_w_hh = sum over steps of grad_gates[t].T @ (the hidden state step t read): h0 for the first step
  // processed, the output of the step before for the others; one GEMM over all of those.
  Tensor grad_w_hh = empty(DimVec{gate_size, hidden_size}, dtype, device);
  const int64_t first = reverse ? steps - 1 : 0;
  backend.bmm(as_batch(grad_w_hh), transposed_batch(step_matrix(grad_gates, first)), as_batch(first_hidden));
  if (steps > 1) {
    const int64_t rows = (steps - 1) * batch;
    Tensor later_grads = make_view(grad_gates, DimVec{rows, gate_size}, DimVec{gate_size, 1},
                                   reverse ? 0 : batch * gate_size);
    Tensor read_states = make_view(output, DimVec{rows, hidden_size}, DimVec{hidden_size, 1},
                                   output.offset() + (reverse ? batch * hidden_size : 0));
    Tensor rest = empty(DimVec{gate_size, hidden_size}, dtype, device);
    backend.bmm(as_batch(rest), transposed_batch(later_grads), as_batch(read_states));
    backend.binary(BinaryOp::Add, grad_w_hh, grad_w_hh, rest);
  }
  Tensor grad_b_hh = has_bias ? sum(grad_gates, DimVec{0, 1}, false) : Tensor();
  return {grad_gates, grad_hidden, grad_cell, grad_w_hh, grad_b_hh};
}

// ---- activations ----

struct ActivationBackward : Node {
  const char* op_name = "";
  ActivationOp op = ActivationOp::Gelu;
  double param = 0, param2 = 0;
  bool saves_result = false;  // in-place leaky_relu_ keeps its output instead of its input
  SavedTensor self;
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& grads) override {
    TG_CHECK(!saves_result || param >= 0,
             "In-place leakyReLu backward calculation is triggered with a negative slope which is not supported. "
             "This is caused by calling in-place forward function with a negative slope, please call out-of-place "
             "version instead. File an issue at https://github.com/pytorch/pytorch if you do require supporting "
             "in-place leakRelu backward calculation with negative slope");
    Tensor x = self.unpack(*this);
    Tensor g = cast_for_compute(grads[0], x.dtype());
    if (GradMode::is_enabled()) return {differentiable_grad(g, x)};
    Tensor grad_in = empty(x.sizes(), x.dtype(), x.device());
    backend_for(x.device()).activation_backward(op, grad_in, expand_view(g, x.sizes()), x, param, param2);
    return {grad_in};
  }
  void release_saved() override { self.reset(); }

  // The kernel's formula with tapegrad ops, for double backward.
  Tensor differentiable_grad(const Tensor& g, const Tensor& x) const;
};

namespace {

Tensor activation(ActivationOp op, const Tensor& x, double param, const char* kernel, const char* node_name,
                  double param2 = 0) {
  check_floating(x, kernel);
  Tensor out = empty(x.sizes(), x.dtype(), x.device());
  backend_for(x.device()).activation(op, out, x, param, param2);
  if (compute_requires_grad(x)) {
    auto node = make_node<ActivationBackward>(x);
    node->op_name = node_name;
    node->op = op;
    node->param = param;
    node->param2 = param2;
    node->self = SavedTensor(x, false);
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor erf(const Tensor& x) { return activation(ActivationOp::Erf, x, 0, "erf_vml_cpu", "ErfBackward0"); }

Tensor ActivationBackward::differentiable_grad(const Tensor& g, const Tensor& x) const {
  switch (op) {
    case ActivationOp::Gelu: {
      Tensor cdf = mul(add(erf(mul(x, num(M_SQRT1_2))), num(1.0)), num(0.5));
      Tensor pdf = mul(exp(mul(mul(x, x), num(-0.5))), num(M_2_SQRTPI * M_SQRT1_2 * 0.5));
      return mul(g, add(cdf, mul(x, pdf)));
    }
    case ActivationOp::GeluTanh: {
      const double beta = M_SQRT2 * M_2_SQRTPI * 0.5, kappa = 0.044715;
      Tensor x_sq = mul(x, x);
      Tensor th = tanh(mul(add(x, mul(mul(x_sq, x), num(kappa))), num(beta)));
      Tensor right_derivative = mul(mul(mul(x, num(0.5)), sub(num(1.0), mul(th, th))),
                                    mul(add(mul(x_sq, num(3 * kappa)), num(1.0)), num(beta)));
      return mul(g, add(mul(add(th, num(1.0)), num(0.5)), right_derivative));
    }
    case ActivationOp::LeakyRelu: return where(gt(x, num(0.0)), g, mul(g, num(param)));
    case ActivationOp::Erf: return mul(g, mul(exp(neg(mul(x, x))), num(M_2_SQRTPI)));
    case ActivationOp::Silu: {
      Tensor s = sigmoid(x);
      return mul(mul(g, s), add(mul(x, sub(num(1.0), s)), num(1.0)));
    }
    case ActivationOp::Elu: return where(gt(x, num(0.0)), g, mul(g, mul(exp(x), num(param))));
    case ActivationOp::Softplus: {
      Tensor scaled = mul(x, num(param));
      return where(gt(scaled, num(param2)), g, mul(g, sigmoid(scaled)));
    }
    case ActivationOp::Hardtanh:
      return where(logical_or(le(x, num(param)), ge(x, num(param2))), zeros_like(g), g);
    case ActivationOp::LogSigmoid: return mul(g, sigmoid(neg(x)));
    case ActivationOp::Mish: {
      Tensor t = tanh(softplus(x, 1.0, 20.0));
      return mul(g, add(t, mul(mul(x, sigmoid(x)), sub(num(1.0), mul(t, t)))));
    }
  }
  return Tensor();
}

Tensor silu(const Tensor& input) { return activation(ActivationOp::Silu, input, 0, "silu_cpu", "SiluBackward0"); }

Tensor elu(const Tensor& input, double alpha) {
  return activation(ActivationOp::Elu, input, alpha, "elu_cpu", "EluBackward0");
}

Tensor softplus(const Tensor& input, double beta, double threshold) {
  return activation(ActivationOp::Softplus, input, beta, "softplus_cpu", "SoftplusBackward0", threshold);
}

Tensor hardtanh(const Tensor& input, double min_val, double max_val) {
  TG_CHECK_VALUE(min_val <= max_val, "min_val cannot be greater than max_val");
  // As ATen, integer tensors are clamped to the bounds truncated to integers (they have no gradient).
  if (!is_floating(input.dtype()))
    return clamp(input, Scalar(static_cast<int64_t>(min_val)), Scalar(static_cast<int64_t>(max_val)));
  return activation(ActivationOp::Hardtanh, input, min_val, "hardtanh_cpu", "HardtanhBackward0", max_val);
}

Tensor logsigmoid(const Tensor& input) {
  return activation(ActivationOp::LogSigmoid, input, 0, "log_sigmoid_cpu", "LogSigmoidBackward0");
}

Tensor mish(const Tensor& input) { return activation(ActivationOp::Mish, input, 0, "mish_cpu", "MishBackward0"); }

Tensor gelu(const Tensor& input, bool tanh_approximation) {
  return activation(tanh_approximation ? ActivationOp::GeluTanh : ActivationOp::Gelu, input, 0, "GeluKernelImpl",
                    "GeluBackward0");
}

Tensor leaky_relu(const Tensor& input, double negative_slope) {
  return activation(ActivationOp::LeakyRelu, input, negative_slope, "leaky_relu_cpu", "LeakyReluBackward0");
}

Tensor& leaky_relu_(Tensor& self, double negative_slope) {
  check_floating(self, "leaky_relu_cpu");
  check_inplace(self);
  std::shared_ptr<ActivationBackward> node;
  if (compute_requires_grad(self)) {
    node = make_node<ActivationBackward>(self);
    node->op_name = "LeakyReluBackward1";
    node->op = ActivationOp::LeakyRelu;
    node->param = negative_slope;
    node->saves_result = true;
  }
  backend_for(self.device()).activation(ActivationOp::LeakyRelu, self, self, negative_slope, 0);
  self.bump_version();
  if (node) {
    rebase_history(self, node);
    // The result's sign is the input's for a non-negative slope, so the backward reads the result.
    node->self = SavedTensor(self, true);
  }
  return self;
}

// ---- dropout ----

namespace {

// True when t's elements fill one block of memory with no gaps or overlaps, in any dim order.
bool non_overlapping_and_dense(const Tensor& t) {
  DimVec dims;
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.sizes()[d] != 1) dims.push_back(d);
  std::sort(dims.begin(), dims.end(), [&](int64_t a, int64_t b) { return t.strides()[a] < t.strides()[b]; });
  int64_t expected = 1;
  for (int64_t d : dims) {
    if (t.strides()[d] != expected) return false;
    expected *= t.sizes()[d];
  }
  return true;
}

}  // namespace

Tensor dropout(const Tensor& input, double p, bool train, bool inplace) {
  TG_CHECK(p >= 0 && p <= 1, "dropout probability has to be between 0 and 1, but got ", p);
  if (p == 0 || !train || input.numel() == 0) return input;
  Tensor& self = const_cast<Tensor&>(input);
  if (p == 1) {
    Tensor zero = zeros(DimVec{}, input.dtype(), input.device());
    return inplace ? mul_(self, zero) : mul(input, zero);
  }
  // ATen scales by a float mask, which an integer or bool tensor cannot hold.
  TG_CHECK(is_floating(input.dtype()), "result type Float can't be cast to the desired output type ",
           scalar_type_word(input.dtype()));
  // ATen draws bernoulli_(1 - p) into empty_like(input), which keeps a dense input's strides, in
  // memory order; its default (non-MKL) CPU path takes one 53-bit uniform per element.
  Tensor buffer = empty(DimVec{input.numel()}, input.dtype());
  {
    Generator& gen = default_generator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    dispatch_floating(buffer.dtype(), "bernoulli", [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* data = buffer.data<T>();
      gen.bernoulli(data, buffer.numel(), 1 - p);
      const T scale = T(1) / T(1 - p);
      for (int64_t i = 0; i < buffer.numel(); ++i) data[i] = data[i] == T(0) ? T(0) : scale;
    });
  }
  const DimVec& strides = non_overlapping_and_dense(input) ? input.strides() : contiguous_strides(input.sizes());
  Tensor noise = to_device(make_view(buffer, input.sizes(), strides, 0), input.device());
  return inplace ? mul_(self, noise) : mul(input, noise);
}

// ---- embedding ----

namespace {

Tensor flat_indices(const Tensor& indices) {
  TG_CHECK(indices.dtype() == ScalarType::Int64,
           "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got "
           "torch.",
           legacy_type_name(indices.dtype()), " instead (while checking arguments for embedding)");
  return reshape(detach(indices), DimVec{indices.numel()});
}

// Rows of a [R, D] table picked (or written) by `index` [M]: the index kernels' geometry with the
// iteration shape [M, D], the table seen with stride 0 along its rows.
struct RowSpec {
  IndexSpec spec;
  Tensor table_view;
  RowSpec(const Tensor& table, const Tensor& index) {
    int64_t m = index.numel(), d = table.sizes()[1];
    spec.indices.push_back(make_view(index, DimVec{m, d}, DimVec{index.strides()[0], 0}, index.offset()));
    spec.sizes.push_back(table.sizes()[0]);
    spec.strides.push_back(table.strides()[0]);
    spec.wrap_negative = false;
    table_view = make_view(table, DimVec{m, d}, DimVec{0, table.strides()[1]}, table.offset());
  }
};

// out[i] = table[index[i]] with no history.
Tensor gather_rows(const Tensor& table, const Tensor& index) {
  Tensor out = empty(DimVec{index.numel(), table.sizes()[1]}, table.dtype(), table.device());
  RowSpec rows(table, index);
  try {
    backend_for(table.device()).index(out, rows.table_view, rows.spec);
  } catch (const IndexOutOfRange&) {
    throw IndexError("index out of range in self");
  }
  return out;
}

// table[index[i]] += values[i]; repeated indices add up.
void accumulate_rows(const Tensor& table, const Tensor& index, const Tensor& values) {
  RowSpec rows(table, index);
  backend_for(table.device()).index_put(rows.table_view, values, rows.spec, true);
}

Tensor embedding_dense_backward(const Tensor& grad, const Tensor& flat_idx, int64_t num_weights,
                                int64_t padding_idx, bool scale_grad_by_freq);

struct EmbeddingBackward0 : Node {
  SavedTensor indices;  // flattened, int64; never differentiated
  int64_t num_weights = 0, padding_idx = -1;
  bool scale_grad_by_freq = false;
  std::string name() const override { return "EmbeddingBackward0"; }
  TensorList apply(TensorList&& grads) override {
    return {embedding_dense_backward(grads[0], indices.unpack(*this), num_weights, padding_idx, scale_grad_by_freq)};
  }
  void release_saved() override { indices.reset(); }
};

// The backward of embedding_dense_backward (it is linear in grad): a gather of the rows.
struct EmbeddingDenseBackward0 : Node {
  Tensor indices;
  DimVec grad_sizes;
  int64_t padding_idx = -1;
  std::string name() const override { return "EmbeddingDenseBackward0"; }
  TensorList apply(TensorList&& grads) override {
    Tensor rows = embedding(grads[0], indices, -1, false);
    if (padding_idx >= 0) rows = mul(rows, unsqueeze(ne(indices, wrapped_scalar(Scalar(padding_idx))), 1));
    return {reshape(rows, grad_sizes)};
  }
};

Tensor embedding_dense_backward(const Tensor& grad, const Tensor& flat_idx, int64_t num_weights, int64_t padding_idx,
                                bool scale_grad_by_freq) {
  int64_t dim = grad.sizes().back();
  Tensor g = reshape(contiguous(detach(grad)), DimVec{flat_idx.numel(), dim});
  if (scale_grad_by_freq) {
    Tensor counts = zeros(DimVec{num_weights, 1}, grad.dtype(), grad.device());
    accumulate_rows(counts, flat_idx, ones(DimVec{flat_idx.numel(), 1}, grad.dtype(), grad.device()));
    g = div(g, gather_rows(counts, flat_idx));
  }
  Tensor out = zeros(DimVec{num_weights, dim}, grad.dtype(), grad.device());
  accumulate_rows(out, flat_idx, g);
  if (padding_idx >= 0) backend_for(out.device()).fill(select(out, 0, padding_idx), Scalar(0.0));
  if (compute_requires_grad(grad)) {
    auto node = make_node<EmbeddingDenseBackward0>(grad);
    node->indices = flat_idx;
    node->grad_sizes = grad.sizes();
    node->padding_idx = padding_idx;
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx, bool scale_grad_by_freq) {
  TG_CHECK(weight.dim() == 2, "'weight' must be 2-D");
  int64_t num_weights = weight.sizes()[0], dim = weight.sizes()[1];
  Tensor flat = flat_indices(indices);
  DimVec out_shape = indices.sizes();
  out_shape.push_back(dim);
  Tensor rows = gather_rows(weight, flat);
  Tensor out = make_view(rows, out_shape, contiguous_strides(out_shape), 0);
  if (compute_requires_grad(weight)) {
    auto node = make_node<EmbeddingBackward0>(weight);
    node->indices = SavedTensor(flat, false);
    node->num_weights = num_weights;
    node->padding_idx = padding_idx;
    node->scale_grad_by_freq = scale_grad_by_freq;
    set_history(out, node);
  }
  return out;
}

// ---- layer_norm / batch_norm ----

// Backward of normalising over `dims` with (x - mean) * rstd, then scaling by weight and
// shifting by bias (per-channel views already shaped for broadcasting).
struct NormBackward : Node {
  const char* op_name = "";
  SavedTensor input, weight;
  Tensor mean, rstd;           // keepdim shapes; constants in eval-mode batch_norm
  DimVec norm_dims;            // dims the statistics run over
  DimVec param_dims;           // dims weight/bias gradients sum over
  DimVec param_shape;
  DimVec weight_view;          // weight's broadcastable shape against the input, if not its own
  double eps = 0;
  bool batch_stats = true;     // false: eval-mode batch_norm, statistics are running buffers
  bool fused = false;          // layer_norm, training-mode batch_norm: the backend's kernel computes the backward
  bool per_channel = false;    // batch_norm: statistics per channel (dim 1) rather than per row
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& grads) override {
    Tensor x = input.unpack(*this);
    Tensor w = weight.unpack(*this);
    if (fused && !GradMode::is_enabled()) return fused_grads(grads[0], x, w);
    if (w.defined() && !weight_view.empty()) w = reshape(w, weight_view);
    Tensor g = grads[0];
    Tensor mu = mean, r = rstd;
    if (batch_stats && GradMode::is_enabled()) {
      // create_graph: the statistics depend on x, so recompute them with differentiable ops.
      mu = ops::mean(x, norm_dims, true);
      r = rsqrt(add(var(x, norm_dims, 0, true), num(eps)));
    }
    Tensor xhat = mul(sub(x, mu), r);
    Tensor grad_input, grad_weight, grad_bias;
    if (needs_input_grad(0)) {
      Tensor gw = w.defined() ? mul(g, w) : g;
      if (batch_stats) {
        Tensor centered = sub(gw, ops::mean(gw, norm_dims, true));
        grad_input = mul(r, sub(centered, mul(xhat, ops::mean(mul(gw, xhat), norm_dims, true))));
      } else {
        grad_input = mul(gw, r);
      }
    }
    auto param_grad = [&](const Tensor& t) {
      Tensor s = param_dims.empty() ? t : sum(t, param_dims, false);
      return reshape(s, param_shape);
    };
    if (needs_input_grad(1)) grad_weight = param_grad(mul(g, xhat));
    if (needs_input_grad(2)) grad_bias = param_grad(g);
    return {grad_input, grad_weight, grad_bias};
  }
  void release_saved() override {
    input.reset();
    weight.reset();
  }

  TensorList fused_grads(const Tensor& grad, const Tensor& x, const Tensor& w) const {
    Tensor gi = needs_input_grad(0) ? empty(x.sizes(), x.dtype(), x.device()) : Tensor();
    // An empty input has no rows to sum: the parameters' gradients are zeros.
    auto param_grad = [&] {
      return x.numel() == 0 ? zeros(param_shape, x.dtype(), x.device()) : empty(param_shape, x.dtype(), x.device());
    };
    Tensor gw = needs_input_grad(1) ? param_grad() : Tensor();
    Tensor gb = needs_input_grad(2) ? param_grad() : Tensor();
    Tensor g = contiguous(cast_for_compute(grad, x.dtype()));
    Tensor wc = w.defined() ? contiguous(cast_for_compute(w, x.dtype())) : Tensor();
    Backend& backend = backend_for(x.device());
    if (per_channel) backend.batch_norm_backward(gi, gw, gb, g, contiguous(x), mean, rstd, wc);
    else backend.layer_norm_backward(gi, gw, gb, g, contiguous(x), mean, rstd, wc);
    return {gi, gw, gb};
  }
};

namespace {

// (x - mean) * rstd * weight + bias with no history; weight and bias may be undefined.
Tensor normalize(const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight, const Tensor& bias) {
  Tensor y = mul(sub(x, mean), rstd);
  if (weight.defined()) y = mul(y, weight);
  if (bias.defined()) y = add(y, bias);
  return y;
}

// ATen's CPU normalisation kernels: parameters of another dtype than the input are a "mixed type"
// (allowed only for reduced-precision inputs with float32 parameters); else each must match the input.
void check_parameter_dtypes(const Tensor& input, std::initializer_list<const Tensor*> params) {
  const Tensor* first = nullptr;
  for (const Tensor* p : params)
    if (!first && p->defined()) first = p;
  if (first && first->dtype() != input.dtype()) {
    for (const Tensor* p : params)
      TG_CHECK(!p->defined() || p->dtype() == ScalarType::Float32,
               "mixed dtype (CPU): expect parameter to have scalar type of Float");
    throw Error("mixed dtype (CPU): all inputs must share same datatype.");
  }
  for (const Tensor* p : params)
    TG_CHECK(!p->defined() || p->dtype() == input.dtype(), "expected scalar type ", scalar_type_word(input.dtype()),
             " but found ", scalar_type_word(p->dtype()));
}

}  // namespace

Tensor layer_norm(const Tensor& input, const DimVec& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  int64_t k = static_cast<int64_t>(normalized_shape.size());
  TG_CHECK(k >= 1, "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, "
                   "but got normalized_shape = []");
  TG_CHECK(!weight.defined() || weight.sizes() == normalized_shape,
           "Expected weight to be of same shape as normalized_shape, but got weight of shape ",
           shape_str(weight.sizes()), " and normalized_shape = ", shape_str(normalized_shape));
  TG_CHECK(!bias.defined() || bias.sizes() == normalized_shape,
           "Expected bias to be of same shape as normalized_shape, but got bias of shape ", shape_str(bias.sizes()),
           " and normalized_shape = ", shape_str(normalized_shape));
  bool matches = input.dim() >= k;
  for (int64_t i = 0; matches && i < k; ++i) matches = input.sizes()[input.dim() - k + i] == normalized_shape[i];
  if (!matches) {
    std::string expected = "[*";
    for (int64_t s : normalized_shape) expected += str_cat(", ", s);
    throw Error(str_cat("Given normalized_shape=", shape_str(normalized_shape), ", expected input with shape ",
                        expected, "], but got input of size", shape_str(input.sizes())));
  }
  check_parameter_dtypes(input, {&weight, &bias});  // before the input's own dtype, as in PyTorch
  check_floating(input, "LayerNormKernelImpl");
  DimVec dims = range_dims(input.dim() - k, input.dim());
  // Statistics keep the normalised dims as size 1, so that the create_graph formula broadcasts them.
  DimVec stat_shape = input.sizes();
  for (int64_t d : dims) stat_shape[d] = 1;
  Tensor mean = empty(stat_shape, input.dtype(), input.device());
  Tensor rstd = empty(stat_shape, input.dtype(), input.device());
  Tensor out = empty(input.sizes(), input.dtype(), input.device());
  auto prepared = [&](const Tensor& t) {
    return t.defined() ? contiguous(cast_for_compute(detach(t), input.dtype())) : t;
  };
  backend_for(input.device()).layer_norm(out, mean, rstd, contiguous(detach(input)), prepared(weight), prepared(bias),
                                         eps);
  if (compute_requires_grad(input, weight, bias)) {
    auto node = make_node<NormBackward>(input, weight, bias);
    node->op_name = "NativeLayerNormBackward0";
    node->input = SavedTensor(input, false);
    node->weight = SavedTensor(weight, false);
    node->mean = mean;
    node->rstd = rstd;
    node->norm_dims = dims;
    node->param_dims = range_dims(0, input.dim() - k);
    node->param_shape = normalized_shape;
    node->eps = eps;
    node->fused = true;
    set_history(out, node);
  }
  return out;
}

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  // In PyTorch's order (after eps, which tapegrad.nn.functional checks): an empty batch (nothing to
  // normalise), the statistics eval mode needs, their pairing, their sizes (against 0 channels for a 1-D
  // input), then the input's shape.
  if (input.numel() == 0) return clone(input);
  TG_CHECK(training || running_mean.defined(), "running_mean must be defined in evaluation mode");
  TG_CHECK(training || running_var.defined(), "running_var must be defined in evaluation mode");
  TG_CHECK_VALUE(running_mean.defined() == running_var.defined(),
                 "running_mean and running_var must either both be None or neither be None");
  int64_t channels = input.dim() > 1 ? input.sizes()[1] : 0;
  auto check_size = [&](const Tensor& t, const char* what) {
    TG_CHECK(!t.defined() || t.numel() == channels, what, " should contain ", channels, " elements not ", t.numel());
  };
  check_size(running_mean, "running_mean");
  check_size(running_var, "running_var");
  TG_CHECK_INDEX(input.dim() >= 2, "Dimension out of range (expected to be in range of [-1, 0], but got 1)");
  check_floating(input, "batch_norm_cpu");
  check_parameter_dtypes(input, {&weight, &bias, &running_mean, &running_var});
  check_size(weight, "weight");
  check_size(bias, "bias");
  int64_t nd = input.dim();
  DimVec dims{0};
  for (int64_t d = 2; d < nd; ++d) dims.push_back(d);
  Tensor mean, rstd, out;
  {
    AutoGradMode no_grad(false);
    if (training) {
      DimVec stat_shape = channel_shape(channels, 1, nd);
      mean = empty(stat_shape, input.dtype(), input.device());
      Tensor batch_var = empty(stat_shape, input.dtype(), input.device());
      rstd = empty(stat_shape, input.dtype(), input.device());
      out = empty(input.sizes(), input.dtype(), input.device());
      auto prepared = [&](const Tensor& t) { return t.defined() ? contiguous(t) : t; };
      backend_for(input.device()).batch_norm(out, mean, batch_var, rstd, contiguous(input), prepared(weight),
                                             prepared(bias), eps);
      if (running_mean.defined()) {
        int64_t n = input.numel() / channels;
        Tensor unbiased = mul(batch_var, num(double(n) / double(n - 1)));
        Tensor& rm = const_cast<Tensor&>(running_mean);
        Tensor& rv = const_cast<Tensor&>(running_var);
        copy_(rm, add(mul(reshape(mean, rm.sizes()), num(momentum)), mul(rm, num(1 - momentum))));
        copy_(rv, add(mul(reshape(unbiased, rv.sizes()), num(momentum)), mul(rv, num(1 - momentum))));
      }
    } else {
      mean = cast_for_compute(channel_view(running_mean, 1, nd), input.dtype());
      rstd = rsqrt(add(cast_for_compute(channel_view(running_var, 1, nd), input.dtype()), num(eps)));
      out = normalize(input, mean, rstd, weight.defined() ? channel_view(weight, 1, nd) : Tensor(),
                      bias.defined() ? channel_view(bias, 1, nd) : Tensor());
    }
  }
  if (compute_requires_grad(input, weight, bias)) {
    auto node = make_node<NormBackward>(input, weight, bias);
    node->op_name = "NativeBatchNormBackward0";
    node->input = SavedTensor(input, false);
    node->weight = SavedTensor(weight, false);
    node->weight_view = channel_shape(channels, 1, nd);
    node->mean = mean;
    node->rstd = rstd;
    node->norm_dims = dims;
    node->param_dims = dims;
    node->param_shape = DimVec{channels};
    node->eps = eps;
    node->batch_stats = training;
    node->fused = training;
    node->per_channel = true;
    set_history(out, node);
  }
  return out;
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  TG_CHECK(indices.dtype() == ScalarType::Int64, "one_hot is only applicable to index tensor of type LongTensor.");
  DimVec shape = indices.sizes();
  if (indices.numel() == 0) {
    TG_CHECK(num_classes > 0, "Can not infer total number of classes from empty tensor.");
    shape.push_back(num_classes);
    return zeros(shape, ScalarType::Int64, indices.device());
  }
  TG_CHECK(min(indices).item().to_int() >= 0, "Class values must be non-negative.");
  int64_t top = max(indices).item().to_int();
  if (num_classes == -1) num_classes = top + 1;
  else TG_CHECK(top < num_classes, "Class values must be smaller than num_classes.");
  Tensor classes = arange(Scalar(int64_t(0)), Scalar(num_classes), Scalar(int64_t(1)), ScalarType::Int64,
                          indices.device());
  return to_dtype(eq(unsqueeze(indices, -1), classes), ScalarType::Int64);
}

// ---- pointwise losses: mse, smooth_l1, binary_cross_entropy(_with_logits) ----

namespace {

Tensor log_sigmoid(const Tensor& x) { return sub(minimum(x, num(0.0)), log1p(exp(neg(abs(x))))); }

}  // namespace

struct PointwiseLossBackward : Node {
  const char* op_name = "";
  PointwiseLoss op = PointwiseLoss::Mse;
  Reduction reduction = Reduction::Mean;
  SavedTensor input, target;
  Tensor weight, pos_weight;  // not differentiable
  DimVec shape;               // the broadcast shape of input and target
  double beta = 1.0;
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& grads) override {
    Tensor x = input.unpack(*this), t = target.unpack(*this);
    Tensor g = cast_for_compute(grads[0], x.dtype());
    double scale = reduction == Reduction::Mean ? 1.0 / double(numel_of(shape)) : 1.0;
    if (GradMode::is_enabled()) return differentiable_grads(g, x, t, scale);
    Tensor gi = needs_input_grad(0) ? empty(shape, x.dtype(), x.device()) : Tensor();
    Tensor gt = needs_input_grad(1) ? empty(shape, x.dtype(), x.device()) : Tensor();
    PointwiseLossArgs args;
    if (weight.defined()) args.weight = expand_view(weight, shape);
    if (pos_weight.defined()) args.pos_weight = expand_view(pos_weight, shape);
    args.beta = beta;
    backend_for(x.device()).pointwise_loss_backward(op, gi, gt, expand_view(g, shape), expand_view(x, shape),
                                                    expand_view(t, shape), args, scale);
    return {gi, gt};
  }
  void release_saved() override { input.reset(); target.reset(); }

  // The kernel's gradients written with tapegrad ops, for double backward.
  TensorList differentiable_grads(Tensor g, const Tensor& x, const Tensor& t, double scale) const {
    if (weight.defined()) g = mul(g, weight);
    Tensor gi, gt;
    switch (op) {
      case PointwiseLoss::Mse:
        gi = mul(mul(num(2 * scale), sub(x, t)), g);
        gt = mul(mul(num(2 * scale), sub(t, x)), g);
        break;
      case PointwiseLoss::SmoothL1: {
        Tensor d = sub(x, t);
        Tensor slope = where(le(d, num(-beta)), num(-1.0), where(ge(d, num(beta)), num(1.0), div(d, num(beta))));
        gi = mul(mul(slope, g), num(scale));
        gt = neg(gi);
        break;
      }
      case PointwiseLoss::Bce: {
        Tensor denominator = clamp(mul(sub(num(1.0), x), x), Scalar(double(kBceGradEpsilon)), std::nullopt);
        gi = mul(div(mul(g, sub(x, t)), denominator), num(scale));
        gt = mul(mul(neg(log(div(x, sub(num(1.0), x)))), g), num(scale));
        break;
      }
      case PointwiseLoss::BceWithLogits:
        if (pos_weight.defined()) {
          Tensor pt = mul(pos_weight, t);
          gi = sub(mul(sub(add(pt, num(1.0)), t), sigmoid(x)), pt);
          gt = sub(log_sigmoid(neg(x)), mul(log_sigmoid(x), pos_weight));
        } else {
          gi = sub(sigmoid(x), t);
          gt = neg(x);
        }
        gi = mul(mul(gi, g), num(scale));
        gt = mul(mul(gt, g), num(scale));
        break;
    }
    return {needs_input_grad(0) ? gi : Tensor(), needs_input_grad(1) ? gt : Tensor()};
  }
};

namespace {

Tensor pointwise_loss(PointwiseLoss op, const char* kernel, const char* node_name, const Tensor& input,
                      const Tensor& target, Reduction reduction, const Tensor& weight = Tensor(),
                      const Tensor& pos_weight = Tensor(), double beta = 1.0) {
  // torch.nn.functional broadcasts input and target first, so a 0-dim target promotes like any tensor;
  // ATen's binary_cross_entropy_with_logits builds its loss in place on (1 - target): the target's dtype.
  ScalarType dt = op == PointwiseLoss::BceWithLogits && is_floating(target.dtype())
                      ? target.dtype()
                      : promote_types(input.dtype(), target.dtype());
  if (!is_floating(dt))
    throw NotImplementedError(str_cat("\"", kernel, "\" not implemented for '", scalar_type_word(dt), "'"));
  Device device = common_device(input, target);
  const DimVec& shape =
      input.sizes() == target.sizes() ? input.sizes() : broadcast_shapes(input.sizes(), target.sizes());
  Tensor x = cast_for_compute(input, dt), t = cast_for_compute(target, dt);
  Tensor w = weight.defined() ? cast_for_compute(weight, dt) : Tensor();
  Tensor pw = pos_weight.defined() ? cast_for_compute(pos_weight, dt) : Tensor();
  PointwiseLossArgs args;
  if (w.defined()) args.weight = expand_view(w, shape);
  if (pw.defined()) args.pos_weight = expand_view(pw, shape);
  args.beta = beta;
  Tensor out = empty(reduction == Reduction::None ? shape : DimVec{}, dt, device);
  backend_for(device).pointwise_loss(op, out, expand_view(x, shape), expand_view(t, shape), args,
                                     reduction == Reduction::Mean);
  if (compute_requires_grad(input, target)) {
    auto node = make_node<PointwiseLossBackward>(input, target);
    node->op_name = node_name;
    node->op = op;
    node->reduction = reduction;
    node->input = SavedTensor(x, false);
    node->target = SavedTensor(t, false);
    node->weight = w;
    node->pos_weight = pw;
    node->shape = shape;
    node->beta = beta;
    set_history(out, node);
  }
  return out;
}

Tensor reduce(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return loss;
    case Reduction::Mean: return mean(loss);
    case Reduction::Sum: return sum(loss);
  }
  return loss;
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return pointwise_loss(PointwiseLoss::Mse, "mse_cpu", "MseLossBackward0", input, target, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  // As in ATen: a composite, so its graph is SubBackward0 -> AbsBackward0 -> Mean/SumBackward0; the
  // inputs promote as broadcast tensors (a 0-dim target too), and a bool operand fails as in sub.
  ScalarType dt = promote_types(input.dtype(), target.dtype());
  auto promoted = [dt](const Tensor& t) { return t.dtype() == ScalarType::Bool ? t : to_dtype(t, dt); };
  return reduce(abs(sub(promoted(input), promoted(target))), reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  TG_CHECK(beta >= 0, "smooth_l1_loss does not support negative values for beta.");
  if (beta == 0) return l1_loss(input, target, reduction);
  return pointwise_loss(PointwiseLoss::SmoothL1, "smooth_l1_cpu", "SmoothL1LossBackward0", input, target, reduction,
                        Tensor(), Tensor(), beta);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction) {
  TG_CHECK(input.dtype() == target.dtype(), "Found dtype ", scalar_type_word(target.dtype()), " but expected ",
           scalar_type_word(input.dtype()));
  check_not_differentiable(weight, "binary_cross_entropy", "weight");
  return pointwise_loss(PointwiseLoss::Bce, "binary_cross_entropy", "BinaryCrossEntropyBackward0", input, target,
                        reduction, weight);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction reduction) {
  check_not_differentiable(weight, "binary_cross_entropy_with_logits", "weight");
  check_not_differentiable(pos_weight, "binary_cross_entropy_with_logits", "pos_weight");
  if (!is_floating(input.dtype()))  // ATen starts from log_sigmoid(input)
    throw NotImplementedError(str_cat("\"log_sigmoid_cpu\" not implemented for '", scalar_type_word(input.dtype()), "'"));
  TG_CHECK(is_floating(target.dtype()), "result type ", scalar_type_word(input.dtype()),  // it builds on 1 - target
           " can't be cast to the desired output type ", scalar_type_word(target.dtype()));
  // weight and pos_weight broadcast against the input but never widen the loss (ATen multiplies in place).
  auto check_broadcast = [&](const Tensor& extra, bool extra_first) {
    if (!extra.defined()) return;
    DimVec shape = extra_first ? broadcast_shapes(extra.sizes(), input.sizes())
                               : broadcast_shapes(input.sizes(), extra.sizes());
    TG_CHECK(shape == input.sizes(), "output with shape ", shape_str(input.sizes()),
             " doesn't match the broadcast shape ", shape_str(shape));
  };
  check_broadcast(pos_weight, true);
  check_broadcast(weight, false);
  return pointwise_loss(PointwiseLoss::BceWithLogits, "binary_cross_entropy_with_logits",
                        "BinaryCrossEntropyWithLogitsBackward0", input, target, reduction, weight, pos_weight);
}

// ---- nll_loss / cross_entropy ----

namespace {

struct NllGeometry {
  Tensor input;   // [N, C, D]
  Tensor target;  // [N, D]
  DimVec out_shape;  // of reduction='none'
};

// input (C), (N, C) or (N, C, d1, ...) and its target, seen as [N, C, D] and [N, D].
NllGeometry nll_geometry(const Tensor& input, const Tensor& target) {
  TG_CHECK_VALUE(input.dim() >= 1, "Expected 1 or more dimensions (got 0)");
  // The batch sizes are compared before the target's dtype, as in PyTorch.
  auto check_dtype = [&] {
    TG_CHECK(target.dtype() == ScalarType::Int64, "expected target dtype to be Long or Byte, but got ",
             scalar_type_word(target.dtype()));
  };
  NllGeometry geo;
  if (input.dim() == 1) {
    // As PyTorch, a 1-D target of one element stands for the 0-dim one (the loss is still 0-dim).
    TG_CHECK_VALUE(target.dim() != 1 || target.sizes()[0] == 1,
                   "For 1D input, 1D target must have size 1, but got target size: ", target.sizes()[0]);
    check_dtype();
    TG_CHECK(target.dim() <= 1, "0D or 1D target tensor expected, multi-target not supported");
    int64_t c = input.sizes()[0];
    geo.input = make_view(input, DimVec{1, c, 1}, DimVec{0, input.strides()[0], 0}, input.offset());
    geo.target = make_view(target, DimVec{1, 1}, DimVec{0, 0}, target.offset());
    return geo;
  }
  int64_t n = input.sizes()[0], c = input.sizes()[1];
  if (target.dim() >= 1 || input.dim() >= 2) {
    // A 0-dim target holds no batch: PyTorch reports its batch_size as 0 beside a 2-D input.
    int64_t tn = target.dim() >= 1 ? target.sizes()[0] : (input.dim() == 2 ? 0 : 1);
    TG_CHECK_VALUE(n == tn, "Expected input batch_size (", n, ") to match target batch_size (", tn, ").");
  }
  check_dtype();
  if (input.dim() == 2) {
    TG_CHECK(target.dim() == 1, "1D target tensor expected, multi-target not supported");
    geo.input = make_view(input, DimVec{n, c, 1}, DimVec{input.strides()[0], input.strides()[1], 0}, input.offset());
    geo.target = make_view(target, DimVec{n, 1}, DimVec{target.strides()[0], 0}, target.offset());
    geo.out_shape = DimVec{n};
    return geo;
  }
  DimVec spatial(input.sizes().begin() + 2, input.sizes().end());
  DimVec expected = spatial;
  expected.insert(0, n);
  if (target.sizes() != expected) {
    if (input.dim() == 4)
      throw Error(str_cat("size mismatch (got input: ", shape_str(input.sizes()), " , target: ",
                          shape_str(target.sizes())));
    throw Error(str_cat("Expected target size ", shape_str(expected), ", got ", shape_str(target.sizes())));
  }
  int64_t d = numel_of(spatial);
  geo.input = reshape(detach(input), DimVec{n, c, d});
  geo.target = reshape(detach(target), DimVec{n, d});
  geo.out_shape = expected;
  return geo;
}

Tensor nll_loss_impl(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                     int64_t ignore_index, Tensor* total_weight_out);

// What nll's backward needs besides the incoming gradient.
struct NllArgs {
  Tensor target, target_2d, weight, total_weight;  // target_2d: [N, D]
  DimVec input_sizes;
  int64_t n = 0, c = 0, d = 0;
  Reduction reduction = Reduction::Mean;
  int64_t ignore_index = -100;
};

// nll's backward is linear in the incoming gradient, and its own backward is nll again.
struct NllLossBackwardBackward : Node {
  NllArgs args;
  std::string name() const override { return "NllLossBackwardBackward0"; }
  TensorList apply(TensorList&& grads) override {
    return {nll_loss_impl(grads[0], args.target, args.weight, args.reduction, args.ignore_index, nullptr)};
  }
};

struct NllLossBackward : Node {
  bool spatial = false;
  NllArgs args;
  std::string name() const override { return spatial ? "NllLoss2DBackward0" : "NllLossBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const NllArgs& a = args;
    Tensor g = cast_for_compute(contiguous(grads[0]), a.total_weight.dtype());
    Tensor grad_in = empty(DimVec{a.n, a.c, a.d}, a.total_weight.dtype(), a.total_weight.device());
    Tensor g2 = make_view(g, DimVec{a.n, a.d}, a.reduction == Reduction::None ? DimVec{a.d, 1} : DimVec{0, 0},
                          g.offset());
    backend_for(grad_in.device()).nll_loss_backward(grad_in, g2, a.target_2d, a.weight, a.total_weight,
                                                    a.ignore_index, a.reduction == Reduction::Mean);
    Tensor out = make_view(grad_in, a.input_sizes, contiguous_strides(a.input_sizes), 0);
    if (compute_requires_grad(grads[0])) {
      auto node = make_node<NllLossBackwardBackward>(grads[0]);
      node->args = a;
      set_history(out, node);
    }
    return {out};
  }
};

Tensor nll_loss_impl(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                     int64_t ignore_index, Tensor* total_weight_out) {
  NllGeometry geo = nll_geometry(input, target);
  check_floating(input, "nll_loss_out_frame");
  int64_t n = geo.input.sizes()[0], c = geo.input.sizes()[1], d = geo.input.sizes()[2];
  TG_CHECK(!weight.defined() || weight.numel() == c, "weight tensor should be defined either for all ", c,
           " classes or no classes but got weight tensor of shape: ", shape_str(weight.sizes()));
  check_not_differentiable(weight, "nll_loss_forward", "weight");
  Tensor w = weight.defined() ? reshape(cast_for_compute(detach(weight), input.dtype()), DimVec{c}) : Tensor();
  Device device = input.device();
  Tensor total_weight = empty(DimVec{}, input.dtype(), device);
  Tensor out = empty(reduction == Reduction::None ? geo.out_shape : DimVec{}, input.dtype(), device);
  Tensor kernel_out = reduction == Reduction::None ? make_view(out, DimVec{n, d}, DimVec{d, 1}, 0) : out;
  Backend& backend = backend_for(device);
  backend.nll_loss(kernel_out, total_weight, geo.input, geo.target, w, ignore_index);
  if (reduction == Reduction::Mean) backend.binary(BinaryOp::Div, out, out, total_weight);
  if (total_weight_out) *total_weight_out = total_weight;
  if (compute_requires_grad(input)) {
    auto node = make_node<NllLossBackward>(input);
    node->spatial = input.dim() > 2;
    node->args = NllArgs{detach(target), geo.target, w, total_weight, input.sizes(), n, c, d, reduction, ignore_index};
    set_history(out, node);
    // ATen runs 3-D and 5+-D inputs through nll_loss2d and views the result back.
    if (reduction == Reduction::None && input.dim() > 2 && input.dim() != 4) return view(out, geo.out_shape);
  }
  return out;
}

}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                int64_t ignore_index) {
  return nll_loss_impl(input, target, weight, reduction, ignore_index, nullptr);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                     int64_t ignore_index, double label_smoothing) {
  // As ATen: only a smoothing above 1 is refused; one of 0 or below (or NaN) smooths nothing.
  TG_CHECK(!(label_smoothing > 1.0), "label_smoothing must be between 0.0 and 1.0. Got: ", label_smoothing);
  if (!(label_smoothing > 0.0)) label_smoothing = 0.0;
  int64_t class_dim = input.dim() == 1 ? 0 : 1;
  if (input.sizes() == target.sizes()) {
    // Class probabilities.
    TG_CHECK(is_floating(target.dtype()), "Expected floating point type for target with class probabilities, got ",
             scalar_type_word(target.dtype()));
    TG_CHECK(ignore_index < 0, "ignore_index is not supported for floating point target");
    int64_t c = input.sizes()[class_dim];
    TG_CHECK(!weight.defined() || (weight.dim() == 1 && weight.numel() == c),
             "weight tensor should be defined either for all ", c,
             " classes or no classes but got weight tensor of shape: ", shape_str(weight.sizes()));
    Tensor probs = label_smoothing > 0 ? add(mul(target, num(1 - label_smoothing)), num(label_smoothing / c)) : target;
    Tensor loss = mul(log_softmax(input, class_dim), probs);
    if (weight.defined()) loss = mul(loss, channel_view(weight, class_dim, input.dim()));
    switch (reduction) {
      case Reduction::None: return neg(sum(loss, DimVec{class_dim}, false));
      case Reduction::Sum: return neg(sum(loss));
      case Reduction::Mean:
        if (input.numel() == 0) return mul(neg(sum(loss)), num(NAN));
        return div_scalar(neg(sum(loss)), double(input.numel() / c));
    }
  }
  Tensor lsm = log_softmax(input, class_dim);
  if (label_smoothing == 0) return nll_loss_impl(lsm, target, weight, reduction, ignore_index, nullptr);
  Tensor total_weight;
  Tensor nll = nll_loss_impl(lsm, target, weight, reduction, ignore_index, &total_weight);
  int64_t c = input.sizes()[class_dim];
  Tensor weighted = weight.defined() ? mul(lsm, channel_view(weight, class_dim, input.dim())) : lsm;
  Tensor smooth = neg(sum(weighted, DimVec{class_dim}, false));
  smooth = where(eq(target, wrapped_scalar(Scalar(ignore_index))), num(0.0), smooth);
  Tensor ret;
  switch (reduction) {
    case Reduction::None: ret = smooth; break;
    case Reduction::Sum: ret = sum(smooth); break;
    case Reduction::Mean: ret = div(sum(smooth), total_weight); break;
  }
  return add(mul(nll, num(1 - label_smoothing)), mul(ret, num(label_smoothing / c)));
}

}  // namespace tg::ops
