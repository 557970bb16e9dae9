"""Ops composed in Python from tapegrad's C++ ops, each recorded as the one graph node PyTorch records
(AddcmulBackward0, LerpBackward0, ...) with its backward written in differentiable tapegrad ops.
"""
import builtins

from . import _C
from ._C import Tensor
from .autograd.function import Function

_FLOAT_ORDER = {"torch.bool": 0, "torch.int64": 1, "torch.float32": 2, "torch.float64": 3}


def _dtype_rank(dtype):
    return _FLOAT_ORDER[str(dtype)]


def _promote(a, b):
    return a if _dtype_rank(a) >= _dtype_rank(b) else b


def _is_float(dtype):
    return _dtype_rank(dtype) >= 2


def result_type(*operands):
    """PyTorch's result_type over tensors and Python numbers: dimensioned tensors, then 0-dim tensors, then
    numbers; a later class only raises the category (bool < integer < floating)."""
    classes = [None, None, None]
    for x in operands:
        if isinstance(x, Tensor):
            cls, dt = (0 if x.dim() > 0 else 1), x.dtype
        else:
            cls = 2
            dt = _C.bool if isinstance(x, bool) else _C.int64 if isinstance(x, int) else _C.get_default_dtype()
        classes[cls] = dt if classes[cls] is None else _promote(classes[cls], dt)

    def combine(higher, lower):
        if higher is None:
            return lower
        if lower is None or _is_float(higher):
            return higher
        if higher == _C.bool or _is_float(lower):
            return _promote(higher, lower)
        return higher

    return combine(classes[0], combine(classes[1], classes[2]))


def _as_tensor(x, dtype):
    return x.to(dtype) if isinstance(x, Tensor) else _C.tensor(x, dtype=dtype)


def _requires_grad(args):
    return _C.is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in args)


_SAVED = object()  # marks the arguments that were tensors, saved for backward


def _recorded(node_name, compute, gradients):
    """An op whose forward is compute(*args) and whose node, named node_name, returns gradients(g, *args),
    one per argument (None for numbers and non-differentiable tensors). Arguments that are tensors are saved
    for backward with version checks."""

    def forward(ctx, *args):
        ctx.save_for_backward(*(a for a in args if isinstance(a, Tensor)))
        ctx.numbers = [_SAVED if isinstance(a, Tensor) else a for a in args]
        return compute(*args)

    def backward(ctx, g):
        saved = iter(ctx.saved_tensors)
        args = [next(saved) if n is _SAVED else n for n in ctx.numbers]
        grads = gradients(g, *args)
        return tuple(gr if isinstance(a, Tensor) else None for gr, a in zip(grads, args))

    node = type(node_name, (Function,), {"_node_name": node_name, "forward": staticmethod(forward),
                                         "backward": staticmethod(backward)})

    def op(*args):
        return node.apply(*args) if _requires_grad(args) else compute(*args)

    return op


def _inplace(name, out_of_place):
    """self.<name>_(...): the out-of-place result written into self (its dtype must hold the result)."""

    def method(self, *args, **kwargs):
        def write(source):
            result = out_of_place(source, *args, **kwargs)
            if tuple(result.shape) != tuple(self.shape):
                raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                                   f"{list(result.shape)}")
            return result

        return _C._compute_inplace(self, write)

    method.__name__ = name + "_"
    return method


_TYPE_WORD = {"torch.bool": "Bool", "torch.int64": "Long", "torch.float32": "Float", "torch.float64": "Double"}
_C_TYPE = {"torch.bool": "bool", "torch.int64": "long int", "torch.float32": "float", "torch.float64": "double"}


# ---- pointwise with several inputs ----

def _addcmul_compute(input, tensor1, tensor2, value):
    product = tensor1 * tensor2 if value == 1 else tensor1 * value * tensor2
    return input + product


def _addcmul_grads(g, input, tensor1, tensor2, value):
    return g, g * tensor2 * value, g * tensor1 * value, None


def _check_addc_value(operands, value):
    if not builtins.any(_is_float(t.dtype) for t in operands) and isinstance(value, float):
        raise RuntimeError("For integral input tensors, argument value must not be a floating point number.")


_addcmul = _recorded("AddcmulBackward0", _addcmul_compute, _addcmul_grads)


