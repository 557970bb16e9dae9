// Reductions and the softmax family, as tapegrad.* functions and Tensor methods.
#include "bindings/python.h"
#include "ops/ops.h"

namespace tg::py_bridge {

void bind_reductions(py::module_& m) {}

}  // namespace tg::py_bridge
