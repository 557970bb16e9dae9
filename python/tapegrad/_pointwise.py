"""Pointwise ops composed from tapegrad's C++ ops: heaviside, copysign, deg2rad/rad2deg, logaddexp2, float_power,
the sign and infinity tests, isin, gcd/lcm and positive. Differentiable ones record the node PyTorch records."""
import math

from . import _C
from ._C import Tensor
from ._ops import _TYPE_WORD, _as_tensor, _is_float, _recorded, result_type
from ._views import broadcast_tensors
from .grad_mode import no_grad


def _type_word(dtype):
    return _TYPE_WORD[str(dtype)]


def _float_input(x):
    """Integer and bool inputs of float-valued ops compute in the default dtype, as PyTorch's."""
    return x if _is_float(x.dtype) else x.to(_C.get_default_dtype())


def heaviside(input, values):
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    if input.dtype != values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    with no_grad():  # a step function: PyTorch records no gradient for it
        step = (input > 0).to(input.dtype)
        return _C.where(input == 0, values, step)


def _negative_sign(x):
    """Where x's sign bit is set, -0.0 included (a NaN counts as positive)."""
    if not _is_float(x.dtype):
        return x < 0
    return (x < 0) | ((x == 0) & (x.reciprocal() < 0))


def _copysign_compute(input, other):
    dtype = result_type(input, other)
    if not _is_float(dtype):
        dtype = _C.get_default_dtype()
    magnitude = _as_tensor(input, dtype).abs()
    return _C.where(_negative_sign(_as_tensor(other, dtype)), -magnitude, magnitude)


def _copysign_grads(g, input, other):
    result = _copysign_compute(input, other)
    ratio = _C.where(input == 0, _C.zeros_like(result), result / input)
    return g * ratio, _C.zeros_like(g) if isinstance(other, Tensor) else None


_copysign_tensor = _recorded("CopysignBackward0", _copysign_compute, _copysign_grads)
_copysign_number = _recorded("CopysignBackward1", _copysign_compute, _copysign_grads)


def copysign(input, other):
    return (_copysign_tensor if isinstance(other, Tensor) else _copysign_number)(input, other)


def _scaling(node_name, factor):
    op = _recorded(node_name, lambda x: x * factor, lambda g, x: (g * factor,))
    return lambda input: op(_float_input(input))


deg2rad = _scaling("Deg2RadBackward0", math.pi / 180)
rad2deg = _scaling("Rad2DegBackward0", 180 / math.pi)

_INV_LOG_2 = 1 / math.log(2)


def _logaddexp2_compute(a, b):
    high = _C.maximum(a, b)
    # 2 ** -gap can not overflow; equal infinities keep their value.
    gap = (a - b).abs()
    return _C.where(a == b, a + 1, high + (-gap).exp2().log1p() * _INV_LOG_2)


def _logaddexp2_grads(g, a, b):
    return g / (1 + (b - a).exp2()), g / (1 + (a - b).exp2())


_logaddexp2 = _recorded("Logaddexp2Backward0", _logaddexp2_compute, _logaddexp2_grads)


def logaddexp2(input, other):
    dtype = result_type(input, other)
    if not _is_float(dtype):
        raise NotImplementedError(f"\"logaddexp2_cpu\" not implemented for '{_type_word(dtype)}'")
    return _logaddexp2(input.to(dtype), other.to(dtype))


