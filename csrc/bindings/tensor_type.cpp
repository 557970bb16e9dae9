// The Python Tensor type: a thin CPython object around a TensorImpl. Arithmetic, comparison
// and attribute slots are written against the C API so the per-op path skips argument
// parsing; methods with keyword arguments are added with pybind11 by the other binding files.
#include <cmath>
#include "autograd/node.h"
#include "bindings/python.h"
#include <structmember.h>
#include "core/grad_mode.h"
#include "ops/ops.h"

namespace tg::py_bridge {

namespace {

PyTypeObject* g_tensor_type = nullptr;
PyObject* g_size_type = nullptr;
PyObject* g_dtypes[kNumScalarTypes] = {};

#define TG_PY_TRY try {
#define TG_PY_CATCH(ret) \
  }                      \
  catch (...) {          \
    set_python_error();  \
    return ret;          \
  }

using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);

PyObject* binary_slot(PyObject* a, PyObject* b, BinaryFn fn) {
  TG_PY_TRY
  if (Py_TYPE(a) == g_tensor_type && Py_TYPE(b) == g_tensor_type) return wrap(fn(unwrap(a), unwrap(b)));
  auto x = as_operand(a);
  if (!x) Py_RETURN_NOTIMPLEMENTED;
  auto y = as_operand(b);
  if (!y) Py_RETURN_NOTIMPLEMENTED;
  return wrap(fn(*x, *y));
  TG_PY_CATCH(nullptr)
}

using InplaceFn = Tensor& (*)(Tensor&, const Tensor&);

PyObject* inplace_slot(PyObject* self, PyObject* b, InplaceFn fn) {
  TG_PY_TRY
  if (!is_tensor(self)) Py_RETURN_NOTIMPLEMENTED;
  auto y = as_operand(b);
  if (!y) Py_RETURN_NOTIMPLEMENTED;
  Tensor t = unwrap(self);
  fn(t, *y);
  Py_INCREF(self);
  return self;
  TG_PY_CATCH(nullptr)
}

#define BINARY_SLOT(name, expr) \
  PyObject* name(PyObject* a, PyObject* b) { \
    return binary_slot(a, b, [](const Tensor& x, const Tensor& y) { return expr; }); \
  }
BINARY_SLOT(nb_add, ops::add(x, y))
BINARY_SLOT(nb_sub, ops::sub(x, y))
BINARY_SLOT(nb_mul, ops::mul(x, y))
BINARY_SLOT(nb_truediv, ops::div(x, y))
BINARY_SLOT(nb_floordiv, ops::floor_divide(x, y))
BINARY_SLOT(nb_remainder, ops::remainder(x, y))
BINARY_SLOT(nb_matmul, ops::matmul(x, y))
BINARY_SLOT(nb_and, ops::logical_and(x, y))
BINARY_SLOT(nb_or, ops::logical_or(x, y))
BINARY_SLOT(nb_xor, ops::logical_xor(x, y))
#undef BINARY_SLOT

PyObject* nb_pow(PyObject* a, PyObject* b, PyObject* mod) {
  if (mod != Py_None) Py_RETURN_NOTIMPLEMENTED;  // Python then raises its own TypeError, as for torch
  return binary_slot(a, b, [](const Tensor& x, const Tensor& y) { return ops::pow(x, y); });
}

#define INPLACE_SLOT(name, expr) \
  PyObject* name(PyObject* a, PyObject* b) { \
    return inplace_slot(a, b, [](Tensor& x, const Tensor& y) -> Tensor& { return expr; }); \
  }
INPLACE_SLOT(nb_iadd, ops::add_(x, y))
INPLACE_SLOT(nb_isub, ops::sub_(x, y))
INPLACE_SLOT(nb_imul, ops::mul_(x, y))
INPLACE_SLOT(nb_itruediv, ops::div_(x, y))
#undef INPLACE_SLOT

PyObject* nb_ipow(PyObject* a, PyObject* b, PyObject*) {
  return inplace_slot(a, b, [](Tensor& x, const Tensor& y) -> Tensor& { return ops::pow_(x, y); });
}

