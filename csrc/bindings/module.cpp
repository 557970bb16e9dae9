#include "bindings/python.h"
#include "core/error.h"

PYBIND11_MODULE(_C, m) {
  using namespace tg::py_bridge;
  m.doc() = "tapegrad's C++ core";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const tg::Error&) {
      set_python_error();
    } catch (const py::cast_error&) {
      set_python_error();  // an argument of the wrong type: TypeError, as in PyTorch
    } catch (const std::bad_alloc&) {
      set_python_error();  // RuntimeError, as in PyTorch (pybind11 would raise MemoryError)
    }
  });
  init_tensor_type(m);
  bind_autograd(m);
  bind_generator(m);
  bind_factory(m);
  bind_ops(m);
  bind_shape(m);
  bind_indexing(m);
  bind_reductions(m);
  bind_optim(m);
  bind_nn(m);
#ifdef TAPEGRAD_WITH_CUDA
  m.attr("_cuda_compiled") = true;
#else
  m.attr("_cuda_compiled") = false;
#endif
}
