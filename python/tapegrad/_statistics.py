"""Reductions and scans composed from tapegrad's ops: std_mean/var_mean, nansum/nanmean, median, mode, kthvalue,
quantile, logcumsumexp, cumprod and cummax/cummin. Each records the node PyTorch records.

NumPy runs the sequential scans (cumprod, cummax, logcumsumexp) and mode's counting on detached values.
"""
import builtins
import collections

from . import _C
from ._C import Tensor
from ._ops import _TYPE_WORD, _recorded
from .autograd.function import Function


def _values_indices_type(name, fields=("values", "indices")):
    """A named tuple of tensors (values and indices by default) printed as torch.return_types.<name>."""

    def __repr__(self):
        shown = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"torch.return_types.{name}(\n{shown})"

    cls = type(name, (collections.namedtuple(name, fields),),
               {"__repr__": __repr__, "__slots__": (), "__module__": "tapegrad.return_types"})
    setattr(_C.return_types, name, cls)
    return cls


_RESULT_TYPES = {name: _values_indices_type(name)
                 for name in ("median", "nanmedian", "mode", "kthvalue", "cummax", "cummin")}


def _wrap(dim, ndim):
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _dims(dim, ndim):
    if dim is None:
        return list(range(ndim))
    return sorted({_wrap(d, ndim) for d in ([dim] if isinstance(dim, int) else dim)}) or list(range(ndim))


def _unsqueeze_reduced(g, dims, keepdim):
    """A reduction's gradient with the reduced dims back as size 1, ready to broadcast over the input."""
    if not keepdim:
        for d in sorted(dims):
            g = g.unsqueeze(d)
    return g


def _numpy(t):
    import numpy as np

    return np.asarray(t.detach())


def _from_numpy(array, like):
    import numpy as np

    return _C.from_numpy(np.ascontiguousarray(array)).to(like.dtype)


# ---- std_mean / var_mean ----

