"""torch.special: PyTorch's names for the special functions tapegrad has."""
from . import _C
from ._ops import logit, xlog1py, xlogy
from . import _special
from ._special import entr, multigammaln, ndtr, sinc

erf = _C.erf
erfc = _C.erfc
erfinv = _C.erfinv
expit = _C.sigmoid
exp2 = _C.exp2
expm1 = _C.expm1
log1p = _C.log1p
gammaln = _C.lgamma
digamma = _C.digamma
psi = _C.digamma
polygamma = _C.polygamma
logsumexp = _C.logsumexp


def zeta(input, other):
    return _C._special_zeta(input, other)


def round(input, *, decimals=0):  # noqa: A001  (torch.special.round: always the decimals overload)
    return _special.round(input, decimals=decimals)


def softmax(input, dim, *, dtype=None):
    return _C.softmax(input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):
    return _C.log_softmax(input, dim, dtype)


__all__ = ["digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "log1p", "log_softmax",
           "logit", "logsumexp", "multigammaln", "ndtr", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py",
           "xlogy", "zeta"]
