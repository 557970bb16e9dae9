// tapegrad.optim's entry points into C++. One call per parameter group reads the group's
// options, gathers the parameters that have a gradient together with their state (created
// on first use, under torch's key names, in the optimizer's `state` dict) and runs the
// fused step. Written against the CPython API: this is the per-step hot path.
#include <optional>

#include "bindings/python.h"
#include "core/dtype.h"
#include "ops/ops.h"
#include "optim/optim.h"

namespace tg::py_bridge {

namespace {

// Interned dict keys, made once.
struct Keys {
  static PyObject* intern(const char* s) { return PyUnicode_InternFromString(s); }
  PyObject* params = intern("params");
  PyObject* lr = intern("lr");
  PyObject* momentum = intern("momentum");
  PyObject* dampening = intern("dampening");
  PyObject* weight_decay = intern("weight_decay");
  PyObject* nesterov = intern("nesterov");
  PyObject* maximize = intern("maximize");
  PyObject* betas = intern("betas");
  PyObject* eps = intern("eps");
  PyObject* amsgrad = intern("amsgrad");
  PyObject* decoupled_weight_decay = intern("decoupled_weight_decay");
  PyObject* alpha = intern("alpha");
  PyObject* centered = intern("centered");
  PyObject* step = intern("step");
  PyObject* momentum_buffer = intern("momentum_buffer");
  PyObject* exp_avg = intern("exp_avg");
  PyObject* exp_avg_sq = intern("exp_avg_sq");
  PyObject* max_exp_avg_sq = intern("max_exp_avg_sq");
  PyObject* square_avg = intern("square_avg");
  PyObject* grad_avg = intern("grad_avg");
};
const Keys& keys() {
  static const Keys k;
  return k;
}

// Above this many elements a step releases the GIL while it computes.
constexpr int64_t kReleaseGilNumel = 1 << 16;

void check_dict(PyObject* o, const char* what) {
  if (!PyDict_Check(o)) throw py::type_error(str_cat(what, " must be a dict, but got ", Py_TYPE(o)->tp_name));
}

// d[key], borrowed; KeyError when missing, as indexing the dict in Python would raise.
PyObject* item(PyObject* d, PyObject* key) {
  PyObject* v = PyDict_GetItemWithError(d, key);
  if (!v) {
    if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, key);
    throw py::error_already_set();
  }
  return v;
}

double as_double(PyObject* o) {
  double d = PyFloat_AsDouble(o);
  if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  return d;
}

bool as_bool(PyObject* o) {
  int r = PyObject_IsTrue(o);
  if (r < 0) throw py::error_already_set();
  return r != 0;
}

Tensor as_state_tensor(PyObject* o, PyObject* key) {
  if (!is_tensor(o))
    throw py::type_error(str_cat("optimizer state '", PyUnicode_AsUTF8(key), "' must be a Tensor, but got ",
                                 Py_TYPE(o)->tp_name));
  return unwrap(o);
}

void set_item(PyObject* d, PyObject* key, const Tensor& t) {
  py::object obj = py::reinterpret_steal<py::object>(wrap(t));
  if (PyDict_SetItem(d, key, obj.ptr()) < 0) throw py::error_already_set();
}

// The parameters of a group that have a gradient, with their Python objects.
struct GroupParams {
  py::object seq;  // keeps the sequence alive
  std::vector<PyObject*> objects;
  TensorList params, grads;
  int64_t numel = 0;
};

GroupParams params_with_grad(PyObject* group) {
  GroupParams out;
  out.seq = py::reinterpret_steal<py::object>(
      PySequence_Fast(item(group, keys().params), "param group 'params' must be a sequence of Tensors"));
  if (!out.seq) throw py::error_already_set();
  Py_ssize_t n = PySequence_Fast_GET_SIZE(out.seq.ptr());
  PyObject** items = PySequence_Fast_ITEMS(out.seq.ptr());
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (!is_tensor(items[i]))
      throw py::type_error(str_cat("optimizer can only optimize Tensors, but one of the params is ",
                                   Py_TYPE(items[i])->tp_name));
    Tensor p = unwrap(items[i]);
    Tensor g = p.grad();
    if (!g.defined()) continue;
    out.objects.push_back(items[i]);
    out.numel += p.numel();
    out.params.push_back(std::move(p));
    out.grads.push_back(std::move(g));
  }
  return out;
}

