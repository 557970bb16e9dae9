"""index_add, index_copy, index_fill, scatter_reduce, unique, unique_consecutive and histc, composed from
tapegrad's indexing kernels, each recorded as the node PyTorch records with PyTorch's backward formulas."""
from . import _C
from ._C import Tensor
from ._ops import _TYPE_WORD, _recorded, _wrap_dim


def _leading(t, dim):
    """t with `dim` first (a view), and 0-dim tensors as one element."""
    return t.reshape(1) if t.dim() == 0 else t.movedim(dim, 0)


def _size(t, dim):
    return t.shape[dim] if t.dim() else 1


def _check_bounds(index, size, prefix=""):
    flat = index.reshape(-1)
    bad = ((flat < 0) | (flat >= size)).nonzero()
    if bad.numel():
        value = int(flat[int(bad[0, 0])].item())
        return f"{prefix}index {value} is out of bounds for dimension 0 with size {size}"
    return None


def _put_along(out, dim, index, values, accumulate):
    """out[..., index, ...] (= or +=) values along dim, in place on out (no autograd)."""
    _leading(out, dim).index_put_((index.reshape(-1),), _leading(values, dim), accumulate=accumulate)
    return out


# ---- index_add ----

def _check_index_add(input, dim, index, source):
    if index.dtype != _C.int64:
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: {_TYPE_WORD[str(index.dtype)]}")
    if index.dim() > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: {index.dim()} with type: Long "
                         f"and size: {list(index.shape)}")
    if input.dtype != source.dtype:
        raise RuntimeError(f"index_add_(): self ({_TYPE_WORD[str(input.dtype)]}) and source "
                           f"({_TYPE_WORD[str(source.dtype)]}) must have the same scalar type")
    if index.numel() != _size(source, dim):
        raise RuntimeError(f"index_add_(): Number of indices ({index.numel()}) should be equal to source.size(dim): "
                           f"({_size(source, dim)}), for dim: {dim}")
    rest = lambda t: [n for d, n in enumerate(t.shape) if d != dim]  # noqa: E731
    if input.dim() and source.dim() and rest(input) != rest(source):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified dimension. Got "
                           f"self.shape = {list(input.shape)} source.shape = {list(source.shape)}")
    error = _check_bounds(index, _size(input, dim))
    if error:
        raise RuntimeError(error)


def _index_add_compute(input, dim, index, source, alpha):
    return _put_along(input.clone(), dim, index, source if alpha == 1 else source * alpha, True)


def _index_add_grads(g, input, dim, index, source, alpha):
    grad_source = g.index_select(dim, index.reshape(-1)).reshape(source.shape)
    return g, None, None, grad_source if alpha == 1 else grad_source * alpha, None


_index_add = _recorded("IndexAddBackward0", _index_add_compute, _index_add_grads)


def index_add(input, dim, index, source, *, alpha=1):
    dim = _wrap_dim(dim, input.dim())
    _check_index_add(input, dim, index, source)
    return _index_add(input, dim, index, source, alpha)


# ---- index_copy ----

def _check_index_copy(input, dim, index, source):
    if index.dtype != _C.int64:
        raise IndexError("index_copy_(): Expected a long tensor for index, but got " + _TYPE_WORD[str(index.dtype)])
    if input.dtype != source.dtype:
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_TYPE_WORD[str(input.dtype)]} and (source) {_TYPE_WORD[str(source.dtype)]}")
    if index.numel() != _size(source, dim):
        raise IndexError(f"index_copy_(): Number of indices ({index.numel()}) should be equal to source.size(dim) "
                         f"({_size(source, dim)})")
    self_slice = [n for d, n in enumerate(input.shape) if d != dim]
    source_slice = [n for d, n in enumerate(source.shape) if d != dim]
    if input.dim() and source.dim() and self_slice != source_slice:
        raise RuntimeError("index_copy_(): Source/destination tensor must have same slice shapes. Destination slice "
                           f"shape: {' '.join(map(str, self_slice))} at dimension {dim} and source slice shape: "
                           f"{' '.join(map(str, source_slice))} at dimension 0.")
    error = _check_bounds(index, _size(input, dim), "index_copy_(): ")
    if error:
        raise IndexError(error)