def addcmul(input, tensor1, tensor2, *, value=1):
    _check_addc_value((input, tensor1, tensor2), value)
    return _addcmul(input, tensor1, tensor2, value)


def _addcdiv_compute(input, tensor1, tensor2, value):
    return input + (tensor1 if value == 1 else tensor1 * value) / tensor2


def _addcdiv_grads(g, input, tensor1, tensor2, value):
    return g, g * value / tensor2, -g * value * tensor1 / (tensor2 * tensor2), None


_addcdiv = _recorded("AddcdivBackward0", _addcdiv_compute, _addcdiv_grads)


def addcdiv(input, tensor1, tensor2, *, value=1):
    if not _is_float(tensor1.dtype) and not _is_float(tensor2.dtype):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
                           "for all dtypes.")
    return _addcdiv(input, tensor1, tensor2, value)


def _lerp_compute(input, end, weight):
    # ATen's two-sided formula: exact at weight 0 and 1.
    diff = end - input
    if isinstance(weight, Tensor):
        return _C.where(weight.abs() < 0.5, input + weight * diff, end - diff * (1 - weight))
    return input + diff * weight if builtins.abs(weight) < 0.5 else end - diff * (1 - weight)


def _lerp_grads(g, input, end, weight):
    grads = (g * (1 - weight), g * weight)
    return grads + ((g * (end - input)) if isinstance(weight, Tensor) else None,)


_lerp_scalar = _recorded("LerpBackward0", _lerp_compute, _lerp_grads)
_lerp_tensor = _recorded("LerpBackward1", _lerp_compute, _lerp_grads)


def lerp(input, end, weight):
    if input.dtype != end.dtype:
        raise RuntimeError(f"expected dtype {_C_TYPE[str(input.dtype)]} for `end` but got dtype "
                           f"{_C_TYPE[str(end.dtype)]}")
    if isinstance(weight, Tensor):
        if weight.dtype != input.dtype:
            raise RuntimeError(f"expected dtype {_C_TYPE[str(input.dtype)]} for `weight` but got dtype "
                               f"{_C_TYPE[str(weight.dtype)]}")
        return _lerp_tensor(input, end, weight)
    return _lerp_scalar(input, end, weight)


# ---- binary math ----

def _logaddexp_compute(a, b):
    high = _C.maximum(a, b)
    # exp of the gap can not overflow; equal infinities keep their value.
    gap = -(a - b).abs()
    return _C.where(a == b, a + 0.6931471805599453, high + gap.exp().log1p())


def _logaddexp_grads(g, a, b):
    return g / (1 + (b - a).exp()), g / (1 + (a - b).exp())


logaddexp = _recorded("LogaddexpBackward0", _logaddexp_compute, _logaddexp_grads)


def _xlog(log_name):
    """x * log(y) (xlogy) or x * log1p(y) (xlog1py): 0 where x is 0 unless y is NaN, and their gradients."""

    def compute(x, y):
        dtype = result_type(x, y)
        if not _is_float(dtype):
            dtype = _C.get_default_dtype()
        x, y = _as_tensor(x, dtype), _as_tensor(y, dtype)
        out = x * getattr(y, log_name)()
        return _C.where(y.isnan(), y, _C.where(x == 0, _C.zeros_like(out), out))

    def grads(g, x, y):
        gx = gy = None
        if isinstance(x, Tensor):
            y = _as_tensor(y, g.dtype)
            # As PyTorch: 0 only where x is 0 and the log is undefined.
            undefined = (x == 0) & (y <= (0 if log_name == "log" else -1))
            gx = g * _C.where(undefined, _C.zeros_like(g), getattr(y, log_name)())
        if isinstance(y, Tensor):
            gy = g * x / (y if log_name == "log" else y + 1)
        return gx, gy

    return compute, grads


def _xlog_op(log_name, node_prefix):
    """One node per PyTorch overload: <prefix>0 for two tensors, 1 for a number input, 2 for a number other."""
    nodes = {kind: _recorded(f"{node_prefix}{kind}", *_xlog(log_name)) for kind in (0, 1, 2)}

    def op(input, other):
        kind = 1 if not isinstance(input, Tensor) else 2 if not isinstance(other, Tensor) else 0
        return nodes[kind](input, other)

    return op


xlogy = _xlog_op("log", "XlogyBackward")
xlog1py = _xlog_op("log1p", "SpecialXlog1PyBackward")


