// Binary elementwise ops: forward and backward side by side.
#include <optional>
#include "autograd/node.h"
#include "core/dispatch.h"
#include "ops/elementwise_util.h"
#include "ops/ops.h"

namespace tg::ops {

namespace {

// combine_categories from PyTorch's result_type: a higher-priority operand class keeps its
// dtype unless a lower class is of a higher category (bool < integer < floating).
std::optional<ScalarType> combine(std::optional<ScalarType> higher, std::optional<ScalarType> lower) {
  if (!higher) return lower;
  if (!lower) return higher;
  if (is_floating(*higher)) return higher;
  if (*higher == ScalarType::Bool || is_floating(*lower)) return promote_types(*higher, *lower);
  return higher;
}

int priority_class(const Tensor& t) { return t.is_wrapped_number() ? 2 : (t.dim() == 0 ? 1 : 0); }

Tensor wrap(Scalar s) { return wrapped_scalar(s); }

}  // namespace

ScalarType result_type(const Tensor& a, const Tensor& b) {
  std::optional<ScalarType> cls[3];
  for (const Tensor* t : {&a, &b}) {
    ScalarType dt = t->dtype();
    if (t->is_wrapped_number() && is_floating(dt)) dt = default_dtype();
    auto& c = cls[priority_class(*t)];
    c = c ? promote_types(*c, dt) : dt;
  }
  return *combine(cls[0], combine(cls[1], cls[2]));
}

Tensor expand_view(const Tensor& t, const DimVec& sizes) {
  if (t.sizes() == sizes) return t;
  DimVec strides(sizes.size(), 0);
  size_t lead = sizes.size() - t.sizes().size();
  for (size_t d = 0; d < t.sizes().size(); ++d)
    strides[lead + d] = t.sizes()[d] == 1 ? 0 : t.strides()[d];
  return make_view(t, sizes, strides, t.offset());
}

Tensor cast_for_compute(const Tensor& t, ScalarType dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = empty(t.sizes(), dtype, t.device());
  backend_for(t.device()).copy(out, t);
  return out;
}

Device common_device(const Tensor& a, const Tensor& b) {
  Device da = a.device(), db = b.device();
  if (da == db) return da;
  if (b.dim() == 0 && db.is_cpu()) return da;
  if (a.dim() == 0 && da.is_cpu()) return db;
  throw Error(str_cat("Expected all tensors to be on the same device, but found at least two devices, ",
                      da.str(), " and ", db.str(), "!"));
}

Tensor binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b, ScalarType compute, ScalarType out_dtype) {
  Device device = common_device(a, b);
  // The common case needs no cast, no broadcast and no temporaries.
  if (a.dtype() == compute && b.dtype() == compute && (compute == out_dtype || op >= BinaryOp::Eq) &&
      a.sizes() == b.sizes()) {
    Tensor out = empty(a.sizes(), out_dtype, device);
    backend_for(device).binary(op, out, a, b);
    return out;
  }
  const DimVec& shape = a.sizes() == b.sizes() ? a.sizes() : broadcast_shapes(a.sizes(), b.sizes());
  Tensor out = empty(shape, out_dtype, device);
  Tensor ca = cast_for_compute(a, compute), cb = cast_for_compute(b, compute);
  if (compute == out_dtype || op >= BinaryOp::Eq) {
    backend_for(device).binary(op, out, expand_view(ca, shape), expand_view(cb, shape));
  } else {
    Tensor tmp = empty(shape, compute, device);
    backend_for(device).binary(op, tmp, expand_view(ca, shape), expand_view(cb, shape));
    backend_for(device).copy(out, tmp);
  }
  return out;
}

void check_can_cast(ScalarType result, ScalarType self) {
  bool ok = (is_floating(self) || !is_floating(result)) && (self != ScalarType::Bool || result == ScalarType::Bool);
  TG_CHECK(ok, "result type ", scalar_type_word(result), " can't be cast to the desired output type ", scalar_type_word(self));
}

