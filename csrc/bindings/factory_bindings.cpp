// Creation functions, NumPy interop, conversions and plain tensor queries.
#include <cstring>
#include "bindings/python.h"
#include "core/dispatch.h"
#include "core/rng.h"
#include "ops/ops.h"

namespace tg::py_bridge {

namespace {

// ---- torch.tensor(data) ----
// As in PyTorch: the shape comes from the first element at each depth, the dtype from every
// element, and filling checks that each sequence has the length its depth demands.

bool is_numpy_value(PyObject* o) {
  return !PyFloat_CheckExact(o) && !PyLong_CheckExact(o) && !PyBool_Check(o) && !is_tensor(o) &&
         PyObject_HasAttrString(o, "dtype") && PyObject_HasAttrString(o, "ndim");
}

// A NumPy scalar or 0-d array: its value as a Python number and the dtype tapegrad keeps it as.
std::optional<std::pair<Scalar, ScalarType>> numpy_scalar(PyObject* o) {
  py::handle h(o);
  if (h.attr("ndim").cast<int>() != 0) return std::nullopt;
  py::object dtype = h.attr("dtype");
  char kind = dtype.attr("kind").cast<std::string>()[0];
  py::object value = h.attr("item")();
  auto s = as_scalar(value.ptr());
  if (!s) return std::nullopt;
  bool wide = dtype.attr("itemsize").cast<int>() == 8;
  if (kind == 'f') return std::make_pair(*s, wide ? ScalarType::Float64 : ScalarType::Float32);
  if (kind == 'i' || kind == 'u') return std::make_pair(*s, ScalarType::Int64);
  if (kind == 'b') return std::make_pair(*s, ScalarType::Bool);
  return std::nullopt;
}

// One element of the data: a number, a one-element tensor or a NumPy scalar, with its dtype.
std::optional<std::pair<Scalar, ScalarType>> leaf_value(PyObject* o) {
  if (PyFloat_CheckExact(o)) return std::make_pair(Scalar(PyFloat_AS_DOUBLE(o)), default_dtype());
  if (PyLong_CheckExact(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) throw ValueError("Overflow when unpacking long long");
    return std::make_pair(Scalar(static_cast<int64_t>(v)), ScalarType::Int64);
  }
  if (PyBool_Check(o)) return std::make_pair(Scalar(o == Py_True), ScalarType::Bool);
  if (is_tensor(o)) {
    Tensor t = unwrap(o);
    TG_CHECK_VALUE(t.numel() == 1, "only one element tensors can be converted to Python scalars");
    return std::make_pair(ops::contiguous(ops::to_device(ops::detach(t), Device())).item(), t.dtype());
  }
  if (is_numpy_value(o)) return numpy_scalar(o);
  if (auto s = as_scalar(o)) return std::make_pair(*s, s->is_floating() ? default_dtype() : s->kind());
  return std::nullopt;
}

bool is_nested(PyObject* o) {
  if (PyList_Check(o) || PyTuple_Check(o)) return true;
  if (is_tensor(o) || PyUnicode_Check(o) || PyBytes_Check(o) || !PySequence_Check(o)) return false;
  return !is_numpy_value(o) || py::handle(o).attr("ndim").cast<int>() > 0;
}

[[noreturn]] void unknown_element(PyObject* o) {
  if (PyUnicode_Check(o)) throw TypeError("new(): invalid data type 'str'");
  throw Error(str_cat("Could not infer dtype of ", Py_TYPE(o)->tp_name));
}

// The dtype of all elements, promoted together.
ScalarType infer_dtype(PyObject* o) {
  if (is_nested(o)) {
    std::optional<ScalarType> dtype;
    py::sequence seq = py::reinterpret_borrow<py::sequence>(o);
    for (py::handle item : py::iter(seq)) {
      ScalarType t = infer_dtype(item.ptr());
      dtype = dtype ? promote_types(*dtype, t) : t;
    }
    return dtype.value_or(default_dtype());
  }
  if (is_tensor(o)) return unwrap(o).dtype();
  if (auto leaf = leaf_value(o)) return leaf->second;
  unknown_element(o);
}

DimVec infer_shape(PyObject* o) {
  DimVec shape;
  py::object cur = py::reinterpret_borrow<py::object>(o);
  while (is_nested(cur.ptr())) {
    int64_t n = static_cast<int64_t>(py::len(cur));
    shape.push_back(n);
    if (n == 0) break;
    cur = py::reinterpret_borrow<py::sequence>(cur)[0];
  }
  // PyTorch follows a string's characters as if they were nested sequences until it runs out of dims.
  if (!shape.empty() && PyUnicode_Check(cur.ptr())) throw ValueError("too many dimensions 'str'");
  return shape;
}

template <typename T>
void fill_from(PyObject* obj, const DimVec& shape, size_t depth, T*& out) {
  if (depth == shape.size()) {
    auto leaf = leaf_value(obj);
    if (!leaf) {
      // The dtype was given (an inferred one would have failed already): converting to it fails, as in PyTorch.
      if (PyUnicode_Check(obj)) unknown_element(obj);
      throw TypeError(str_cat(std::is_floating_point_v<T> ? "must be real number, not " : "'", Py_TYPE(obj)->tp_name,
                              std::is_floating_point_v<T> ? "" : "' object cannot be interpreted as an integer"));
    }
    if constexpr (std::is_same_v<T, int64_t>) {
      double v = leaf->first.is_floating() ? leaf->first.to_double() : 0;
      TG_CHECK(v >= -0x1p63 && v < 0x1p63, "value cannot be converted to type int64 without overflow");
    }
    *out++ = leaf->first.to<T>();
    return;
  }
  TG_CHECK_TYPE(is_nested(obj), "not a sequence");
  py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
  int64_t n = static_cast<int64_t>(py::len(seq));
  TG_CHECK_VALUE(n == shape[depth], "expected sequence of length ", shape[depth], " at dim ", depth, " (got ", n, ")");
  for (py::handle item : py::iter(seq)) fill_from<T>(item.ptr(), shape, depth + 1, out);
}

struct BufferGuard {
  Py_buffer view;
  bool held = false;
  ~BufferGuard() { if (held) PyBuffer_Release(&view); }
};

// The dtype tapegrad stores a buffer format as, and whether that is exact (no conversion).
std::optional<ScalarType> buffer_dtype(const char* format, size_t itemsize, bool& exact) {
  std::string f = format ? format : "B";
  if (!f.empty() && (f[0] == '<' || f[0] == '=' || f[0] == '@')) f = f.substr(1);
  exact = true;
  if (f == "f") return ScalarType::Float32;
  if (f == "d") return ScalarType::Float64;
  if (f == "?") return ScalarType::Bool;
  if ((f == "q" || f == "l") && itemsize == 8) return ScalarType::Int64;
  exact = false;
  if (f == "e") return ScalarType::Float32;
  if (f.size() == 1 && std::strchr("bBhHiIlLqQ", f[0])) return ScalarType::Int64;
  return std::nullopt;
}

void release_buffer_with_gil(void* context) {
  py::gil_scoped_acquire gil;
  auto* guard = static_cast<BufferGuard*>(context);
  delete guard;
}

// A tensor viewing a buffer's memory (zero-copy); the buffer is released when the storage dies.
Tensor from_buffer(PyObject* obj, bool require_exact) {
  auto guard = std::make_unique<BufferGuard>();
  int flags = PyBUF_STRIDES | PyBUF_FORMAT;
  if (PyObject_GetBuffer(obj, &guard->view, flags | PyBUF_WRITABLE) != 0) {
    PyErr_Clear();
    if (PyObject_GetBuffer(obj, &guard->view, flags) != 0) throw py::error_already_set();
  }
  guard->held = true;
  Py_buffer& v = guard->view;
  bool exact = false;
  auto dtype = buffer_dtype(v.format, static_cast<size_t>(v.itemsize), exact);
  if (!dtype || (require_exact && !exact)) {
    py::object type = py::handle(obj).attr("dtype").attr("type");
    throw TypeError(str_cat("can't convert np.ndarray of type ", type.attr("__module__").cast<std::string>(), ".",
                            type.attr("__name__").cast<std::string>(), ". The only supported types are: ",
                            require_exact ? "float64, float32, int64, and bool."
                                          : "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."));
  }
  DimVec sizes, strides;
  int64_t extent = v.ndim == 0 ? 1 : 0;
  for (int i = 0; i < v.ndim; ++i) {
    sizes.push_back(v.shape[i]);
    Py_ssize_t st = v.strides ? v.strides[i] : 0;
    if (st < 0)
      throw ValueError("At least one stride in the given numpy array is negative, and tensors with negative strides "
                       "are not currently supported. (You can probably work around this by making a copy of your "
                       "array  with array.copy().) ");
    TG_CHECK(st % v.itemsize == 0, "given numpy array strides not a multiple of the element byte size. Copy the "
             "numpy array to reallocate the memory.");
    strides.push_back(st / v.itemsize);
  }
  if (!v.strides) strides = contiguous_strides(sizes);
  for (int i = 0; i < v.ndim; ++i) extent = std::max<int64_t>(extent, (sizes[i] - 1) * strides[i] + 1);
  if (numel_of(sizes) == 0) extent = 0;
  void* data = v.buf;
  size_t nbytes = static_cast<size_t>(extent) * static_cast<size_t>(v.itemsize);
  if (exact) {
    auto storage = Storage::wrap_external(data, nbytes, Device(), release_buffer_with_gil, guard.release());
    auto impl = make_ref<TensorImpl>();
    impl->storage = storage;
    impl->numel = numel_of(sizes);
    impl->sizes = sizes;
    impl->strides = strides;
    impl->dtype = *dtype;
    return Tensor(impl);
  }
  // Formats tapegrad has no dtype for are converted element by element through Python.
  py::object arr = py::reinterpret_borrow<py::object>(obj);
  py::object as_list = arr.attr("tolist")();
  return tensor_from_data(as_list.ptr(), *dtype);
}

bool is_buffer_array(PyObject* o) {
  return PyObject_CheckBuffer(o) && !PyBytes_Check(o) && !PyByteArray_Check(o) && !is_tensor(o) &&
         !PyUnicode_Check(o);
}

// requires_grad=None is False, except in tensor() and new_tensor(), as in PyTorch.
using OptFlag = std::optional<bool>;

void check_requires_grad(ScalarType dtype, OptFlag requires_grad) {
  TG_CHECK(!requires_grad.value_or(false) || is_floating(dtype), "Only Tensors of floating point and complex dtype can require gradients");
}

Tensor finish(Tensor t, std::optional<Device> device, OptFlag requires_grad) {
  if (device) t = ops::to_device(t, *device);
  check_requires_grad(t.dtype(), requires_grad);
  t.impl()->requires_grad = requires_grad.value_or(false);
  return t;
}

ScalarType dtype_or_default(std::optional<ScalarType> dtype) { return dtype ? *dtype : default_dtype(); }

py::object tolist(const Tensor& t, int64_t dim, int64_t offset) {
  if (dim == t.dim()) {
    return dispatch_all(t.dtype(), [&](auto tag) -> py::object {
      using T = typename decltype(tag)::type;
      T v = static_cast<T*>(t.storage()->data)[offset];
      if constexpr (std::is_same_v<T, bool>) return py::bool_(v);
      else if constexpr (std::is_same_v<T, int64_t>) return py::int_(v);
      else return py::float_(static_cast<double>(v));
    });
  }
  py::list out(t.sizes()[dim]);
  for (int64_t i = 0; i < t.sizes()[dim]; ++i) out[i] = tolist(t, dim + 1, offset + i * t.strides()[dim]);
  return out;
}

}  // namespace

Tensor tensor_from_data(PyObject* data, std::optional<ScalarType> dtype) {
  if (is_tensor(data)) {
    Tensor t = ops::clone(ops::detach(unwrap(data)));
    return dtype ? ops::to_dtype(t, *dtype) : t;
  }
  if (is_buffer_array(data)) {
    Tensor view = from_buffer(data, false);
    Tensor copy = empty(view.sizes(), dtype.value_or(view.dtype()));
    backend_for(copy.device()).copy(copy, view);  // a fresh tensor: version 0, as in PyTorch
    return copy;
  }
  if (PyUnicode_Check(data)) unknown_element(data);
  TG_CHECK_TYPE(!PyBytes_Check(data), "new(): invalid data type 'bytes'");
  DimVec shape = infer_shape(data);
  ScalarType dt = dtype ? *dtype : infer_dtype(data);
  Tensor t = empty(shape, dt);
  // An empty result reads nothing, so later rows are never checked ([[], [1]] is a 2x0 tensor).
  if (t.numel() == 0) return t;
  dispatch_all(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out = t.data<T>();
    fill_from<T>(data, shape, 0, out);
  });
  return t;
}