def _fmod_compute(a, b):
    # C's fmod: the remainder takes the dividend's sign.
    r = _C.remainder(a, b)
    fix = (r != 0) & ((r < 0) != (_as_tensor(a, r.dtype) < 0))
    return _C.where(fix, r - b, r)


def _fmod_grads(g, a, b):
    gb = -g * _C.div(a, b, rounding_mode="trunc") if isinstance(b, Tensor) else None
    return g, gb


_fmod_number = _recorded("FmodBackward0", _fmod_compute, _fmod_grads)
_fmod_tensor = _recorded("FmodBackward1", _fmod_compute, _fmod_grads)


def fmod(input, other):
    return (_fmod_tensor if isinstance(other, Tensor) else _fmod_number)(input, other)


def _fmax_fmin(name, pick):
    def compute(a, b):
        chosen = _C.where(pick(a, b) | b.isnan(), a, b)
        return _C.where(a.isnan(), b, chosen).to(result_type(a, b))

    def grads(g, a, b):
        takes_a = (pick(a, b) | b.isnan()) & ~a.isnan() | (a == b)
        zero = _C.zeros_like(g)
        return _C.where(takes_a, g, zero), _C.where(takes_a, zero, g)

    return _recorded(name, compute, grads)


fmax = _fmax_fmin("FmaxBackward0", lambda a, b: a >= b)
fmin = _fmax_fmin("FminBackward0", lambda a, b: a <= b)


# ---- unary math ----

frac = _recorded("FracBackward0", lambda x: x - x.trunc(), lambda g, x: (g,))
sgn = _recorded("SgnBackward0", lambda x: x.sign(), lambda g, x: (_C.zeros_like(g),))


def _logit_compute(x, eps):
    if eps is not None:
        x = x.clamp(eps, 1 - eps)
    return (x / (1 - x)).log()


def _logit_grads(g, x, eps):
    grad = g / (x * (1 - x))
    if eps is not None:
        grad = _C.where((x < eps) | (x > 1 - eps), _C.zeros_like(grad), grad)
    return grad, None


_logit = _recorded("LogitBackward0", _logit_compute, _logit_grads)


def logit(input, eps=None):
    if not _is_float(input.dtype):
        input = input.to(_C.get_default_dtype())
    return _logit(input, eps)


def _nan_to_num_compute(x, nan, posinf, neginf):
    if not _is_float(x.dtype):
        return x.clone()
    import numpy as np

    info = np.finfo(np.float32 if str(x.dtype) == "torch.float32" else np.float64)
    nan = 0.0 if nan is None else nan
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    out = _C.where(x.isnan(), _C.full_like(x, nan), x)
    out = _C.where(out == float("inf"), _C.full_like(x, posinf), out)
    return _C.where(out == float("-inf"), _C.full_like(x, neginf), out)


def _nan_to_num_grads(g, x, nan, posinf, neginf):
    return _C.where(x.isfinite(), g, _C.zeros_like(g)), None, None, None


_nan_to_num = _recorded("NanToNumBackward0", _nan_to_num_compute, _nan_to_num_grads)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    return _nan_to_num(input, nan, posinf, neginf)


def _clamp_bound(name, number_fn, tensor_pick, tensor_compute):

    def tensor_grads(g, x, bound):
        keep = tensor_pick(x, bound)
        zero = _C.zeros_like(g)
        return _C.where(keep, g, zero), _C.where(keep, zero, g)

    by_tensor = _recorded(f"{name}Backward1", tensor_compute, tensor_grads)

    def op(input, bound):
        if isinstance(bound, Tensor):
            return by_tensor(input, bound)
        return number_fn(input, bound)

    return op


clamp_min = _clamp_bound("ClampMin", lambda x, b: _clamp_number(x, b, None, "ClampMinBackward0"),
                         lambda x, b: x >= b, _C.maximum)
clamp_max = _clamp_bound("ClampMax", lambda x, b: _clamp_number(x, None, b, "ClampMaxBackward0"),
                         lambda x, b: x <= b, _C.minimum)


def _clamp_number_grads(g, x, low, high):
    inside = _C.ones_like(x, dtype=_C.bool)
    if low is not None:
        inside = inside & (x >= low)
    if high is not None:
        inside = inside & (x <= high)
    return _C.where(inside, g, _C.zeros_like(g)), None, None


