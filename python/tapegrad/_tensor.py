"""Tensor methods written in Python: printing, NumPy interop, iteration and backward."""
import numpy as np

from . import _C
from ._tensor_str import format_tensor

Tensor = _C.Tensor


def _numpy(self, *, force=False):
    if self.requires_grad and not force:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    if self.device.type != "cpu":
        raise TypeError(
            f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first."
        )
    return np.asarray(self)


def _repr(self, *, tensor_contents=None):
    values = np.asarray(self.detach().cpu())
    grad_fn = self.grad_fn
    return format_tensor(
        values,
        dtype=str(self.dtype).replace("torch.", ""),
        requires_grad=self.requires_grad,
        grad_fn_name=grad_fn.name() if grad_fn is not None else None,
        device=str(self.device),
        is_param=getattr(self, "_is_param", False),
    )


def _iter(self):
    if self.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(self.unbind(0))


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...) is not supported yet; use tapegrad.autograd.grad")
    if retain_graph is None:
        retain_graph = create_graph
    _C._backward(self, gradient, retain_graph, create_graph)


def _array(self, dtype=None, copy=None):
    arr = np.asarray(self.detach().cpu())
    return arr.astype(dtype) if dtype is not None else arr


def _reversed(self):
    if self.dim() == 0:
        return self
    return _C.stack(list(reversed(self.unbind(0))))


def _format(self, spec):
    if self.dim() == 0:
        return self.item().__format__(spec)
    if spec:
        raise TypeError("unsupported format string passed to Tensor.__format__")
    return str(self)


_LEGACY_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor", "bool": "BoolTensor"}


def _type(self, dtype=None):
    if dtype is None:
        return "torch." + _LEGACY_TYPE_NAMES[str(self.dtype).replace("torch.", "")]
    if isinstance(dtype, str):
        by_name = {f"torch.{legacy}": name for name, legacy in _LEGACY_TYPE_NAMES.items()}
        if dtype not in by_name:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = getattr(_C, by_name[dtype])
    return self.to(dtype)


def _deepcopy(self, memo):
    if id(self) in memo:
        return memo[id(self)]
    result = self.detach().clone()
    result.requires_grad_(self.requires_grad)
    if self.grad is not None:
        result.grad = self.grad.detach().clone()
    memo[id(self)] = result
    return result


def install():
    Tensor.numpy = _numpy
    Tensor.__repr__ = _repr
    Tensor.__str__ = _repr
    Tensor.__iter__ = _iter
    Tensor.__reversed__ = _reversed
    Tensor.__array__ = _array
    Tensor.__format__ = _format
    Tensor.__deepcopy__ = _deepcopy
    Tensor.backward = _backward
    Tensor.type = _type
    Tensor.__array_priority__ = 1000  # numpy defers `ndarray <op> tensor` to the tensor