void binary_kernel_inplace(BinaryOp op, const Tensor& self, const Tensor& other, const char* name) {
  ScalarType compute = result_type(self, other);
  if (op == BinaryOp::Div && !is_floating(compute)) compute = default_dtype();
  check_can_cast(compute, self.dtype());
  if (self.sizes() != other.sizes()) {
    DimVec shape = broadcast_shapes(self.sizes(), other.sizes());
    if (shape != self.sizes())
      throw Error(str_cat("output with shape ", shape_str(self.sizes()), " doesn't match the broadcast shape ",
                          shape_str(shape)));
  }
  Device device = common_device(self, other);
  Tensor cother = expand_view(cast_for_compute(other, compute), self.sizes());
  if (compute == self.dtype()) {
    backend_for(device).binary(op, self, self, cother);
  } else {
    Tensor tmp = empty(self.sizes(), compute, device);
    backend_for(device).binary(op, tmp, cast_for_compute(self, compute), cother);
    backend_for(device).copy(self, tmp);
  }
  self.bump_version();
}

// ---- add / sub ----

struct AddBackward0 : Node {
  std::string name() const override { return "AddBackward0"; }
  TensorList apply(TensorList&& grads) override { return {grads[0], grads[0]}; }
};

// SubBackward0 for a - b; RsubBackward1 for number - tensor (Python's reflected __rsub__).
struct SubBackward : Node {
  bool reflected = false;
  std::string name() const override { return reflected ? "RsubBackward1" : "SubBackward0"; }
  TensorList apply(TensorList&& grads) override {
    return {grads[0], needs_input_grad(1) ? neg(grads[0]) : Tensor()};
  }
};

static bool is_one(Scalar s) { return s.to_double() == 1.0; }

// PyTorch's alpha_check, against the dtype the op computes in.
static void check_alpha(ScalarType dt, Scalar alpha) {
  TG_CHECK(alpha.kind() != ScalarType::Bool || dt == ScalarType::Bool,
           "Boolean alpha only supported for Boolean results.");
  TG_CHECK(is_floating(dt) || !alpha.is_floating(),
           "For integral input tensors, argument alpha must not be a floating point number.");
}

// b * alpha, kept bool for bool results (True + 2 * True is True in PyTorch).
static Tensor scaled(const Tensor& b, ScalarType dt, Scalar alpha) {
  return mul(b, wrap(dt == ScalarType::Bool ? Scalar(alpha.to_double() != 0) : alpha));
}

static void check_sub(const Tensor& a, const Tensor& b) {
  bool a_bool = a.dtype() == ScalarType::Bool, b_bool = b.dtype() == ScalarType::Bool;
  TG_CHECK(!(a_bool && b_bool), "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
           "`^` or `logical_xor()` operator instead.");
  TG_CHECK(!(a_bool || b_bool), "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
           "trying to invert a mask, use the `~` or `logical_not()` operator instead.");
}

Tensor add(const Tensor& a, const Tensor& b, Scalar alpha) {
  ScalarType dt = result_type(a, b);
  check_alpha(dt, alpha);
  if (!is_one(alpha)) return add(a, scaled(b, dt, alpha));
  Tensor out = binary_kernel(BinaryOp::Add, a, b, dt, dt);
  if (compute_requires_grad(a, b)) set_history(out, make_node<AddBackward0>(a, b));
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha) {
  check_sub(a, b);
  ScalarType dt = result_type(a, b);
  check_alpha(dt, alpha);
  if (!is_one(alpha)) return sub(a, scaled(b, dt, alpha));
  Tensor out = binary_kernel(BinaryOp::Sub, a, b, dt, dt);
  if (compute_requires_grad(a, b)) {
    auto node = make_node<SubBackward>(a, b);
    node->reflected = a.is_wrapped_number() && !b.is_wrapped_number();
    set_history(out, node);
  }
  return out;
}

// ---- mul / div ----

struct MulBackward0 : Node {
  SavedTensor self, other;
  std::string name() const override { return "MulBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    return {needs_input_grad(0) ? mul(g, other.unpack(*this)) : Tensor(),
            needs_input_grad(1) ? mul(g, self.unpack(*this)) : Tensor()};
  }
  void release_saved() override { self.reset(); other.reset(); }
};