PyObject* unary_slot(PyObject* a, Tensor (*fn)(const Tensor&)) {
  TG_PY_TRY
  return wrap(fn(unwrap(a)));
  TG_PY_CATCH(nullptr)
}
PyObject* nb_neg(PyObject* a) { return unary_slot(a, [](const Tensor& x) { return ops::neg(x); }); }
PyObject* nb_abs(PyObject* a) { return unary_slot(a, [](const Tensor& x) { return ops::abs(x); }); }
PyObject* nb_pos(PyObject* a) { Py_INCREF(a); return a; }
PyObject* nb_invert(PyObject* a) {
  return unary_slot(a, [](const Tensor& x) {
    TG_CHECK(x.dtype() == ScalarType::Bool, "~ (bitwise_not) is only implemented for bool tensors here");
    return ops::logical_not(x);
  });
}

// float(t) and int(t).
Scalar single_value(PyObject* a) {
  Tensor t = unwrap(a);
  if (t.numel() != 1) throw ValueError("only one element tensors can be converted to Python scalars");
  return t.item();
}

int nb_bool(PyObject* a) {
  TG_PY_TRY
  Tensor t = unwrap(a);
  if (t.numel() != 1) {
    if (t.numel() == 0) throw Error("Boolean value of Tensor with no values is ambiguous");
    throw Error("Boolean value of Tensor with more than one value is ambiguous");
  }
  Scalar s = t.item();
  return s.is_floating() ? s.to_double() != 0.0 : s.to_int() != 0;
  TG_PY_CATCH(-1)
}
PyObject* nb_float(PyObject* a) {
  TG_PY_TRY
  return PyFloat_FromDouble(single_value(a).to_double());
  TG_PY_CATCH(nullptr)
}
PyObject* nb_int(PyObject* a) {
  TG_PY_TRY
  Scalar s = single_value(a);
  if (s.is_floating()) {
    double v = s.to_double();
    if (std::isnan(v)) throw ValueError("cannot convert float NaN to integer");
    if (std::isinf(v)) throw Error("Overflow when unpacking long");
    return PyLong_FromDouble(v);
  }
  return PyLong_FromLongLong(s.to_int());
  TG_PY_CATCH(nullptr)
}
PyObject* nb_index(PyObject* a) {
  TG_PY_TRY
  Tensor t = unwrap(a);
  if (t.numel() != 1 || is_floating(t.dtype()))
    throw TypeError("only integer tensors of a single element can be converted to an index");
  return PyLong_FromLongLong(t.item().to_int());
  TG_PY_CATCH(nullptr)
}

PyObject* richcompare(PyObject* a, PyObject* b, int op) {
  switch (op) {
    case Py_EQ: return binary_slot(a, b, [](const Tensor& x, const Tensor& y) { return ops::eq(x, y); });
    case Py_NE: return binary_slot(a, b, [](const Tensor& x, const Tensor& y) { return ops::ne(x, y); });
    case Py_LT: return binary_slot(a, b, [](const Tensor& x, const Tensor& y) { return ops::lt(x, y); });
    case Py_LE: return binary_slot(a, b, [](const Tensor& x, const Tensor& y) { return ops::le(x, y); });
    case Py_GT: return binary_slot(a, b, [](const Tensor& x, const Tensor& y) { return ops::gt(x, y); });
    case Py_GE: return binary_slot(a, b, [](const Tensor& x, const Tensor& y) { return ops::ge(x, y); });
  }
  Py_RETURN_NOTIMPLEMENTED;
}

Py_hash_t tensor_hash(PyObject* a) { return _Py_HashPointer(a); }

Py_ssize_t mp_length(PyObject* a) {
  Tensor t = unwrap(a);
  if (t.dim() == 0) {
    PyErr_SetString(PyExc_TypeError, "len() of a 0-d tensor");
    return -1;
  }
  return static_cast<Py_ssize_t>(t.sizes()[0]);
}

