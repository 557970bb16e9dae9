"""Max unpooling, power-average (LP) pooling and the *_with_indices spellings of torch.nn.functional, composed
from scatter, avg/max pooling and elementwise ops."""
from .. import _C
from .._ops import _TYPE_WORD
from . import functional as F
from ._spatial import _single, _sizes


# ---- the *_with_indices spellings: always (output, indices) ----

def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return F.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return F.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return F.adaptive_max_pool2d(input, output_size, return_indices=True)


# ---- max unpooling ----

def _unpool_output_size(input, kernel_size, stride, padding, output_size):
    """PyTorch's output size: the pooled input's default, or a requested one within a stride of it."""
    default_size = [(input.size(-len(kernel_size) + d) - 1) * stride[d] + kernel_size[d] - 2 * padding[d]
                    for d in range(len(kernel_size))]
    if output_size is None:
        ret = default_size
    else:
        if len(output_size) == len(kernel_size) + 2:
            output_size = output_size[2:]
        if len(output_size) != len(kernel_size):
            raise ValueError("output_size should be a sequence containing "
                             f"{len(kernel_size)} or {len(kernel_size) + 2} elements, but it has a length of "
                             f"'{len(output_size)}'")
        for d in range(len(kernel_size)):
            min_size = default_size[d] - stride[d]
            max_size = default_size[d] + stride[d]
            if not (min_size < output_size[d] < max_size):
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {min_size} and '
                                 f"{max_size})")
        ret = output_size
    for d, size in enumerate(ret):
        if size < 0:
            raise ValueError("max_unpooling: output_size must contain non-negative spatial dimensions, but got "
                             f"output_size[{d}]={size}")
    return ret


def _max_unpool2d(input, indices, output_size):
    """Scatters each value of input to its flat position indices in a zero (H, W) plane (torch's max_unpool2d)."""
    if str(indices.dtype) != "torch.int64":
        raise RuntimeError(f"elements in indices should be type int64 but got: {_TYPE_WORD[str(indices.dtype)]}")
    if input.dim() not in (3, 4):
        raise RuntimeError("Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with "
                           f"{input.dim()} dimensions.")
    if tuple(input.shape) != tuple(indices.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({_sizes(input.shape)}) but got indices tensor with shape: {_sizes(indices.shape)}")
    for i in range(1, input.dim()):
        if input.size(i) <= 0:
            raise RuntimeError("max_unpooling2d_forward_out_cpu(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but got {_sizes(input.shape)} with dimension {i} being empty.")
    height, width = output_size
    batch = tuple(input.shape[:-2])
    flat_indices = indices.reshape(*batch, -1)
    invalid = (flat_indices < 0) | (flat_indices >= height * width)
    if invalid.any():
        raise RuntimeError(f"Found an invalid max index: {flat_indices[invalid][0].item()} (output volumes are of "
                           f"size {height}x{width})")
    plane = _C.zeros(*batch, height * width, dtype=input.dtype, device=input.device)
    return plane.scatter(-1, flat_indices, input.reshape(*batch, -1)).reshape(*batch, height, width)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel_size = _single(kernel_size)
    stride = _single(stride) if stride is not None else kernel_size
    padding = _single(padding)
    output_size = _unpool_output_size(input, kernel_size, stride, padding, output_size)
    return _max_unpool2d(input.unsqueeze(-1), indices.unsqueeze(-1), list(output_size) + [1]).squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel_size = F._pair(kernel_size)
    stride = F._pair(stride) if stride is not None else kernel_size
    padding = F._pair(padding)
    output_size = _unpool_output_size(input, kernel_size, stride, padding, output_size)
    return _max_unpool2d(input, indices, output_size)


# ---- power-average pooling ----

def _lp_from_average(out, window, norm_type):
    """(window * mean of x^p)^(1/p), with negative means (from odd p) clamped to zero as PyTorch does."""
    return (out.sign() * F.relu(out.abs())).mul(window).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    if norm_type == float("inf"):
        return F.max_pool1d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -F.max_pool1d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = F.avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp_from_average(out, kernel_size, norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    kw, kh = F._pair(kernel_size)
    if norm_type == float("inf"):
        return F.max_pool2d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -F.max_pool2d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = F.avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp_from_average(out, kw * kh, norm_type)