// state[p], borrowed; an empty dict is added for a parameter seen for the first time
// (the optimizer's state is a defaultdict(dict), whose default the C API does not apply).
PyObject* state_for(PyObject* state, PyObject* param) {
  PyObject* st = PyDict_GetItemWithError(state, param);
  if (st) {
    check_dict(st, "optimizer state of a parameter");
    return st;
  }
  if (PyErr_Occurred()) throw py::error_already_set();
  py::object fresh = py::reinterpret_steal<py::object>(PyDict_New());
  if (!fresh || PyDict_SetItem(state, param, fresh.ptr()) < 0) throw py::error_already_set();
  return fresh.ptr();
}

// torch keeps step counts as tensors of the default dtype widened to float32 at least.
Tensor new_step() {
  ScalarType dt = default_dtype() == ScalarType::Float64 ? ScalarType::Float64 : ScalarType::Float32;
  return ops::zeros(DimVec(), dt);
}

template <typename F>
void run_step(int64_t numel, F&& f) {
  std::optional<py::gil_scoped_release> release;
  if (numel >= kReleaseGilNumel) release.emplace();
  f();
}

void sgd_group(PyObject* group, PyObject* state) {
  check_dict(group, "param group");
  check_dict(state, "optimizer state");
  const Keys& k = keys();
  optim::SgdOptions o;
  o.lr = as_double(item(group, k.lr));
  o.momentum = as_double(item(group, k.momentum));
  o.dampening = as_double(item(group, k.dampening));
  o.weight_decay = as_double(item(group, k.weight_decay));
  o.nesterov = as_bool(item(group, k.nesterov));
  o.maximize = as_bool(item(group, k.maximize));
  GroupParams g = params_with_grad(group);
  TensorList buffers;
  std::vector<PyObject*> states;
  if (o.momentum != 0) {
    for (PyObject* p : g.objects) {
      PyObject* st = state_for(state, p);
      PyObject* buf = PyDict_GetItemWithError(st, k.momentum_buffer);
      if (!buf && PyErr_Occurred()) throw py::error_already_set();
      buffers.push_back(buf && buf != Py_None ? as_state_tensor(buf, k.momentum_buffer) : Tensor());
      states.push_back(st);
    }
  }
  TensorList before = buffers;
  run_step(g.numel, [&] { optim::sgd_step(g.params, g.grads, buffers, o); });
  for (size_t i = 0; i < states.size(); ++i)
    if (!before[i].defined()) set_item(states[i], k.momentum_buffer, buffers[i]);
}

void adam_group(PyObject* group, PyObject* state) {
  check_dict(group, "param group");
  check_dict(state, "optimizer state");
  const Keys& k = keys();
  optim::AdamOptions o;
  o.lr = as_double(item(group, k.lr));
  py::object betas = py::reinterpret_steal<py::object>(
      PySequence_Fast(item(group, k.betas), "param group 'betas' must be a pair of floats"));
  if (!betas) throw py::error_already_set();
  if (PySequence_Fast_GET_SIZE(betas.ptr()) != 2) throw py::value_error("param group 'betas' must be a pair of floats");
  o.beta1 = as_double(PySequence_Fast_GET_ITEM(betas.ptr(), 0));
  o.beta2 = as_double(PySequence_Fast_GET_ITEM(betas.ptr(), 1));
  o.eps = as_double(item(group, k.eps));
  o.weight_decay = as_double(item(group, k.weight_decay));
  o.amsgrad = as_bool(item(group, k.amsgrad));
  o.maximize = as_bool(item(group, k.maximize));
  o.decoupled_weight_decay = as_bool(item(group, k.decoupled_weight_decay));
  GroupParams g = params_with_grad(group);
  TensorList exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps;
  for (size_t i = 0; i < g.objects.size(); ++i) {
    PyObject* st = state_for(state, g.objects[i]);
    if (PyDict_GET_SIZE(st) == 0) {
      set_item(st, k.step, new_step());
      set_item(st, k.exp_avg, ops::zeros_like(g.params[i]));
      set_item(st, k.exp_avg_sq, ops::zeros_like(g.params[i]));
      if (o.amsgrad) set_item(st, k.max_exp_avg_sq, ops::zeros_like(g.params[i]));
    }
    steps.push_back(as_state_tensor(item(st, k.step), k.step));
    exp_avgs.push_back(as_state_tensor(item(st, k.exp_avg), k.exp_avg));
    exp_avg_sqs.push_back(as_state_tensor(item(st, k.exp_avg_sq), k.exp_avg_sq));
    if (o.amsgrad) max_exp_avg_sqs.push_back(as_state_tensor(item(st, k.max_exp_avg_sq), k.max_exp_avg_sq));
  }
  run_step(g.numel, [&] { optim::adam_step(g.params, g.grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, o); });
}

