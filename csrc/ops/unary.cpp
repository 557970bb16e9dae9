// Unary elementwise ops: forward and backward side by side.
#include <cmath>
#include "autograd/node.h"
#include "core/grad_mode.h"
#include "ops/elementwise_util.h"
#include "ops/ops.h"

namespace tg::ops {

namespace {
Tensor num(double v) { return wrapped_scalar(Scalar(v)); }
}  // namespace

ScalarType float_result_type(ScalarType t) { return is_floating(t) ? t : default_dtype(); }

Tensor unary_kernel(UnaryOp op, const Tensor& a, ScalarType dtype) {
  Tensor out = empty(a.sizes(), dtype, a.device());
  backend_for(a.device()).unary(op, out, cast_for_compute(a, dtype));
  return out;
}

// A unary op whose backward needs only its input (Input) or only its output (Output).
enum class Saves { Input, Output, Nothing };

struct UnaryBackward : Node {
  using Formula = Tensor (*)(const Tensor& grad, const Tensor& saved);
  const char* op_name = "";
  Formula formula = nullptr;
  SavedTensor saved;
  bool saves_output = false;
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& grads) override { return {formula(grads[0], saved.unpack(*this))}; }
  void release_saved() override { saved.reset(); }
  void keep_output_in_place(const Tensor& self) override {
    if (saves_output) saved = SavedTensor(self, true);
  }
};

namespace {

Tensor unary_op(UnaryOp op, const Tensor& a, bool float_math, const char* node_name, Saves saves,
                UnaryBackward::Formula formula) {
  ScalarType dt = float_math ? float_result_type(a.dtype()) : a.dtype();
  Tensor out = unary_kernel(op, a, dt);
  if (formula && compute_requires_grad(a)) {
    auto node = make_node<UnaryBackward>(a);
    node->op_name = node_name;
    node->formula = formula;
    if (saves == Saves::Input) node->saved = SavedTensor(a, false);
    if (saves == Saves::Output) node->saved = SavedTensor(out, true);
    node->saves_output = saves == Saves::Output;
    set_history(out, node);
  }
  return out;
}

// relu, tanh and sigmoid's gradients from their output: one fused kernel, or, while a graph is being
// recorded (double backward), the formula in tapegrad ops.
Tensor output_grad(OutputGradOp op, const Tensor& g, const Tensor& y, UnaryBackward::Formula differentiable) {
  if (GradMode::is_enabled()) return differentiable(g, y);
  Tensor grad_in = empty(y.sizes(), y.dtype(), y.device());
  backend_for(y.device()).output_grad(op, grad_in, expand_view(cast_for_compute(g, y.dtype()), y.sizes()), y);
  return grad_in;
}

}  // namespace

// One line per op: forward kernel, whether it computes in floating point, and d(out)/d(in).
static void check_neg(const Tensor& a) {
  TG_CHECK(a.dtype() != ScalarType::Bool,
           "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
           "use the `~` or `logical_not()` operator instead.");
}
static void check_relu(const Tensor& a) {
  TG_CHECK(a.dtype() != ScalarType::Bool, "Boolean inputs not supported for relu");
}