void tensor_dealloc(PyObject* self) {
  auto* t = reinterpret_cast<PyTensor*>(self);
  PyTypeObject* type = Py_TYPE(self);
  if (t->weakrefs) PyObject_ClearWeakRefs(self);
  Py_CLEAR(t->dict);
  if (t->tensor.defined()) {
    if (t->tensor.impl()->pyobj == self) t->tensor.impl()->pyobj = nullptr;
    t->tensor = Tensor();
  }
  type->tp_free(self);
  Py_DECREF(type);
}

// ---- attributes ----

PyObject* get_grad(PyObject* self, void*) {
  TG_PY_TRY
  Tensor t = unwrap(self);
  if (!t.is_leaf() && !t.impl()->retains_grad && !t.grad().defined() &&
      PyErr_WarnEx(PyExc_UserWarning,
                   "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                   "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                   "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf "
                   "Tensor by mistake, make sure you access the leaf Tensor instead. See "
                   "github.com/pytorch/pytorch/pull/30531 for more information.",
                   1) < 0)
    return nullptr;
  return wrap(t.grad());
  TG_PY_CATCH(nullptr)
}
int set_grad(PyObject* self, PyObject* value, void*) {
  TG_PY_TRY
  Tensor t = unwrap(self);
  if (!value || value == Py_None) {
    t.set_grad(Tensor());
    return 0;
  }
  if (!is_tensor(value))
    throw TypeError(str_cat("assigned grad expected to be a Tensor or None but got grad of type ",
                            Py_TYPE(value)->tp_name));
  Tensor g = unwrap(value);
  TG_CHECK(!g.is_same(t), "can't assign Variable as its own grad");
  TG_CHECK(g.sizes() == t.sizes(), "attempting to assign a gradient of size '", shape_str(g.sizes()),
           "' to a tensor of size '", shape_str(t.sizes()),
           "'. Please ensure that the gradient and the tensor are the same size");
  TG_CHECK(g.dtype() == t.dtype(), "attempting to assign a gradient with dtype '", cpp_type_name(g.dtype()),
           "' to a tensor with grad_dtype '", scalar_type_word(t.dtype()),
           "'. The gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
           "tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with "
           "caution. Diverging the dtypes of a tensor and its gradient may break downstream systems that assume "
           "they match.");
  TG_CHECK(g.device() == t.device(), "attempting to assign a gradient located on device with index '",
           static_cast<int>(g.device().index), "' to a tensor located on device with index '",
           static_cast<int>(t.device().index), "'. Please ensure that the gradient and the tensor are on the same "
           "device");
  t.set_grad(g);
  return 0;
  TG_PY_CATCH(-1)
}

