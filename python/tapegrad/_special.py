"""Special functions composed from tapegrad's C++ kernels, each recorded as the node PyTorch records:
sinc, entr, ndtr, mvlgamma and round with decimals."""
import math

from . import _C
from ._ops import _TYPE_WORD, _recorded


def _to_float(x):
    return x if x.is_floating_point() else x.to(_C.get_default_dtype())


def _sinc_compute(x):
    x = _to_float(x)
    product = x * math.pi
    return _C.where(x == 0, _C.ones_like(x), product.sin() / product)


def _sinc_grads(g, x):
    x_pi = x * math.pi
    x_squared_pi = x * x * math.pi
    out = g * (x_pi * x_pi.cos() - x_pi.sin()) / x_squared_pi
    return (_C.where(x_squared_pi == 0, _C.zeros_like(out), out),)


sinc = _recorded("SincBackward0", _sinc_compute, _sinc_grads)


def _entr_compute(x):
    x = _to_float(x)
    negative_x_log_x = -x * x.log()
    out = _C.where(x == 0, _C.zeros_like(x), negative_x_log_x)
    return _C.where(x < 0, _C.full_like(x, -math.inf), out)


entr = _recorded("SpecialEntrBackward0", _entr_compute, lambda g, x: (-g * (x.log() + 1),))

# As PyTorch's composite (1 + erf(x / sqrt(2))) / 2, whose last node is a MulBackward1.
ndtr = _recorded("MulBackward1", lambda x: (_C.erf(_to_float(x) * math.sqrt(0.5)) + 1) * 0.5,
                 lambda g, x: (g * (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi)),))


def _mvlgamma_terms(x, p):
    """x - j/2 for j in 0..p-1 along a new last dim, in PyTorch's order (j = p-1 first)."""
    offsets = _C.arange(-(p - 1) / 2, 0.5, 0.5, dtype=x.dtype)
    return x.unsqueeze(-1) + offsets


def _mvlgamma_compute(x, p):
    return _mvlgamma_terms(x, p).lgamma().sum(-1) + p * (p - 1) * math.log(math.pi) / 4


def _mvlgamma_grads(g, x, p):
    return g * _mvlgamma_terms(x, p).digamma().sum(-1), None


_mvlgamma = _recorded("MvlgammaBackward0", _mvlgamma_compute, _mvlgamma_grads)


def mvlgamma(input, p):
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return _mvlgamma(_to_float(input), p)


def multigammaln(input, p):
    return mvlgamma(input, p)


def _round_decimals_compute(x, decimals):
    # ATen's round_decimals: scale by 10^|decimals|, round half to even, scale back.
    scale = float(10 ** abs(decimals))
    if decimals < 0:
        return (x / scale).round() * scale
    return (x * scale).round() / scale


_round_decimals = _recorded("RoundBackward1", _round_decimals_compute, lambda g, x, d: (_C.zeros_like(g), None))


def round(input, *, decimals=None):  # noqa: A001  (torch.round)
    """torch.round: RoundBackward0 without decimals, RoundBackward1 with them, as PyTorch's two overloads."""
    if decimals is None:
        return _C.round(input)
    if not input.is_floating_point():
        raise NotImplementedError(f'"round_cpu" not implemented for \'{_TYPE_WORD[str(input.dtype)]}\'')
    return _round_decimals(input, decimals)


FUNCTIONS = {"sinc": sinc, "mvlgamma": mvlgamma, "round": round}
METHODS = ["sinc", "mvlgamma", "round"]
INPLACE = ["sinc", "mvlgamma"]
