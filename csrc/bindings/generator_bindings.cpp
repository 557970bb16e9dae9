// tapegrad.Generator: a CPU random generator object, as torch.Generator. Generators are passed
// to the random functions that take `generator=`; tapegrad.default_generator wraps the
// process-wide generator behind manual_seed.
#include <memory>
#include <random>
#include "bindings/python.h"
#include "core/rng.h"

namespace tg::py_bridge {

namespace {

struct PyGenerator {
  std::shared_ptr<Generator> gen;
};

// torch accepts any seed that fits in 64 bits; negative seeds wrap around as in C.
uint64_t seed_from_py(py::handle seed) {
  TG_CHECK(PyLong_Check(seed.ptr()), "manual_seed expected a long, but got ", Py_TYPE(seed.ptr())->tp_name);
  int overflow = 0;
  long long value = PyLong_AsLongLongAndOverflow(seed.ptr(), &overflow);
  if (overflow == 0) return static_cast<uint64_t>(value);
  unsigned long long big = PyLong_AsUnsignedLongLong(seed.ptr());
  if (PyErr_Occurred()) {
    PyErr_Clear();
    throw ValueError("Overflow when unpacking long long");
  }
  return big;
}

}  // namespace

Generator* generator_from_py(py::handle o) {
  if (o.is_none()) return nullptr;
  TG_CHECK_TYPE(py::isinstance<PyGenerator>(o), "generator must be a tapegrad.Generator, not ",
                Py_TYPE(o.ptr())->tp_name);
  return o.cast<PyGenerator&>().gen.get();
}

void bind_generator(py::module_& m) {
  py::class_<PyGenerator>(m, "Generator")
      .def(py::init([](py::handle device) {
             TG_CHECK(device_from_py(device.ptr()).is_cpu(), "tapegrad.Generator supports only device='cpu'");
             return PyGenerator{std::make_shared<Generator>()};
           }),
           py::arg("device") = "cpu")
      .def("manual_seed", [](py::object self, py::handle seed) {
             self.cast<PyGenerator&>().gen->manual_seed(seed_from_py(seed));
             return self;
           }, py::arg("seed"))
      .def("initial_seed", [](const PyGenerator& g) { return g.gen->initial_seed(); })
      .def("seed", [](const PyGenerator& g) {
             std::random_device rd;
             uint64_t seed = (uint64_t(rd()) << 32 | rd()) >> 1;  // non-negative, as torch's seed() returns
             g.gen->manual_seed(seed);
             return seed;
           })
      .def("get_state", [](const PyGenerator& g) {
             auto state = g.gen->get_state();
             return py::bytes(reinterpret_cast<const char*>(state.data()), state.size());
           })
      .def("set_state", [](const PyGenerator& g, py::bytes state) {
             std::string s = state;
             g.gen->set_state(std::vector<uint8_t>(s.begin(), s.end()));
           }, py::arg("new_state"))
      .def_property_readonly("device", [](const PyGenerator&) { return Device(); });
  m.attr("default_generator") = PyGenerator{std::shared_ptr<Generator>(&default_generator(), [](Generator*) {})};

  // What torch.empty((), dtype=torch.int64).random_(generator=g).item() gives: one 64-bit draw
  // folded into [0, 2**63). DataLoader and RandomSampler draw their seeds this way.
  m.def("_draw_seed", [](py::handle generator) {
    Generator* g = generator_from_py(generator);
    Generator& gen = g ? *g : default_generator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return static_cast<int64_t>(gen.random64() % (uint64_t(1) << 63));
  }, py::arg("generator") = py::none());
}

}  // namespace tg::py_bridge