struct DivBackward0 : Node {
  SavedTensor self, other;
  std::string name() const override { return "DivBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor b = other.unpack(*this);
    TensorList out(2);
    if (needs_input_grad(0)) out[0] = div(g, b);
    if (needs_input_grad(1)) out[1] = neg(div(mul(g, self.unpack(*this)), mul(b, b)));
    return out;
  }
  void release_saved() override { self.reset(); other.reset(); }
};

template <typename N>
void record_product(const Tensor& out, const Tensor& a, const Tensor& b) {
  auto node = make_node<N>(a, b);
  if (node->needs_input_grad(1) || std::is_same_v<N, DivBackward0>) node->self = SavedTensor(a, false);
  if (node->needs_input_grad(0) || std::is_same_v<N, DivBackward0>) node->other = SavedTensor(b, false);
  set_history(out, node);
}

Tensor mul(const Tensor& a, const Tensor& b) {
  ScalarType dt = result_type(a, b);
  Tensor out = binary_kernel(BinaryOp::Mul, a, b, dt, dt);
  if (compute_requires_grad(a, b)) record_product<MulBackward0>(out, a, b);
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  // number / tensor is reciprocal(tensor) * number in PyTorch: same rounding, same MulBackward0.
  if (a.is_wrapped_number() && !b.is_wrapped_number()) return mul(reciprocal(b), a);
  ScalarType dt = float_result_type(result_type(a, b));
  Tensor out = binary_kernel(BinaryOp::Div, a, b, dt, dt);
  if (compute_requires_grad(a, b)) record_product<DivBackward0>(out, a, b);
  return out;
}

// ---- pow ----

// PowBackward0: tensor ** number; PowBackward1: tensor ** tensor; PowBackward2: number ** tensor.
struct PowBackward : Node {
  SavedTensor self, exponent, result;
  int variant = 1;
  std::string name() const override { return "PowBackward" + std::to_string(variant); }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor a = self.unpack(*this), b = exponent.unpack(*this);
    TensorList out(2);
    if (needs_input_grad(0)) {
      // d/da a^b = b * a^(b-1), and 0 where b == 0 (so 0^0 has gradient 0, as in PyTorch). A number
      // exponent stays a number, so that b - 1 = -0.5 is rsqrt there too, and its zero case is known here.
      if (b.is_wrapped_number()) {
        Scalar e = b.item();
        Tensor b_minus_1 = wrap(e.is_floating() ? Scalar(e.to_double() - 1) : Scalar(e.to_int() - 1));
        Tensor d = mul(b, pow(a, b_minus_1));
        out[0] = e.to_double() == 0 ? zeros_like(d) : mul(g, d);
      } else {
        Tensor d = mul(b, pow(a, sub(b, wrap(int64_t(1)))));
        out[0] = where(eq(b, wrap(int64_t(0))), zeros_like(d), mul(g, d));
      }
    }
    if (needs_input_grad(1)) {
      // d/db a^b = a^b * log(a), defined as 0 where a == 0 and b >= 0; log(a) in the result's dtype.
      Tensor y = result.unpack(*this);
      Tensor d = mul(y, log(to_dtype(a, y.dtype())));
      Tensor zero_case = logical_and(eq(a, wrap(int64_t(0))), ge(b, wrap(int64_t(0))));
      out[1] = mul(g, where(zero_case, zeros_like(d), d));
    }
    return out;
  }
  void release_saved() override { self.reset(); exponent.reset(); result.reset(); }
};

// Integer tensors take negative integer exponents only as tensors (where x ** -n is 0 unless |x| is 1),
// and bool tensors only bool exponents given as numbers.
static void check_pow(const Tensor& a, const Tensor& b, ScalarType dt) {
  if (b.is_wrapped_number() && !is_floating(b.dtype()) && !is_floating(a.dtype()))
    TG_CHECK(b.item().to_int() >= 0, "Integers to negative integer powers are not allowed.");
  if (dt == ScalarType::Bool && !b.is_wrapped_number())
    throw NotImplementedError("\"pow\" not implemented for 'Bool'");
}