void rmsprop_group(PyObject* group, PyObject* state) {
  check_dict(group, "param group");
  check_dict(state, "optimizer state");
  const Keys& k = keys();
  optim::RmspropOptions o;
  o.lr = as_double(item(group, k.lr));
  o.alpha = as_double(item(group, k.alpha));
  o.eps = as_double(item(group, k.eps));
  o.weight_decay = as_double(item(group, k.weight_decay));
  o.momentum = as_double(item(group, k.momentum));
  o.centered = as_bool(item(group, k.centered));
  o.maximize = as_bool(item(group, k.maximize));
  GroupParams g = params_with_grad(group);
  TensorList square_avgs, grad_avgs, buffers, steps;
  for (size_t i = 0; i < g.objects.size(); ++i) {
    PyObject* st = state_for(state, g.objects[i]);
    if (PyDict_GET_SIZE(st) == 0) {
      set_item(st, k.step, new_step());
      set_item(st, k.square_avg, ops::zeros_like(g.params[i]));
      if (o.momentum > 0) set_item(st, k.momentum_buffer, ops::zeros_like(g.params[i]));
      if (o.centered) set_item(st, k.grad_avg, ops::zeros_like(g.params[i]));
    }
    steps.push_back(as_state_tensor(item(st, k.step), k.step));
    square_avgs.push_back(as_state_tensor(item(st, k.square_avg), k.square_avg));
    if (o.momentum > 0) buffers.push_back(as_state_tensor(item(st, k.momentum_buffer), k.momentum_buffer));
    if (o.centered) grad_avgs.push_back(as_state_tensor(item(st, k.grad_avg), k.grad_avg));
  }
  run_step(g.numel, [&] { optim::rmsprop_step(g.params, g.grads, square_avgs, grad_avgs, buffers, steps, o); });
}

// Optimizer.zero_grad: drops every gradient, or detaches and zeroes it in place.
void zero_grad(PyObject* param_groups, bool set_to_none) {
  py::object groups = py::reinterpret_steal<py::object>(PySequence_Fast(param_groups, "param_groups must be a list"));
  if (!groups) throw py::error_already_set();
  for (Py_ssize_t gi = 0; gi < PySequence_Fast_GET_SIZE(groups.ptr()); ++gi) {
    PyObject* group = PySequence_Fast_GET_ITEM(groups.ptr(), gi);
    check_dict(group, "param group");
    GroupParams g = params_with_grad(group);
    for (size_t i = 0; i < g.params.size(); ++i) {
      if (set_to_none) {
        g.params[i].set_grad(Tensor());
        continue;
      }
      Tensor grad = g.grads[i];
      grad.impl()->grad_fn.reset();
      grad.impl()->requires_grad = false;
      ops::zero_(grad);
    }
  }
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("_sgd_step", [](py::handle group, py::handle state) { sgd_group(group.ptr(), state.ptr()); },
        py::arg("group"), py::arg("state"));
  m.def("_adam_step", [](py::handle group, py::handle state) { adam_group(group.ptr(), state.ptr()); },
        py::arg("group"), py::arg("state"));
  m.def("_rmsprop_step", [](py::handle group, py::handle state) { rmsprop_group(group.ptr(), state.ptr()); },
        py::arg("group"), py::arg("state"));
  m.def("_zero_grad", [](py::handle param_groups, bool set_to_none) { zero_grad(param_groups.ptr(), set_to_none); },
        py::arg("param_groups"), py::arg("set_to_none"));
}

}  // namespace tg::py_bridge
