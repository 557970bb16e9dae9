// Tensor indexing: x[i], x[a:b:c], x[None], x[...], x[index_tensor], x[mask], tuples of those, and
// assignment, parsed as PyTorch does (python_variable_indexing.cpp). Basic indexing makes views with the
// view ops; tensor indices then go to ops::index / ops::index_put_. An int or a slice alone takes a
// short path that builds no Python objects.
#include "bindings/python.h"
#include "ops/ops.h"

namespace tg::py_bridge {

namespace {

struct SliceBounds {
  int64_t start, stop, step;
};

SliceBounds unpack_slice(PyObject* s) {
  Py_ssize_t start, stop, step;
  if (PySlice_Unpack(s, &start, &stop, &step) < 0) throw py::error_already_set();
  return {start, stop, step};
}

int64_t unpack_long(PyObject* o) {
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  TG_CHECK_VALUE(!overflow, "Overflow when unpacking long long");
  return v;
}

// x[i] along dim; `position` is where i sat in the index tuple, which PyTorch's message reports.
Tensor apply_select(const Tensor& t, int64_t dim, int64_t index, int64_t position) {
  if (t.dim() == 0) {
    TG_CHECK_INDEX(index != 0, "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                   "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number");
    throw IndexError(str_cat("index ", index, " is out of bounds for dimension ", position, " with size 0"));
  }
  int64_t size = t.sizes()[dim];
  TG_CHECK_INDEX(index >= -size && index < size, "index ", index, " is out of bounds for dimension ", position,
                 " with size ", size);
  return ops::select(t, dim, index);
}

// Inside a tuple a slice covering the whole dim is skipped, as in PyTorch (x[:, 0] is one SelectBackward0).
Tensor apply_slice(const Tensor& t, int64_t dim, PyObject* s) {
  SliceBounds b = unpack_slice(s);
  if (b.start == 0 && b.step == 1 && b.stop >= t.sizes()[dim]) return t;
  return ops::slice(t, dim, b.start, b.stop, b.step);
}

// x[True] / x[False]: a new dim of size 1, kept whole or emptied.
Tensor bool_index(bool value) { return ops::zeros(DimVec{value ? 1 : 0}, ScalarType::Int64); }

// A list inside an index becomes an index tensor: bools stay a mask, other numbers become int64.
Tensor sequence_index(PyObject* seq) {
  TG_CHECK_TYPE(!PyUnicode_Check(seq), "new(): invalid data type 'str'");
  Tensor t = tensor_from_data(seq, std::nullopt);
  return t.dtype() == ScalarType::Bool ? t : ops::to_dtype(t, ScalarType::Int64);
}

// NumPy's legacy rule: a short list holding slices, sequences, tensors, None or ... is a tuple of indices.
bool treat_as_tuple(PyObject* index) {
  if (is_tensor(index) || !PySequence_Check(index)) return false;
  Py_ssize_t n = PySequence_Size(index);
  if (n < 0) {
    PyErr_Clear();
    return false;
  }
  if (n >= 32) return false;
  for (Py_ssize_t i = 0; i < n; ++i) {
    py::object item = py::reinterpret_steal<py::object>(PySequence_GetItem(index, i));
    if (!item) {
      PyErr_Clear();
      return false;
    }
    PyObject* o = item.ptr();
    if (is_tensor(o) || PySequence_Check(o) || PySlice_Check(o) || o == Py_Ellipsis || o == Py_None) return true;
  }
  return false;
}

py::tuple as_index_tuple(PyObject* index) {
  if (PyTuple_Check(index)) return py::reinterpret_borrow<py::tuple>(index);
  if (treat_as_tuple(index)) {
    if (PyErr_WarnEx(PyExc_UserWarning,
                     "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
                     "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be "
                     "interpreted as tensor index, x[torch.tensor(seq)], which will result either in an error or "
                     "a different result", 1) < 0)
      throw py::error_already_set();
    return py::reinterpret_steal<py::tuple>(PySequence_Tuple(index));
  }
  return py::make_tuple(py::handle(index));
}

// The basic part of an index applied as views, and the tensor indices left for advanced indexing
// (indices[d] indexes dim d of `view`; undefined entries keep their dim).
struct Sliced {
  Tensor view;
  TensorList indices;
};

Sliced apply_slicing(const Tensor& self, const py::tuple& items) {
  Py_ssize_t n = PyTuple_GET_SIZE(items.ptr());
  int64_t specified = 0;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* o = PyTuple_GET_ITEM(items.ptr(), i);
    if (is_tensor(o)) {
      Tensor t = unwrap(o);
      specified += t.dtype() == ScalarType::Bool ? t.dim() : 1;
    } else if (o != Py_None && o != Py_Ellipsis && !PyBool_Check(o)) {
      ++specified;
    }
  }
  TG_CHECK_INDEX(specified <= self.dim(), "too many indices for tensor of dimension ", self.dim());

  Sliced out{self, {}};
  int64_t dim = 0;
  auto record = [&](Tensor index) {
    out.indices.resize(dim + 1);
    out.indices[dim++] = std::move(index);
  };
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* o = PyTuple_GET_ITEM(items.ptr(), i);
    if (PyLong_Check(o) && !PyBool_Check(o)) {
      out.view = apply_select(out.view, dim, unpack_long(o), i);
    } else if (PySlice_Check(o)) {
      out.view = apply_slice(out.view, dim++, o);
    } else if (o == Py_Ellipsis) {
      dim += self.dim() - specified;
    } else if (o == Py_None) {
      out.view = ops::unsqueeze(out.view, dim++);
    } else if (PyBool_Check(o)) {
      out.view = ops::unsqueeze(out.view, dim);
      record(bool_index(o == Py_True));
    } else if (is_tensor(o)) {
      Tensor t = unwrap(o);
      if (t.dim() == 0 && t.dtype() == ScalarType::Int64) {
        out.view = apply_select(out.view, dim, t.item().to_int(), i);
      } else if (t.dim() == 0 && t.dtype() == ScalarType::Bool) {
        out.view = ops::unsqueeze(out.view, dim);
        record(bool_index(t.item().to_int() != 0));
      } else {
        record(t);
      }
    } else if (PySequence_Check(o)) {
      record(sequence_index(o));
    } else {
      py::object idx = py::reinterpret_steal<py::object>(PyNumber_Index(o));
      if (!idx) {
        PyErr_Clear();
        throw IndexError(str_cat("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                                 "are valid indices (got ", Py_TYPE(o)->tp_name, ")"));
      }
      out.view = apply_select(out.view, dim, unpack_long(idx.ptr()), i);
    }
  }
  return out;
}

Tensor get_item(const Tensor& t, PyObject* index) {
  if (PyLong_CheckExact(index)) return apply_select(t, 0, unpack_long(index), 0);
  if (PySlice_Check(index)) {
    SliceBounds b = unpack_slice(index);
    return ops::slice(t, 0, b.start, b.stop, b.step);
  }
  if (index == Py_None) return ops::unsqueeze(t, 0);
  if (index == Py_Ellipsis) return ops::alias(t);
  if (is_tensor(index) && t.dim() > 0) {
    Tensor idx = unwrap(index);
    if (idx.dim() > 0 && idx.dtype() == ScalarType::Int64) return ops::index(t, TensorList{idx});
  }
  Sliced s = apply_slicing(t, as_index_tuple(index));
  if (s.indices.empty()) return s.view.is_same(t) ? ops::alias(t) : s.view;
  return ops::index(s.view, s.indices);
}

// The value of x[...] = value: a tensor, or a Python number (which is taken in x's dtype).
struct SetValue {
  Tensor tensor;
  std::optional<Scalar> number;
};

SetValue set_value(PyObject* value, const Tensor& self) {
  if (is_tensor(value)) return {unwrap(value), std::nullopt};
  if (PyLong_Check(value) || PyFloat_Check(value) || (PyIndex_Check(value) && !PySequence_Check(value))) {
    int overflow = 0;  // an int beyond int64 is a ValueError here, as in PyTorch's setitem
    if (PyLong_Check(value) && (PyLong_AsLongLongAndOverflow(value, &overflow), overflow))
      throw ValueError("Overflow when unpacking long long");
    return {Tensor(), as_scalar(value)};
  }
  throw TypeError(str_cat("can't assign a ", Py_TYPE(value)->tp_name, " to a torch.", legacy_type_name(self.dtype())));
}

// `value` with its leading size-1 dims dropped (NumPy lets x[0] = ones(1, 1, 4) through).
Tensor strip_leading_ones(const Tensor& value) {
  int64_t lead = 0;
  while (lead < value.dim() && value.sizes()[lead] == 1) ++lead;
  if (lead == 0) return value;
  return ops::view(value, DimVec(value.sizes().begin() + lead, value.sizes().end()));
}

// Basic-indexing assignment: a copy into the view (CopySlices for autograd when it is one).
void copy_to(Tensor dst, const SetValue& value) {
  if (value.number) {
    ops::check_fill_value(*value.number, dst.dtype());
    ops::fill_(dst, scalar_tensor(*value.number, dst.dtype(), dst.device()));  // FillBackward3, as torch
  } else if (dst.sizes() == value.tensor.sizes() || value.tensor.dim() == 0) {
    ops::copy_(dst, value.tensor);
  } else {
    ops::copy_(dst, ops::expand(strip_leading_ones(value.tensor), dst.sizes()));
  }
}

void set_item(const Tensor& t, PyObject* index, const SetValue& value) {
  if (index == Py_False) return;
  // x[True] = v writes through a view (x[None]), which converts v to x's dtype; advanced indexing does not.
  if (index == Py_True || index == Py_None) return copy_to(ops::unsqueeze(t, 0), value);
  if (index == Py_Ellipsis) return copy_to(t, value);
  if (PyLong_CheckExact(index)) return copy_to(apply_select(t, 0, unpack_long(index), 0), value);
  if (PySlice_Check(index)) {
    SliceBounds b = unpack_slice(index);
    Tensor target = ops::slice(t, 0, b.start, b.stop, b.step);
    // As PyTorch's applySlice, a slice of everything is the tensor itself: x[:] = x copies x onto itself.
    return copy_to(target.sizes() == t.sizes() && target.strides() == t.strides() ? t : target, value);
  }
  Sliced s = apply_slicing(t, as_index_tuple(index));
  if (s.indices.empty()) return copy_to(s.view, value);
  Tensor values = value.number ? scalar_tensor(*value.number, t.dtype(), t.device()) : strip_leading_ones(value.tensor);
  ops::index_put_(s.view, s.indices, values, false);
}

TensorList tensor_list(py::handle seq, const char* fn) {
  PyObject* o = seq.ptr();
  TG_CHECK_TYPE(PyTuple_Check(o) || PyList_Check(o), fn, "(): argument 'indices' (position 1) must be tuple of "
                "Tensors, not ", is_tensor(o) ? "Tensor" : Py_TYPE(o)->tp_name);
  TensorList out;
  for (py::handle item : seq) {
    TG_CHECK_TYPE(is_tensor(item.ptr()), "expected Tensor as element ", out.size(), " in argument 0, but got ",
                  Py_TYPE(item.ptr())->tp_name);
    out.push_back(unwrap(item.ptr()));
  }
  return out;
}

}  // namespace

PyObject* tensor_getitem(PyObject* self, PyObject* index) {
  try {
    return wrap(get_item(unwrap(self), index));
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

int tensor_setitem(PyObject* self, PyObject* index, PyObject* value) {
  try {
    TG_CHECK_TYPE(value, "Tensor does not support deleting items");
    Tensor t = unwrap(self);
    set_item(t, index, set_value(value, t));
    return 0;
  } catch (...) {
    set_python_error();
    return -1;
  }
}

void bind_indexing(py::module_& m) {
  auto input = py::arg("input"), dim = py::arg("dim"), index = py::arg("index"), src = py::arg("src"),
       mask = py::arg("mask"), value = py::arg("value");
  def_both(m, "index_select", [](const Tensor& a, int64_t d, const Tensor& i) { return ops::index_select(a, d, i); },
           input, dim, index);
  def_both(m, "gather", [](const Tensor& a, int64_t d, const Tensor& i, bool) { return ops::gather(a, d, i); },
           input, dim, index, py::kw_only(), py::arg("sparse_grad").noconvert() = false);
  def_both(m, "take", [](const Tensor& a, const Tensor& i) { return ops::take(a, i); }, input, index);

  // scatter and masked_fill take a tensor or a number; overloads are tried in this order.
  def_both(m, "scatter", [](const Tensor& a, int64_t d, const Tensor& i, const Tensor& s) {
    return ops::scatter(a, d, i, s);
  }, input, dim, index, src);
  def_both(m, "scatter", [](const Tensor& a, int64_t d, const Tensor& i, Scalar v) {
    return ops::scatter(a, d, i, wrapped_scalar(v));
  }, input, dim, index, value);
  def_inplace<int64_t, const Tensor&, const Tensor&>("scatter_", [](Tensor& t, int64_t d, const Tensor& i,
                                                                    const Tensor& s) { ops::scatter_(t, d, i, s); },
                                                     dim, index, src);
  def_inplace<int64_t, const Tensor&, Scalar>("scatter_", [](Tensor& t, int64_t d, const Tensor& i, Scalar v) {
    ops::scatter_(t, d, i, wrapped_scalar(v));
  }, dim, index, value);
  m.def("_scatter_reduce", [](const Tensor& a, int64_t d, const Tensor& i, const Tensor& s, const std::string& reduce,
                              bool include_self) { return ops::scatter_reduce_values(a, d, i, s, reduce, include_self); },
        input, dim, index, src, py::arg("reduce"), py::arg("include_self"));
  def_both(m, "scatter_add", [](const Tensor& a, int64_t d, const Tensor& i, const Tensor& s) {
    return ops::scatter_add(a, d, i, s);
  }, input, dim, index, src);
  def_inplace<int64_t, const Tensor&, const Tensor&>("scatter_add_", [](Tensor& t, int64_t d, const Tensor& i,
                                                                        const Tensor& s) { ops::scatter_add_(t, d, i, s); },
                                                     dim, index, src);

  def_both(m, "masked_fill", [](const Tensor& a, const Tensor& mk, const Tensor& v) {
    return ops::masked_fill(a, mk, v);
  }, input, mask, value);
  def_both(m, "masked_fill", [](const Tensor& a, const Tensor& mk, Scalar v) {
    return ops::masked_fill(a, mk, wrapped_scalar(v));
  }, input, mask, value);
  def_inplace<const Tensor&, const Tensor&>("masked_fill_", [](Tensor& t, const Tensor& mk, const Tensor& v) {
    ops::masked_fill_(t, mk, v);
  }, mask, value);
  def_inplace<const Tensor&, Scalar>("masked_fill_", [](Tensor& t, const Tensor& mk, Scalar v) {
    ops::masked_fill_(t, mk, wrapped_scalar(v));
  }, mask, value);
  def_both(m, "masked_select", [](const Tensor& a, const Tensor& mk) { return ops::masked_select(a, mk); }, input, mask);

  def_both(m, "nonzero", [](const Tensor& a, bool as_tuple) -> py::object {
    if (!as_tuple) return py::reinterpret_steal<py::object>(wrap(ops::nonzero(a)));
    // One int64 tensor per dim (a 0-dim input counts as one element in one dim).
    Tensor coords = ops::nonzero(a.dim() ? a : ops::reshape(a, DimVec{1}));
    py::tuple out(coords.sizes()[1]);
    for (int64_t d = 0; d < coords.sizes()[1]; ++d)
      out[d] = py::reinterpret_steal<py::object>(wrap(ops::select(coords, 1, d)));
    return out;
  }, input, py::kw_only(), py::arg("as_tuple").noconvert() = false);
  def_both(m, "argwhere", [](const Tensor& a) { return ops::nonzero(a); }, input);

  def_both(m, "index_put", [](const Tensor& a, py::handle indices, const Tensor& values, bool accumulate) {
    return ops::index_put(a, tensor_list(indices, "index_put"), values, accumulate);
  }, input, py::arg("indices"), py::arg("values"), py::arg("accumulate").noconvert() = false);
  def_inplace<py::handle, const Tensor&, bool>("index_put_", [](Tensor& t, py::handle indices, const Tensor& values,
                                                               bool accumulate) {
    ops::index_put_(t, tensor_list(indices, "index_put_"), values, accumulate);
  }, py::arg("indices"), py::arg("values"), py::arg("accumulate").noconvert() = false);
}

}  // namespace tg::py_bridge
