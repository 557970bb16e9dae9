"""Tensor.unfold (a sliding-window view), unflatten, broadcast_shapes / broadcast_tensors / broadcast_to, ravel,
tensor_split with hsplit / vsplit / dsplit, and the nbytes and itemsize properties."""
import math

from . import _C
from ._C import Tensor
from ._ops import _TYPE_WORD, _recorded, _wrap_dim
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


def broadcast_to(input, size):
    return input.expand(*size)


def ravel(input):
    return input.contiguous().view(-1)


def _split_points(indices_or_sections, dim_size):
    """The [start, end) slices tensor_split cuts: equal sections (the first ones one longer), or at indices."""
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        size, longer = divmod(dim_size, sections)
        ends = [(i + 1) * size + min(i + 1, longer) for i in range(sections)]
        return list(zip([0] + ends[:-1], ends))
    indices = list(indices_or_sections)
    return list(zip([0] + indices, indices + [None]))


def tensor_split(input, indices_or_sections, dim=0):
    if input.dim() == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.dtype != _C.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{_TYPE_WORD[str(indices_or_sections.dtype)]}")
        if indices_or_sections.dim() > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {indices_or_sections.dim()} dims")
        indices_or_sections = indices_or_sections.tolist()
    dim = _wrap_dim(dim, input.dim())
    leading = (slice(None),) * dim
    # Slices with Python's rules, as PyTorch's: indices past the end or out of order give empty pieces.
    return tuple(input[leading + (slice(start, end),)]
                 for start, end in _split_points(indices_or_sections, input.shape[dim]))


def _directional_split(name, min_dims, pick_dim):
    def split(input, indices_or_sections):
        if input.dim() < min_dims:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                               f"with {input.dim()} dimensions!")
        dim = pick_dim(input)
        if isinstance(indices_or_sections, int):
            size = input.shape[dim]
            if indices_or_sections == 0 or size % indices_or_sections:
                raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                                   f"dimension {size} is not divisible by the split_size {indices_or_sections}!")
        return tensor_split(input, indices_or_sections, dim)

    split.__name__ = name
    return split


hsplit = _directional_split("hsplit", 1, lambda x: 0 if x.dim() == 1 else 1)
vsplit = _directional_split("vsplit", 2, lambda x: 0)
dsplit = _directional_split("dsplit", 3, lambda x: 2)


def _nbytes(self):
    return self.numel() * self.element_size()


def _itemsize(self):
    return self.element_size()


FUNCTIONS = {"unflatten": unflatten, "broadcast_shapes": broadcast_shapes, "broadcast_tensors": broadcast_tensors,
             "broadcast_to": broadcast_to, "ravel": ravel, "tensor_split": tensor_split, "hsplit": hsplit,
             "vsplit": vsplit, "dsplit": dsplit}
METHODS = ["unflatten", "broadcast_to", "ravel", "tensor_split", "hsplit", "vsplit", "dsplit"]
INPLACE = []


def install_tensor_members():
    Tensor.unfold = unfold
    Tensor.nbytes = property(_nbytes)
    Tensor.itemsize = property(_itemsize)