def _moments(is_std):
    name = "StdMeanBackward0" if is_std else "VarMeanBackward0"

    def forward(ctx, x, dims, correction, keepdim):
        spread = (_C.std if is_std else _C.var)(x, dims, correction=correction, keepdim=keepdim)
        mean = x.mean(dims, keepdim)
        ctx.save_for_backward(x, spread, mean)
        ctx.args = dims, correction, keepdim
        return spread, mean

    def backward(ctx, g_spread, g_mean):
        x, spread, mean = ctx.saved_tensors
        dims, correction, keepdim = ctx.args
        count = 1
        for d in dims:
            count *= x.shape[d]
        if is_std:
            g_spread = _C.where(spread == 0, _C.zeros_like(g_spread), g_spread / (2 * spread))
        centered = x - _unsqueeze_reduced(mean, dims, keepdim)
        g_x = _unsqueeze_reduced(g_spread, dims, keepdim) * 2 * centered / builtins.max(count - correction, 0)
        return g_x + _unsqueeze_reduced(g_mean, dims, keepdim) / count, None, None, None

    node = type(name, (Function,), {"_node_name": name, "forward": staticmethod(forward),
                                    "backward": staticmethod(backward)})
    fn_name = "std_mean" if is_std else "var_mean"

    def op(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
        if isinstance(dim, bool):  # the (input, unbiased) overload
            dim, unbiased = None, dim
        if unbiased is not None and correction is not None:
            raise TypeError(f"{fn_name}() received an invalid combination of arguments - got both 'unbiased' and "
                            "'correction'")
        c = correction if correction is not None else (0 if unbiased is False else 1)
        return node.apply(input, _dims(dim, input.dim()), c, keepdim)

    op.__name__ = fn_name
    return op


std_mean = _moments(True)
var_mean = _moments(False)


# ---- nansum / nanmean ----

def _nansum_compute(x, dims, keepdim, dtype):
    if not x.dtype.is_floating_point:
        return x.sum(dims, keepdim, dtype=dtype)
    return _C.where(x.isnan(), _C.zeros_like(x), x).sum(dims, keepdim, dtype=dtype)


def _nansum_grads(g, x, dims, keepdim, dtype):
    g = _unsqueeze_reduced(g, dims, keepdim).to(x.dtype)
    return g * x.isnan().logical_not(), None, None, None  # a product, as torch: inf * 0 gives NaN


_nansum = _recorded("NansumBackward0", _nansum_compute, _nansum_grads)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    return _nansum(input, _dims(dim, input.dim()), keepdim, dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    if not input.dtype.is_floating_point:
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_TYPE_WORD[str(input.dtype)]}")
    dims = _dims(dim, input.dim())
    count = input.isnan().logical_not().sum(dims, keepdim)
    return nansum(input, dims, keepdim, dtype=dtype) / count


# ---- values picked along a dim: median, nanmedian, kthvalue, mode, cummax, cummin ----

class _Picked(Function):
    """Values chosen from x along dim at int64 `indices`; the gradient flows back to where they came from
    (summed where an index repeats, as in cummax)."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, values, indices):
        ctx.save_for_backward(indices)
        ctx.args = tuple(x.shape), dim, keepdim
        ctx.mark_non_differentiable(indices)
        return values.clone(), indices

    @staticmethod
    def backward(ctx, g, _):
        indices, = ctx.saved_tensors
        shape, dim, keepdim = ctx.args
        if not shape:
            return g.reshape(()), None, None, None, None
        if not keepdim:
            g, indices = g.unsqueeze(dim), indices.unsqueeze(dim)
        return _C.zeros(shape, dtype=g.dtype).scatter_add(dim, indices, g), None, None, None, None


def _picked(node_name):
    return type(node_name, (_Picked,), {"_node_name": node_name})


_PICKED_NODES = {name: _picked(name) for name in ("MedianBackward1", "NanmedianBackward1", "KthvalueBackward0",
                                                  "ModeBackward0", "CummaxBackward0", "CumminBackward0")}


def _pick(kind, node_name, x, dim, keepdim, indices):
    """The (values, indices) result for indices into x along dim (shaped like the keepdim result)."""
    values = x.gather(dim, indices) if x.dim() else x
    if not keepdim and x.dim():
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    if x.dim() == 0:
        indices = indices.reshape(())
    node = _PICKED_NODES[node_name]
    if x.requires_grad and _C.is_grad_enabled():
        values, indices = node.apply(x, dim, keepdim, values.detach(), indices)
    return _RESULT_TYPES[kind](values, indices)


def _check_reduction_size(name, x, dim):
    if x.dim() and x.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def _sorted_position(x, dim, position):
    """int64 indices (keepdim-shaped) of the element at each slice's sorted `position` (a tensor)."""
    order = x.detach().sort(dim, stable=True).indices
    return order.gather(dim, position)


def _median_dim(kind, x, dim, keepdim, ignore_nan):
    dim = _wrap(dim, x.dim())
    _check_reduction_size(kind, x, dim)
    if x.dim() == 0:
        return _pick(kind, "MedianBackward1" if kind == "median" else "NanmedianBackward1", x, 0, keepdim,
                     _C.zeros((), dtype=_C.int64))
    n = x.shape[dim]
    nans = x.detach().isnan().sum(dim, True) if x.dtype.is_floating_point else _C.zeros_like(x.sum(dim, True),
                                                                                             dtype=_C.int64)
    valid = n - nans
    if ignore_nan:
        # an all-NaN slice gives its middle NaN, as torch
        position = _C.where(valid == 0, _C.full_like(valid, (n - 1) // 2), (valid - 1).div(2, rounding_mode="floor"))
    else:  # a NaN makes the median NaN, at the first NaN's index
        position = _C.where(nans > 0, valid, _C.full_like(valid, (n - 1) // 2))
    indices = _sorted_position(x, dim, position)
    return _pick(kind, "MedianBackward1" if kind == "median" else "NanmedianBackward1", x, dim, keepdim, indices)


def _median_all_compute(x, ignore_nan):
    flat = x.reshape(-1)
    if flat.numel() == 0:
        return _C.full((), float("nan"), dtype=x.dtype)
    values = flat.sort().values
    nans = int(flat.isnan().sum().item()) if x.dtype.is_floating_point else 0
    valid = flat.numel() - nans
    if ignore_nan:
        return values[(valid - 1) // 2] if valid else values[0]
    return values[valid] if nans else values[(flat.numel() - 1) // 2]


def _median_all_grads(g, x, ignore_nan):
    result = _median_all_compute(x, ignore_nan)
    hits = (x == result) | (x.isnan() & result.isnan())
    hits = hits.to(g.dtype)
    return g * hits / hits.sum(), None


_median_all = {name: _recorded(name, _median_all_compute, _median_all_grads)
               for name in ("MedianBackward0", "NanmedianBackward0")}


def median(input, dim=None, keepdim=False):
    if dim is None:
        return _median_all["MedianBackward0"](input, False)
    return _median_dim("median", input, dim, keepdim, False)


def nanmedian(input, dim=None, keepdim=False):
    if dim is None:
        return _median_all["NanmedianBackward0"](input, True)
    return _median_dim("nanmedian", input, dim, keepdim, True)


def kthvalue(input, k, dim=-1, keepdim=False):
    dim = _wrap(dim, input.dim())
    size = input.shape[dim] if input.dim() else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    if input.dim() == 0:
        return _pick("kthvalue", "KthvalueBackward0", input, 0, keepdim, _C.zeros((), dtype=_C.int64))
    position = _C.full([1 if d == dim else n for d, n in enumerate(input.shape)], k - 1, dtype=_C.int64)
    return _pick("kthvalue", "KthvalueBackward0", input, dim, keepdim, _sorted_position(input, dim, position))


def _mode_indices(x, dim):
    """Per slice: the most frequent value (the smallest among equally frequent ones) at its last position."""
    import numpy as np

    values = np.moveaxis(_numpy(x), dim, -1)
    rows = values.reshape(-1, values.shape[-1])
    picked = np.empty(rows.shape[0], dtype=np.int64)
    for r, row in enumerate(rows):
        uniques, counts = np.unique(row, return_counts=True)
        winner = uniques[np.argmax(counts)]
        picked[r] = np.flatnonzero((row == winner) | (np.isnan(row) & np.isnan(winner)))[-1]
    indices = picked.reshape(values.shape[:-1] + (1,))
    return _C.from_numpy(np.ascontiguousarray(np.moveaxis(indices, -1, dim)))


def mode(input, dim=-1, keepdim=False):
    dim = _wrap(dim, input.dim())
    _check_reduction_size("mode", input, dim)
    if input.dim() == 0:
        return _pick("mode", "ModeBackward0", input, 0, keepdim, _C.zeros((), dtype=_C.int64))
    return _pick("mode", "ModeBackward0", input, dim, keepdim, _mode_indices(input, dim))


def _cumulative_extreme(kind, node_name, input, dim):
    import numpy as np

    dim = _wrap(dim, input.dim())
    if input.dim() == 0 or input.numel() == 0:
        return _pick(kind, node_name, input, dim, True, _C.zeros(tuple(input.shape), dtype=_C.int64))
    x = _numpy(input)
    running = (np.maximum if kind == "cummax" else np.minimum).accumulate(x, axis=dim)
    same = (x == running) | (np.isnan(x) & np.isnan(running)) if x.dtype.kind == "f" else x == running
    shape = [1] * x.ndim
    shape[dim] = x.shape[dim]
    positions = np.where(same, np.arange(x.shape[dim]).reshape(shape), -1)
    indices = np.maximum.accumulate(positions, axis=dim).astype(np.int64)
    return _pick(kind, node_name, input, dim, True, _C.from_numpy(np.ascontiguousarray(indices)))


def cummax(input, dim):
    return _cumulative_extreme("cummax", "CummaxBackward0", input, dim)


def cummin(input, dim):
    return _cumulative_extreme("cummin", "CumminBackward0", input, dim)


# ---- scans ----

def _reverse_cumsum(t, dim):
    return t.flip(dim).cumsum(dim).flip(dim)


def _logcumsumexp_compute(x, dim):
    import numpy as np

    return _from_numpy(np.logaddexp.accumulate(_numpy(x), axis=dim), x)


def _logcumsumexp_grads(g, x, dim):
    out = _logcumsumexp_compute(x, dim)
    # sum over j >= i of g_j * exp(x_i - out_j), shifted by each slice's first output so nothing overflows
    shift = out.narrow(dim, 0, 1)
    return (x - shift).exp() * _reverse_cumsum(g * (shift - out).exp(), dim), None


_logcumsumexp = _recorded("LogcumsumexpBackward0", _logcumsumexp_compute, _logcumsumexp_grads)


def logcumsumexp(input, dim):
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{_TYPE_WORD[str(input.dtype)]}'")
    dim = _wrap(dim, input.dim())
    if input.dim() == 0:
        return input.clone()
    return _logcumsumexp(input, dim)


def _cumprod_compute(x, dim):
    import numpy as np

    if x.dim() == 0:
        return x.clone()
    return _from_numpy(np.cumprod(_numpy(x), axis=dim), x)


def _cumprod_grads(g, x, dim):
    if x.dim() == 0:
        return g, None
    # Before a slice's first zero, out_j / x_i is exact; at the first zero, the product without it; after, 0.
    is_zero = x == 0
    zeros_so_far = is_zero.to(_C.int64).cumsum(dim)
    before = zeros_so_far == 0
    first_zero = is_zero & (zeros_so_far == 1)
    out = _cumprod_compute(x, dim)
    one = _C.ones_like(x)
    grad_before = _reverse_cumsum(g * out, dim) / _C.where(before, x, one)
    without_zero = _cumprod_compute(_C.where(first_zero, one, x), dim)
    grad_at_zero = _reverse_cumsum(g * without_zero, dim)
    zero = _C.zeros_like(grad_before)
    return _C.where(before, grad_before, _C.where(first_zero, grad_at_zero, zero)), None


_cumprod = _recorded("CumprodBackward0", _cumprod_compute, _cumprod_grads)


def cumprod(input, dim, *, dtype=None):
    dim = _wrap(dim, input.dim())
    if dtype is not None:
        input = input.to(dtype)
    elif not input.dtype.is_floating_point:
        input = input.to(_C.int64)
    return _cumprod(input, dim)


# ---- quantiles ----

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _squeeze_last_compute(t):
    return t.squeeze(-1)


_squeeze_last = _recorded("SqueezeBackward4", _squeeze_last_compute, lambda g, t: (g.unsqueeze(-1),))


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    name = "quantile"  # nanquantile reports itself as quantile too
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, but "
                           f"got {interpolation}")
    if isinstance(q, Tensor):
        if q.dim() > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if q.numel() and not bool(((q >= 0) & (q <= 1)).all()):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        q = _C.tensor(float(q), dtype=input.dtype)
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if dim is None:
        data = input.reshape(-1)
        out_shape = [1] * input.dim() if keepdim else []
    else:
        dim = _wrap(dim, input.dim())
        data = input.movedim(dim, -1) if input.dim() else input.reshape(1)
        out_shape = [1 if d == dim else n for d, n in enumerate(input.shape)] if keepdim else \
            [n for d, n in enumerate(input.shape) if d != dim]
    ordered = data.sort(-1).values.reshape(-1, data.shape[-1])
    nan_rows = ordered.isnan()
    last = ordered.shape[-1] - 1
    q_row = q.reshape(1, -1)
    if ignore_nan:
        ranks = q_row * (nan_rows.logical_not().sum(-1, True) - 1).to(q.dtype)
        ranks = ranks.clamp_min(0)
    else:
        ranks = _C.where(nan_rows.any(-1, True), _C.full((), float(last), dtype=q.dtype), q_row * last)
    if interpolation == "lower":
        ranks = ranks.floor()
    elif interpolation == "higher":
        ranks = ranks.ceil()
    elif interpolation == "nearest":
        ranks = ranks.round()
    below = ranks.to(_C.int64)
    values = ordered.gather(-1, below)
    if interpolation in ("linear", "midpoint"):
        weights = _C.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below.to(ranks.dtype)
        values = values.lerp(ordered.gather(-1, ranks.ceil().to(_C.int64)), weights)
    # rows x quantiles -> quantiles first, then the kept dims
    values = values.t().reshape(*([q.numel()] if q.dim() else []), *out_shape, 1)
    return _squeeze_last(values)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return _quantile(input, q, dim, keepdim, interpolation, True)


# ---- aminmax, cov, corrcoef ----

_AMINMAX = _values_indices_type("aminmax", ("min", "max"))


def _extremes(x, dims, keepdim):
    if x.dim() == 0:
        return x.clone(), x.clone()
    return x.amin(dims, keepdim), x.amax(dims, keepdim)


class _Aminmax(Function):
    _node_name = "AminmaxBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_for_backward(x)
        ctx.args = dims, keepdim
        return _extremes(x, dims, keepdim)

    @staticmethod
    def backward(ctx, g_min, g_max):
        x, = ctx.saved_tensors
        dims, keepdim = ctx.args
        grad = _C.zeros_like(x)
        # As amin's and amax's gradients: shared evenly between the elements tied for the extreme.
        for g, extreme in zip((g_min, g_max), _extremes(x, dims, keepdim)):
            hits = (x == _unsqueeze_reduced(extreme, dims, keepdim)).to(x.dtype)
            grad = grad + hits * _unsqueeze_reduced(g, dims, keepdim) / hits.sum(dims, keepdim=True)
        return grad, None, None


def aminmax(input, *, dim=None, keepdim=False):
    dims = _dims(dim, input.dim())
    if dim is None and input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    if dim is not None and input.dim() and input.shape[dims[0]] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {dims[0]} to have non-zero size.")
    return _AMINMAX(*_Aminmax.apply(input, dims, keepdim))


def _check_weights(name, w, observations, integral):
    if w.dim() > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with {w.dim()} "
                           "dimensions")
    if integral and w.dtype != _C.int64:
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} with "
                           f"{_TYPE_WORD[str(w.dtype)]} dtype")
    if not integral and not w.dtype.is_floating_point:
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got {name} with "
                           f"{_TYPE_WORD[str(w.dtype)]} dtype")
    if w.numel() != observations:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the input "
                           f"but got {w.numel()} != {observations}")
    if observations and bool((w < 0).any()):
        raise RuntimeError(f"cov(): {name} cannot be negative")


def cov(input, *, correction=1, fweights=None, aweights=None):
    """ATen's cov: variables in rows, observations in columns, weighted by fweights * aweights."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    if input.dtype == _C.bool:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.view(1, -1) if input.dim() < 2 else input
    observations = x.shape[1]
    w = None
    if fweights is not None:
        _check_weights("fweights", fweights, observations, True)
        w = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, observations, False)
        w = aweights if w is None else w * aweights
    w_sum = w.sum() if w is not None else _C.tensor(observations)
    if w is not None and not bool(w_sum != 0):
        raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    avg = (x * w if w is not None else x).sum(1) / w_sum
    if w is not None and aweights is not None and correction != 0:
        norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm_factor = w_sum - correction
    if bool(norm_factor <= 0):
        import warnings

        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.")
        norm_factor = _C.zeros_like(norm_factor)
    centered = x - avg.unsqueeze(1)
    product = _C.mm(centered, (centered * w if w is not None else centered).t())
    return _C.true_divide(product, norm_factor).squeeze()


def corrcoef(input):
    if input.dim() > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    c = cov(input)
    if c.dim() == 0:
        return c / c
    stddev = c.diagonal().sqrt()
    c = c / stddev.view(-1, 1)
    c = c / stddev.view(1, -1)
    return c.clip(-1, 1)


FUNCTIONS = {"std_mean": std_mean, "var_mean": var_mean, "nansum": nansum, "nanmean": nanmean, "median": median,
             "nanmedian": nanmedian, "kthvalue": kthvalue, "mode": mode, "cummax": cummax, "cummin": cummin,
             "logcumsumexp": logcumsumexp, "cumprod": cumprod, "quantile": quantile, "nanquantile": nanquantile,
             "aminmax": aminmax, "cov": cov, "corrcoef": corrcoef}
METHODS = ["aminmax", "cov", "corrcoef", "nansum", "nanmean", "median", "nanmedian", "kthvalue", "mode", "cummax", "cummin", "logcumsumexp",
           "cumprod", "quantile", "nanquantile"]
INPLACE = []
