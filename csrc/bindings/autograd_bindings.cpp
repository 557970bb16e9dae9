// backward(), autograd.grad(), grad mode and the Python view of graph nodes.
#include "autograd/engine.h"
#include "autograd/node.h"
#include "bindings/python.h"
#include "core/grad_mode.h"
#include <algorithm>
#include <unordered_map>
#include "ops/ops.h"

namespace tg::py_bridge {

namespace {

py::handle g_node_type;

TensorList tensors_from(py::handle o) {
  TensorList out;
  if (o.is_none()) return out;
  if (is_tensor(o.ptr())) return {unwrap(o.ptr())};
  for (py::handle item : o) out.push_back(item.is_none() ? Tensor() : py::cast<Tensor>(item));
  return out;
}

py::tuple next_functions(const Node& node) {
  py::tuple out(node.next_edges.size());
  for (size_t i = 0; i < node.next_edges.size(); ++i) {
    const Edge& e = node.next_edges[i].edge;
    out[i] = py::make_tuple(e.node ? node_to_py(e.node) : py::none(), e.input_nr);
  }
  return out;
}

// The Python class for nodes called `name`, made once per name (the GIL guards the cache).
// It shares Node's layout and deallocator, so a Node object can be switched to it.
py::handle node_class(const std::string& name) {
  static auto* classes = new std::unordered_map<std::string, std::pair<std::string, py::object>>();
  auto it = classes->find(name);
  if (it != classes->end()) return it->second.second;
  const std::string prefix = "torch::autograd::";
  std::string qualified = "tapegrad.autograd.graph." + (name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name);
  auto& entry = (*classes)[name];
  entry.first = std::move(qualified);  // the type keeps pointing at this name
  auto* base = reinterpret_cast<PyTypeObject*>(g_node_type.ptr());
  PyType_Slot slots[] = {{Py_tp_dealloc, reinterpret_cast<void*>(base->tp_dealloc)}, {0, nullptr}};
  PyType_Spec spec{entry.first.c_str(), static_cast<int>(base->tp_basicsize), static_cast<int>(base->tp_itemsize),
                   Py_TPFLAGS_DEFAULT, slots};
  py::tuple bases = py::make_tuple(g_node_type);
  PyObject* cls = PyType_FromSpecWithBases(&spec, bases.ptr());
  if (!cls) throw py::error_already_set();
  entry.second = py::reinterpret_steal<py::object>(cls);
  return entry.second;
}

// What Tensor.register_hook returns: remove() unregisters the hook (a second call does nothing).
struct GradHookHandle {
  std::weak_ptr<Node> node;
  uint64_t id;
  void remove() {
    auto n = node.lock();
    if (!n) return;
    auto& hooks = n->pre_hooks;
    hooks.erase(std::remove_if(hooks.begin(), hooks.end(), [this](const GradHook& h) { return h.id == id; }),
                hooks.end());
  }
};

GradHookHandle register_hook(const Tensor& t, py::function hook) {
  TG_CHECK(t.requires_grad(), "cannot register a hook on a tensor that doesn't require gradient");
  Edge edge = gradient_edge(t);
  TG_CHECK(edge.node, "cannot register a hook on a tensor that doesn't require gradient");
  static uint64_t next_id = 0;  // guarded by the GIL
  uint64_t id = ++next_id;
  // The engine runs without the GIL: the call takes it, and so does dropping the callable, whichever thread
  // frees the node.
  std::shared_ptr<py::object> callable(new py::object(std::move(hook)), [](py::object* o) {
    py::gil_scoped_acquire gil;
    delete o;
  });
  edge.node->pre_hooks.push_back({id, edge.input_nr, [callable](const Tensor& g) {
    py::gil_scoped_acquire gil;
    py::object result = (*callable)(py::reinterpret_steal<py::object>(wrap(g)));
    if (result.is_none()) return Tensor();
    TG_CHECK_TYPE(is_tensor(result.ptr()), "expected Variable, but hook returned '", Py_TYPE(result.ptr())->tp_name,
                  "'");
    return unwrap(result.ptr());
  }});
  return GradHookHandle{edge.node, id};
}

}  // namespace

py::object node_to_py(const std::shared_ptr<Node>& node) {
  py::object obj = py::cast(node);
  py::handle cls = node_class(node->name());
  if (!py::type::handle_of(obj).is(cls)) obj.attr("__class__") = cls;
  return obj;
}

void bind_autograd(py::module_& m) {
  g_node_type = py::class_<Node, std::shared_ptr<Node>>(m, "Node")
      .def("name", &Node::name)
      .def_property_readonly("next_functions", &next_functions)
      .def_property_readonly("variable", [](const Node& n) -> py::object {
        auto* acc = dynamic_cast<const AccumulateGrad*>(&n);
        if (!acc) throw py::attribute_error("'" + n.name() + "' object has no attribute 'variable'");
        return py::reinterpret_steal<py::object>(wrap(acc->variable()));
      })
      .def("__repr__", [](py::handle self) {
        return str_cat("<", py::str(py::type::handle_of(self).attr("__name__")).cast<std::string>(), " object at ",
                       static_cast<const void*>(self.ptr()), ">");
      });

  m.def("_backward", [](py::object tensors, py::object grad_tensors, bool retain_graph, bool create_graph,
                        py::object inputs) {
    TensorList roots = tensors_from(tensors), grads = tensors_from(grad_tensors), ins = tensors_from(inputs);
    py::gil_scoped_release release;
    backward(roots, grads, retain_graph, create_graph, ins);
  }, py::arg("tensors"), py::arg("grad_tensors"), py::arg("retain_graph"), py::arg("create_graph"),
     py::arg("inputs") = py::none());
  m.def("_grad", [](py::object outputs, py::object inputs, py::object grad_outputs, bool retain_graph,
                    bool create_graph, bool allow_unused) {
    TensorList roots = tensors_from(outputs), ins = tensors_from(inputs), grads = tensors_from(grad_outputs);
    TensorList result;
    {
      py::gil_scoped_release release;
      result = grad(roots, grads, ins, retain_graph, create_graph, allow_unused);
    }
    py::tuple out(result.size());
    for (size_t i = 0; i < result.size(); ++i) out[i] = py::reinterpret_steal<py::object>(wrap(result[i]));
    return out;
  });
  m.def("is_grad_enabled", &GradMode::is_enabled);
  m.def("_set_grad_enabled", &GradMode::set_enabled);

  py::class_<GradHookHandle>(m, "_GradHookHandle").def("remove", &GradHookHandle::remove);
  def_method("register_hook", &register_hook, py::arg("hook"));
  def_method("retain_grad", [](const Tensor& t) { retain_grad(t); });
  def_method("requires_grad_", [](py::object self, bool flag) {
    Tensor t = unwrap(self.ptr());
    TG_CHECK(!flag || is_floating(t.dtype()), "only Tensors of floating point dtype can require gradients");
    if (flag && t.impl()->grad_fn) return self;  // a non-leaf already requires grad through its history
    py::setattr(self, "requires_grad", py::bool_(flag));
    return self;
  }, py::arg("requires_grad").noconvert() = true);
  // An in-place op written in Python as its out-of-place twin: out_of_place(copy of self) is written into self
  // and its node becomes self's grad_fn, as PyTorch records LogitBackward0 for logit_.
  m.def("_compute_inplace", [](py::object self, py::function out_of_place) {
    Tensor t = unwrap(self.ptr());
    compute_inplace(t, [&out_of_place](const Tensor& x) {
      py::object result = out_of_place(py::reinterpret_steal<py::object>(wrap(x)));
      TG_CHECK_TYPE(is_tensor(result.ptr()), "an in-place op's out-of-place twin must return a Tensor");
      return unwrap(result.ptr());
    });
    return self;
  });
  def_method("detach", [](const Tensor& t) { return ops::detach(t); });
  def_method("detach_", [](py::object self) {
    Tensor t = unwrap(self.ptr());
    TG_CHECK(!t.is_view(), "Can't detach views in-place. Use detach() instead. If you are using "
             "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, gradients are "
             "views of DDP buckets, and hence detach_() cannot be called on these gradients. To fix this error, please "
             "refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.");
    t.impl()->grad_fn.reset();
    t.impl()->requires_grad = false;
    return self;
  });
}

}  // namespace tg::py_bridge
