#include "bindings/python.h"
#include "core/error.h"
#include "cpu/parallel.h"

namespace tg::py_bridge {
// autograd.Function's graph node (function_bindings.cpp).
void bind_function(py::module_& m);
}  // namespace tg::py_bridge

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
  bind_function(m);

  // Long kernels release the GIL, so other Python threads run meanwhile; a thread without it (the
  // backward engine after its own release) gets a null token and nothing changes.
  tg::cpu::install_caller_lock_hooks(
      []() -> void* { return PyGILState_Check() ? PyEval_SaveThread() : nullptr; },
      [](void* state) { PyEval_RestoreThread(static_cast<PyThreadState*>(state)); });
  m.def("set_num_threads", [](py::handle n) {
    TG_CHECK(PyLong_Check(n.ptr()) && !PyBool_Check(n.ptr()), "set_num_threads expects an int, but got ",
             Py_TYPE(n.ptr())->tp_name);
    long long value = PyLong_AsLongLong(n.ptr());
    TG_CHECK(value > 0 && value <= 1024, "set_num_threads expects a positive integer");
    tg::cpu::set_num_threads(static_cast<int>(value));
  });
  m.def("get_num_threads", &tg::cpu::num_threads);
#ifdef TAPEGRAD_WITH_CUDA
  m.attr("_cuda_compiled") = true;
#else
  m.attr("_cuda_compiled") = false;
#endif
}
