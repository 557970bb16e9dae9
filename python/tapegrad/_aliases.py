"""PyTorch's second spellings (greater for gt, multiply_ for mul_, ...), the in-place Tensor methods PyTorch has
beside an out-of-place op (eq_, logical_and_, cumsum_, ...), the torch.* forms of in-place methods
(torch.abs_(t)), and small predicates (is_nonzero, is_same_size, is_complex)."""
from . import _C
from ._C import Tensor
from ._ops import _C_TYPE, _inplace, _recorded
from .grad_mode import no_grad

_COMPARISONS = {"greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le", "not_equal": "ne"}

# Second spellings of in-place methods that tapegrad implements in C++.
_INPLACE_SPELLINGS = {"multiply_": "mul_", "subtract_": "sub_", "true_divide_": "div_", "negative_": "neg_",
                      "clip_": "clamp_", "fix_": "trunc_"}

# In-place methods that write the out-of-place op's result into self (as PyTorch, the logical ones record no node).
_WRITTEN_BACK = ["floor_divide", "remainder", "logical_and", "logical_or", "logical_xor", "logical_not"]

# PyTorch's torch.<name>_(input, ...) functions, each the Tensor method of that name.
_TORCH_INPLACE = ["abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
                  "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_",
                  "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_",
                  "fill_", "fix_", "floor_", "frac_", "gcd_", "index_put_", "lcm_", "log10_", "log1p_", "log2_",
                  "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "relu_", "round_",
                  "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_",
                  "xlogy_", "zero_"]


def _divide_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return self.div_(other)
    return _inplace("divide", lambda x, y: _C.div(x, y, rounding_mode=rounding_mode))(self, other)


def _comparison_inplace(name):
    """self.eq_(other) and its kin: 1 or 0 in self's dtype, recorded as PyTorch's EqBackward0 (number other) or
    EqBackward1 (tensor other), whose gradients are zeros."""
    nodes = {kind: _recorded(f"{name.capitalize()}Backward{kind}", lambda x, y: getattr(x, name)(y).to(x.dtype),
                             lambda g, x, y: (_C.zeros_like(x), _C.zeros_like(y) if isinstance(y, Tensor) else None))
             for kind in (0, 1)}

    def method(self, other):
        node = nodes[1 if isinstance(other, Tensor) else 0]
        return _C._compute_inplace(self, lambda source: node(source, other))

    method.__name__ = name + "_"
    return method


def _scan_inplace(name):
    def method(self, dim, *, dtype=None):
        if dtype is not None and dtype != self.dtype:
            raise RuntimeError(f"Bad in-place call: input tensor dtype {_C_TYPE[str(self.dtype)]} and output tensor "
                               f"dtype {_C_TYPE[str(dtype)]} should match")
        return _C._compute_inplace(self, lambda source: getattr(source, name)(dim))

    method.__name__ = name + "_"
    return method


def _fill_diagonal_(self, fill_value, wrap=False):
    if self.dim() < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.dim() > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    rows, cols = self.shape[0], self.shape[-1]
    # The diagonal's offsets in the row-major layout: one step is one along every dim. A tall matrix with wrap
    # goes on past its first square, restarting a row below it, as NumPy's fill_diagonal.
    step = sum(cols ** k for k in range(self.dim()))
    end = self.numel() if wrap and self.dim() == 2 else min(rows, cols) * step
    with no_grad():
        offsets = _C.arange(0, end, step)
        index = []
        for size in reversed(self.shape):
            index.append(offsets % size)
            offsets = _C.div(offsets, size, rounding_mode="floor")
    self[tuple(reversed(index))] = fill_value
    return self


def _method_alias(name):
    """A Python method calling Tensor.<name>: pybind's methods lose their binding when stored under a second name."""

    def method(self, *args, **kwargs):
        return getattr(self, name)(*args, **kwargs)

    method.__name__ = name
    return method


def _check_tensor(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _torch_inplace(name):
    def fn(input, *args, **kwargs):
        _check_tensor(name, input)
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = name
    return fn


def is_nonzero(input):
    _check_tensor("is_nonzero", input)
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item() != 0)


def is_same_size(input, other):
    _check_tensor("is_same_size", input)
    return tuple(input.shape) == tuple(other.shape)


def is_floating_point(input):
    _check_tensor("is_floating_point", input)
    return input.is_floating_point()


def is_complex(input):
    _check_tensor("is_complex", input)
    return False  # tapegrad has no complex dtypes


def _new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None,
                       pin_memory=False):
    extent = 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(n > 0 for n in size) else 0
    with no_grad():
        storage = _C.empty(extent, dtype=dtype or self.dtype, device=device or self.device)
        result = storage.as_strided(tuple(size), tuple(stride), 0)
    return result.requires_grad_(requires_grad) if requires_grad else result


FUNCTIONS = {**{alias: getattr(_C, name) for alias, name in _COMPARISONS.items()},
             **{name: _torch_inplace(name) for name in _TORCH_INPLACE},
             "fix": _C.trunc,
             "is_nonzero": is_nonzero, "is_same_size": is_same_size, "is_floating_point": is_floating_point,
             "is_complex": is_complex}
METHODS = ["is_nonzero", "is_same_size", "is_complex"]
INPLACE = []


def install_tensor_members():
    for alias, name in {**_COMPARISONS, **_INPLACE_SPELLINGS, "fix": "trunc"}.items():
        setattr(Tensor, alias, _method_alias(name))
    for name in _WRITTEN_BACK:
        setattr(Tensor, name + "_", _inplace(name, getattr(Tensor, name)))
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        setattr(Tensor, name + "_", _comparison_inplace(name))
    for alias, name in _COMPARISONS.items():
        setattr(Tensor, alias + "_", _method_alias(name + "_"))
    Tensor.divide_ = _divide_
    Tensor.cumsum_ = _scan_inplace("cumsum")
    Tensor.cumprod_ = _scan_inplace("cumprod")
    Tensor.fill_diagonal_ = _fill_diagonal_
    Tensor.new_empty_strided = _new_empty_strided