Tensor pow(const Tensor& a, const Tensor& b) {
  ScalarType dt = result_type(a, b);
  check_pow(a, b, dt);
  Tensor out;
  double exponent = b.is_wrapped_number() && is_floating(dt) ? b.item().to_double() : 0;
  if (exponent == 0.5 || exponent == -0.5) {
    // As ATen: x ** 0.5 is sqrt(x) and x ** -0.5 rsqrt(x), which keep the sign of -0.0 (-0.0 ** -0.5 is -inf).
    AutoGradMode no_grad(false);
    out = exponent > 0 ? sqrt(a) : rsqrt(a);
  } else if (exponent == 1 || exponent == -1 || exponent == 2 || exponent == 3 || exponent == -2) {
    // ATen's products for these exponents (pow_tensor_scalar_optimized_kernel): x * x * x rounds as torch
    // does, and all are vector loops rather than a call to std::pow per element.
    AutoGradMode no_grad(false);
    Tensor x = to_dtype(a, dt);
    if (exponent == 1) out = clone(x);
    else if (exponent == -1) out = reciprocal(x);
    else if (exponent == 2) out = mul(x, x);
    else if (exponent == 3) out = mul(mul(x, x), x);
    else out = reciprocal(mul(x, x));
  } else {
    out = binary_kernel(BinaryOp::Pow, a, b, dt, dt);
  }
  if (compute_requires_grad(a, b)) {
    auto node = make_node<PowBackward>(a, b);
    node->variant = b.is_wrapped_number() ? 0 : (a.is_wrapped_number() ? 2 : 1);
    node->self = SavedTensor(a, false);
    node->exponent = SavedTensor(b, false);
    if (node->needs_input_grad(1)) node->result = SavedTensor(out, true);
    set_history(out, node);
  }
  return out;
}

// ---- maximum / minimum ----

struct MaxMinBackward : Node {
  SavedTensor self, other;
  bool is_max = true;
  std::string name() const override { return is_max ? "MaximumBackward0" : "MinimumBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor a = self.unpack(*this), b = other.unpack(*this);
    // Ties split the gradient evenly, as in PyTorch.
    Tensor shared = where(eq(a, b), div(g, wrap(int64_t(2))), g);
    Tensor zero = zeros_like(shared);
    TensorList out(2);
    if (needs_input_grad(0)) out[0] = where(is_max ? lt(a, b) : gt(a, b), zero, shared);
    if (needs_input_grad(1)) out[1] = where(is_max ? gt(a, b) : lt(a, b), zero, shared);
    return out;
  }
  void release_saved() override { self.reset(); other.reset(); }
};

static Tensor max_min(const Tensor& a, const Tensor& b, bool is_max) {
  ScalarType dt = result_type(a, b);
  Tensor out = binary_kernel(is_max ? BinaryOp::Maximum : BinaryOp::Minimum, a, b, dt, dt);
  if (compute_requires_grad(a, b)) {
    auto node = make_node<MaxMinBackward>(a, b);
    node->is_max = is_max;
    node->self = SavedTensor(a, false);
    node->other = SavedTensor(b, false);
    set_history(out, node);
  }
  return out;
}
Tensor maximum(const Tensor& a, const Tensor& b) { return max_min(a, b, true); }
Tensor minimum(const Tensor& a, const Tensor& b) { return max_min(a, b, false); }

// ---- atan2 / hypot / zeta: math in floating point ----

static Tensor float_binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  ScalarType dt = float_result_type(result_type(a, b));
  return binary_kernel(op, a, b, dt, dt);
}

struct Atan2Backward0 : Node {
  SavedTensor self, other;
  std::string name() const override { return "Atan2Backward0"; }
  TensorList apply(TensorList&& grads) override {
    Tensor a = self.unpack(*this), b = other.unpack(*this);
    Tensor scale = div(grads[0], add(mul(a, a), mul(b, b)));
    return {needs_input_grad(0) ? mul(scale, b) : Tensor(), needs_input_grad(1) ? mul(scale, neg(a)) : Tensor()};
  }
  void release_saved() override { self.reset(); other.reset(); }
};

Tensor atan2(const Tensor& a, const Tensor& b) {
  Tensor out = float_binary(BinaryOp::Atan2, a, b);
  if (compute_requires_grad(a, b)) {
    auto node = make_node<Atan2Backward0>(a, b);
    node->self = SavedTensor(a, false);
    node->other = SavedTensor(b, false);
    set_history(out, node);
  }
  return out;
}

