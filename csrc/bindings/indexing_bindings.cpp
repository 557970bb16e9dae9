#include "bindings/python.h"

namespace tg::py_bridge {
void bind_indexing(py::module_& m) {}
}  // namespace tg::py_bridge
