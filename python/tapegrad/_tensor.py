"""Tensor methods written in Python: printing, NumPy interop, iteration and backward.

NumPy is imported on first use, so that `import tapegrad` stays fast.
"""
from . import _C

Tensor = _C.Tensor


def _numpy(self, *, force=False):
    import numpy as np

    if self.requires_grad and not force:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    if self.device.type != "cpu":
        raise TypeError(
            f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first."
        )
    return np.asarray(self)


def _repr(self, *, tensor_contents=None):
    import numpy as np

    from ._tensor_str import format_tensor

    values = np.asarray(self.detach().cpu())
    try:
        grad_fn = self.grad_fn
        # name() is namespaced for engine nodes ("torch::autograd::CopySlices"); reprs show the class name.
        grad_fn_name = grad_fn.name().rsplit("::", 1)[-1] if grad_fn is not None else None
    except RuntimeError:
        grad_fn_name = "Invalid"  # a view of unbind or split whose base was modified in place, as torch shows it
    return format_tensor(
        values,
        dtype=str(self.dtype).replace("torch.", ""),
        requires_grad=self.requires_grad,
        grad_fn_name=grad_fn_name,
        device=str(self.device),
        is_param=getattr(self, "_is_param", False),
    )


def _iter(self):
    if self.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(self.unbind(0))


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    if create_graph is not False or inputs is not None or not (retain_graph is None or isinstance(retain_graph, bool)):
        from .autograd import backward

        return backward(self, gradient, retain_graph, create_graph, inputs)
    # The common call goes straight to C++: it is part of every training step.
    _C._backward(self, gradient, bool(retain_graph), False, None)


def _array(self, dtype=None, copy=None):
    import numpy as np

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
    if isinstance(dtype, bytes):
        dtype = dtype.decode()
    if isinstance(dtype, str):
        by_name = {f"torch.{legacy}": name for name, legacy in _LEGACY_TYPE_NAMES.items()}
        if dtype not in by_name:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = getattr(_C, by_name[dtype])
    elif not isinstance(dtype, (_C.dtype, type)):
        raise TypeError("dtype must be a type, str, or dtype object")
    return self.to(dtype)


def _deepcopy(self, memo):
    import copy

    if id(self) in memo:
        return memo[id(self)]
    if not self.is_leaf:
        raise RuntimeError(
            "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment.  "
            "If you were attempting to deepcopy a module, this may be because of a torch.nn.utils.weight_norm usage, "
            "see https://github.com/pytorch/pytorch/pull/103001")
    result = _rebuild(type(self), self.detach().clone(), self.requires_grad)
    memo[id(self)] = result
    if self.grad is not None:
        result.grad = copy.deepcopy(self.grad, memo)
    result.__dict__.update(copy.deepcopy(self.__dict__, memo))
    return result


def _rebuild(cls, data, requires_grad):
    """An instance of cls (Tensor or a subclass such as nn.Parameter) holding data."""
    if cls is Tensor:
        return data.requires_grad_(requires_grad) if requires_grad else data
    return Tensor._make_subclass(cls, data, requires_grad)


def _rebuild_from_bytes(cls, raw, shape, dtype_name, requires_grad, state):
    import numpy as np

    data = _C.from_numpy(np.frombuffer(raw, dtype=dtype_name).reshape(shape).copy())
    result = _rebuild(cls, data, requires_grad)
    result.__dict__.update(state)
    return result


def _reduce_ex(self, protocol):
    # Pickle carries the values, dtype, shape and requires_grad; a graph is never pickled.
    import numpy as np

    dtype_name = str(self.dtype).replace("torch.", "")
    raw = np.ascontiguousarray(np.asarray(self.detach().cpu())).tobytes()
    return (_rebuild_from_bytes, (type(self), raw, tuple(self.shape), dtype_name, self.requires_grad, dict(self.__dict__)))


def typename(obj):
    """torch.typename: 'torch.FloatTensor' for tensors, the qualified class name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def install():
    Tensor.numpy = _numpy
    Tensor.__repr__ = _repr
    Tensor.__str__ = _repr
    Tensor.__iter__ = _iter
    Tensor.__reversed__ = _reversed
    Tensor.__array__ = _array
    Tensor.__format__ = _format
    Tensor.__deepcopy__ = _deepcopy
    Tensor.__reduce_ex__ = _reduce_ex
    Tensor.backward = _backward
    Tensor.type = _type
    Tensor.__array_priority__ = 1000  # numpy defers `ndarray <op> tensor` to the tensor