struct HypotBackward0 : Node {
  SavedTensor self, other, result;
  std::string name() const override { return "HypotBackward0"; }
  TensorList apply(TensorList&& grads) override {
    Tensor scale = div(grads[0], result.unpack(*this));
    return {needs_input_grad(0) ? mul(scale, self.unpack(*this)) : Tensor(),
            needs_input_grad(1) ? mul(scale, other.unpack(*this)) : Tensor()};
  }
  void release_saved() override { self.reset(); other.reset(); result.reset(); }
  void keep_output_in_place(const Tensor& out) override { result = SavedTensor(out, true); }
};

Tensor hypot(const Tensor& a, const Tensor& b) {
  Tensor out = float_binary(BinaryOp::Hypot, a, b);
  if (compute_requires_grad(a, b)) {
    auto node = make_node<HypotBackward0>(a, b);
    node->self = SavedTensor(a, false);
    node->other = SavedTensor(b, false);
    node->result = SavedTensor(out, true);
    set_history(out, node);
  }
  return out;
}

// d/dq zeta(x, q) = -x * zeta(x + 1, q); PyTorch has no derivative in x.
struct SpecialZetaBackward : Node {
  SavedTensor self, other;
  int variant = 0;
  std::string name() const override { return "SpecialZetaBackward" + std::to_string(variant); }
  TensorList apply(TensorList&& grads) override {
    if (needs_input_grad(0)) throw NotImplementedError("the derivative for 'zeta' is not implemented.");
    Tensor x = self.unpack(*this);
    return {Tensor(), mul(grads[0], mul(neg(x), special_zeta(add(x, wrap(1.0)), other.unpack(*this))))};
  }
  void release_saved() override { self.reset(); other.reset(); }
};

Tensor special_zeta(const Tensor& x, const Tensor& q) {
  Tensor out = float_binary(BinaryOp::Zeta, x, q);
  if (compute_requires_grad(x, q)) {
    auto node = make_node<SpecialZetaBackward>(x, q);
    node->variant = x.is_wrapped_number() ? 1 : (q.is_wrapped_number() ? 2 : 0);
    node->self = SavedTensor(x, false);
    node->other = SavedTensor(q, false);
    set_history(out, node);
  }
  return out;
}

// ---- ops without a gradient (piecewise constant) ----

static Tensor no_grad_binary(BinaryOp op, const Tensor& a, const Tensor& b, bool bool_out) {
  ScalarType dt = result_type(a, b);
  return binary_kernel(op, a, b, dt, bool_out ? ScalarType::Bool : dt);
}

// PyTorch records the ops it has no derivative for: the output requires grad, and only a
// backward that reaches the node fails.
struct NotImplementedBackward : Node {
  const char* op = "";
  std::string name() const override { return "torch::autograd::NotImplemented"; }
  TensorList apply(TensorList&&) override {
    throw Error(str_cat("derivative for aten::", op, " is not implemented"));
  }
};

static void record_not_implemented(const Tensor& out, const Tensor& a, const Tensor& b, const char* op) {
  if (!compute_requires_grad(a, b)) return;
  auto node = make_node<NotImplementedBackward>(a, b);
  node->op = op;
  set_history(out, node);
}

// a - floor(a / b) * b: the gradient is g for a and -g * floor(a / b) for b. RemainderBackward0
// when b is a number; number % tensor has no derivative in PyTorch.
struct RemainderBackward : Node {
  SavedTensor self, other;
  bool number_other = false;
  std::string name() const override { return number_other ? "RemainderBackward0" : "RemainderBackward1"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    if (!needs_input_grad(1)) return {g, Tensor()};
    return {g, neg(mul(g, floor_divide(self.unpack(*this), other.unpack(*this))))};
  }
  void release_saved() override { self.reset(); other.reset(); }
};