_clamp_nodes = {name: _recorded(name, lambda x, low, high: _C.clamp(x, low, high), _clamp_number_grads)
                for name in ("ClampMinBackward0", "ClampMaxBackward0")}


def _clamp_number(x, low, high, node_name):
    return _clamp_nodes[node_name](x, low, high)


# ---- matrix products with an added input ----

def _scaled(t, factor):
    return t if factor == 1 else t * factor


def _plus_scaled_input(product, input, beta):
    """beta * input + product; with beta 0 the input is ignored (nan and inf in it included), as in torch."""
    return product if beta == 0 else _scaled(input, beta) + product


def _input_grad(g, beta):
    """The added input's gradient, beta * g (zeros for beta 0)."""
    return _scaled(g, beta) if beta != 0 else g * 0


def _addmm_compute(input, mat1, mat2, beta, alpha):
    product = _scaled(_C.mm(mat1, mat2), alpha)
    return _plus_scaled_input(product, input, beta)


def _addmm_grads(g, input, mat1, mat2, beta, alpha):
    g_alpha = _scaled(g, alpha)
    return (_input_grad(g, beta), _C.mm(g_alpha, mat2.t()), _C.mm(mat1.t(), g_alpha), None, None)


_addmm = _recorded("AddmmBackward0", _addmm_compute, _addmm_grads)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    if mat1.dim() != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {mat1.dim()}-D tensor")
    if mat2.dim() != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {mat2.dim()}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    return _addmm(input, mat1, mat2, beta, alpha)


def _addmv_compute(input, mat, vec, beta, alpha):
    product = _scaled(_C.mv(mat, vec), alpha)
    return _plus_scaled_input(product, input, beta)


def _addmv_grads(g, input, mat, vec, beta, alpha):
    g_alpha = _scaled(g, alpha)
    return (_input_grad(g, beta), _C.outer(g_alpha, vec), _C.mv(mat.t(), g_alpha), None, None)


_addmv = _recorded("AddmvBackward0", _addmv_compute, _addmv_grads)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    if mat.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {mat.dim()}, {vec.dim()}")
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.dim() else 1}), mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    return _addmv(input, mat, vec, beta, alpha)


def _baddbmm_compute(input, batch1, batch2, beta, alpha):
    product = _scaled(_C.bmm(batch1, batch2), alpha)
    return _plus_scaled_input(product, input, beta)


def _baddbmm_grads(g, input, batch1, batch2, beta, alpha):
    g_alpha = _scaled(g, alpha)
    return (_input_grad(g, beta), _C.bmm(g_alpha, batch2.transpose(1, 2)),
            _C.bmm(batch1.transpose(1, 2), g_alpha), None, None)


_baddbmm = _recorded("BaddbmmBackward0", _baddbmm_compute, _baddbmm_grads)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    if batch1.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if batch2.dim() != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    return _baddbmm(input, batch1, batch2, beta, alpha)


def _addr_compute(input, vec1, vec2, beta, alpha):
    product = _scaled(_C.outer(vec1, vec2), alpha)
    return _plus_scaled_input(product, input, beta)


def _addr_grads(g, input, vec1, vec2, beta, alpha):
    g_alpha = _scaled(g, alpha)
    return (_input_grad(g, beta), _C.mv(g_alpha, vec2), _C.mv(g_alpha.t(), vec1), None, None)


_addr = _recorded("AddrBackward0", _addr_compute, _addr_grads)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    for name, vec in (("vec1", vec1), ("vec2", vec2)):
        if vec.dim() != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {vec.dim()}-D")
    return _addr(input, vec1, vec2, beta, alpha)


def _addbmm_compute(input, batch1, batch2, beta, alpha):
    product = _scaled(_C.bmm(batch1, batch2).sum(0), alpha)
    return _plus_scaled_input(product, input, beta)


def _addbmm_grads(g, input, batch1, batch2, beta, alpha):
    # Every batch's product received the same gradient.
    g_batches = _scaled(g, alpha).unsqueeze(0).expand(batch1.shape[0], *g.shape)
    return (_input_grad(g, beta), _C.bmm(g_batches, batch2.transpose(1, 2)),
            _C.bmm(batch1.transpose(1, 2), g_batches), None, None)


