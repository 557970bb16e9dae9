"""tapegrad.autograd: backward, grad and gradcheck."""
import contextlib
import threading
import warnings

from .. import _C
from .. import grad_mode  # noqa: F401  (torch.autograd.grad_mode)
from ..grad_mode import enable_grad, no_grad, set_grad_enabled  # noqa: F401
from . import graph  # noqa: F401
from .gradcheck import gradcheck  # noqa: F401
from . import function, functional  # noqa: F401,E402
from .function import Function, FunctionCtx, once_differentiable  # noqa: F401


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, _C.Tensor):
        return (x,)
    return tuple(x)


_CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its gradient "
    "which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid this. If you "
    "have to use this function, make sure to reset the .grad fields of your parameters to None after use to break "
    "the cycle and avoid the leak.")


def _flag(value):
    """retain_graph and create_graph as torch's engine reads them: an integer from 0 to 255, by __index__."""
    import operator

    number = operator.index(value)  # TypeError: 'str' object cannot be interpreted as an integer
    if number < 0:
        raise OverflowError("unsigned byte integer is less than minimum")
    if number > 255:
        raise OverflowError("unsigned byte integer is greater than maximum")
    return bool(number)


_backward_runs = threading.local()  # backward calls run the engine (and Functions' backward) on the caller's thread


@contextlib.contextmanager
def _running_backward(on_whole_graph):
    """Notes, for the duration of one engine run, whether it walks the whole graph (no `inputs`, not grad())."""
    stack = _backward_runs.__dict__.setdefault("whole_graph", [])
    stack.append(on_whole_graph)
    try:
        yield
    finally:
        stack.pop()


def _is_checkpoint_valid():
    """False inside grad() or backward(inputs=...): a reentrant checkpoint cannot run there."""
    stack = getattr(_backward_runs, "whole_graph", None)
    return not stack or stack[-1]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    inputs = _as_tuple(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    create_graph = _flag(create_graph)
    retain_graph = create_graph if retain_graph is None else _flag(retain_graph)
    tensors = _as_tuple(tensors)
    grad_tensors = (grad_tensors,) if isinstance(grad_tensors, (str, bytes)) else _as_tuple(grad_tensors)
    for g in grad_tensors or ():
        if g is not None and not isinstance(g, _C.Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
    if grad_tensors is not None:  # torch pairs them with zip: extra gradients are dropped, missing ones an error
        if len(grad_tensors) < len(tensors):
            raise RuntimeError(f"got {len(tensors)} tensors and {len(grad_tensors)} gradients")
        grad_tensors = grad_tensors[:len(tensors)]
    if create_graph:
        warnings.warn(_CREATE_GRAPH_WARNING, UserWarning, stacklevel=2)
    with _running_backward(inputs is None):
        _C._backward(tensors, grad_tensors, retain_graph, create_graph, inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    create_graph = _flag(create_graph)
    allow_unused = False if allow_unused is None else _flag(allow_unused)
    retain_graph = create_graph if retain_graph is None else _flag(retain_graph)
    with _running_backward(False):
        return _C._grad(_as_tuple(outputs), _as_tuple(inputs), _as_tuple(grad_outputs), retain_graph, create_graph,
                        allow_unused)
