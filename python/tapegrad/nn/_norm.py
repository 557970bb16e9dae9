"""Group, instance, RMS and local response normalisation, and channel-wise and alpha dropout of
torch.nn.functional, composed from reductions and elementwise ops."""
import math
import warnings

from .. import _C
from ..grad_mode import no_grad
from . import functional as F


def _normalize_last(x, eps):
    """(x - mean) / sqrt(biased var + eps) over the last dim: layer_norm's fused kernel without the affine."""
    return F.layer_norm(x, x.shape[-1:], eps=eps)


def _channel_affine(out, weight, bias):
    """out * weight + bias with per-channel (dim 1) parameters."""
    shape = (1, -1) + (1,) * (out.dim() - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, channels = input.shape[:2]
    if channels % num_groups != 0:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    for param in (weight, bias):
        if param is not None and (param.dim() != 1 or param.numel() != channels):
            raise RuntimeError(f"Expected weight to be a vector of size equal to the number of channels in input, "
                               f"but got weight of shape {list(param.shape)} and input of shape {list(input.shape)}")
    out = _normalize_last(input.reshape(n, num_groups, -1), eps).reshape(input.shape)
    return _channel_affine(out, weight, bias)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    if not use_input_stats:
        shape = (1, -1) + (1,) * (input.dim() - 2)
        out = (input - running_mean.reshape(shape)) * (running_var.reshape(shape) + eps).rsqrt()
        return _channel_affine(out, weight, bias)
    n, channels = input.shape[:2]
    flat = input.reshape(n, channels, -1)
    if running_mean is not None or running_var is not None:
        # As PyTorch: each instance updates a copy of the running stats; the copies are averaged.
        with no_grad():
            count = flat.size(-1)
            mean = flat.mean(-1)
            var = ((flat - mean.unsqueeze(-1)) ** 2).sum(-1) / max(count - 1, 1)
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(mean.mean(0) * momentum)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(var.mean(0) * momentum)
    return _channel_affine(_normalize_last(flat, eps).reshape(input.shape), weight, bias)


def _finfo_eps(dtype):
    """torch.finfo(dtype).eps of the floating dtypes."""
    return math.ldexp(1.0, -23) if str(dtype) == "torch.float32" else math.ldexp(1.0, -52)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    normalized_shape = tuple(normalized_shape)
    dims = len(normalized_shape)
    if tuple(input.shape[input.dim() - dims:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*{', '.join(str(s) for s in normalized_shape)}], but got input of size"
                           f"{list(input.shape)}")
    if eps is None:
        eps = _finfo_eps(input.dtype)
    reduce = tuple(range(input.dim() - dims, input.dim()))
    out = input * ((input * input).mean(reduce, keepdim=True) + eps).rsqrt()
    return out * weight if weight is not None else out


def _bernoulli_noise(input, feature, q):
    """torch's dropout noise: 1 with probability q, per channel (N, C, 1, ...) when feature, else per element;
    drawn by bernoulli_ in the order torch fills empty_like(input), which is a dense input's memory order."""
    options = dict(dtype=input.dtype, device=input.device)
    if feature:
        return _C.empty(tuple(input.shape[:2]) + (1,) * (input.dim() - 2), **options).bernoulli_(q)
    order = sorted(range(input.dim()), key=lambda d: -input.stride(d))
    if not input.permute(order).is_contiguous():
        order = list(range(input.dim()))
    noise = _C.empty([input.size(d) for d in order], **options).bernoulli_(q)
    return noise.permute(sorted(range(input.dim()), key=order.__getitem__))


_SELU_SATURATION = 1.7580993408473766  # -(SELU's limit at -inf): scale * alpha


def _dropout(input, p, training, inplace, feature=False, alpha=False):
    """torch's _dropout_impl. Feature dropout zeroes whole channels (dim 1 of a batched input); alpha dropout
    sends dropped values to SELU's saturation and then maps a * x + b to keep the mean and variance."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        zero = _C.zeros((), dtype=input.dtype, device=input.device)
        return input.mul_(zero) if inplace else input * zero
    if feature and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    noise = _bernoulli_noise(input, feature, 1 - p)
    if not alpha:
        noise.div_(1 - p)
        return input.mul_(noise) if inplace else input * noise
    a = 1.0 / math.sqrt((_SELU_SATURATION * _SELU_SATURATION * p + 1) * (1 - p))
    b = noise.add(-1).mul_(_SELU_SATURATION * a).add_(_SELU_SATURATION * a * p)
    noise.mul_(a)
    return input.mul_(noise).add_(b) if inplace else (input * noise).add_(b)


def _feature_dropout(input, p, training, inplace):
    return _dropout(input, p, training, inplace, feature=True)


def dropout1d(input, p=0.5, training=True, inplace=False):
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs).")
    if input.dim() == 2:
        return _feature_dropout(input.unsqueeze(0), p, training, False).squeeze(0)
    return _feature_dropout(input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    if input.dim() not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated and will result in an "
            "error in a future release. To retain the behavior and silence this warning, please use dropout "
            "instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial "
            "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2)
    if input.dim() == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d "
            "instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    if input.dim() not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.dim()}-D input to dropout3d, which is deprecated and will result in an "
            "error in a future release. To retain the behavior and silence this warning, please use dropout "
            "instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 spatial "
            "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D inputs).",
            stacklevel=2)
    if input.dim() == 5:
        return _feature_dropout(input, p, training, inplace)
    return _feature_dropout(input.unsqueeze(0), p, training, inplace).squeeze(0)  # in place through the view


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout(input, p, training, inplace, feature=True, alpha=True)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """input / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta, the window zero-padded as in
    PyTorch (which averages over the padded window, so edge channels divide by size too)."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sizes = input.shape
    if dim > 3:
        input.view(sizes[0], 1, sizes[1], sizes[2], -1)  # fails where torch's view of input * input fails
    div = input.mul(input).reshape(sizes[0], 1, sizes[1], -1)
    div = F.pad(div, (0, 0, size // 2, (size - 1) // 2))
    div = F.avg_pool2d(div, (size, 1), stride=1).squeeze(1).reshape(sizes)
    return input / div.mul(alpha).add(k).pow(beta)
