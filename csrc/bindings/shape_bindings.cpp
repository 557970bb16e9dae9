// Views and shape ops. PyTorch accepts shapes both as varargs and as one sequence.
#include "autograd/node.h"
#include "bindings/python.h"
#include "ops/ops.h"

namespace tg::py_bridge {

namespace {

TensorList tensor_list(py::handle seq, const char* fn) {
  TG_CHECK_TYPE(!is_tensor(seq.ptr()) && PySequence_Check(seq.ptr()) && !PyUnicode_Check(seq.ptr()) &&
                !PyBytes_Check(seq.ptr()), fn,
                "(): argument 'tensors' must be tuple of Tensors, not ", Py_TYPE(seq.ptr())->tp_name);
  TensorList out;
  for (py::handle item : seq) {
    TG_CHECK_TYPE(is_tensor(item.ptr()), "expected Tensor as element ", out.size(), " in argument 0, but got ",
                  Py_TYPE(item.ptr())->tp_name);
    out.push_back(unwrap(item.ptr()));
  }
  return out;
}

// Ops returning several tensors give Python a tuple, as PyTorch does.
py::tuple as_tuple(const TensorList& tensors) {
  py::tuple out(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) out[i] = py::reinterpret_steal<py::object>(wrap(tensors[i]));
  return out;
}

}  // namespace

void bind_shape(py::module_& m) {
  def_method("view", [](const Tensor& t, py::args shape) {
    if (shape.size() == 1 && !PyLong_Check(shape[0].ptr()) && !PySequence_Check(shape[0].ptr())) {
      ScalarType dt = dtype_from_py(shape[0].ptr());
      TG_CHECK(dt == t.dtype(), "view(dtype) with a different element type is not supported");
      return t;
    }
    return ops::view(t, sizes_from_args(shape, "view"));
  });
  def_method("view_as", [](const Tensor& t, const Tensor& other) { return ops::view(t, other.sizes()); });
  def_method("reshape", [](const Tensor& t, py::args shape) { return ops::reshape(t, sizes_from_args(shape, "reshape")); });
  m.def("reshape", [](const Tensor& t, py::handle shape) { return ops::reshape(t, shape_arg(shape, "reshape", "shape", 2)); },
        py::arg("input"),
        py::arg("shape"));
  def_method("reshape_as", [](const Tensor& t, const Tensor& other) { return ops::reshape(t, other.sizes()); });
  def_method("expand", [](const Tensor& t, py::args sizes) { return ops::expand(t, sizes_from_args(sizes, "expand")); });
  def_method("expand_as", [](const Tensor& t, const Tensor& other) { return ops::expand(t, other.sizes()); });
  def_method("permute", [](const Tensor& t, py::args dims) { return ops::permute(t, sizes_from_args(dims, "permute")); });
  m.def("permute", [](const Tensor& t, py::handle dims) { return ops::permute(t, shape_arg(dims, "permute", "dims", 2)); },
        py::arg("input"),
        py::arg("dims"));

  auto transpose = [](const Tensor& t, int64_t d0, int64_t d1) { return ops::transpose(t, d0, d1); };
  m.def("transpose", transpose, py::arg("input"), py::arg("dim0"), py::arg("dim1"));
  def_method("transpose", transpose, py::arg("dim0"), py::arg("dim1"));
  m.def("swapaxes", transpose, py::arg("input"), py::arg("axis0"), py::arg("axis1"));
  def_method("swapaxes", transpose, py::arg("axis0"), py::arg("axis1"));
  m.def("swapdims", transpose, py::arg("input"), py::arg("dim0"), py::arg("dim1"));
  def_method("swapdims", transpose, py::arg("dim0"), py::arg("dim1"));
  def_inplace<int64_t, int64_t>("transpose_", ops::transpose_, py::arg("dim0"), py::arg("dim1"));
  def_inplace<int64_t, int64_t>("swapaxes_", ops::transpose_, py::arg("axis0"), py::arg("axis1"));
  def_inplace<int64_t, int64_t>("swapdims_", ops::transpose_, py::arg("dim0"), py::arg("dim1"));
  def_inplace<>("t_", [](Tensor& t) { ops::t_(t); });
  m.def("t", [](const Tensor& t) { return ops::t(t); }, py::arg("input"));
  def_method("t", [](const Tensor& t) { return ops::t(t); });
  def_property("T", [](const Tensor& t) {
    DimVec order;
    for (int64_t d = t.dim() - 1; d >= 0; --d) order.push_back(d);
    return ops::permute(t, order);
  });
  def_property("mT", [](const Tensor& t) {
    TG_CHECK(t.dim() >= 2, "tensor.mT is only supported on matrices or batches of matrices. Got ", t.dim(), "-D tensor.");
    return ops::transpose(t, -2, -1);
  });

  // squeeze(), squeeze(dim) and squeeze(dims); an explicit None matches none of them, as in PyTorch.
  auto squeeze = [](const Tensor& t, py::object dim) {
    if (dim.ptr() == Py_Ellipsis) return ops::squeeze(t);
    TG_CHECK_TYPE(!dim.is_none(), "squeeze() received an invalid combination of arguments - got (Tensor, NoneType), "
                  "but expected one of:\n * (Tensor input)\n * (Tensor input, int dim)\n * (Tensor input, tuple of "
                  "ints dim)");
    if (PyLong_Check(dim.ptr())) return ops::squeeze(t, dim.cast<int64_t>());
    return ops::squeeze(t, py::cast<DimVec>(dim));
  };
  m.def("squeeze", squeeze, py::arg("input"), py::arg("dim") = py::ellipsis());
  def_method("squeeze", squeeze, py::arg("dim") = py::ellipsis());
  def_method("squeeze_", [](py::object self, py::object dim) {
    Tensor t = unwrap(self.ptr());
    TG_CHECK_TYPE(!dim.is_none(), "squeeze_() received an invalid combination of arguments - got (NoneType), but "
                  "expected one of:\n * ()\n * (int dim)\n * (tuple of ints dim)");
    if (dim.ptr() == Py_Ellipsis) ops::squeeze_(t);
    else if (PyLong_Check(dim.ptr())) ops::squeeze_(t, dim.cast<int64_t>());
    else ops::squeeze_(t, py::cast<DimVec>(dim));
    return self;
  }, py::arg("dim") = py::ellipsis());
  def_inplace<int64_t>("unsqueeze_", [](Tensor& t, int64_t dim) { ops::unsqueeze_(t, dim); }, py::arg("dim"));
  auto unsqueeze = [](const Tensor& t, int64_t dim) { return ops::unsqueeze(t, dim); };
  m.def("unsqueeze", unsqueeze, py::arg("input"), py::arg("dim"));
  def_method("unsqueeze", unsqueeze, py::arg("dim"));
  auto flatten = [](const Tensor& t, int64_t start, int64_t end) { return ops::flatten(t, start, end); };
  m.def("flatten", flatten, py::arg("input"), py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  def_method("flatten", flatten, py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  auto narrow = [](const Tensor& t, int64_t dim, int64_t start, int64_t length) {
    return ops::narrow(t, dim, start, length);
  };
  m.def("narrow", narrow, py::arg("input"), py::arg("dim"), py::arg("start"), py::arg("length"));
  def_method("narrow", narrow, py::arg("dim"), py::arg("start"), py::arg("length"));
  auto select = [](const Tensor& t, int64_t dim, int64_t index) { return ops::select(t, dim, index); };
  m.def("select", select, py::arg("input"), py::arg("dim"), py::arg("index"));
  def_method("select", select, py::arg("dim"), py::arg("index"));
  auto unbind = [](const Tensor& t, int64_t dim) { return as_tuple(ops::unbind(t, dim)); };
  m.def("unbind", unbind, py::arg("input"), py::arg("dim") = 0);
  def_method("unbind", unbind, py::arg("dim") = 0);
  auto split = [](const Tensor& t, py::object split_size, int64_t dim) {
    if (auto size = int_from_py(split_size.ptr())) return as_tuple(ops::split(t, *size, dim));
    return as_tuple(ops::split_with_sizes(t, shape_arg(split_size, "split", "split_size_or_sections", 2), dim));
  };
  m.def("split", split, py::arg("tensor"), py::arg("split_size_or_sections"), py::arg("dim") = 0);
  def_method("split", split, py::arg("split_size"), py::arg("dim") = 0);
  auto chunk = [](const Tensor& t, int64_t chunks, int64_t dim) { return as_tuple(ops::chunk(t, chunks, dim)); };
  m.def("chunk", chunk, py::arg("input"), py::arg("chunks"), py::arg("dim") = 0);
  def_method("chunk", chunk, py::arg("chunks"), py::arg("dim") = 0);
  auto as_strided = [](const Tensor& t, py::handle size, py::handle stride, std::optional<int64_t> offset) {
    return ops::as_strided(t, shape_arg(size, "as_strided", "size"), shape_arg(stride, "as_strided", "stride"),
                           offset.value_or(t.offset()));
  };
  m.def("as_strided", as_strided, py::arg("input"), py::arg("size"), py::arg("stride"),
        py::arg("storage_offset") = py::none());
  def_method("as_strided", as_strided, py::arg("size"), py::arg("stride"), py::arg("storage_offset") = py::none());

  auto cat = [](py::handle tensors, int64_t dim) { return ops::cat(tensor_list(tensors, "cat"), dim); };
  m.def("cat", cat, py::arg("tensors"), py::arg("dim") = 0);
  m.def("concat", cat, py::arg("tensors"), py::arg("dim") = 0);
  m.def("concatenate", cat, py::arg("tensors"), py::arg("axis") = 0);
  m.def("stack", [](py::handle tensors, int64_t dim) { return ops::stack(tensor_list(tensors, "stack"), dim); },
        py::arg("tensors"), py::arg("dim") = 0);

  // ---- rearranging elements ----
  auto diagonal = py::arg("diagonal") = 0;
  def_both(m, "tril", [](const Tensor& t, int64_t d) { return ops::tril(t, d); }, py::arg("input"), diagonal);
  def_both(m, "triu", [](const Tensor& t, int64_t d) { return ops::triu(t, d); }, py::arg("input"), diagonal);
  def_inplace<int64_t>("tril_", [](Tensor& t, int64_t d) {
    compute_inplace(t, [d](const Tensor& x) { return ops::tril(x, d); });
  }, diagonal);
  def_inplace<int64_t>("triu_", [](Tensor& t, int64_t d) {
    compute_inplace(t, [d](const Tensor& x) { return ops::triu(x, d); });
  }, diagonal);
  m.def("flip", [](const Tensor& t, const DimVec& dims) { return ops::flip(t, dims); }, py::arg("input"),
        py::arg("dims"));
  def_method("flip", [](const Tensor& t, py::args dims) { return ops::flip(t, sizes_from_args(dims, "flip")); });
  def_both(m, "roll", [](const Tensor& t, const DimVec& shifts, std::optional<DimVec> dims) {
    return ops::roll(t, shifts, dims.value_or(DimVec()));
  }, py::arg("input"), py::arg("shifts"), py::arg("dims") = py::none());
  def_method("repeat", [](const Tensor& t, py::args repeats) {
    return ops::repeat(t, sizes_from_args(repeats, "repeat"));
  });
  def_both(m, "repeat_interleave", [](const Tensor& t, int64_t repeats, std::optional<int64_t> dim) {
    return ops::repeat_interleave(t, repeats, dim);
  }, py::arg("input"), py::arg("repeats"), py::arg("dim") = py::none());
  m.def("constant_pad_nd", [](const Tensor& t, const DimVec& pad, Scalar value) {
    return ops::constant_pad_nd(t, pad, value);
  }, py::arg("input"), py::arg("pad"), py::arg("value") = 0);
  def_both(m, "diag", [](const Tensor& t, int64_t d) { return ops::diag(t, d); }, py::arg("input"), diagonal);
  def_both(m, "diagonal", [](const Tensor& t, int64_t offset, int64_t dim1, int64_t dim2) {
    return ops::diagonal(t, offset, dim1, dim2);
  }, py::arg("input"), py::arg("offset") = 0, py::arg("dim1") = 0, py::arg("dim2") = 1);
  // A reshape whose result is recorded as a new tensor (UnsafeViewBackward0), as PyTorch's composite ops do.
  m.def("_unsafe_view", [](const Tensor& t, const DimVec& sizes) { return ops::unsafe_view(t, sizes); },
        py::arg("input"), py::arg("size"));
}

}  // namespace tg::py_bridge