def float_power(input, exponent):
    """pow computed in float64, whatever the operands' dtypes."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(exponent).__name__})")
    as_double = [x.to(_C.float64) if isinstance(x, Tensor) else float(x) for x in (input, exponent)]
    return _C.pow(*as_double)


def _float_power_(self, exponent):
    if self.dtype != _C.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {_type_word(self.dtype)} but the operation's "
                           f"result requires dtype Double")
    return self.pow_(exponent.to(_C.float64) if isinstance(exponent, Tensor) else float(exponent))


def signbit(input):
    if input.dtype == _C.bool:
        return _C.zeros_like(input)
    if not _is_float(input.dtype):
        return input < 0
    import numpy as np

    # NumPy reads the sign bit itself, so that -0.0 and -nan count as negative.
    return _C.from_numpy(np.signbit(input.detach().numpy()))


def isposinf(input):
    return input == math.inf if _is_float(input.dtype) else _C.zeros_like(input, dtype=_C.bool)


def isneginf(input):
    return input == -math.inf if _is_float(input.dtype) else _C.zeros_like(input, dtype=_C.bool)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments - got "
                        f"({type(elements).__name__}, {type(test_elements).__name__})")
    import numpy as np

    # A membership test, never differentiated: NumPy's sorted search does it.
    dtype = result_type(elements, test_elements)
    values, candidates = (np.asarray(_as_tensor(x, dtype).detach()) for x in (elements, test_elements))
    return _C.from_numpy(np.isin(values, candidates, invert=invert))


def _integer_operands(name, input, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    dtype = result_type(input, other)
    if dtype != _C.int64:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_type_word(dtype)}'")
    return input.to(dtype), other.to(dtype)


def _gcd_of(a, b):
    a, b = a.abs(), b.abs()
    a, b = broadcast_tensors(a, b)
    # Euclid's steps on every element at once, until every divisor is 0.
    while bool((b != 0).any()):
        nonzero = b != 0
        remainder = _C.remainder(a, _C.where(nonzero, b, _C.ones_like(b)))
        a, b = _C.where(nonzero, b, a), _C.where(nonzero, remainder, b)
    return a.contiguous()


def gcd(input, other):
    return _gcd_of(*_integer_operands("gcd", input, other))


def lcm(input, other):
    a, b = _integer_operands("lcm", input, other)
    divisor = _gcd_of(a, b)
    quotient = _C.div(a, _C.where(divisor == 0, _C.ones_like(divisor), divisor), rounding_mode="trunc")
    return _C.where(divisor == 0, _C.zeros_like(divisor), (quotient * b).abs())


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _elu_compute(x, alpha, scale, input_scale):
    negative = alpha * ((x.clamp(max=0) * input_scale).exp() - 1)
    return scale * _C.where(x > 0, x, negative)


def _elu_grads(g, x, alpha, scale, input_scale):
    negative = alpha * input_scale * (x * input_scale).exp()
    return g * scale * _C.where(x > 0, _C.ones_like(x), negative), None, None, None


# PyTorch computes selu and celu as elu with a scale and an input scale.
_selu = _recorded("EluBackward0", _elu_compute, _elu_grads)
_celu = _recorded("CeluBackward0", _elu_compute, _elu_grads)


def selu(input):
    return _selu(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input, alpha=1.0):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _celu(input, alpha, 1.0, 1.0 / alpha)


def positive(input):
    if input.dtype == _C.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


FUNCTIONS = {"heaviside": heaviside, "copysign": copysign, "deg2rad": deg2rad, "rad2deg": rad2deg,
             "logaddexp2": logaddexp2, "float_power": float_power, "signbit": signbit, "isposinf": isposinf,
             "isneginf": isneginf, "isin": isin, "gcd": gcd, "lcm": lcm, "positive": positive,
             "selu": selu, "celu": celu, "selu_": lambda input: _C._compute_inplace(input, selu),
             "celu_": lambda input, alpha=1.0: _C._compute_inplace(input, lambda x: celu(x, alpha))}
METHODS = ["heaviside", "copysign", "deg2rad", "rad2deg", "logaddexp2", "float_power", "signbit", "isposinf",
           "isneginf", "gcd", "lcm", "positive"]
INPLACE = ["heaviside", "copysign", "deg2rad", "rad2deg", "gcd", "lcm"]
TENSOR_ONLY = {"float_power_": _float_power_}
