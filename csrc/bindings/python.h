#pragma once
// The bridge between Python objects and C++ tensors. Tensor is a hand-written CPython type
// (its arithmetic slots are the per-op hot path); everything else is bound with pybind11,
// which sees tg::Tensor through the type caster below.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <optional>
#include "core/rng.h"
#include "core/tensor.h"

namespace py = pybind11;

namespace tg::py_bridge {

struct PyTensor {
  PyObject_HEAD
  Tensor tensor;  // zeroed by tp_alloc, which is a valid empty Tensor
  PyObject* dict;
  PyObject* weakrefs;
};

PyTypeObject* tensor_type();
inline bool is_tensor(PyObject* o) {
  return Py_TYPE(o) == tensor_type() || PyType_IsSubtype(Py_TYPE(o), tensor_type());
}
// The tensor a Python Tensor object holds; a reference, so reading it costs no refcount traffic.
inline const Tensor& unwrap(PyObject* o) { return reinterpret_cast<PyTensor*>(o)->tensor; }
// New reference to the Python object for t (the same object every time while it lives); None if undefined.
PyObject* wrap(Tensor t);
// Wraps t as an instance of `type` (a Tensor subclass such as nn.Parameter).
PyObject* wrap_as(Tensor t, PyTypeObject* type);

// A Python number as a Scalar, or nullopt if `o` is not one (bool, int, float, NumPy scalars).
std::optional<Scalar> as_scalar(PyObject* o);
// An integer argument as PyTorch's parser reads one: an int (not a bool), or an object with __index__
// (a NumPy integer, a one-element integer tensor); nullopt for anything else. Beyond int64: ValueError.
std::optional<int64_t> int_from_py(PyObject* o);
// A tensor or a Python number (as a wrapped 0-dim tensor); nullopt for anything else.
std::optional<Tensor> as_operand(PyObject* o);
// Sets the Python error for the exception in flight; call inside a catch block.
void set_python_error();

ScalarType dtype_from_py(PyObject* o);
PyObject* dtype_to_py(ScalarType t);
Device device_from_py(PyObject* o);
PyObject* size_to_py(const DimVec& sizes);
// A shape given as ints, or as one list/tuple/Size of ints (x.view(2, 3) and x.view((2, 3))).
DimVec sizes_from_args(const py::args& args, const char* fn);
DimVec dims_from_py(py::handle o);
// A shape argument that must be a sequence (a single int is refused, as PyTorch's parser does); its
// position is named in the message when known (non-zero).
DimVec shape_arg(py::handle o, const char* fn, const char* name, int position = 0);

// Tensor(...): the legacy constructor (Tensor([1., 2.]), Tensor(2, 3), Tensor(tensor)).
PyObject* legacy_tensor_new(PyTypeObject* type, PyObject* args, PyObject* kwargs);
// torch.tensor's data parsing: nested sequences, numbers, tensors and buffers (NumPy arrays).
Tensor tensor_from_data(PyObject* data, std::optional<ScalarType> dtype);

// A graph node as Python sees it: an instance of a Node subclass named like the node
// (MulBackward0, AccumulateGrad), as type(t.grad_fn).__name__ is in PyTorch.
py::object node_to_py(const std::shared_ptr<Node>& node);

void init_tensor_type(py::module_& m);
void bind_autograd(py::module_& m);
void bind_factory(py::module_& m);
void bind_ops(py::module_& m);
void bind_shape(py::module_& m);
void bind_indexing(py::module_& m);
void bind_reductions(py::module_& m);
void bind_optim(py::module_& m);
void bind_nn(py::module_& m);
void bind_generator(py::module_& m);
// The generator behind a tapegrad.Generator argument; nullptr for None (use the default one).
Generator* generator_from_py(py::handle o);

// Tensor.__getitem__ / __setitem__ (indexing_bindings.cpp).
PyObject* tensor_getitem(PyObject* self, PyObject* index);
int tensor_setitem(PyObject* self, PyObject* index, PyObject* value);

// Defines `name` on the Tensor type from a pybind11-callable (overloads add up).
template <typename F, typename... Extra>
void def_method(const char* name, F&& f, const Extra&... extra) {
  py::handle type(reinterpret_cast<PyObject*>(tensor_type()));
  py::object sibling = py::getattr(type, name, py::none());
  py::cpp_function fn(std::forward<F>(f), py::name(name), py::is_method(type), py::sibling(sibling), extra...);
  py::setattr(type, name, fn);
}

// Binds f as tapegrad.name and as Tensor.name; `input` names the tensor argument of the
// function, which the method binds as self.
template <typename F, typename... Extra>
void def_both(py::module_& m, const char* name, F f, const py::arg& input, const Extra&... extra) {
  m.def(name, f, input, extra...);
  def_method(name, f, extra...);
}

// In-place methods return self (the same Python object), as in PyTorch; Args are the
// argument types after self.
template <typename... Args, typename F, typename... Extra>
void def_inplace(const char* name, F f, const Extra&... extra) {
  def_method(name, [f](py::object self, Args... args) {
    Tensor t = unwrap(self.ptr());
    f(t, args...);
    return self;
  }, extra...);
}

template <typename F>
void def_property(const char* name, F&& getter) {
  py::handle type(reinterpret_cast<PyObject*>(tensor_type()));
  py::cpp_function fget(std::forward<F>(getter), py::is_method(type));
  py::setattr(type, name, py::module_::import("builtins").attr("property")(fget));
}

}  // namespace tg::py_bridge