Tensor neg(const Tensor& a) {
  check_neg(a);
  return unary_op(UnaryOp::Neg, a, false, "NegBackward0", Saves::Nothing,
                  [](const Tensor& g, const Tensor&) { return neg(g); });
}
Tensor abs(const Tensor& a) {
  return unary_op(UnaryOp::Abs, a, false, "AbsBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return mul(g, sign(x)); });
}
Tensor exp(const Tensor& a) {
  return unary_op(UnaryOp::Exp, a, true, "ExpBackward0", Saves::Output,
                  [](const Tensor& g, const Tensor& y) { return mul(g, y); });
}
Tensor log(const Tensor& a) {
  return unary_op(UnaryOp::Log, a, true, "LogBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return div(g, x); });
}
Tensor sqrt(const Tensor& a) {
  return unary_op(UnaryOp::Sqrt, a, true, "SqrtBackward0", Saves::Output,
                  [](const Tensor& g, const Tensor& y) { return div(g, mul(y, num(2.0))); });
}
Tensor rsqrt(const Tensor& a) {
  return unary_op(UnaryOp::Rsqrt, a, true, "RsqrtBackward0", Saves::Output,
                  [](const Tensor& g, const Tensor& y) { return mul(g, mul(pow(y, num(3.0)), num(-0.5))); });
}
Tensor sin(const Tensor& a) {
  return unary_op(UnaryOp::Sin, a, true, "SinBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return mul(g, cos(x)); });
}
Tensor cos(const Tensor& a) {
  return unary_op(UnaryOp::Cos, a, true, "CosBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return mul(g, neg(sin(x))); });
}
Tensor tanh(const Tensor& a) {
  return unary_op(UnaryOp::Tanh, a, true, "TanhBackward0", Saves::Output, [](const Tensor& g, const Tensor& y) {
    return output_grad(OutputGradOp::Tanh, g, y,
                       [](const Tensor& g, const Tensor& y) { return mul(g, sub(num(1.0), mul(y, y))); });
  });
}
Tensor sigmoid(const Tensor& a) {
  return unary_op(UnaryOp::Sigmoid, a, true, "SigmoidBackward0", Saves::Output, [](const Tensor& g, const Tensor& y) {
    return output_grad(OutputGradOp::Sigmoid, g, y,
                       [](const Tensor& g, const Tensor& y) { return mul(mul(g, sub(num(1.0), y)), y); });
  });
}
Tensor relu(const Tensor& a) {
  check_relu(a);
  return unary_op(UnaryOp::Relu, a, false, "ReluBackward0", Saves::Output, [](const Tensor& g, const Tensor& y) {
    // PyTorch's threshold_backward: a selection, so nan flows where y is nan, not where y <= 0. Its zeros
    // depend on y (as threshold_backward's do) so that a double backward through relu reaches x.
    return output_grad(OutputGradOp::Relu, g, y, [](const Tensor& g, const Tensor& y) {
      return where(le(y, num(0.0)), mul(abs(y), num(0.0)), g);
    });
  });
}
Tensor square(const Tensor& a) {
  // square is pow(a, 2): a bool tensor promotes to int64 with the integer exponent.
  if (a.dtype() == ScalarType::Bool) return square(cast_for_compute(a, ScalarType::Int64));
  return unary_op(UnaryOp::Square, a, false, "PowBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return mul(g, mul(x, num(2.0))); });
}
Tensor reciprocal(const Tensor& a) {
  return unary_op(UnaryOp::Reciprocal, a, true, "ReciprocalBackward0", Saves::Output,
                  [](const Tensor& g, const Tensor& y) { return mul(g, neg(mul(y, y))); });
}
Tensor log1p(const Tensor& a) {
  return unary_op(UnaryOp::Log1p, a, true, "Log1PBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return div(g, add(x, num(1.0))); });
}
Tensor expm1(const Tensor& a) {
  return unary_op(UnaryOp::Expm1, a, true, "Expm1Backward0", Saves::Output,
                  [](const Tensor& g, const Tensor& y) { return mul(g, add(y, num(1.0))); });
}
Tensor tan(const Tensor& a) {
  return unary_op(UnaryOp::Tan, a, true, "TanBackward0", Saves::Output,
                  [](const Tensor& g, const Tensor& y) { return mul(g, add(mul(y, y), num(1.0))); });
}
// 1 / sqrt(1 - x^2), as PyTorch writes it: (-x * x + 1).rsqrt().
static Tensor rsqrt_one_minus_square(const Tensor& x) { return rsqrt(add(neg(mul(x, x)), num(1.0))); }
Tensor asin(const Tensor& a) {
  return unary_op(UnaryOp::Asin, a, true, "AsinBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return mul(g, rsqrt_one_minus_square(x)); });
}
Tensor acos(const Tensor& a) {
  return unary_op(UnaryOp::Acos, a, true, "AcosBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return mul(g, neg(rsqrt_one_minus_square(x))); });
}
Tensor atan(const Tensor& a) {
  return unary_op(UnaryOp::Atan, a, true, "AtanBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return div(g, add(mul(x, x), num(1.0))); });
}
Tensor sinh(const Tensor& a) {
  return unary_op(UnaryOp::Sinh, a, true, "SinhBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return mul(g, cosh(x)); });
}
Tensor cosh(const Tensor& a) {
  return unary_op(UnaryOp::Cosh, a, true, "CoshBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return mul(g, sinh(x)); });
}
Tensor asinh(const Tensor& a) {
  return unary_op(UnaryOp::Asinh, a, true, "AsinhBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return mul(g, rsqrt(add(mul(x, x), num(1.0)))); });
}
Tensor acosh(const Tensor& a) {
  return unary_op(UnaryOp::Acosh, a, true, "AcoshBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return mul(g, rsqrt(sub(mul(x, x), num(1.0)))); });
}
Tensor atanh(const Tensor& a) {
  return unary_op(UnaryOp::Atanh, a, true, "AtanhBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return div(g, sub(num(1.0), mul(x, x))); });
}
Tensor log2(const Tensor& a) {
  return unary_op(UnaryOp::Log2, a, true, "Log2Backward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return div(g, mul(x, num(M_LN2))); });
}
Tensor log10(const Tensor& a) {
  return unary_op(UnaryOp::Log10, a, true, "Log10Backward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return div(g, mul(x, num(M_LN10))); });
}
Tensor exp2(const Tensor& a) {
  return unary_op(UnaryOp::Exp2, a, true, "Exp2Backward0", Saves::Output,
                  [](const Tensor& g, const Tensor& y) { return mul(g, mul(y, num(M_LN2))); });
}
Tensor erfc(const Tensor& a) {
  return unary_op(UnaryOp::Erfc, a, true, "ErfcBackward0", Saves::Input, [](const Tensor& g, const Tensor& x) {
    return mul(mul(num(-M_2_SQRTPI), exp(neg(mul(x, x)))), g);
  });
}
Tensor erfinv(const Tensor& a) {
  return unary_op(UnaryOp::Erfinv, a, true, "ErfinvBackward0", Saves::Output, [](const Tensor& g, const Tensor& y) {
    return mul(mul(num(0.5 * std::sqrt(M_PI)), exp(mul(y, y))), g);
  });
}
Tensor lgamma(const Tensor& a) {
  return unary_op(UnaryOp::Lgamma, a, true, "LgammaBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return mul(g, digamma(x)); });
}
Tensor digamma(const Tensor& a) {
  return unary_op(UnaryOp::Digamma, a, true, "DigammaBackward0", Saves::Input,
                  [](const Tensor& g, const Tensor& x) { return mul(g, polygamma(1, x)); });
}

struct PolygammaBackward0 : Node {
  int64_t n = 0;
  SavedTensor self;
  std::string name() const override { return "PolygammaBackward0"; }
  TensorList apply(TensorList&& grads) override { return {mul(grads[0], polygamma(n + 1, self.unpack(*this)))}; }
  void release_saved() override { self.reset(); }
};

// polygamma(n, x) = (-1)^(n+1) n! zeta(n + 1, x) beyond the kernels for n = 0 and 1, as in ATen.
Tensor polygamma(int64_t n, const Tensor& x) {
  TG_CHECK(n >= 0, "polygamma(n, x) does not support negative n.");
  if (n == 0) return digamma(x);
  ScalarType dt = float_result_type(x.dtype());
  Tensor out;
  if (n == 1) {
    out = unary_kernel(UnaryOp::Trigamma, x, dt);
  } else {
    AutoGradMode no_grad(false);
    Tensor series = binary_kernel(BinaryOp::Zeta, num(double(n + 1)), x, dt, dt);
    out = mul(series, num((n % 2 ? 1.0 : -1.0) * std::exp(std::lgamma(n + 1.0))));
  }
  if (compute_requires_grad(x)) {
    auto node = make_node<PolygammaBackward0>(x);
    node->n = n;
    node->self = SavedTensor(x, false);
    set_history(out, node);
  }
  return out;
}

// Piecewise constant: zero gradient, as in PyTorch.
static Tensor zero_grad(const Tensor& g, const Tensor&) { return zeros_like(g); }
Tensor sign(const Tensor& a) { return unary_op(UnaryOp::Sign, a, false, "SignBackward0", Saves::Nothing, zero_grad); }
Tensor floor(const Tensor& a) { return unary_op(UnaryOp::Floor, a, false, "FloorBackward0", Saves::Nothing, zero_grad); }
Tensor ceil(const Tensor& a) { return unary_op(UnaryOp::Ceil, a, false, "CeilBackward0", Saves::Nothing, zero_grad); }
Tensor round(const Tensor& a) { return unary_op(UnaryOp::Round, a, false, "RoundBackward0", Saves::Nothing, zero_grad); }
Tensor trunc(const Tensor& a) { return unary_op(UnaryOp::Trunc, a, false, "TruncBackward0", Saves::Nothing, zero_grad); }
Tensor logical_not(const Tensor& a) {
  Tensor out = empty(a.sizes(), ScalarType::Bool, a.device());
  backend_for(a.device()).unary(UnaryOp::LogicalNot, out, a);
  return out;
}

// ---- clamp ----

struct ClampBackward1 : Node {
  SavedTensor self;
  std::optional<Scalar> min, max;
  std::string name() const override { return "ClampBackward1"; }
  TensorList apply(TensorList&& grads) override {
    Tensor x = self.unpack(*this);
    // Gradient passes where the input was inside [min, max], bounds included.
    Tensor inside = ones_like(x);
    if (min) inside = logical_and(inside, ge(x, wrapped_scalar(*min)));
    if (max) inside = logical_and(inside, le(x, wrapped_scalar(*max)));
    return {where(inside, grads[0], zeros_like(grads[0]))};
  }
  void release_saved() override { self.reset(); }
};

// The dtype clamp computes in: the bounds promote like Python numbers in a binary op.
static ScalarType clamp_dtype(const Tensor& a, const std::optional<Scalar>& min, const std::optional<Scalar>& max) {
  TG_CHECK(min || max, "torch.clamp: At least one of 'min' or 'max' must not be None");
  ScalarType dt = a.dtype();
  for (const auto& bound : {min, max}) {
    if (!bound) continue;
    if (bound->is_floating() && !is_floating(dt)) dt = default_dtype();
    else if (bound->kind() == ScalarType::Int64 && dt == ScalarType::Bool) dt = ScalarType::Int64;
  }
  if (dt == ScalarType::Bool) throw NotImplementedError("\"clamp\" not implemented for 'Bool'");
  return dt;
}

Tensor clamp(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) {
  ScalarType dt = clamp_dtype(a, min, max);
  Tensor out = empty(a.sizes(), dt, a.device());
  backend_for(a.device()).clamp(out, cast_for_compute(a, dt), min ? &*min : nullptr, max ? &*max : nullptr);
  if (compute_requires_grad(a)) {
    auto node = make_node<ClampBackward1>(a);
    node->self = SavedTensor(a, false);
    node->min = min;
    node->max = max;
    set_history(out, node);
  }
  return out;
}

Tensor& clamp_(Tensor& self, std::optional<Scalar> min, std::optional<Scalar> max) {
  check_can_cast(clamp_dtype(self, min, max), self.dtype());
  check_inplace(self);
  if (compute_requires_grad(self)) return compute_inplace(self, [&](const Tensor& t) { return clamp(t, min, max); });
  backend_for(self.device()).clamp(self, self, min ? &*min : nullptr, max ? &*max : nullptr);
  self.bump_version();
  return self;
}

// neg_ and relu_ write in place directly when autograd does not record.
static Tensor& unary_inplace(Tensor& self, UnaryOp op, Tensor (*fn)(const Tensor&)) {
  check_inplace(self);
  if (compute_requires_grad(self)) return compute_inplace(self, fn);
  backend_for(self.device()).unary(op, self, self);
  self.bump_version();
  return self;
}

Tensor& neg_(Tensor& self) {
  check_neg(self);
  return unary_inplace(self, UnaryOp::Neg, neg);
}
Tensor& relu_(Tensor& self) {
  check_relu(self);
  return unary_inplace(self, UnaryOp::Relu, relu);
}

// ---- isnan / isinf / isfinite ----

namespace {

// Integers and bools are never NaN or infinite: a constant mask shaped like x.
Tensor constant_mask(const Tensor& x, bool value) {
  return full(x.sizes(), Scalar(value), ScalarType::Bool, x.device());
}

}  // namespace

Tensor isnan(const Tensor& x) {
  if (!is_floating(x.dtype())) return constant_mask(x, false);
  return ne(x, x);
}

Tensor isinf(const Tensor& x) {
  if (!is_floating(x.dtype())) return constant_mask(x, false);
  AutoGradMode no_grad(false);
  return eq(abs(x), wrapped_scalar(Scalar(INFINITY)));
}

Tensor isfinite(const Tensor& x) {
  if (!is_floating(x.dtype())) return constant_mask(x, true);
  AutoGradMode no_grad(false);
  return eq(sub(x, x), wrapped_scalar(Scalar(0.0)));  // inf - inf and NaN - NaN are NaN
}

}  // namespace tg::ops
