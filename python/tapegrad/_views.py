"""Tensor.unfold (a sliding-window view), unflatten, broadcast_shapes / broadcast_tensors, and the nbytes and
itemsize properties."""
import math

from . import _C
from ._C import Tensor
from ._ops import _recorded, _wrap_dim
from ._size import Size
from .grad_mode import no_grad


def _unfold_view(x, dim, size, step):
    """Windows of `size` every `step` along dim, as a new last dim: a view sharing x's storage."""
    if x.dim() == 0:
        return x.as_strided((1,), (1,), x.storage_offset())
    shape, strides = list(x.shape), list(x.stride())
    windows = (shape[dim] - size) // step + 1
    shape[dim], strides[dim] = windows, strides[dim] * step
    return x.as_strided(tuple(shape) + (size,), tuple(strides) + (x.stride(dim),), x.storage_offset())


def _unfold_grads(g, x, dim, size, step):
    if x.dim() == 0:
        return g.reshape(()), None, None, None
    windows = g.shape[dim]
    # Element j of window i came from position i * step + j: the window gradients add up there.
    positions = (_C.arange(windows).unsqueeze(1) * step + _C.arange(size)).reshape(-1)
    per_position = g.movedim(-1, dim + 1).flatten(dim, dim + 1)
    return _C.zeros_like(x).index_add(dim, positions, per_position), None, None, None


def _unfold_compute(x, dim, size, step):
    with no_grad():
        return _unfold_view(x, dim, size, step)


_unfold = _recorded("UnfoldBackward0", _unfold_compute, _unfold_grads)


def unfold(self, dimension, size, step):
    dim = _wrap_dim(dimension, self.dim())
    limit = self.shape[dim] if self.dim() else 1
    if size > limit:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {limit} but size is {size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return _unfold(self, dim, size, step)


def unflatten(input, dim, sizes):
    dim = _wrap_dim(dim, input.dim())
    sizes = list(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(n for n in sizes if n != -1)
    if -1 in sizes:
        if known == 0 or input.shape[dim] % known:
            raise RuntimeError(f"shape '{sizes}' is invalid for input of size {input.shape[dim]}")
        sizes[sizes.index(-1)] = input.shape[dim] // known
    elif known != input.shape[dim]:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {dim} "
                           f"({input.shape[dim]}) in the input tensor")
    return input.view(*input.shape[:dim], *sizes, *input.shape[dim + 1:])


def _broadcast(shapes, mismatch):
    """The broadcast of shapes; mismatch(k, i, n, shape_so_far) raises for shape k's size n at dim i."""
    ndim = max((len(s) for s in shapes), default=0)
    target = [1] * ndim
    for k, shape in enumerate(shapes):
        for i, n in enumerate(shape, ndim - len(shape)):
            if n != 1 and target[i] not in (1, n):
                mismatch(k, i - ndim, n, target)
            if n != 1:
                target[i] = n
    return Size(target)


def broadcast_shapes(*shapes):
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]

    def mismatch(k, dim, n, target):
        raise RuntimeError(f"Attempting to broadcast a dimension of length {n} at {dim}! Mismatching argument at index "
                           f"{k} had {shapes[k]}; but expected shape should be broadcastable to {target}")

    return _broadcast(shapes, mismatch)


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])

    def mismatch(k, dim, n, target):
        raise RuntimeError(f"The size of tensor a ({target[dim]}) must match the size of tensor b ({n}) at "
                           f"non-singleton dimension {len(target) + dim}")

    shape = _broadcast([tuple(t.shape) for t in tensors], mismatch)
    return tuple(t.expand(*shape) for t in tensors)


def _nbytes(self):
    return self.numel() * self.element_size()


def _itemsize(self):
    return self.element_size()


FUNCTIONS = {"unflatten": unflatten, "broadcast_shapes": broadcast_shapes, "broadcast_tensors": broadcast_tensors}
METHODS = ["unflatten"]
INPLACE = []


def install_tensor_members():
    Tensor.unfold = unfold
    Tensor.nbytes = property(_nbytes)
    Tensor.itemsize = property(_itemsize)