Tensor remainder(const Tensor& a, const Tensor& b) {
  Tensor out = no_grad_binary(BinaryOp::Remainder, a, b, false);
  if (a.is_wrapped_number()) {
    record_not_implemented(out, a, b, "remainder");
  } else if (compute_requires_grad(a, b)) {
    auto node = make_node<RemainderBackward>(a, b);
    node->number_other = b.is_wrapped_number();
    if (node->needs_input_grad(1)) {
      node->self = SavedTensor(a, false);
      node->other = SavedTensor(b, false);
    }
    set_history(out, node);
  }
  return out;
}

Tensor floor_divide(const Tensor& a, const Tensor& b) {
  Tensor out = no_grad_binary(BinaryOp::FloorDivide, a, b, false);
  record_not_implemented(out, a, b, "floor_divide");
  return out;
}

// div with a rounding mode is piecewise constant: PyTorch's DivBackward2 gives grad * 0 to both inputs.
struct DivBackward2 : Node {
  std::string name() const override { return "DivBackward2"; }
  TensorList apply(TensorList&& grads) override {
    Tensor zero = mul(grads[0], wrap(int64_t(0)));
    return {needs_input_grad(0) ? zero : Tensor(), needs_input_grad(1) ? zero : Tensor()};
  }
};

Tensor div(const Tensor& a, const Tensor& b, const std::string& rounding_mode) {
  ScalarType dt = result_type(a, b);
  Tensor out;
  if (rounding_mode == "floor") {
    out = no_grad_binary(BinaryOp::FloorDivide, a, b, false);
  } else if (rounding_mode == "trunc") {
    AutoGradMode no_grad(false);
    if (is_floating(dt)) {
      out = trunc(div(a, b));
    } else {
      // Floor division stepped up where the quotient is negative and inexact: exact for every int64
      // (a trip through double is not), and it raises on division by zero.
      Tensor zero = wrap(int64_t(0));
      Tensor inexact_negative = logical_and(ne(remainder(a, b), zero), ne(lt(a, zero), lt(b, zero)));
      out = add(floor_divide(a, b), inexact_negative);
    }
  } else {
    throw Error(str_cat("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '",
                        rounding_mode, "'"));
  }
  if (compute_requires_grad(a, b)) set_history(out, make_node<DivBackward2>(a, b));
  return out;
}
Tensor eq(const Tensor& a, const Tensor& b) { return no_grad_binary(BinaryOp::Eq, a, b, true); }
Tensor ne(const Tensor& a, const Tensor& b) { return no_grad_binary(BinaryOp::Ne, a, b, true); }
Tensor lt(const Tensor& a, const Tensor& b) { return no_grad_binary(BinaryOp::Lt, a, b, true); }
Tensor le(const Tensor& a, const Tensor& b) { return no_grad_binary(BinaryOp::Le, a, b, true); }
Tensor gt(const Tensor& a, const Tensor& b) { return no_grad_binary(BinaryOp::Gt, a, b, true); }
Tensor ge(const Tensor& a, const Tensor& b) { return no_grad_binary(BinaryOp::Ge, a, b, true); }
Tensor logical_and(const Tensor& a, const Tensor& b) { return no_grad_binary(BinaryOp::LogicalAnd, a, b, true); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return no_grad_binary(BinaryOp::LogicalOr, a, b, true); }
Tensor logical_xor(const Tensor& a, const Tensor& b) { return no_grad_binary(BinaryOp::LogicalXor, a, b, true); }

// ---- where ----

struct WhereBackward0 : Node {
  SavedTensor condition;
  std::string name() const override { return "WhereBackward0"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor c = condition.unpack(*this);
    Tensor zero = zeros_like(g);
    return {Tensor(), needs_input_grad(1) ? where(c, g, zero) : Tensor(),
            needs_input_grad(2) ? where(c, zero, g) : Tensor()};
  }
  void release_saved() override { condition.reset(); }
};

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  TG_CHECK(cond.dtype() == ScalarType::Bool, "where expected condition to be a boolean tensor, but got a tensor with dtype ",
           cond.dtype() == ScalarType::Int64 ? "Long" : (cond.dtype() == ScalarType::Float32 ? "Float" : "Double"));
  ScalarType dt = result_type(a, b);
  Device device = common_device(common_device(a, b).is_cpu() ? a : b, cond);
  DimVec shape = broadcast_shapes(broadcast_shapes(cond.sizes(), a.sizes()), b.sizes());
  Tensor out = empty(shape, dt, device);
  backend_for(device).where(out, expand_view(cond, shape), expand_view(cast_for_compute(a, dt), shape),
                            expand_view(cast_for_compute(b, dt), shape));
  if (compute_requires_grad(a, b)) {
    auto node = make_node<WhereBackward0>(cond, a, b);
    node->condition = SavedTensor(cond, false);
    set_history(out, node);
  }
  return out;
}