PyObject* get_requires_grad(PyObject* self, void*) { return PyBool_FromLong(unwrap(self).requires_grad()); }
int set_requires_grad(PyObject* self, PyObject* value, void*) {
  TG_PY_TRY
  Tensor t = unwrap(self);
  if (!value || !PyBool_Check(value)) throw Error("requires_grad must be a bool");
  bool flag = value == Py_True;
  if (t.impl()->grad_fn) {  // as PyTorch, without refreshing a stale view's grad_fn
    if (flag) throw Error("you can only change requires_grad flags of leaf variables.");
    throw Error("you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
  }
  if (flag && !is_floating(t.dtype()))
    throw Error("only Tensors of floating point and complex dtype can require gradients");
  t.impl()->requires_grad = flag;
  return 0;
  TG_PY_CATCH(-1)
}

PyObject* get_data(PyObject* self, void*) {
  TG_PY_TRY
  Tensor t = unwrap(self);
  Tensor alias = make_view(t, t.sizes(), t.strides(), t.offset());
  alias.impl()->storage = Storage::alias(t.storage());
  return wrap(alias);
  TG_PY_CATCH(nullptr)
}
int set_data(PyObject* self, PyObject* value, void*) {
  TG_PY_TRY
  if (!value) throw Error("Deleting tensor data is not allowed. Delete tensor instead!");
  if (!is_tensor(value))
    throw TypeError(str_cat("Variable data has to be a tensor, but got ", Py_TYPE(value)->tp_name));
  Tensor t = unwrap(self), src = unwrap(value);
  TG_CHECK(!t.requires_grad() || is_floating(src.dtype()),
           "data set to a tensor that requires gradients must be floating point or complex dtype");
  TensorImpl* impl = t.impl();
  impl->storage = Storage::alias(src.storage());
  impl->storage->version = t.version();
  impl->sizes = src.sizes();
  impl->strides = src.strides();
  impl->offset = src.offset();
  impl->numel = src.numel();
  impl->dtype = src.dtype();
  return 0;
  TG_PY_CATCH(-1)
}

PyObject* get_grad_fn(PyObject* self, void*) {
  TG_PY_TRY
  const auto& fn = unwrap(self).grad_fn();
  if (!fn) Py_RETURN_NONE;
  return node_to_py(fn).release().ptr();
  TG_PY_CATCH(nullptr)
}
PyObject* get_is_leaf(PyObject* self, void*) {
  TG_PY_TRY
  return PyBool_FromLong(unwrap(self).is_leaf());  // refreshes a stale view's grad_fn, which may fail
  TG_PY_CATCH(nullptr)
}
PyObject* get_base(PyObject* self, void*) {
  TG_PY_TRY
  return wrap(Tensor(unwrap(self).impl()->view_base));
  TG_PY_CATCH(nullptr)
}
PyObject* get_shape(PyObject* self, void*) { return size_to_py(unwrap(self).sizes()); }
PyObject* get_dtype(PyObject* self, void*) { return dtype_to_py(unwrap(self).dtype()); }
PyObject* get_ndim(PyObject* self, void*) { return PyLong_FromLongLong(unwrap(self).dim()); }
PyObject* get_version(PyObject* self, void*) { return PyLong_FromUnsignedLong(unwrap(self).version()); }
PyObject* get_retains_grad(PyObject* self, void*) { return PyBool_FromLong(unwrap(self).impl()->retains_grad); }
PyObject* get_is_cuda(PyObject* self, void*) { return PyBool_FromLong(!unwrap(self).device().is_cpu()); }
PyObject* get_device(PyObject* self, void*) {
  TG_PY_TRY
  return py::cast(unwrap(self).device()).release().ptr();
  TG_PY_CATCH(nullptr)
}

PyGetSetDef tensor_getset[] = {
    {"grad", get_grad, set_grad, nullptr, nullptr},
    {"requires_grad", get_requires_grad, set_requires_grad, nullptr, nullptr},
    {"data", get_data, set_data, nullptr, nullptr},
    {"grad_fn", get_grad_fn, nullptr, nullptr, nullptr},
    {"is_leaf", get_is_leaf, nullptr, nullptr, nullptr},
    {"_base", get_base, nullptr, nullptr, nullptr},
    {"shape", get_shape, nullptr, nullptr, nullptr},
    {"dtype", get_dtype, nullptr, nullptr, nullptr},
    {"device", get_device, nullptr, nullptr, nullptr},
    {"ndim", get_ndim, nullptr, nullptr, nullptr},
    {"_version", get_version, nullptr, nullptr, nullptr},
    {"retains_grad", get_retains_grad, nullptr, nullptr, nullptr},
    {"is_cuda", get_is_cuda, nullptr, nullptr, nullptr},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

// ---- buffer protocol: numpy.asarray(t) is a zero-copy view ----

const char* buffer_format(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return "?";
    case ScalarType::Int64: return "q";
    case ScalarType::Float32: return "f";
    case ScalarType::Float64: return "d";
  }
  return "B";
}

int get_buffer(PyObject* self, Py_buffer* view, int flags) {
  TG_PY_TRY
  Tensor t = unwrap(self);
  if (!t.device().is_cpu()) {
    PyErr_SetString(PyExc_BufferError, "only CPU tensors expose their memory");
    return -1;
  }
  int nd = static_cast<int>(t.dim());
  auto* dims = new Py_ssize_t[2 * nd + 1];
  size_t item = itemsize(t.dtype());
  for (int i = 0; i < nd; ++i) {
    dims[i] = static_cast<Py_ssize_t>(t.sizes()[i]);
    dims[nd + i] = static_cast<Py_ssize_t>(t.strides()[i] * static_cast<int64_t>(item));
  }
  view->obj = self;
  Py_INCREF(self);
  view->buf = t.data_ptr();
  view->len = static_cast<Py_ssize_t>(t.numel() * static_cast<int64_t>(item));
  view->readonly = 0;
  view->itemsize = static_cast<Py_ssize_t>(item);
  view->format = (flags & PyBUF_FORMAT) ? const_cast<char*>(buffer_format(t.dtype())) : nullptr;
  view->ndim = nd;
  view->shape = dims;
  view->strides = dims + nd;
  view->suboffsets = nullptr;
  view->internal = dims;
  return 0;
  TG_PY_CATCH(-1)
}

void release_buffer(PyObject*, Py_buffer* view) { delete[] static_cast<Py_ssize_t*>(view->internal); }

PyType_Slot tensor_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(tensor_dealloc)},
    {Py_tp_new, reinterpret_cast<void*>(legacy_tensor_new)},
    {Py_tp_getset, tensor_getset},
    {Py_tp_richcompare, reinterpret_cast<void*>(richcompare)},
    {Py_tp_hash, reinterpret_cast<void*>(tensor_hash)},
    {Py_nb_add, reinterpret_cast<void*>(nb_add)},
    {Py_nb_subtract, reinterpret_cast<void*>(nb_sub)},
    {Py_nb_multiply, reinterpret_cast<void*>(nb_mul)},
    {Py_nb_true_divide, reinterpret_cast<void*>(nb_truediv)},
    {Py_nb_floor_divide, reinterpret_cast<void*>(nb_floordiv)},
    {Py_nb_remainder, reinterpret_cast<void*>(nb_remainder)},
    {Py_nb_power, reinterpret_cast<void*>(nb_pow)},
    {Py_nb_matrix_multiply, reinterpret_cast<void*>(nb_matmul)},
    {Py_nb_and, reinterpret_cast<void*>(nb_and)},
    {Py_nb_or, reinterpret_cast<void*>(nb_or)},
    {Py_nb_xor, reinterpret_cast<void*>(nb_xor)},
    {Py_nb_inplace_add, reinterpret_cast<void*>(nb_iadd)},
    {Py_nb_inplace_subtract, reinterpret_cast<void*>(nb_isub)},
    {Py_nb_inplace_multiply, reinterpret_cast<void*>(nb_imul)},
    {Py_nb_inplace_true_divide, reinterpret_cast<void*>(nb_itruediv)},
    {Py_nb_inplace_power, reinterpret_cast<void*>(nb_ipow)},
    {Py_nb_negative, reinterpret_cast<void*>(nb_neg)},
    {Py_nb_positive, reinterpret_cast<void*>(nb_pos)},
    {Py_nb_absolute, reinterpret_cast<void*>(nb_abs)},
    {Py_nb_invert, reinterpret_cast<void*>(nb_invert)},
    {Py_nb_bool, reinterpret_cast<void*>(nb_bool)},
    {Py_nb_float, reinterpret_cast<void*>(nb_float)},
    {Py_nb_int, reinterpret_cast<void*>(nb_int)},
    {Py_nb_index, reinterpret_cast<void*>(nb_index)},
    {Py_mp_length, reinterpret_cast<void*>(mp_length)},
    {Py_mp_subscript, reinterpret_cast<void*>(tensor_getitem)},
    {Py_mp_ass_subscript, reinterpret_cast<void*>(tensor_setitem)},
    {Py_bf_getbuffer, reinterpret_cast<void*>(get_buffer)},
    {Py_bf_releasebuffer, reinterpret_cast<void*>(release_buffer)},
    {0, nullptr},
};

