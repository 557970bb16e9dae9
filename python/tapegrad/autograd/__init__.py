"""tapegrad.autograd: backward, grad and gradcheck."""
from .. import _C
from ..grad_mode import enable_grad, no_grad, set_grad_enabled  # noqa: F401
from . import graph  # noqa: F401
from .gradcheck import gradcheck  # noqa: F401


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, _C.Tensor):
        return (x,)
    return tuple(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    if retain_graph is None:
        retain_graph = create_graph
    _C._backward(_as_tuple(tensors), _as_tuple(grad_tensors), retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    if retain_graph is None:
        retain_graph = create_graph
    return _C._grad(_as_tuple(outputs), _as_tuple(inputs), _as_tuple(grad_outputs), retain_graph, create_graph,
                    allow_unused)