// ---- in place ----

// Records an in-place op: `node` (with edges to self's old history and other) becomes self's grad_fn.
template <typename N>
std::shared_ptr<N> inplace_node(const Tensor& self, const Tensor& other) {
  return make_node<N>(self, other);
}

Tensor& add_(Tensor& self, const Tensor& other, Scalar alpha) {
  check_alpha(result_type(self, other), alpha);
  if (!is_one(alpha)) return add_(self, scaled(other, result_type(self, other), alpha));
  check_inplace(self, other);
  bool grad = compute_requires_grad(self, other);
  std::shared_ptr<Node> node = grad ? inplace_node<AddBackward0>(self, other) : nullptr;
  binary_kernel_inplace(BinaryOp::Add, self, other, "add_");
  if (grad) rebase_history(self, node);
  return self;
}

Tensor& sub_(Tensor& self, const Tensor& other, Scalar alpha) {
  check_sub(self, other);
  check_alpha(result_type(self, other), alpha);
  if (!is_one(alpha)) return sub_(self, scaled(other, result_type(self, other), alpha));
  check_inplace(self, other);
  bool grad = compute_requires_grad(self, other);
  std::shared_ptr<Node> node = grad ? inplace_node<SubBackward>(self, other) : nullptr;
  binary_kernel_inplace(BinaryOp::Sub, self, other, "sub_");
  if (grad) rebase_history(self, node);
  return self;
}

template <typename N>
static Tensor& product_(Tensor& self, const Tensor& other, BinaryOp op) {
  check_inplace(self, other);
  bool grad = compute_requires_grad(self, other);
  std::shared_ptr<N> node;
  if (grad) {
    node = inplace_node<N>(self, other);
    // The old value of self is about to be overwritten: keep a copy if backward needs it.
    if (node->needs_input_grad(1) || op == BinaryOp::Div) node->self = SavedTensor(clone(detach(self)), false);
    node->other = SavedTensor(other, false);
  }
  binary_kernel_inplace(op, self, other, op == BinaryOp::Mul ? "mul_" : "div_");
  if (grad) rebase_history(self, node);
  return self;
}

Tensor& mul_(Tensor& self, const Tensor& other) { return product_<MulBackward0>(self, other, BinaryOp::Mul); }
Tensor& div_(Tensor& self, const Tensor& other) { return product_<DivBackward0>(self, other, BinaryOp::Div); }

Tensor& pow_(Tensor& self, const Tensor& other) {
  check_inplace(self, other);
  check_pow(self, other, result_type(self, other));
  if (!compute_requires_grad(self, other)) {
    binary_kernel_inplace(BinaryOp::Pow, self, other, "pow_");
    return self;
  }
  check_can_cast(result_type(self, other), self.dtype());
  return compute_inplace(self, [&](const Tensor& t) { return pow(t, other); });
}

// atan2_ and hypot_: the out-of-place op written into self, whose shape the result must keep.
static Tensor& float_binary_(Tensor& self, const Tensor& other, Tensor (*fn)(const Tensor&, const Tensor&)) {
  DimVec shape = broadcast_shapes(self.sizes(), other.sizes());
  TG_CHECK(shape == self.sizes(), "output with shape ", shape_str(self.sizes()), " doesn't match the broadcast shape ",
           shape_str(shape));
  return compute_inplace(self, [&](const Tensor& t) { return fn(t, other); });
}
Tensor& atan2_(Tensor& self, const Tensor& other) { return float_binary_(self, other, atan2); }
Tensor& hypot_(Tensor& self, const Tensor& other) { return float_binary_(self, other, hypot); }

}  // namespace tg::ops
