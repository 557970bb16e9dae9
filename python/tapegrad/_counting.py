"""Counting and bucketing without gradients: bincount, searchsorted and bucketize, computed by NumPy."""
from . import _C
from ._C import Tensor
from ._ops import _TYPE_WORD


def _numpy(t):
    import numpy as np

    return np.asarray(t.detach())


def _tensor(array):
    import numpy as np

    return _C.from_numpy(np.ascontiguousarray(array))


def bincount(input, weights=None, minlength=0):
    import numpy as np

    if input.dtype.is_floating_point:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_TYPE_WORD[str(input.dtype)]}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.dim() != 1 or (input.numel() and int(input.min().item()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.dim() != 1 or weights.shape[0] != input.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    indices = _numpy(input).astype(np.int64)
    if weights is None:
        return _tensor(np.bincount(indices, minlength=minlength).astype(np.int64))
    # float32 weights count in float32; every other weight dtype counts in float64
    dtype = weights.dtype if str(weights.dtype) == "torch.float32" else _C.float64
    counts = np.bincount(indices, weights=_numpy(weights).astype(np.float64), minlength=minlength)
    return _tensor(counts).to(dtype)


def _side(right, side):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        return side
    return "right" if right else "left"


def _out_dtype(out_int32):
    if out_int32:
        raise NotImplementedError("tapegrad has no int32 dtype: out_int32=True is not supported")
    return _C.int64


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    import numpy as np

    side = _side(right, side)
    _out_dtype(out_int32)
    scalar_input = not isinstance(input, Tensor)
    values = np.asarray(input if scalar_input else _numpy(input))
    boundaries = _numpy(sorted_sequence)
    if sorter is not None:
        boundaries = np.take_along_axis(boundaries, _numpy(sorter), -1)
    if boundaries.ndim > 1 and (scalar_input or boundaries.shape[:-1] != values.shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions "
                           f"of boundaries tensor and input value tensor must match, but we got boundaries tensor "
                           f"{list(boundaries.shape)} and input value tensor {list(values.shape)}")
    if boundaries.ndim <= 1:
        result = np.searchsorted(boundaries.reshape(-1), values, side=side)
    else:
        rows_b = boundaries.reshape(-1, boundaries.shape[-1])
        rows_v = values.reshape(-1, values.shape[-1])
        result = np.stack([np.searchsorted(b, v, side=side) for b, v in zip(rows_b, rows_v)]).reshape(values.shape)
    return _tensor(np.asarray(result, dtype=np.int64)).reshape(values.shape)


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


FUNCTIONS = {"bincount": bincount, "searchsorted": searchsorted, "bucketize": bucketize}
METHODS = ["bincount"]
INPLACE = []