PyMemberDef tensor_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(PyTensor, dict), READONLY, nullptr},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(PyTensor, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

}  // namespace

PyTypeObject* tensor_type() { return g_tensor_type; }

PyObject* wrap_as(Tensor t, PyTypeObject* type) {
  if (!t.defined()) Py_RETURN_NONE;
  TensorImpl* impl = t.impl();
  if (impl->pyobj) {
    Py_INCREF(static_cast<PyObject*>(impl->pyobj));
    return static_cast<PyObject*>(impl->pyobj);
  }
  PyObject* obj = type->tp_alloc(type, 0);
  if (!obj) return nullptr;
  reinterpret_cast<PyTensor*>(obj)->tensor = std::move(t);
  impl->pyobj = obj;
  return obj;
}

PyObject* wrap(Tensor t) { return wrap_as(std::move(t), g_tensor_type); }

std::optional<Scalar> as_scalar(PyObject* o) {
  if (PyFloat_Check(o)) return Scalar(PyFloat_AS_DOUBLE(o));
  if (PyBool_Check(o)) return Scalar(o == Py_True);
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) {
      PyErr_SetString(PyExc_OverflowError, "int too big to convert");
      throw py::error_already_set();
    }
    return Scalar(static_cast<int64_t>(v));
  }
  if (is_tensor(o) || PyUnicode_Check(o) || PySequence_Check(o)) return std::nullopt;
  // NumPy scalars and other numbers: integers through __index__, the rest through __float__.
  PyTypeObject* type = Py_TYPE(o);
  if (type->tp_as_number && type->tp_as_number->nb_index) {
    long long v = PyLong_AsLongLong(o);
    if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (std::string(type->tp_name) == "numpy.bool" || std::string(type->tp_name) == "numpy.bool_")
      return Scalar(v != 0);
    return Scalar(static_cast<int64_t>(v));
  }
  if (type->tp_as_number && type->tp_as_number->nb_float) {
    double v = PyFloat_AsDouble(o);
    if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    return Scalar(v);
  }
  return std::nullopt;
}

