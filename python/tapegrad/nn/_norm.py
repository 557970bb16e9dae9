"""Group, instance and RMS normalisation and channel-wise dropout of torch.nn.functional, composed from
reductions and elementwise ops."""
import math
import warnings

from .. import _C
from ..grad_mode import no_grad


def _normalize_last(x, eps):
    """(x - mean) / sqrt(biased var + eps) over the last dim."""
    mean = x.mean(-1, keepdim=True)
    centered = x - mean
    return centered * ((centered * centered).mean(-1, keepdim=True) + eps).rsqrt()


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


def _feature_dropout(input, p, training, inplace):
    """Zeroes whole channels (dim 1 of a batched input) with probability p and scales the rest by 1/(1-p)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    keep = (_C.rand(shape, dtype=input.dtype, device=input.device) < 1 - p).to(input.dtype)
    scale = keep / (1 - p) if p < 1.0 else keep
    return input.mul_(scale) if inplace else input * scale


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
