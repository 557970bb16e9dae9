// Math ops, each bound as a tapegrad.* function and as a Tensor method where PyTorch has both.
#include "autograd/node.h"
#include "bindings/python.h"
#include "ops/elementwise_util.h"
#include "ops/nn.h"
#include "ops/ops.h"

namespace tg::py_bridge {

// An argument that may be a tensor or a Python number.
struct Operand {
  Tensor t;
};

}  // namespace tg::py_bridge

namespace pybind11::detail {
template <>
struct type_caster<tg::py_bridge::Operand> {
  PYBIND11_TYPE_CASTER(tg::py_bridge::Operand, const_name("Union[Tensor, Number]"));
  bool load(handle src, bool) {
    auto t = tg::py_bridge::as_operand(src.ptr());
    if (!t) return false;
    value.t = *t;
    return true;
  }
  static handle cast(const tg::py_bridge::Operand& o, return_value_policy, handle) {
    return tg::py_bridge::wrap(o.t);
  }
};
}  // namespace pybind11::detail

namespace tg::py_bridge {

namespace {

// torch.pow(2, 3) is no tensor op: at least one operand must be a tensor.
void check_has_tensor(const char* name, const Operand& a, const Operand& b) {
  if (!a.t.is_wrapped_number() || !b.t.is_wrapped_number()) return;
  auto type_name = [](const Tensor& t) {
    return t.dtype() == ScalarType::Bool ? "bool" : (t.dtype() == ScalarType::Int64 ? "int" : "float");
  };
  throw TypeError(str_cat(name, "() received an invalid combination of arguments - got (", type_name(a.t), ", ",
                          type_name(b.t), ")"));
}

}  // namespace

void bind_ops(py::module_& m) {
  auto other = py::arg("other");
  // ---- binary ----
  // As PyTorch's allow_numbers_as_tensors, these take a number as their first operand too (torch.add(2, t)).
  def_both(m, "add", [](Operand a, Operand b, Scalar alpha) { return ops::add(a.t, b.t, alpha); },
           py::arg("input"), other, py::kw_only(), py::arg("alpha") = 1);
  def_both(m, "sub", [](Operand a, Operand b, Scalar alpha) { return ops::sub(a.t, b.t, alpha); },
           py::arg("input"), other, py::kw_only(), py::arg("alpha") = 1);
  def_both(m, "subtract", [](Operand a, Operand b, Scalar alpha) { return ops::sub(a.t, b.t, alpha); },
           py::arg("input"), other, py::kw_only(), py::arg("alpha") = 1);
  def_both(m, "mul", [](Operand a, Operand b) { return ops::mul(a.t, b.t); }, py::arg("input"), other);
  def_both(m, "multiply", [](Operand a, Operand b) { return ops::mul(a.t, b.t); }, py::arg("input"), other);
  auto divide = [](Operand a, Operand b, std::optional<std::string> mode) {
    return mode ? ops::div(a.t, b.t, *mode) : ops::div(a.t, b.t);
  };
  def_both(m, "div", divide, py::arg("input"), other, py::kw_only(), py::arg("rounding_mode") = py::none());
  def_both(m, "divide", divide, py::arg("input"), other, py::kw_only(), py::arg("rounding_mode") = py::none());
  def_both(m, "true_divide", [](Operand a, Operand b) { return ops::div(a.t, b.t); }, py::arg("input"), other);
  def_both(m, "floor_divide", [](Operand a, Operand b) { return ops::floor_divide(a.t, b.t); }, py::arg("input"),
           other);
  m.def("remainder", [](Operand a, Operand b) {
    check_has_tensor("remainder", a, b);
    return ops::remainder(a.t, b.t);
  }, py::arg("input"), other);
  def_method("remainder", [](const Tensor& a, Operand b) { return ops::remainder(a, b.t); }, other);
  m.def("pow", [](Operand a, Operand b) {
    check_has_tensor("pow", a, b);
    return ops::pow(a.t, b.t);
  }, py::arg("input"), py::arg("exponent"));
  def_method("pow", [](const Tensor& a, Operand b) { return ops::pow(a, b.t); }, py::arg("exponent"));
  def_both(m, "maximum", [](const Tensor& a, const Tensor& b) { return ops::maximum(a, b); }, py::arg("input"), other);
  def_both(m, "minimum", [](const Tensor& a, const Tensor& b) { return ops::minimum(a, b); }, py::arg("input"), other);
  def_both(m, "eq", [](const Tensor& a, Operand b) { return ops::eq(a, b.t); }, py::arg("input"), other);
  def_both(m, "ne", [](const Tensor& a, Operand b) { return ops::ne(a, b.t); }, py::arg("input"), other);
  def_both(m, "lt", [](const Tensor& a, Operand b) { return ops::lt(a, b.t); }, py::arg("input"), other);
  def_both(m, "le", [](const Tensor& a, Operand b) { return ops::le(a, b.t); }, py::arg("input"), other);
  def_both(m, "gt", [](const Tensor& a, Operand b) { return ops::gt(a, b.t); }, py::arg("input"), other);
  def_both(m, "ge", [](const Tensor& a, Operand b) { return ops::ge(a, b.t); }, py::arg("input"), other);
  def_both(m, "logical_and", [](const Tensor& a, const Tensor& b) { return ops::logical_and(a, b); }, py::arg("input"), other);
  def_both(m, "logical_or", [](const Tensor& a, const Tensor& b) { return ops::logical_or(a, b); }, py::arg("input"), other);
  def_both(m, "logical_xor", [](const Tensor& a, const Tensor& b) { return ops::logical_xor(a, b); }, py::arg("input"), other);
  def_both(m, "logical_not", [](const Tensor& a) { return ops::logical_not(a); }, py::arg("input"));
  m.def("where", [](const Tensor& cond, Operand a, Operand b) { return ops::where(cond, a.t, b.t); },
        py::arg("condition"), py::arg("input"), other);
  def_method("where", [](const Tensor& self, const Tensor& cond, Operand b) { return ops::where(cond, self, b.t); },
             py::arg("condition"), other);

  def_inplace<Operand, Scalar>("add_", [](Tensor& t, Operand b, Scalar alpha) { ops::add_(t, b.t, alpha); }, other, py::kw_only(),
              py::arg("alpha") = 1);
  def_inplace<Operand, Scalar>("sub_", [](Tensor& t, Operand b, Scalar alpha) { ops::sub_(t, b.t, alpha); }, other, py::kw_only(),
              py::arg("alpha") = 1);
  def_inplace<Operand>("mul_", [](Tensor& t, Operand b) { ops::mul_(t, b.t); }, other);
  def_inplace<Operand>("div_", [](Tensor& t, Operand b) { ops::div_(t, b.t); }, other);
  def_inplace<Operand>("pow_", [](Tensor& t, Operand b) { ops::pow_(t, b.t); }, py::arg("exponent"));

  // ---- unary ----
#define UNARY(name, fn) def_both(m, name, [](const Tensor& a) { return ops::fn(a); }, py::arg("input"))
  UNARY("neg", neg); UNARY("negative", neg); UNARY("abs", abs); UNARY("exp", exp); UNARY("log", log);
  UNARY("sqrt", sqrt); UNARY("rsqrt", rsqrt); UNARY("sin", sin); UNARY("cos", cos); UNARY("tanh", tanh);
  UNARY("sigmoid", sigmoid); UNARY("relu", relu); UNARY("sign", sign); UNARY("square", square);
  UNARY("reciprocal", reciprocal); UNARY("log1p", log1p); UNARY("expm1", expm1); UNARY("floor", floor);
  UNARY("ceil", ceil); UNARY("round", round); UNARY("trunc", trunc); UNARY("isnan", isnan); UNARY("isinf", isinf);
  UNARY("isfinite", isfinite); UNARY("tan", tan); UNARY("asin", asin); UNARY("arcsin", asin); UNARY("acos", acos);
  UNARY("arccos", acos); UNARY("atan", atan); UNARY("arctan", atan); UNARY("sinh", sinh); UNARY("cosh", cosh);
  UNARY("asinh", asinh); UNARY("arcsinh", asinh); UNARY("acosh", acosh); UNARY("arccosh", acosh);
  UNARY("atanh", atanh); UNARY("arctanh", atanh); UNARY("log2", log2); UNARY("log10", log10); UNARY("exp2", exp2);
  UNARY("erfc", erfc); UNARY("erfinv", erfinv); UNARY("lgamma", lgamma); UNARY("digamma", digamma);
#undef UNARY
  m.def("polygamma", [](int64_t n, const Tensor& x) { return ops::polygamma(n, x); }, py::arg("n"), py::arg("input"));
  def_method("polygamma", [](const Tensor& x, int64_t n) { return ops::polygamma(n, x); }, py::arg("n"));
  m.def("_special_zeta", [](Operand x, Operand q) {
    check_has_tensor("special_zeta", x, q);
    return ops::special_zeta(x.t, q.t);
  }, py::arg("input"), other);
  def_both(m, "atan2", [](const Tensor& a, const Tensor& b) { return ops::atan2(a, b); }, py::arg("input"), other);
  def_both(m, "arctan2", [](const Tensor& a, const Tensor& b) { return ops::atan2(a, b); }, py::arg("input"), other);
  def_both(m, "hypot", [](const Tensor& a, const Tensor& b) { return ops::hypot(a, b); }, py::arg("input"), other);
  def_inplace<const Tensor&>("atan2_", [](Tensor& t, const Tensor& b) { ops::atan2_(t, b); }, other);
  def_inplace<const Tensor&>("arctan2_", [](Tensor& t, const Tensor& b) { ops::atan2_(t, b); }, other);
  def_inplace<const Tensor&>("hypot_", [](Tensor& t, const Tensor& b) { ops::hypot_(t, b); }, other);
  def_inplace<int64_t>("polygamma_", [](Tensor& t, int64_t n) {
    compute_inplace(t, [n](const Tensor& x) { return ops::polygamma(n, x); });
  }, py::arg("n"));
  def_inplace("neg_", [](Tensor& t) { ops::neg_(t); });
  def_inplace("relu_", [](Tensor& t) { ops::relu_(t); });
  // Other in-place unary methods compute out of place and write back, recording the op's node.
  for (auto [name, fn] : {std::pair<const char*, Tensor (*)(const Tensor&)>{"exp_", &ops::exp}, {"log_", &ops::log},
                          {"sqrt_", &ops::sqrt}, {"rsqrt_", &ops::rsqrt}, {"abs_", &ops::abs},
                          {"sigmoid_", &ops::sigmoid}, {"tanh_", &ops::tanh}, {"sin_", &ops::sin},
                          {"cos_", &ops::cos}, {"square_", &ops::square}, {"reciprocal_", &ops::reciprocal},
                          {"log1p_", &ops::log1p}, {"expm1_", &ops::expm1}, {"floor_", &ops::floor},
                          {"ceil_", &ops::ceil}, {"round_", &ops::round}, {"trunc_", &ops::trunc},
                          {"sign_", &ops::sign}, {"tan_", &ops::tan}, {"asin_", &ops::asin},
                          {"arcsin_", &ops::asin}, {"acos_", &ops::acos}, {"arccos_", &ops::acos},
                          {"atan_", &ops::atan}, {"arctan_", &ops::atan}, {"sinh_", &ops::sinh},
                          {"cosh_", &ops::cosh}, {"asinh_", &ops::asinh}, {"arcsinh_", &ops::asinh},
                          {"acosh_", &ops::acosh}, {"arccosh_", &ops::acosh}, {"atanh_", &ops::atanh},
                          {"arctanh_", &ops::atanh}, {"log2_", &ops::log2}, {"log10_", &ops::log10},
                          {"exp2_", &ops::exp2}, {"erfc_", &ops::erfc}, {"erfinv_", &ops::erfinv},
                          {"lgamma_", &ops::lgamma}, {"digamma_", &ops::digamma}, {"erf_", &ops::erf}}) {
    def_method(name, [fn = fn](py::object self) {
      Tensor t = unwrap(self.ptr());
      compute_inplace(t, [fn = fn, &t](const Tensor& x) {
        Tensor result = fn(x);
        ops::check_can_cast(result.dtype(), t.dtype());
        return result;
      });
      return self;
    });
  }

  auto clamp = [](const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) {
    return ops::clamp(a, min, max);
  };
  def_both(m, "clamp", clamp, py::arg("input"), py::arg("min") = py::none(), py::arg("max") = py::none());
  def_both(m, "clip", clamp, py::arg("input"), py::arg("min") = py::none(), py::arg("max") = py::none());
  def_inplace<std::optional<Scalar>, std::optional<Scalar>>("clamp_", [](Tensor& t, std::optional<Scalar> min, std::optional<Scalar> max) { ops::clamp_(t, min, max); },
              py::arg("min") = py::none(), py::arg("max") = py::none());

  // ---- matrix products ----
  def_both(m, "matmul", [](const Tensor& a, const Tensor& b) { return ops::matmul(a, b); }, py::arg("input"), other);
  def_both(m, "mm", [](const Tensor& a, const Tensor& b) { return ops::mm(a, b); }, py::arg("input"), py::arg("mat2"));
  def_both(m, "bmm", [](const Tensor& a, const Tensor& b) { return ops::bmm(a, b); }, py::arg("input"), py::arg("mat2"));
  def_both(m, "dot", [](const Tensor& a, const Tensor& b) { return ops::dot(a, b); }, py::arg("input"),
           py::arg("tensor"));
  def_both(m, "outer", [](const Tensor& a, const Tensor& b) { return ops::outer(a, b); }, py::arg("input"),
           py::arg("vec2"));
  def_both(m, "ger", [](const Tensor& a, const Tensor& b) { return ops::outer(a, b); }, py::arg("input"),
           py::arg("vec2"));
  def_both(m, "mv", [](const Tensor& a, const Tensor& b) { return ops::mv(a, b); }, py::arg("input"), py::arg("vec"));

}

}  // namespace tg::py_bridge