_addbmm = _recorded("AddbmmBackward0", _addbmm_compute, _addbmm_grads)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    for name, batch in (("batch1", batch1), ("batch2", batch2)):
        if batch.dim() != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    return _addbmm(input, batch1, batch2, beta, alpha)


# ---- reductions and small linear algebra ----

def _trace_compute(x):
    return _C.diag(x).sum()


def _trace_grads(g, x):
    n, m = x.shape
    return (_C.eye(n, m, dtype=g.dtype) * g,)


_trace = _recorded("TraceBackward0", _trace_compute, _trace_grads)


def trace(input):
    if input.dim() != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " + str(input.dim()))
    return _trace(input)


def _dist_compute(a, b, p):
    return _C.norm(a - b, p)


def _dist_grads(g, a, b, p):
    with_graph = _C.norm(a - b, p)  # the backward of norm, through the difference
    diff = a - b
    grad = _norm_backward(g, diff, with_graph, p)
    return grad, -grad, None


def _norm_backward(g, x, norm, p):
    if p == 0:
        return _C.zeros_like(x)
    if p == 1:
        return g * x.sign()
    if p == 2:
        return _C.where(norm == 0, _C.zeros_like(x), g * x / norm)
    if p == float("inf") or p == float("-inf"):
        hits = (x.abs() == norm).to(x.dtype)
        return g * x.sign() * hits / hits.sum()
    scaled = x * x.abs().pow(p - 2) / norm.pow(p - 1)
    return _C.where(norm == 0, _C.zeros_like(x), g * scaled)


_dist = _recorded("DistBackward0", _dist_compute, _dist_grads)


def dist(input, other, p=2):
    return _dist(input, other, float(p))


def _wrap_dim(dim, ndim):
    """dim counted from 0, with PyTorch's IndexError for one out of range (a 0-dim tensor takes 0 and -1)."""
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def movedim(input, source, destination):
    sources = [source] if isinstance(source, int) else list(source)
    destinations = [destination] if isinstance(destination, int) else list(destination)
    if len(sources) != len(destinations):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({sources} dims) should contain "
                           f"the same number of dims as destination ({destinations} dims)")
    n = input.dim()
    sources = [_wrap_dim(d, n) for d in sources]
    destinations = [_wrap_dim(d, n) for d in destinations]
    if len(set(sources)) != len(sources):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(source) if not isinstance(source, int) else source})")
    if len(set(destinations)) != len(destinations):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(destination) if not isinstance(destination, int) else destination})")
    order = [None] * n
    for s, d in zip(sources, destinations):
        order[d] = s
    rest = iter(d for d in range(n) if d not in sources)
    order = [o if o is not None else next(rest) for o in order]
    return input.permute(*order) if n else input.view(())


moveaxis = movedim


def atleast_1d(x):
    return x.reshape(1) if x.dim() == 0 else x


def atleast_2d(x):
    return x.reshape(1, -1) if x.dim() < 2 else x


def atleast_3d(x):
    if x.dim() == 0:
        return x.reshape(1, 1, 1)
    if x.dim() == 1:
        return x.reshape(1, -1, 1)
    if x.dim() == 2:
        return x.unsqueeze(-1)
    return x


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return _C.cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors):
    return _C.cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors):
    return _C.cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    return _C.cat([t.reshape(-1, 1) if t.dim() < 2 else t for t in tensors], 1)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return input.view(-1).gather(0, indices.view(-1))  # a view, as in PyTorch: strided inputs are refused
    if input.dim() != indices.dim():
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.dim()} dimensions for input, and {indices.dim()} dimensions for indices")
    dim = dim % input.dim()
    # Every dim but `dim` broadcasts.
    shape = _broadcast_shape([1 if d == dim else n for d, n in enumerate(input.shape)],
                             [1 if d == dim else n for d, n in enumerate(indices.shape)])
    input_shape, index_shape = list(shape), list(shape)
    input_shape[dim], index_shape[dim] = input.shape[dim], indices.shape[dim]
    return input.expand(*input_shape).gather(dim, indices.expand(*index_shape))


