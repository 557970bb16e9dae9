"""Ops that move or combine elements, composed as PyTorch composes them (so their nodes match): tile, rot90,
fliplr / flipud, diff and msort."""
from . import _C
from ._C import Tensor
from ._ops import _recorded, _wrap_dim


def tile(input, *dims):
    """torch.tile(input, dims) and Tensor.tile(*dims)."""
    dims = tuple(dims[0]) if len(dims) == 1 and not isinstance(dims[0], int) else dims
    # Fewer repeats than dims repeat the leading dims once.
    return input.repeat(*((1,) * (input.dim() - len(dims)) + dims))


def _rot90_compute(x, k, dims):
    d0, d1 = dims
    k %= 4
    if k == 1:
        return x.flip(d1).transpose(d0, d1)
    if k == 2:
        return x.flip(d0, d1)
    if k == 3:
        return x.flip(d0).transpose(d0, d1)
    return x.clone()


_rot90 = _recorded("Rot90Backward0", _rot90_compute, lambda g, x, k, dims: (_rot90_compute(g, -k, dims), None, None))


def rot90(input, k=1, dims=(0, 1)):
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    n = input.dim()
    if n < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {n}")
    wrapped = (_wrap_dim(dims[0], n), _wrap_dim(dims[1], n))
    if wrapped[0] == wrapped[1]:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    return _rot90(input, k, wrapped)


def fliplr(input):
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return input.flip(1)


def flipud(input):
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return input.flip(0)


def _check_diff_operand(input, operand):
    if operand is not None and (not isinstance(operand, Tensor) or operand.dim() != input.dim()):
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")


def diff(input, n=1, dim=-1, prepend=None, append=None):
    if input.dim() < 1:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    _check_diff_operand(input, prepend)
    _check_diff_operand(input, append)
    dim = _wrap_dim(dim, input.dim())
    if n == 0:
        return _C.zeros_like(input).copy_(input)  # as PyTorch: a copy, prepend and append ignored
    if prepend is not None or append is not None:
        input = _C.cat([t for t in (prepend, input, append) if t is not None], dim)
    result = input
    n = min(n, input.shape[dim])
    for length in range(input.shape[dim] - 1, input.shape[dim] - 1 - n, -1):
        later, earlier = result.narrow(dim, 1, length), result.narrow(dim, 0, length)
        result = later.logical_xor(earlier) if result.dtype == _C.bool else later - earlier
    return result


def msort(input):
    return input.sort(0).values


FUNCTIONS = {"tile": tile, "rot90": rot90, "fliplr": fliplr, "flipud": flipud, "diff": diff, "msort": msort}
METHODS = ["tile", "rot90", "fliplr", "flipud", "diff", "msort"]
INPLACE = []