def _index_copy_grads(g, input, dim, index, source):
    flat = index.reshape(-1)
    return g.index_fill(dim, flat, 0), None, None, g.index_select(dim, flat).reshape(source.shape)


_index_copy = _recorded("IndexCopyBackward0",
                        lambda input, dim, index, source: _put_along(input.clone(), dim, index, source, False),
                        _index_copy_grads)


def index_copy(input, dim, index, source):
    dim = _wrap_dim(dim, input.dim())
    _check_index_copy(input, dim, index, source)
    return _index_copy(input, dim, index, source)


# ---- index_fill ----

def _index_fill_compute(input, dim, index, value):
    out = input.clone()
    filler = value.to(input.dtype) if isinstance(value, Tensor) else _C.tensor(value, dtype=input.dtype)
    _leading(out, dim).index_put_((index.reshape(-1),), filler)
    return out


def _index_fill_grads(g, input, dim, index, value):
    flat = index.reshape(-1)
    # Each filled slot once, however often the index names it.
    grad_value = g.index_select(dim, unique(flat)).sum() if isinstance(value, Tensor) else None
    return g.index_fill(dim, flat, 0), None, None, grad_value


_index_fill_nodes = {kind: _recorded(f"IndexFillBackward{kind}", _index_fill_compute, _index_fill_grads)
                     for kind in (0, 1)}


def index_fill(input, dim, index, value):
    dim = _wrap_dim(dim, input.dim())
    if index.dtype != _C.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if isinstance(value, Tensor) and value.dim():
        raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.dim()} dimension(s).")
    error = _check_bounds(index, _size(input, dim))
    if error:
        raise IndexError(error)
    return _index_fill_nodes[1 if isinstance(value, Tensor) else 0](input, dim, index, value)


# ---- scatter_reduce ----

def _scattered_mask(input, dim, index):
    """True where scatter along dim at index writes."""
    return _C.zeros_like(input, dtype=_C.bool).scatter(dim, index, True)


def _scatter_reduce_grads(g, input, dim, index, src, reduce, include_self):
    result = _C._scatter_reduce(input, dim, index, src, reduce, include_self)
    if reduce == "sum":
        grad_self, grad_src = g, g.gather(dim, index)
    elif reduce == "mean":
        count = _C.ones_like(g) if include_self else _C.zeros_like(g)
        count = count.scatter_add(dim, index, _C.ones_like(src))
        count = count.masked_fill(count == 0, 1)
        grad_self = g / count
        grad_src = grad_self.gather(dim, index)
    elif reduce in ("amax", "amin", "max", "min"):
        # Ties share the gradient evenly.
        value = result.gather(dim, index)
        self_is_result = (input == result).to(g.dtype)
        src_is_result = (src == value).to(g.dtype)
        distributed = g / self_is_result.scatter_add(dim, index, src_is_result)
        grad_self = self_is_result * distributed
        grad_src = src_is_result * distributed.gather(dim, index)
    else:
        grad_self, grad_src = _scatter_prod_grads(g, input, dim, index, src, include_self, result)
    if not include_self:
        grad_self = grad_self.masked_fill(_scattered_mask(input, dim, index), 0)
    return grad_self, None, None, grad_src, None, None


def _scatter_prod_grads(g, input, dim, index, src, include_self, result):
    """PyTorch's product gradient, exact where an input or a single src element is 0."""
    masked_self = input.masked_fill(input == 0, 1)
    masked_self_result = _C._scatter_reduce(masked_self, dim, index, src, "prod", include_self)
    grad_self = g * masked_self_result / masked_self
    src_zero = src == 0
    src_zeros_per_slot = _C.zeros_like(input).scatter_add(dim, index, src_zero.to(input.dtype)).gather(dim, index)
    src_single_zero = src_zero & (src_zeros_per_slot == 1)
    masked_src_result = _C._scatter_reduce(input, dim, index, src.masked_fill(src_single_zero, 1), "prod",
                                           include_self)
    grad_src = _C.where(src_single_zero, (g * masked_src_result).gather(dim, index),
                        (g * result).gather(dim, index) / src.masked_fill(src_zero, 1))
    return grad_self, grad_src


