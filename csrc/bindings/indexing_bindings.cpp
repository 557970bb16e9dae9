// Tensor indexing: x[i], x[a:b:c], x[None], x[...], x[index_tensor], x[mask] and assignment.
#include "bindings/python.h"
#include "ops/ops.h"

namespace tg::py_bridge {

PyObject* tensor_getitem(PyObject* self, PyObject* index) {
  PyErr_SetString(PyExc_NotImplementedError, "indexing is being implemented");
  return nullptr;
}

int tensor_setitem(PyObject* self, PyObject* index, PyObject* value) {
  PyErr_SetString(PyExc_NotImplementedError, "indexing is being implemented");
  return -1;
}

void bind_indexing(py::module_& m) {}

}  // namespace tg::py_bridge