namespace pybind11::detail {

template <>
struct type_caster<tg::Tensor> {
  PYBIND11_TYPE_CASTER(tg::Tensor, const_name("Tensor"));
  bool load(handle src, bool) {
    if (!src || !tg::py_bridge::is_tensor(src.ptr())) return false;
    value = tg::py_bridge::unwrap(src.ptr());
    return true;
  }
  static handle cast(const tg::Tensor& t, return_value_policy, handle) { return tg::py_bridge::wrap(t); }
};

template <>
struct type_caster<tg::Scalar> {
  PYBIND11_TYPE_CASTER(tg::Scalar, const_name("Number"));
  bool load(handle src, bool) {
    // A 0-dim tensor is a number too, as in PyTorch (torch.full((2,), torch.tensor(3.0))).
    if (src && tg::py_bridge::is_tensor(src.ptr()) && tg::py_bridge::unwrap(src.ptr()).dim() == 0) {
      value = tg::py_bridge::unwrap(src.ptr()).item();
      return true;
    }
    auto s = tg::py_bridge::as_scalar(src.ptr());
    if (!s) return false;
    value = *s;
    return true;
  }
  static handle cast(const tg::Scalar& s, return_value_policy, handle) {
    if (s.kind() == tg::ScalarType::Bool) return PyBool_FromLong(s.to_int());
    if (s.kind() == tg::ScalarType::Int64) return PyLong_FromLongLong(s.to_int());
    return PyFloat_FromDouble(s.to_double());
  }
};

template <>
struct type_caster<tg::ScalarType> {
  PYBIND11_TYPE_CASTER(tg::ScalarType, const_name("dtype"));
  bool load(handle src, bool) {
    try {
      value = tg::py_bridge::dtype_from_py(src.ptr());
      return true;
    } catch (...) {
      return false;
    }
  }
  static handle cast(tg::ScalarType t, return_value_policy, handle) { return tg::py_bridge::dtype_to_py(t); }
};

template <>
struct type_caster<tg::DimVec> {
  PYBIND11_TYPE_CASTER(tg::DimVec, const_name("Sequence[int]"));
  bool load(handle src, bool) {
    if (!src || PyUnicode_Check(src.ptr()) || PyBytes_Check(src.ptr()) || PyByteArray_Check(src.ptr())) return false;
    if (PyLong_Check(src.ptr()) && !PyBool_Check(src.ptr())) {
      value = tg::DimVec{*tg::py_bridge::int_from_py(src.ptr())};
      return true;
    }
    if (!PySequence_Check(src.ptr()) || tg::py_bridge::is_tensor(src.ptr())) return false;
    try {
      value = tg::py_bridge::dims_from_py(src);
      return true;
    } catch (...) {
      PyErr_Clear();
      return false;
    }
  }
  static handle cast(const tg::DimVec& d, return_value_policy, handle) { return tg::py_bridge::size_to_py(d); }
};

// int arguments are read as PyTorch's parser reads them: pybind11 would also take a bool or a float
// tensor (through __int__). Flags are bound with py::arg(...).noconvert(), which keeps pybind11 from
// reading any object as a bool (through __bool__).
template <>
struct type_caster<int64_t> {
  PYBIND11_TYPE_CASTER(int64_t, const_name("int"));
  bool load(handle src, bool) {
    auto v = src ? tg::py_bridge::int_from_py(src.ptr()) : std::nullopt;
    if (v) value = *v;
    return v.has_value();
  }
  static handle cast(int64_t v, return_value_policy, handle) { return PyLong_FromLongLong(v); }
};

// A device argument: None, a string, an int (a CUDA index) or a device. As in PyTorch, a string or int
// that names no device is a RuntimeError, not a mismatched argument.
template <>
struct type_caster<std::optional<tg::Device>> {
  PYBIND11_TYPE_CASTER(std::optional<tg::Device>, const_name("Optional[device]"));
  bool load(handle src, bool) {
    if (!src || src.is_none()) {
      value = std::nullopt;
      return true;
    }
    PyObject* o = src.ptr();
    if (PyBytes_Check(o)) {  // read as its text, as PyTorch does
      value = tg::py_bridge::device_from_py(py::str(py::reinterpret_borrow<py::bytes>(src)).ptr());
      return true;
    }
    if (!PyUnicode_Check(o) && !(PyLong_Check(o) && !PyBool_Check(o)) && !isinstance<tg::Device>(src)) return false;
    value = tg::py_bridge::device_from_py(o);
    return true;
  }
  static handle cast(const std::optional<tg::Device>& d, return_value_policy policy, handle parent) {
    if (!d) return none().release();
    return type_caster_base<tg::Device>::cast(*d, policy, parent);
  }
};

}  // namespace pybind11::detail