def _broadcast_shape(*shapes):
    ndim = builtins.max(len(s) for s in shapes)
    out = [1] * ndim
    for s in shapes:
        for i, n in enumerate(s, ndim - len(s)):
            if n != 1:
                if out[i] not in (1, n):
                    raise RuntimeError("shape mismatch: objects cannot be broadcast to a single shape")
                out[i] = n
    return out


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: " + str(t))
    tensors = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        tensors[0], tensors[1] = tensors[1], tensors[0]
    shape = [t.numel() for t in tensors]
    grids = []
    for i, t in enumerate(tensors):
        view = [1] * len(tensors)
        view[i] = -1
        grids.append(t.view(*view).expand(*shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def _tri_indices(row, col, offset, upper, dtype):
    import numpy as np

    rows, cols = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    return _C.from_numpy(np.stack([rows, cols]).astype(np.int64)).to(dtype)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, True, dtype or _C.int64)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, False, dtype or _C.int64)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    dtype = dtype or _C.get_default_dtype()
    exponents = _C.linspace(start, end, steps, dtype=_C.float64)
    result = (_C.tensor(float(base), dtype=_C.float64) ** exponents).to(dtype)
    return result.requires_grad_(requires_grad) if requires_grad else result


def count_nonzero(input, dim=None):
    nonzero = (input != 0).to(_C.int64)
    return nonzero.sum() if dim is None else nonzero.sum(dim)


# ---- bitwise (integers and bools) ----

def _bitwise(name, np_name):
    def op(input, other):
        import numpy as np

        dtype = result_type(input, other)
        if _is_float(dtype):
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_TYPE_WORD[str(dtype)]}\'')
        a, b = (np.asarray(_as_tensor(v, dtype)) for v in (input, other))
        return _C.from_numpy(np.ascontiguousarray(getattr(np, np_name)(a, b)))

    op.__name__ = name
    return op


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")


def bitwise_not(input):
    if _is_float(input.dtype):
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for \'{_TYPE_WORD[str(input.dtype)]}\'')
    return input.logical_not() if input.dtype == _C.bool else -input - 1


FUNCTIONS = {
    "result_type": result_type, "addcmul": addcmul, "addcdiv": addcdiv, "lerp": lerp, "logaddexp": logaddexp,
    "xlogy": xlogy, "fmod": fmod, "fmax": fmax, "fmin": fmin, "frac": frac, "sgn": sgn, "logit": logit, "nan_to_num": nan_to_num, "clamp_min": clamp_min,
    "clamp_max": clamp_max, "addmm": addmm, "addmv": addmv, "baddbmm": baddbmm,
    "addr": addr, "addbmm": addbmm, "trace": trace, "dist": dist,
    "movedim": movedim, "moveaxis": moveaxis, "atleast_1d": atleast_1d, "atleast_2d": atleast_2d,
    "atleast_3d": atleast_3d, "hstack": hstack, "vstack": vstack, "row_stack": row_stack, "dstack": dstack,
    "column_stack": column_stack, "take_along_dim": take_along_dim, "meshgrid": meshgrid,
    "triu_indices": triu_indices, "tril_indices": tril_indices, "logspace": logspace,
    "count_nonzero": count_nonzero, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or,
    "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not,
}

# Tensor methods: the function with self first, and in-place twins where PyTorch has them.
METHODS = ["addcmul", "addcdiv", "lerp", "logaddexp", "xlogy", "fmod", "fmax", "fmin", "frac", "sgn", "logit", "nan_to_num", "clamp_min", "clamp_max", "addmm", "addmv", "baddbmm", "addr", "addbmm", "trace",
           "dist", "movedim", "moveaxis", "take_along_dim", "count_nonzero", "bitwise_and", "bitwise_or",
           "bitwise_xor", "bitwise_not"]
INPLACE = ["addcmul", "addcdiv", "lerp", "xlogy", "fmod", "frac", "sgn", "logit",
           "nan_to_num", "clamp_min", "clamp_max", "addmm", "addmv", "baddbmm", "addr", "addbmm", "bitwise_and", "bitwise_or",
           "bitwise_xor", "bitwise_not"]


def install(namespace, module=None):
    """Puts a module's FUNCTIONS (this one's by default) in `namespace`, its METHODS on Tensor and the in-place
    twins named in INPLACE."""
    functions, methods, inplace = (FUNCTIONS, METHODS, INPLACE) if module is None else \
        (module.FUNCTIONS, module.METHODS, module.INPLACE)
    namespace.update(functions)
    for name in methods:
        setattr(Tensor, name, functions[name])
    for name in inplace:
        setattr(Tensor, name + "_", _inplace(name, functions[name]))
