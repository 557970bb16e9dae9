"""Activations and similarity functions of torch.nn.functional composed from elementwise ops and reductions."""
from .. import _C
from .._ops import _TYPE_WORD, triu_indices
from .._random import _check_float
from . import functional as F


def glu(input, dim=-1):
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.size(dim)
    if size % 2 != 0:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.dim()} is size {size}")
    first, second = input.chunk(2, dim)
    return first * _C.sigmoid(second)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - _C.tanh(input)


def threshold(input, threshold, value, inplace=False):
    """value where input <= threshold, input elsewhere."""
    result = _C.where(input > threshold, input, _C.full_like(input, value))
    return input.copy_(result) if inplace else result


def hardsigmoid(input, inplace=False):
    result = (input + 3).clamp(0, 6) / 6
    return input.copy_(result) if inplace else result


def hardswish(input, inplace=False):
    result = input * (input + 3).clamp(0, 6) / 6
    return input.copy_(result) if inplace else result


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    result = input.clamp(min=0) + (alpha * ((input.clamp(max=0) / alpha).exp() - 1))
    return input.copy_(result) if inplace else result


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    result = _SELU_SCALE * (input.clamp(min=0) + _SELU_ALPHA * (input.clamp(max=0).exp() - 1))
    return input.copy_(result) if inplace else result


def prelu(input, weight):
    channels = input.size(1) if input.dim() >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{weight.numel()} and channel size = {channels}.")
    if weight.numel() != 1 and input.dim() >= 2:
        weight = weight.reshape((1, -1) + (1,) * (input.dim() - 2))
    return _C.where(input > 0, input, input * weight)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    if out is not None:
        raise NotImplementedError("tapegrad's normalize does not support out=")
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    return input / denom


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / sqrt(clamp(|x1|^2 * |x2|^2, eps^2)), PyTorch's formula."""
    product = (x1 * x2).sum(dim)  # first, so that shapes that do not broadcast fail with torch's message
    squared = (x1 * x1).sum(dim) * (x2 * x2).sum(dim)
    return product / squared.clamp(min=eps * eps).sqrt()


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T W_k x2 + b_k over the last dims of input1 and input2."""
    out_features, in1_features, in2_features = weight.shape
    left = input1 @ weight.permute(1, 0, 2).reshape(in1_features, out_features * in2_features)
    out = (left.reshape(*input1.shape[:-1], out_features, in2_features) * input2.unsqueeze(-2)).sum(-1)
    return out + bias if bias is not None else out


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Softmax of (logits + Gumbel noise) / tau; hard=True returns one-hot samples with the soft gradient."""
    # Gumbel(0, 1) noise as -log(Exp(1)), the exponential drawn as -log(U) with U kept off zero.
    gumbels = -(-_C.rand_like(logits).clamp(min=1e-30).log()).log()
    soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return soft
    index = soft.argmax(dim, keepdim=True)
    hard_sample = _C.zeros_like(logits).scatter(dim, index, 1.0)
    return hard_sample - soft.detach() + soft


# ---- shrinkage and randomised leaky ReLU ----

def hardshrink(input, lambd=0.5):
    """0 where -lambd <= input <= lambd, input elsewhere (NaN passes through)."""
    F._check_tensor("hardshrink", input)
    _check_float(input, "hardshrink_cpu")
    inside = (input >= -lambd) & (input <= lambd)
    return _C.where(inside, _C.zeros_like(input), input)


def softshrink(input, lambd=0.5):
    """input - lambd above lambd, input + lambd below -lambd, 0 between (NaN passes through)."""
    F._check_tensor("softshrink", input)
    _check_float(input, "softshrink_check")
    largest = 3.4028234663852886e38 if str(input.dtype) == "torch.float32" else 1.7976931348623157e308
    if not 0 <= lambd <= largest:
        raise RuntimeError(f"lambda must be in range [0, {largest:g}] for input dtype "
                           f"{_TYPE_WORD[str(input.dtype)]}, but found {lambd:g}")
    return _C.where(input > lambd, input - lambd, _C.where(input < -lambd, input + lambd, input * 0))


def _rrelu_noise(input, lower, upper):
    """torch's training-mode slopes: for each input <= 0, in element order, one U(lower, upper) drawn as a double
    (the draws of a float64 uniform_); 1 elsewhere."""
    negative = input.detach() <= 0
    noise = _C.ones(input.shape, dtype=_C.float64, device=input.device)
    draws = _C.empty(int(negative.sum().item()), dtype=_C.float64, device=input.device)
    noise[negative] = draws.uniform_(lower, upper)
    return noise.to(input.dtype)


def _rrelu(input, lower, upper, training, inplace):
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return F.leaky_relu(input, (lower + upper) / 2, inplace)
    _check_float(input, "rrelu_with_noise_out_cpu")
    noise = _rrelu_noise(input, lower, upper)
    return input.mul_(noise) if inplace else input * noise


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    F._check_tensor("rrelu", input)
    return _rrelu(input, lower, upper, training, inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    F._check_tensor("rrelu_", input)
    return _rrelu(input, lower, upper, training, True)


# ---- in-place forms torch.nn.functional offers by name ----

def elu_(input, alpha=1.0):
    return F.elu(input, alpha, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def threshold_(input, threshold, value):
    return F.threshold(input, threshold, value, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return F.hardtanh(input, min_val, max_val, inplace=True)


def pdist(input, p=2):
    """The p-norm distances between every pair of rows i < j of a 2-D input, in row-major pair order."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.size(0)
    first, second = triu_indices(n, n, 1, device=input.device)
    return (input.index_select(0, first) - input.index_select(0, second)).norm(p, 1)