std::optional<int64_t> int_from_py(PyObject* o) {
  if (PyBool_Check(o) || PyFloat_Check(o)) return std::nullopt;
  py::object index;
  if (!PyLong_Check(o)) {
    if (!PyIndex_Check(o)) return std::nullopt;
    index = py::reinterpret_steal<py::object>(PyNumber_Index(o));
    if (!index) {
      PyErr_Clear();  // a float tensor: not an integer argument
      return std::nullopt;
    }
    o = index.ptr();
  }
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow) throw ValueError("Overflow when unpacking long long");
  return v;
}

std::optional<Tensor> as_operand(PyObject* o) {
  if (Py_TYPE(o) == g_tensor_type || is_tensor(o)) return unwrap(o);
  if (auto s = as_scalar(o)) return wrapped_scalar(*s);
  return std::nullopt;
}

void set_python_error() {
  try {
    throw;
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::cast_error& e) {
    PyErr_SetString(PyExc_TypeError, e.what());  // an argument of the wrong type
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const TypeError& e) {
    PyErr_SetString(PyExc_TypeError, e.what());
  } catch (const ValueError& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const IndexError& e) {
    PyErr_SetString(PyExc_IndexError, e.what());
  } catch (const NotImplementedError& e) {
    PyErr_SetString(PyExc_NotImplementedError, e.what());
  } catch (const std::bad_alloc& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());  // as PyTorch: RuntimeError("std::bad_alloc")
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
  }
}

// ---- dtype, device and Size objects ----

struct DType {
  ScalarType type;
};

ScalarType dtype_from_py(PyObject* o) {
  if (o == reinterpret_cast<PyObject*>(&PyFloat_Type)) return ScalarType::Float64;
  if (o == reinterpret_cast<PyObject*>(&PyLong_Type)) return ScalarType::Int64;
  if (o == reinterpret_cast<PyObject*>(&PyBool_Type)) return ScalarType::Bool;
  return py::cast<DType&>(py::handle(o)).type;
}

