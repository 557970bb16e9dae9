// Reductions and the softmax family, as tapegrad.* functions and Tensor methods.
#include <cmath>
#include "bindings/python.h"
#include "ops/ops.h"

namespace tg::py_bridge {

namespace {

// (values, indices) results are structseqs like torch.return_types.max: tuples with named fields.
PyStructSequence_Field kValuesIndicesFields[] = {{"values", nullptr}, {"indices", nullptr}, {nullptr, nullptr}};
PyStructSequence_Desc kMaxDesc = {"tapegrad.return_types.max", nullptr, kValuesIndicesFields, 2};
PyStructSequence_Desc kMinDesc = {"tapegrad.return_types.min", nullptr, kValuesIndicesFields, 2};
PyStructSequence_Desc kSortDesc = {"tapegrad.return_types.sort", nullptr, kValuesIndicesFields, 2};
PyStructSequence_Desc kTopkDesc = {"tapegrad.return_types.topk", nullptr, kValuesIndicesFields, 2};
PyTypeObject* g_max_type = nullptr;
PyTypeObject* g_min_type = nullptr;
PyTypeObject* g_sort_type = nullptr;
PyTypeObject* g_topk_type = nullptr;

// PyTorch prints one field per line under the torch.return_types name; we print the same.
std::string values_indices_repr(py::handle self) {
  std::string out = "torch.return_types." + py::str(py::type::handle_of(self).attr("__name__")).cast<std::string>() + "(\n";
  py::tuple fields = py::reinterpret_borrow<py::tuple>(self);
  for (size_t i = 0; i < fields.size(); ++i) {
    out += kValuesIndicesFields[i].name;
    out += "=" + py::repr(fields[i]).cast<std::string>() + (i + 1 < fields.size() ? ",\n" : ")");
  }
  return out;
}

PyTypeObject* make_values_indices_type(PyStructSequence_Desc* desc) {
  PyTypeObject* type = PyStructSequence_NewType(desc);
  if (!type) throw py::error_already_set();
  py::handle h(reinterpret_cast<PyObject*>(type));
  py::setattr(h, "__repr__", py::cpp_function(&values_indices_repr, py::is_method(h), py::name("__repr__")));
  return type;
}

py::object values_indices(PyTypeObject* type, const std::pair<Tensor, Tensor>& result) {
  PyObject* obj = PyStructSequence_New(type);
  if (!obj) throw py::error_already_set();
  PyStructSequence_SetItem(obj, 0, wrap(result.first));
  PyStructSequence_SetItem(obj, 1, wrap(result.second));
  return py::reinterpret_steal<py::object>(obj);
}

// PyTorch warns (and returns inf or nan) when var/std have no degrees of freedom left.
void warn_if_no_dof(const char* fn, const Tensor& a, const Tensor& out, double correction) {
  int64_t n = out.numel() ? a.numel() / out.numel() : 0;
  if (double(n) - correction > 0) return;
  std::string msg = str_cat(fn, "(): degrees of freedom is <= 0. Correction should be strictly less than the "
                            "reduction factor (input numel divided by output numel).");
  if (PyErr_WarnEx(PyExc_UserWarning, msg.c_str(), 1) < 0) throw py::error_already_set();
}

// torch.norm's p: a number, or 'fro' (the 2-norm of the flattened dims).
double norm_order(py::handle p) {
  if (p.is_none()) return 2;
  if (PyUnicode_Check(p.ptr())) {
    std::string s = p.cast<std::string>();
    if (s == "fro") return 2;
    if (s == "nuc") throw NotImplementedError("torch.norm: the nuclear norm ('nuc') is not supported by tapegrad");
    throw Error(str_cat("linalg.matrix_norm: Order ", s, " not supported."));
  }
  if (is_tensor(p.ptr()) && unwrap(p.ptr()).dim() == 0) return unwrap(p.ptr()).item().to_double();
  auto s = as_scalar(p.ptr());
  TG_CHECK_TYPE(s, "norm(): argument 'p' must be Number or str, not ", Py_TYPE(p.ptr())->tp_name);
  return s->to_double();
}

// sum and mean's dim: left out (the Ellipsis default; keepdim then has no overload, as in PyTorch),
// None (every dim), or dims.
std::optional<DimVec> reduce_dims(const char* fn, py::handle dim, const std::optional<bool>& keepdim) {
  if (dim.ptr() == Py_Ellipsis) {
    TG_CHECK_TYPE(!keepdim, fn, "() received an invalid combination of arguments - got (Tensor, keepdim=bool), but "
                  "expected one of:\n * (Tensor input, *, torch.dtype dtype = None)\n * (Tensor input, tuple of ints "
                  "dim, bool keepdim = False, *, torch.dtype dtype = None)");
    return std::nullopt;
  }
  if (dim.is_none()) return std::nullopt;
  py::detail::make_caster<DimVec> dims;
  TG_CHECK_TYPE(dims.load(dim, true), fn, "(): argument 'dim' must be tuple of ints, not ", Py_TYPE(dim.ptr())->tp_name);
  return py::detail::cast_op<DimVec>(std::move(dims));
}

}  // namespace

void bind_reductions(py::module_& m) {
  auto input = py::arg("input");
  auto dim = py::arg("dim");
  auto keepdim = py::arg("keepdim").noconvert() = false;
  using OptDims = std::optional<DimVec>;
  using OptDtype = std::optional<ScalarType>;

  for (bool is_sum : {true, false}) {
    const char* name = is_sum ? "sum" : "mean";
    def_both(m, name, [is_sum, name](const Tensor& a, py::handle dim, py::handle keepdim_arg, OptDtype dtype) {
      std::optional<bool> keepdim;
      if (keepdim_arg.ptr() != Py_Ellipsis) {
        TG_CHECK_TYPE(PyBool_Check(keepdim_arg.ptr()), name, "(): argument 'keepdim' must be bool, not ",
                      Py_TYPE(keepdim_arg.ptr())->tp_name);
        keepdim = keepdim_arg.ptr() == Py_True;
      }
      std::optional<DimVec> dims = reduce_dims(name, dim, keepdim);
      bool keep = keepdim.value_or(false);
      if (!dims && !keep) return is_sum ? ops::sum(a, dtype) : ops::mean(a, dtype);
      DimVec d = dims.value_or(DimVec());
      return is_sum ? ops::sum(a, d, keep, dtype) : ops::mean(a, d, keep, dtype);
    }, input, py::arg("dim") = py::ellipsis(), py::arg("keepdim") = py::ellipsis(), py::kw_only(),
       py::arg("dtype") = py::none());
  }
  def_both(m, "prod", [](const Tensor& a, OptDtype dtype) { return ops::prod(a, dtype); }, input, py::kw_only(),
           py::arg("dtype") = py::none());
  def_both(m, "prod", [](const Tensor& a, int64_t d, bool keepdim, OptDtype dtype) {
    return ops::prod(a, d, keepdim, dtype);
  }, input, dim, keepdim, py::kw_only(), py::arg("dtype") = py::none());
  def_method("sum_to_size", [](const Tensor& a, py::args size) {
    return ops::sum_to_size(a, sizes_from_args(size, "sum_to_size"));
  });

  // max/min: of everything, elementwise against another tensor, or (values, indices) along a dim.
  g_max_type = make_values_indices_type(&kMaxDesc);
  g_min_type = make_values_indices_type(&kMinDesc);
  py::module_ return_types = m.def_submodule("return_types", "Named tuples returned by reductions");
  return_types.attr("max") = py::handle(reinterpret_cast<PyObject*>(g_max_type));
  return_types.attr("min") = py::handle(reinterpret_cast<PyObject*>(g_min_type));
  def_both(m, "max", [](const Tensor& a) { return ops::max(a); }, input);
  def_both(m, "max", [](const Tensor& a, const Tensor& b) { return ops::maximum(a, b); }, input, py::arg("other"));
  def_both(m, "max", [](const Tensor& a, int64_t d, bool keepdim) {
    return values_indices(g_max_type, ops::max(a, d, keepdim));
  }, input, dim, keepdim);
  def_both(m, "min", [](const Tensor& a) { return ops::min(a); }, input);
  def_both(m, "min", [](const Tensor& a, const Tensor& b) { return ops::minimum(a, b); }, input, py::arg("other"));
  def_both(m, "min", [](const Tensor& a, int64_t d, bool keepdim) {
    return values_indices(g_min_type, ops::min(a, d, keepdim));
  }, input, dim, keepdim);
  g_sort_type = make_values_indices_type(&kSortDesc);
  g_topk_type = make_values_indices_type(&kTopkDesc);
  return_types.attr("sort") = py::handle(reinterpret_cast<PyObject*>(g_sort_type));
  return_types.attr("topk") = py::handle(reinterpret_cast<PyObject*>(g_topk_type));
  // The sort kernel is always stable; whether stable= was passed only names the node.
  def_both(m, "sort", [](const Tensor& a, int64_t d, bool descending, std::optional<bool> stable) {
    return values_indices(g_sort_type, ops::sort(a, d, descending, stable.has_value()));
  }, input, py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(), py::arg("stable") = py::none());
  def_both(m, "argsort", [](const Tensor& a, int64_t d, bool descending, bool) {
    return ops::argsort(a, d, descending);
  }, input, py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(), py::arg("stable") = false);
  // sorted=False may return any order; sorted order is one.
  def_both(m, "topk", [](const Tensor& a, int64_t k, int64_t d, bool largest, bool) {
    return values_indices(g_topk_type, ops::topk(a, k, d, largest));
  }, input, py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true, py::arg("sorted") = true);
  def_both(m, "cumsum", [](const Tensor& a, int64_t d, OptDtype dtype) { return ops::cumsum(a, d, dtype); }, input,
           dim, py::kw_only(), py::arg("dtype") = py::none());
  def_both(m, "amax", [](const Tensor& a, OptDims dims, bool keepdim) {
    return ops::amax(a, dims.value_or(DimVec()), keepdim);
  },
           input, py::arg("dim") = py::tuple(), keepdim);
  def_both(m, "amin", [](const Tensor& a, OptDims dims, bool keepdim) {
    return ops::amin(a, dims.value_or(DimVec()), keepdim);
  },
           input, py::arg("dim") = py::tuple(), keepdim);
  def_both(m, "argmax", [](const Tensor& a, std::optional<int64_t> d, bool keepdim) {
    return ops::argmax(a, d, keepdim);
  }, input, py::arg("dim") = py::none(), keepdim);
  def_both(m, "argmin", [](const Tensor& a, std::optional<int64_t> d, bool keepdim) {
    return ops::argmin(a, d, keepdim);
  }, input, py::arg("dim") = py::none(), keepdim);

  // var/std take PyTorch's three forms: (unbiased), (dim, unbiased, keepdim), (dim, *, correction, keepdim).
  for (bool is_std : {false, true}) {
    const char* name = is_std ? "std" : "var";
    auto compute = [is_std, name](const Tensor& a, const OptDims& dims, double correction, bool keepdim) {
      Tensor out = is_std ? ops::std(a, dims, correction, keepdim) : ops::var(a, dims, correction, keepdim);
      warn_if_no_dof(name, a, out, correction);
      return out;
    };
    def_both(m, name, [compute](const Tensor& a, bool unbiased) {
      return compute(a, std::nullopt, unbiased ? 1 : 0, false);
    }, input, py::arg("unbiased").noconvert());
    def_both(m, name, [compute, name](const Tensor& a, OptDims dims, std::optional<bool> unbiased, bool keepdim,
                                      std::optional<Scalar> correction) {
      TG_CHECK_TYPE(!(unbiased && correction), name,
                    "() received an invalid combination of arguments - got both 'unbiased' and 'correction'");
      double c = correction ? correction->to_double() : (unbiased.value_or(true) ? 1 : 0);
      return compute(a, dims, c, keepdim);
    }, input, py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), keepdim, py::kw_only(),
       py::arg("correction") = py::none());
  }

