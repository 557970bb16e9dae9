// The graph node of a custom autograd.Function (python/tapegrad/autograd/function.py): its backward is a
// Python callable, and the tensors it saves are SavedTensors, with their version checks and release.
#include "autograd/node.h"
#include "bindings/python.h"

namespace tg::py_bridge {

namespace {

struct PythonFunctionNode : Node {
  std::string node_name;
  uint32_t output_count = 1;
  // Called as backward(saved_tensors, grads) with the GIL held; returns one gradient (or None) per edge.
  std::shared_ptr<py::object> backward;
  std::vector<SavedTensor> saved;

  std::string name() const override { return node_name; }
  uint32_t num_outputs() const override { return output_count; }
  void release_saved() override {
    for (auto& s : saved) s.reset();
  }

  TensorList apply(TensorList&& grads) override {
    py::gil_scoped_acquire gil;
    py::tuple saved_py(saved.size());
    for (size_t i = 0; i < saved.size(); ++i) saved_py[i] = py::reinterpret_steal<py::object>(wrap(saved[i].unpack(*this)));
    py::tuple grads_py(grads.size());
    for (size_t i = 0; i < grads.size(); ++i) grads_py[i] = py::reinterpret_steal<py::object>(wrap(grads[i]));
    py::object result = (*backward)(saved_py, grads_py);
    TensorList out;
    for (py::handle item : result) out.push_back(item.is_none() ? Tensor() : unwrap(item.ptr()));
    TG_CHECK(out.size() == next_edges.size(), "custom Function backward produced ", out.size(),
             " gradients for ", next_edges.size(), " inputs");
    return out;
  }
};

// The node for one Function.apply: edges to `inputs` (None for arguments that are not tensors), `outputs`
// (None for those that get no history) made its outputs, and `to_save` kept for backward.
py::object record_function(const std::string& name, py::function backward, py::list inputs, py::list outputs,
                           py::list to_save) {
  auto node = std::make_shared<PythonFunctionNode>();
  node->node_name = name;
  node->output_count = static_cast<uint32_t>(outputs.size());
  // The engine drops nodes without the GIL: dropping the callable takes it.
  node->backward = std::shared_ptr<py::object>(new py::object(std::move(backward)), [](py::object* o) {
    py::gil_scoped_acquire gil;
    delete o;
  });
  for (py::handle item : inputs) {
    NextEdge e;
    e.dtype = ScalarType::Float32;
    if (!item.is_none()) {
      const Tensor& t = unwrap(item.ptr());
      e.dtype = t.dtype();
      if (t.requires_grad()) {
        e.edge = gradient_edge(t);
        e.sizes = t.sizes();
      }
    }
    node->next_edges.push_back(std::move(e));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    py::handle item = outputs[i];
    if (!item.is_none()) set_history(unwrap(item.ptr()), node, static_cast<uint32_t>(i));
  }
  for (py::handle item : to_save) {
    if (item.is_none()) {
      node->saved.emplace_back();
      continue;
    }
    bool is_output = false;
    for (py::handle out : outputs) is_output |= out.is(item);
    node->saved.emplace_back(unwrap(item.ptr()), is_output);
  }
  return node_to_py(node);
}

}  // namespace

void bind_function(py::module_& m) { m.def("_record_function", &record_function); }

}  // namespace tg::py_bridge