PyObject* dtype_to_py(ScalarType t) {
  PyObject* o = g_dtypes[static_cast<int>(t)];
  Py_INCREF(o);
  return o;
}

Device parse_device(const std::string& s) {
  Device d;
  std::string type = s, index;
  auto colon = s.find(':');
  if (colon != std::string::npos) {
    type = s.substr(0, colon);
    index = s.substr(colon + 1);
  }
  if (type == "cpu") d.type = DeviceType::CPU;
  else if (type == "cuda") d.type = DeviceType::CUDA;
  else
    throw Error(str_cat("Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, "
                        "xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device "
                        "string: ", s));
  if (!index.empty()) {
    try {
      size_t used = 0;
      int v = std::stoi(index, &used);
      TG_CHECK(used == index.size() && v >= 0, "Invalid device string: '", s, "'");
      d.index = static_cast<int8_t>(v);
    } catch (const std::logic_error&) {
      throw Error(str_cat("Invalid device string: '", s, "'"));
    }
  }
  if (d.type == DeviceType::CPU) d.index = -1;
  else if (d.index < 0) d.index = 0;
  return d;
}

Device device_from_py(PyObject* o) {
  if (PyUnicode_Check(o)) return parse_device(PyUnicode_AsUTF8(o));
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long index = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) throw ValueError("Overflow when unpacking long long");
    TG_CHECK(index >= 0, "Device index must not be negative");
    TG_CHECK(index <= std::numeric_limits<int8_t>::max(), "Device index ", index, " is out of range");
    return Device{DeviceType::CUDA, static_cast<int8_t>(index)};
  }
  return py::cast<Device>(py::handle(o));
}

PyObject* size_to_py(const DimVec& sizes) {
  PyObject* tuple = PyTuple_New(static_cast<Py_ssize_t>(sizes.size()));
  for (size_t i = 0; i < sizes.size(); ++i) PyTuple_SET_ITEM(tuple, i, PyLong_FromLongLong(sizes[i]));
  if (!g_size_type) return tuple;
  PyObject* size = PyObject_CallOneArg(g_size_type, tuple);
  Py_DECREF(tuple);
  return size;
}

// Element `pos` of a shape; `expected` begins the message for a non-integer. An element beyond int64
// is a TypeError about the whole argument, as in PyTorch.
static int64_t size_element(PyObject* p, size_t pos, const std::string& expected) {
  // As PyTorch's parser, which looks at the first element to tell a shape: a bool there is refused, and
  // further on counts as an int.
  if (PyBool_Check(p) && pos > 0) return p == Py_True;
  TG_CHECK_TYPE(!PyBool_Check(p), expected, ", but found element of type bool at pos 0");
  std::optional<int64_t> v;
  try {
    v = int_from_py(p);
  } catch (const ValueError&) {
    throw TypeError(str_cat(expected, ": failed to unpack the object at pos ", pos + 1,
                            " with error \"Overflow when unpacking long long\""));
  }
  if (!v) throw TypeError(str_cat(expected, ", but found element of type ", Py_TYPE(p)->tp_name, " at pos ", pos + 1));
  return *v;
}

DimVec dims_from_py(py::handle o) {
  DimVec out;
  py::sequence seq = py::reinterpret_borrow<py::sequence>(o);
  for (py::handle item : seq) out.push_back(size_element(item.ptr(), out.size(), "expected a sequence of integers"));
  return out;
}

DimVec shape_arg(py::handle o, const char* fn, const char* name, int position) {
  PyObject* p = o.ptr();
  TG_CHECK_TYPE(PySequence_Check(p) && !PyUnicode_Check(p) && !PyBytes_Check(p) && !PyByteArray_Check(p) &&
                !is_tensor(p), fn, "(): argument '", name, "' ", position ? str_cat("(position ", position, ") ") : "",
                "must be tuple of ints, not ", Py_TYPE(p)->tp_name);
  return dims_from_py(o);
}