PyObject* legacy_tensor_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  try {
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    Tensor t;
    if (n == 0) {
      t = empty(DimVec{0}, default_dtype());
    } else if (n == 1 && is_tensor(PyTuple_GET_ITEM(args, 0))) {
      t = ops::detach(unwrap(PyTuple_GET_ITEM(args, 0)));
    } else if (n == 1 && (is_nested(PyTuple_GET_ITEM(args, 0)) || is_buffer_array(PyTuple_GET_ITEM(args, 0)))) {
      t = tensor_from_data(PyTuple_GET_ITEM(args, 0), default_dtype());
    } else {
      t = ops::zeros(sizes_from_args(py::reinterpret_borrow<py::args>(args), "Tensor"), default_dtype());
    }
    return wrap_as(t, type);
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

void bind_factory(py::module_& m) {
  using OptDtype = std::optional<ScalarType>;
  using OptDevice = std::optional<Device>;

  m.def("tensor", [](py::handle data, OptDtype dtype, OptDevice device, bool requires_grad) {
    return finish(tensor_from_data(data.ptr(), dtype), device, requires_grad);
  }, py::arg("data"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
     py::arg("requires_grad").noconvert() = false);
  m.def("as_tensor", [](py::handle data, OptDtype dtype, OptDevice device) -> Tensor {
    if (is_tensor(data.ptr())) {
      Tensor t = unwrap(data.ptr());
      if (dtype) t = ops::to_dtype(t, *dtype);
      return device ? ops::to_device(t, *device) : t;
    }
    if (is_buffer_array(data.ptr())) {
      Tensor t = from_buffer(data.ptr(), false);
      if (dtype) t = ops::to_dtype(t, *dtype);
      return finish(t, device, false);
    }
    return finish(tensor_from_data(data.ptr(), dtype), device, false);
  }, py::arg("data"), py::arg("dtype") = py::none(), py::arg("device") = py::none());
  m.def("from_numpy", [](py::handle array) {
    TG_CHECK_TYPE(is_buffer_array(array.ptr()), "expected np.ndarray (got ", Py_TYPE(array.ptr())->tp_name, ")");
    return from_buffer(array.ptr(), true);
  });

  auto def_filled = [&](const char* name, auto make) {
    m.def(name, [make, name](py::args size, OptDtype dtype, OptDevice device, OptFlag requires_grad) {
      DimVec sizes = sizes_from_args(size, name);
      check_requires_grad(dtype_or_default(dtype), requires_grad);
      return finish(make(sizes, dtype_or_default(dtype), device.value_or(Device())), std::nullopt, requires_grad);
    }, py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad").noconvert() = false);
  };
  def_filled("zeros", [](const DimVec& s, ScalarType t, Device d) {
    for (int64_t n : s) TG_CHECK(n >= 0, "zeros: Dimension size must be non-negative.");
    return ops::zeros(s, t, d);
  });
  def_filled("ones", [](const DimVec& s, ScalarType t, Device d) { return ops::ones(s, t, d); });
  def_filled("empty", [](const DimVec& s, ScalarType t, Device d) { return ops::zeros(s, t, d); });
  // rand and randn: def_filled's arguments and a generator.
  auto def_random = [&](const char* name, Tensor (*make)(const DimVec&, ScalarType, Device, Generator*)) {
    m.def(name, [make, name](py::args size, py::handle generator, OptDtype dtype, OptDevice device,
                             OptFlag requires_grad) {
      DimVec sizes = sizes_from_args(size, name);
      check_requires_grad(dtype_or_default(dtype), requires_grad);
      return finish(make(sizes, dtype_or_default(dtype), device.value_or(Device()), generator_from_py(generator)),
                    std::nullopt, requires_grad);
    }, py::kw_only(), py::arg("generator") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
       py::arg("requires_grad").noconvert() = false);
  };
  def_random("rand", &ops::rand);
  def_random("randn", &ops::randn);

  m.def("full", [](py::handle size_arg, Scalar value, OptDtype dtype, OptDevice device, OptFlag requires_grad) {
    DimVec size = shape_arg(size_arg, "full", "size", 1);
    ScalarType dt = dtype ? *dtype : (value.is_floating() ? default_dtype() : value.kind());
    return finish(ops::full(size, value, dt, device.value_or(Device())), std::nullopt, requires_grad);
  }, py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad").noconvert() = false);

  // *_like results keep the input's layout where it is a permuted dense one, as in PyTorch.
  auto def_like = [&](const char* name, auto fill) {
    m.def(name, [fill](const Tensor& like, OptDtype dtype, OptDevice device, OptFlag requires_grad) {
      Tensor t = ops::empty_like(like, dtype.value_or(like.dtype()), device.value_or(like.device()));
      fill(t);
      return finish(t, std::nullopt, requires_grad);
    }, py::arg("input"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
       py::arg("requires_grad").noconvert() = false);
  };
  def_like("zeros_like", [](Tensor& t) { ops::zero_(t); });
  def_like("ones_like", [](Tensor& t) { ops::fill_(t, Scalar(int64_t(1))); });
  def_like("empty_like", [](Tensor& t) { ops::zero_(t); });
  def_like("rand_like", [](Tensor& t) { ops::uniform_(t, 0.0, 1.0); });
  def_like("randn_like", [](Tensor& t) { ops::normal_(t, 0.0, 1.0); });
  m.def("full_like", [](const Tensor& like, Scalar value, OptDtype dtype, OptDevice device, OptFlag requires_grad) {
    Tensor t = ops::empty_like(like, dtype.value_or(like.dtype()), device.value_or(like.device()));
    ops::fill_(t, value);
    return finish(t, std::nullopt, requires_grad);
  }, py::arg("input"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad").noconvert() = false);

  // arange(end) or arange(start, end, step): an explicit end=None matches neither, as in PyTorch.
  m.def("arange", [](Scalar start, py::handle end_arg, Scalar step, OptDtype dtype, OptDevice device,
                     OptFlag requires_grad) {
    std::optional<Scalar> end;
    if (end_arg.ptr() == Py_Ellipsis) {
      end = start;
      start = Scalar(int64_t(0));
    } else {
      py::detail::make_caster<Scalar> number;  // a number or a 0-dim tensor
      if (number.load(end_arg, true)) end = py::detail::cast_op<Scalar>(number);
      TG_CHECK_TYPE(end, "arange(): argument 'end' (position 2) must be Number, not ", Py_TYPE(end_arg.ptr())->tp_name);
    }
    bool any_float = start.is_floating() || end->is_floating() || step.is_floating();
    ScalarType dt = dtype ? *dtype : (any_float ? default_dtype() : ScalarType::Int64);
    return finish(ops::arange(start, *end, step, dt, device.value_or(Device())), std::nullopt, requires_grad);
  }, py::arg("start"), py::arg("end") = py::ellipsis(), py::arg("step") = 1, py::kw_only(),
     py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad").noconvert() = false);
  // start and end: numbers, or 0-dim tensors as in PyTorch.
  auto bound = [](py::handle b, const char* which) {
    TG_CHECK(!is_tensor(b.ptr()) || unwrap(b.ptr()).dim() == 0, "linspace only supports 0-dimensional start and end "
             "tensors, but got ", which, " with ", is_tensor(b.ptr()) ? unwrap(b.ptr()).dim() : 0, " dimension(s).");
    if (auto number = as_scalar(b.ptr())) return number->to_double();  // an int beyond int64: OverflowError
    return py::cast<double>(b);
  };
  m.def("linspace", [bound](py::handle start, py::handle end, int64_t steps, OptDtype dtype, OptDevice device,
                            OptFlag requires_grad) {
    return finish(ops::linspace(bound(start, "start"), bound(end, "end"), steps, dtype_or_default(dtype), device.value_or(Device())),
                  std::nullopt, requires_grad);
  }, py::arg("start"), py::arg("end"), py::arg("steps"), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad").noconvert() = false);
  // eye(n) or eye(n, m): m defaults to n, and an explicit None matches neither, as in PyTorch.
  m.def("eye", [](int64_t n, py::handle m_cols, OptDtype dtype, OptDevice device, OptFlag requires_grad) {
    auto cols = m_cols.ptr() == Py_Ellipsis ? std::optional<int64_t>(n) : int_from_py(m_cols.ptr());
    TG_CHECK_TYPE(cols, "eye(): argument 'm' (position 2) must be int, not ", Py_TYPE(m_cols.ptr())->tp_name);
    return finish(ops::eye(n, *cols, dtype_or_default(dtype), device.value_or(Device())), std::nullopt,
                  requires_grad);
  }, py::arg("n"), py::arg("m") = py::ellipsis(), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad").noconvert() = false);
  m.def("randint", [](py::args args, py::handle generator, OptDtype dtype, OptDevice device, OptFlag requires_grad) {
    // randint(high, size) or randint(low, high, size)
    TG_CHECK_TYPE(args.size() == 2 || args.size() == 3,
                  "randint() received an invalid combination of arguments - expected (low=0, high, size)");
    int64_t low = args.size() == 3 ? args[0].cast<int64_t>() : 0;
    int64_t high = args[args.size() - 2].cast<int64_t>();
    DimVec size = shape_arg(args[args.size() - 1], "randint", "size");
    return finish(ops::randint(low, high, size, dtype.value_or(ScalarType::Int64), device.value_or(Device()),
                               generator_from_py(generator)),
                  std::nullopt, requires_grad);
  }, py::kw_only(), py::arg("generator") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
     py::arg("requires_grad").noconvert() = false);
  m.def("randperm", [](int64_t n, py::handle generator, OptDtype dtype, OptDevice device, OptFlag requires_grad) {
    return finish(ops::randperm(n, dtype.value_or(ScalarType::Int64), device.value_or(Device()),
                                generator_from_py(generator)),
                  std::nullopt, requires_grad);
  }, py::arg("n"), py::kw_only(), py::arg("generator") = py::none(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad").noconvert() = false);

  m.def("initial_seed", []() { return default_generator().initial_seed(); });
  m.def("get_rng_state", []() {
    auto state = default_generator().get_state();
    return py::bytes(reinterpret_cast<const char*>(state.data()), state.size());
  });
  m.def("set_rng_state", [](py::bytes state) {
    std::string s = state;
    default_generator().set_state(std::vector<uint8_t>(s.begin(), s.end()));
  });
  m.def("get_default_dtype", []() { return default_dtype(); });
  m.def("set_default_dtype", [](ScalarType t) { set_default_dtype(t); });

  // Tensor._make_subclass(cls, data, require_grad): a `cls` instance sharing data's storage and
  // version counter, with no history (how nn.Parameter is built).
  py::handle tensor_cls(reinterpret_cast<PyObject*>(tensor_type()));
  tensor_cls.attr("_make_subclass") = py::cpp_function(
      [](py::handle cls, const Tensor& data, bool require_grad) {
        TG_CHECK_TYPE(PyType_Check(cls.ptr()) && PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls.ptr()),
                                                                   tensor_type()),
                      "_make_subclass(): cls must be a subclass of Tensor");
        Tensor alias = ops::detach(data);
        if (require_grad) {
          TG_CHECK(is_floating(alias.dtype()), "Only Tensors of floating point and complex dtype can require gradients");
          alias.impl()->requires_grad = true;
        }
        PyObject* obj = wrap_as(alias, reinterpret_cast<PyTypeObject*>(cls.ptr()));
        if (!obj) throw py::error_already_set();
        return py::reinterpret_steal<py::object>(obj);
      },
      py::arg("cls"), py::arg("data"), py::arg("require_grad").noconvert() = false);
  tensor_cls.attr("_make_subclass") = py::reinterpret_borrow<py::object>(
      PyStaticMethod_New(tensor_cls.attr("_make_subclass").ptr()));

  // ---- queries and conversions on every tensor ----
  def_method("tolist", [](const Tensor& t) {
    TG_CHECK(t.device().is_cpu(), "tolist() needs a CPU tensor");
    return tolist(t, 0, t.offset());
  });
  def_method("item", [](const Tensor& t) { return t.item(); });
  def_method("size", [](const Tensor& t, std::optional<int64_t> dim) -> py::object {
    if (dim) return py::int_(t.size(*dim));
    return py::reinterpret_steal<py::object>(size_to_py(t.sizes()));
  }, py::arg("dim") = py::none());
  def_method("stride", [](const Tensor& t, std::optional<int64_t> dim) -> py::object {
    if (dim) return py::int_(t.stride(*dim));
    py::tuple out(t.dim());
    for (int64_t i = 0; i < t.dim(); ++i) out[i] = t.strides()[i];
    return out;
  }, py::arg("dim") = py::none());
  def_method("dim", [](const Tensor& t) { return t.dim(); });
  def_method("ndimension", [](const Tensor& t) { return t.dim(); });
  def_method("numel", [](const Tensor& t) { return t.numel(); });
  def_method("nelement", [](const Tensor& t) { return t.numel(); });
  def_method("element_size", [](const Tensor& t) { return itemsize(t.dtype()); });
  def_method("storage_offset", [](const Tensor& t) { return t.offset(); });
  def_method("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); });
  def_method("is_contiguous", [](const Tensor& t) { return t.is_contiguous(); });
  def_method("is_floating_point", [](const Tensor& t) { return is_floating(t.dtype()); });
  def_method("contiguous", [](const Tensor& t) { return ops::contiguous(t); });
  auto clone = [](const Tensor& t) { return ops::clone(t, true); };
  m.def("clone", clone, py::arg("input"));
  def_method("clone", clone);
  def_method("float", [](const Tensor& t) { return ops::to_dtype(t, ScalarType::Float32); });
  def_method("double", [](const Tensor& t) { return ops::to_dtype(t, ScalarType::Float64); });
  def_method("long", [](const Tensor& t) { return ops::to_dtype(t, ScalarType::Int64); });
  def_method("int", [](const Tensor& t) { return ops::to_dtype(t, ScalarType::Int64); });
  def_method("bool", [](const Tensor& t) { return ops::to_dtype(t, ScalarType::Bool); });
  def_method("cpu", [](const Tensor& t) { return ops::to_device(t, Device()); });
  def_method("type_as", [](const Tensor& t, const Tensor& other) { return ops::to_dtype(t, other.dtype()); });
  // to(dtype), to(device, dtype), to(other) and the keyword forms, with PyTorch's non_blocking and copy.
  def_method("to", [](const Tensor& t, py::args args, py::object dtype_arg, py::object device_arg,
                      bool non_blocking, bool copy) {
    std::optional<ScalarType> dtype;
    std::optional<Device> device;
    int flags_seen = 0;
    py::object text;  // bytes name a device by their text, as in PyTorch
    auto take = [&](py::handle a, bool positional) {
      PyObject* p = a.ptr();
      if (PyBytes_Check(p)) {
        text = py::str(py::reinterpret_borrow<py::bytes>(a));
        p = text.ptr();
      }
      bool is_device = PyUnicode_Check(p) || py::isinstance<Device>(a) || (PyLong_Check(p) && !PyBool_Check(p));
      // PyTorch's overloads: to(device, dtype), to(dtype), to(tensor), each then flags.
      bool leading_flag = PyBool_Check(p) && !dtype && !device;
      TG_CHECK_TYPE(!positional || (!(dtype && (is_device || is_tensor(p) || (!a.is_none() && !PyBool_Check(p)))) &&
                                    !(device && is_tensor(p)) && !leading_flag),
                    "to() received an invalid combination of arguments - got (", Py_TYPE(p)->tp_name,
                    ") after a dtype or device");
      if (is_tensor(p)) {
        Tensor o = unwrap(p);
        dtype = o.dtype();
        device = o.device();
      } else if (is_device) {
        device = device_from_py(p);
      } else if (PyBool_Check(p)) {
        if (flags_seen++ == 1) copy = p == Py_True;  // positional (non_blocking, copy)
      } else if (!a.is_none()) {
        try {
          dtype = dtype_from_py(p);
        } catch (const py::cast_error&) {
          throw TypeError(str_cat("to() received an invalid combination of arguments - got (",
                                  Py_TYPE(p)->tp_name, "), but expected a dtype, a device or a tensor"));
        }
      }
    };
    for (py::handle a : args) take(a, true);
    take(dtype_arg, false);
    take(device_arg, false);
    Tensor out = t;
    if (dtype) out = ops::to_dtype(out, *dtype);
    if (device) out = ops::to_device(out, *device);
    if (copy && out.is_same(t)) out = ops::clone(t, true);
    return out;
  }, py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("non_blocking").noconvert() = false,
     py::arg("copy").noconvert() = false);
  // new_* create a tensor with this tensor's dtype and device unless told otherwise.
  auto def_new = [&](const char* name, auto make) {
    def_method(name, [make](const Tensor& self, py::args size, OptDtype dtype, OptDevice device, OptFlag requires_grad) {
      return finish(make(sizes_from_args(size, "new"), dtype.value_or(self.dtype()), device.value_or(self.device())),
                    std::nullopt, requires_grad);
    }, py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad").noconvert() = false);
  };
  def_new("new_zeros", [](const DimVec& s, ScalarType t, Device d) { return ops::zeros(s, t, d); });
  def_new("new_ones", [](const DimVec& s, ScalarType t, Device d) { return ops::ones(s, t, d); });
  def_new("new_empty", [](const DimVec& s, ScalarType t, Device d) { return ops::zeros(s, t, d); });
  def_method("new_full", [](const Tensor& self, py::handle size, Scalar value, OptDtype dtype, OptDevice device,
                            OptFlag requires_grad) {
    return finish(ops::full(shape_arg(size, "new_full", "size", 1), value, dtype.value_or(self.dtype()),
                            device.value_or(self.device())),
                  std::nullopt, requires_grad);
  }, py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad").noconvert() = false);
  def_method("new_tensor", [](const Tensor& self, py::handle data, OptDtype dtype, OptDevice device,
                              bool requires_grad) {
    Tensor t = tensor_from_data(data.ptr(), dtype.value_or(self.dtype()));
    return finish(t, device.value_or(self.device()), requires_grad);
  }, py::arg("data"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
     py::arg("requires_grad").noconvert() = false);
  def_method("zero_", [](py::object self) {
    Tensor t = unwrap(self.ptr());
    ops::zero_(t);
    return self;
  });
  def_method("fill_", [](py::object self, py::handle value) {
    Tensor t = unwrap(self.ptr());
    if (is_tensor(value.ptr())) ops::fill_(t, unwrap(value.ptr()));
    else ops::fill_(t, py::cast<Scalar>(value));
    return self;
  }, py::arg("value"));
  def_method("copy_", [](py::object self, py::handle src, bool non_blocking) {
    Tensor t = unwrap(self.ptr());
    auto source = as_operand(src.ptr());  // a number too, as in PyTorch (x.copy_(2))
    TG_CHECK_TYPE(source, "copy_(): argument 'src' (position 1) must be Tensor, not ", Py_TYPE(src.ptr())->tp_name);
    ops::copy_(t, *source);
    return self;
  }, py::arg("src"), py::arg("non_blocking").noconvert() = false);
  def_method("uniform_", [](py::object self, double from, double to, py::handle generator) {
    Tensor t = unwrap(self.ptr());
    ops::uniform_(t, from, to, generator_from_py(generator));
    return self;
  }, py::arg("from") = 0.0, py::arg("to") = 1.0, py::kw_only(), py::arg("generator") = py::none());
  def_method("normal_", [](py::object self, double mean, double std, py::handle generator) {
    Tensor t = unwrap(self.ptr());
    ops::normal_(t, mean, std, generator_from_py(generator));
    return self;
  }, py::arg("mean") = 0.0, py::arg("std") = 1.0, py::kw_only(), py::arg("generator") = py::none());
}

}  // namespace tg::py_bridge