_scatter_reduce = _recorded("ScatterReduceBackward0", _C._scatter_reduce, _scatter_reduce_grads)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    return _scatter_reduce(input, dim, index, src, reduce, include_self)


# ---- unique / unique_consecutive / histc (no gradients) ----

def _group_ids(starts):
    """The group of each position, given where groups start."""
    return starts.to(_C.int64).cumsum(0) - 1


def _unique_result(values, inverse, counts, return_inverse, return_counts):
    out = (values,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return out[0] if len(out) == 1 else out


def _consecutive_starts(flat):
    first = _C.ones(1, dtype=_C.bool)
    return _C.cat([first, flat[1:] != flat[:-1]]) if flat.numel() else _C.zeros(0, dtype=_C.bool)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002  (torch's name)
    if dim is not None:
        return _unique_dim(input, _wrap_dim(dim, input.dim()), return_inverse, return_counts)
    flat = input.detach().reshape(-1)
    keys = flat.to(_C.int64) if flat.dtype == _C.bool else flat
    ordered, order = keys.sort()
    starts = _consecutive_starts(ordered)
    groups = _group_ids(starts)
    values = ordered[starts].to(input.dtype)
    inverse = _C.zeros_like(groups).scatter(0, order, groups).reshape(input.shape)
    counts = _C.zeros(values.numel(), dtype=_C.int64).scatter_add(0, groups, _C.ones_like(groups))
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def _unique_dim(input, dim, return_inverse, return_counts):
    # Slices along dim in lexicographic order, as NumPy's unique with an axis orders them.
    import numpy as np

    values, inverse, counts = np.unique(np.asarray(input.detach()), return_inverse=True, return_counts=True, axis=dim)
    as_tensor = lambda a, dtype: _C.from_numpy(np.ascontiguousarray(a)).to(dtype)  # noqa: E731
    return _unique_result(as_tensor(values, input.dtype), as_tensor(inverse.reshape(-1), _C.int64),
                          as_tensor(counts, _C.int64), return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    x = input.detach()
    if dim is None:
        flat = x.reshape(-1)
        starts = _consecutive_starts(flat)
        values = flat[starts]
        inverse_shape = input.shape
    else:
        dim = _wrap_dim(dim, x.dim())
        rows = x.movedim(dim, 0).reshape(x.shape[dim], -1)
        first = _C.ones(min(rows.shape[0], 1), dtype=_C.bool)
        starts = _C.cat([first, (rows[1:] != rows[:-1]).any(1)]) if rows.shape[0] else first
        values = x.movedim(dim, 0)[starts].movedim(0, dim)
        inverse_shape = (x.shape[dim],)
    groups = _group_ids(starts)
    counts = _C.zeros(int(starts.sum().item()), dtype=_C.int64).scatter_add(0, groups, _C.ones_like(groups))
    return _unique_result(values, groups.reshape(inverse_shape), counts, return_inverse, return_counts)


def histc(input, bins=100, min=0, max=0):  # noqa: A002  (torch's names)
    if not input.is_floating_point():
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_TYPE_WORD[str(input.dtype)]}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    x = input.detach().reshape(-1)
    low, high = float(min), float(max)
    if low == high and x.numel():
        low, high = float(x.min().item()), float(x.max().item())
    if low == high:
        low, high = low - 1, high + 1
    inside = (x >= low) & (x <= high)
    position = ((x[inside] - low) * bins / (high - low)).to(_C.int64).clamp(max=bins - 1)
    counts = _C.zeros(bins, dtype=input.dtype)
    return counts.index_put_((position,), _C.ones_like(position, dtype=input.dtype), accumulate=True)


FUNCTIONS = {"index_add": index_add, "index_copy": index_copy, "index_fill": index_fill,
             "scatter_reduce": scatter_reduce, "unique": unique, "unique_consecutive": unique_consecutive,
             "histc": histc}
METHODS = list(FUNCTIONS)
INPLACE = ["index_add", "index_copy", "index_fill", "scatter_reduce"]