DimVec sizes_from_args(const py::args& args, const char* fn) {
  PyObject* first = args.size() == 1 ? args[0].ptr() : nullptr;
  if (first && !PyLong_Check(first) && PySequence_Check(first) && !PyUnicode_Check(first) && !PyBytes_Check(first) &&
      !PyByteArray_Check(first))
    return dims_from_py(args[0]);
  TG_CHECK_TYPE(args.size() == 0 || !PyBool_Check(args[0].ptr()), fn,
                "(): argument 'size' (position 1) must be tuple of ints, not bool");
  DimVec out;
  for (py::handle a : args)
    out.push_back(size_element(a.ptr(), out.size(), str_cat(fn, "(): argument 'size' must be tuple of ints")));
  return out;
}

void init_tensor_type(py::module_& m) {
  PyType_Spec spec = {"tapegrad.Tensor", sizeof(PyTensor), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
                      tensor_slots};
  tensor_slots[sizeof(tensor_slots) / sizeof(tensor_slots[0]) - 1] = {0, nullptr};
  static PyType_Slot slots_with_members[sizeof(tensor_slots) / sizeof(tensor_slots[0]) + 1];
  size_t n = 0;
  for (; tensor_slots[n].slot; ++n) slots_with_members[n] = tensor_slots[n];
  slots_with_members[n++] = {Py_tp_members, tensor_members};
  slots_with_members[n] = {0, nullptr};
  spec.slots = slots_with_members;
  PyObject* type = PyType_FromSpec(&spec);
  if (!type) throw py::error_already_set();
  g_tensor_type = reinterpret_cast<PyTypeObject*>(type);
  // Python's own messages use tp_name; torch's reads plainly "Tensor" ("... for +: 'Tensor' and 'str'").
  g_tensor_type->tp_name = "Tensor";
  m.add_object("Tensor", py::handle(type));

  py::class_<DType>(m, "dtype")
      .def_property_readonly("is_floating_point", [](const DType& d) { return is_floating(d.type); })
      .def_property_readonly("itemsize", [](const DType& d) { return itemsize(d.type); })
      .def("__repr__", [](const DType& d) { return std::string("torch.") + dtype_name(d.type); });
  for (ScalarType t : {ScalarType::Bool, ScalarType::Int64, ScalarType::Float32, ScalarType::Float64}) {
    py::object o = py::cast(DType{t});
    g_dtypes[static_cast<int>(t)] = o.release().ptr();
    m.attr(dtype_name(t)) = py::handle(g_dtypes[static_cast<int>(t)]);
  }

  py::class_<Device>(m, "device")
      .def(py::init([](py::object spec, std::optional<int> index) {
             Device d = device_from_py(spec.ptr());
             if (index) {
               TG_CHECK(!PyUnicode_Check(spec.ptr()) || py::str(spec).cast<std::string>().find(':') ==
                        std::string::npos, "type (string) must not include an index because index was passed "
                        "explicitly: ", py::str(spec).cast<std::string>());
               d.index = static_cast<int8_t>(*index);
             }
             return d;
           }),
           py::arg("type"), py::arg("index") = py::none())
      .def_property_readonly("type", [](const Device& d) { return d.is_cpu() ? "cpu" : "cuda"; })
      .def_property_readonly("index", [](const Device& d) -> py::object {
        if (d.is_cpu()) return py::none();
        return py::int_(static_cast<int>(d.index));
      })
      .def("__eq__", [](const Device& a, py::object b) {
        try { return a == device_from_py(b.ptr()); } catch (...) { PyErr_Clear(); return false; }
      })
      .def("__hash__", [](const Device& d) { return static_cast<int>(d.type) * 256 + d.index; })
      .def("__str__", [](const Device& d) { return d.str(); })
      .def("__repr__", [](const Device& d) {
        return d.is_cpu() ? std::string("device(type='cpu')")
                          : str_cat("device(type='cuda', index=", static_cast<int>(d.index), ")");
      });
  py::implicitly_convertible<py::str, Device>();

  m.def("_set_size_type", [](py::object t) { g_size_type = t.release().ptr(); });
}

}  // namespace tg::py_bridge