  def_both(m, "logsumexp", [](const Tensor& a, const DimVec& dims, bool keepdim) {
    return ops::logsumexp(a, dims, keepdim);
  }, input, dim, keepdim);
  def_both(m, "softmax", [](const Tensor& a, int64_t d, OptDtype dtype) { return ops::softmax(a, d, dtype); }, input,
           dim, py::arg("dtype") = py::none());
  def_both(m, "log_softmax", [](const Tensor& a, int64_t d, OptDtype dtype) { return ops::log_softmax(a, d, dtype); },
           input, dim, py::arg("dtype") = py::none());
  def_both(m, "norm", [](const Tensor& a, py::object p, OptDims dims, bool keepdim, OptDtype dtype) {
    return ops::norm(a, norm_order(p), dims, keepdim, dtype);
  }, input, py::arg("p") = "fro", py::arg("dim") = py::none(), keepdim, py::arg("dtype") = py::none());

  // any/all over no dims (dim=()) reduce nothing, unlike sum: each element's truth, as in PyTorch.
  def_both(m, "any", [](const Tensor& a, OptDims dims, bool keepdim) {
    if (!dims) return keepdim ? ops::any(a, DimVec(), true) : ops::any(a);
    return dims->empty() ? ops::ne(a, wrapped_scalar(int64_t(0))) : ops::any(a, *dims, keepdim);
  }, input, py::arg("dim") = py::none(), keepdim);
  def_both(m, "all", [](const Tensor& a, OptDims dims, bool keepdim) {
    if (!dims) return keepdim ? ops::all(a, DimVec(), true) : ops::all(a);
    return dims->empty() ? ops::ne(a, wrapped_scalar(int64_t(0))) : ops::all(a, *dims, keepdim);
  }, input, py::arg("dim") = py::none(), keepdim);
  def_both(m, "equal", [](const Tensor& a, const Tensor& b) { return ops::equal(a, b); }, input, py::arg("other"));
  def_both(m, "isclose", [](const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
    return ops::isclose(a, b, rtol, atol, equal_nan);
  }, input, py::arg("other"), py::arg("rtol") = 1e-05, py::arg("atol") = 1e-08, py::arg("equal_nan").noconvert() = false);
  def_both(m, "allclose", [](const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
    return ops::allclose(a, b, rtol, atol, equal_nan);
  }, input, py::arg("other"), py::arg("rtol") = 1e-05, py::arg("atol") = 1e-08, py::arg("equal_nan").noconvert() = false);
}

}  // namespace tg::py_bridge
