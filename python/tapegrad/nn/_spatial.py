"""Spatial functions of torch.nn.functional composed from existing ops: 1-D convolution and pooling as their
2-D forms over a height of one, adaptive max pooling, interpolate, pixel (un)shuffle, and unfold/fold as a
gather and a scatter-add over the padded input's flat positions (exact, and with exact gradients)."""
import math

from .. import _C
from . import functional as F


def _single(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


def _sizes(values):
    return "[" + ", ".join(str(v) for v in values) + "]"


# ---- 1-D convolution and pooling ----

def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if input.dim() not in (2, 3):
        raise RuntimeError("Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: "
                           f"{_sizes(input.shape)}")
    if weight.dim() != 3:
        raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight "
                           f"{_sizes(weight.shape)}, but got 3-dimensional input of size "
                           f"{_sizes(input.shape if input.dim() == 3 else (1, *input.shape))} instead")
    batched = input.dim() == 3
    channels = input.size(-2)
    if channels != weight.size(1) * groups:
        shown = input.shape if batched else (1, *input.shape)
        raise RuntimeError(f"Given groups={groups}, weight of size {_sizes(weight.shape)}, expected input"
                           f"{_sizes(shown)} to have {weight.size(1) * groups} channels, but got {channels} "
                           "channels instead")
    if not isinstance(padding, str):
        (pad,), (dil,) = _single(padding), _single(dilation)
        padded, extent = input.size(-1) + 2 * pad, dil * (weight.size(-1) - 1) + 1
        if padded < extent:
            raise RuntimeError(f"Calculated padded input size per channel: ({padded}). Kernel size: ({extent}). "
                               "Kernel size can't be greater than actual input size")
        padding = (0, pad)
    out = F.conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, *_single(stride)), padding,
                   (1, *_single(dilation)), groups)
    return out.squeeze(-2)


def _check_pool1d_rank(name, input):
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument #1 "
                           f"'self' (while checking arguments for {name})")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    if input.dim() not in (2, 3):
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{_sizes(input.shape)}")
    stride = kernel_size if stride is None or stride == [] else stride
    output, indices = F.max_pool2d(input.unsqueeze(-2), (1, *_single(kernel_size)), (1, *_single(stride)),
                                   (0, *_single(padding)), (1, *_single(dilation)), ceil_mode, return_indices=True)
    output = output.squeeze(-2)
    return (output, indices.squeeze(-2)) if return_indices else output


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    _check_pool1d_rank("avg_pool1d", input)
    stride = kernel_size if stride is None or stride == [] else stride
    return F.avg_pool2d(input.unsqueeze(-2), (1, *_single(kernel_size)), (1, *_single(stride)),
                        (0, *_single(padding)), ceil_mode, count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    _check_pool1d_rank("adaptive_avg_pool1d", input)
    return F.adaptive_avg_pool2d(input.unsqueeze(-2), (1, *_single(output_size))).squeeze(-2)


def _adaptive_windows(in_size, out_size):
    """PyTorch's adaptive pooling windows: [floor(i * in / out), ceil((i + 1) * in / out))."""
    return [((i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)) for i in range(out_size)]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    if input.dim() not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: {_sizes(input.shape)}")
    sizes = F._pair(output_size)
    height, width = input.shape[-2:]
    out_h, out_w = (input.shape[-2 + i] if s is None else s for i, s in enumerate(sizes))
    if height % out_h == 0 and width % out_w == 0:  # equal windows: one strided max pool
        kernel = (height // out_h, width // out_w)
        return F.max_pool2d(input, kernel, kernel, return_indices=return_indices)
    rows, cols = [], []
    for h0, h1 in _adaptive_windows(height, out_h):
        row_values, row_indices = [], []
        for w0, w1 in _adaptive_windows(width, out_w):
            window = input[..., h0:h1, w0:w1]
            value, local = F.max_pool2d(window, (h1 - h0, w1 - w0), return_indices=True)
            row_values.append(value)
            # A window's flat index, as a position in the whole input plane.
            row_indices.append((local // (w1 - w0) + h0) * width + local % (w1 - w0) + w0)
        rows.append(_C.cat(row_values, -1))
        cols.append(_C.cat(row_indices, -1))
    output = _C.cat(rows, -2)
    return (output, _C.cat(cols, -2)) if return_indices else output


def adaptive_max_pool1d(input, output_size, return_indices=False):
    if input.dim() not in (2, 3):
        raise RuntimeError(f"adaptive_max_pool1d(): Expected 2D or 3D tensor, but got: {_sizes(input.shape)}")
    output, indices = adaptive_max_pool2d(input.unsqueeze(-2), (1, *_single(output_size)), return_indices=True)
    return (output.squeeze(-2), indices.squeeze(-2)) if return_indices else output.squeeze(-2)


# ---- interpolate ----

_INTERPOLATING_MODES = ("linear", "bilinear", "bicubic", "trilinear")
_LINEAR_MODE_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _output_sizes(input, size, scale_factor, recompute_scale_factor):
    """(output sizes, scales handed to the kernel or None per dim), as torch.nn.functional.interpolate."""
    dims = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dims:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got input with spatial "
                    f"dimensions of {list(input.shape[2:])} and output size of {size}. Please provide input tensor "
                    "in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
            return [int(s) for s in size], [None] * dims
        return [int(size)] * dims, [None] * dims
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dims:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but got input with spatial "
                f"dimensions of {list(input.shape[2:])} and scale_factor of shape {scale_factor}. Please provide "
                "input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
        scales = [float(s) for s in scale_factor]
    else:
        scales = [float(scale_factor)] * dims
    sizes = [int(math.floor(float(input.size(i + 2)) * s)) for i, s in enumerate(scales)]
    return sizes, ([None] * dims if recompute_scale_factor else scales)


def _source_scale(in_size, out_size, scale, align_corners):
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else in_size / out_size


def _nearest_indices(in_size, out_size, scale, exact):
    ratio = _source_scale(in_size, out_size, scale, False)
    offset = 0.5 if exact else 0.0
    return [min(int(math.floor((i + offset) * ratio)), in_size - 1) for i in range(out_size)]


def _linear_along(input, dim, in_size, out_size, scale, align_corners):
    """Linear interpolation of input along dim: lambda0 * x[i0] + lambda1 * x[i1], PyTorch's source indices."""
    ratio = _source_scale(in_size, out_size, scale, align_corners)
    low, high, weights = [], [], []
    for i in range(out_size):
        source = ratio * i if align_corners else max(ratio * (i + 0.5) - 0.5, 0.0)
        i0 = int(source)
        low.append(i0)
        high.append(i0 + (1 if i0 < in_size - 1 else 0))
        weights.append(source - i0)
    shape = [1] * input.dim()
    shape[dim] = out_size
    lambda1 = _C.tensor(weights, dtype=input.dtype, device=input.device).reshape(shape)
    low, high = (_C.tensor(v, device=input.device) for v in (low, high))
    return input.index_select(dim, low) * (1 - lambda1) + input.index_select(dim, high) * lambda1


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if antialias:
        raise NotImplementedError("tapegrad's interpolate does not support antialias=True")
    sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    dims = input.dim() - 2
    if mode in ("nearest", "nearest-exact") and 1 <= dims <= 3:
        out = input
        for d in range(dims):
            indices = _nearest_indices(input.size(d + 2), sizes[d], scales[d], mode == "nearest-exact")
            out = out.index_select(d + 2, _C.tensor(indices, device=input.device))
        return out
    if mode in _LINEAR_MODE_DIMS:
        needed = _LINEAR_MODE_DIMS[mode]
        if dims != needed:
            raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {needed + 2}D input")
        out = input
        for d in range(dims):
            out = _linear_along(out, d + 2, input.size(d + 2), sizes[d], scales[d], align_corners)
        return out
    if mode in ("bicubic", "area"):
        raise NotImplementedError(f"tapegrad's interpolate does not support mode={mode!r}")
    raise NotImplementedError(
        f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes: nearest | "
        f"linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode})")


# ---- pixel shuffle ----

def pixel_shuffle(input, upscale_factor):
    if input.dim() < 3:
        raise RuntimeError("pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    r = upscale_factor
    *batch, channels, height, width = input.shape
    if channels % (r * r) != 0:
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}")
    n = len(batch)
    out = input.reshape(*batch, channels // (r * r), r, r, height, width)
    out = out.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return out.reshape(*batch, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input, downscale_factor):
    if input.dim() < 3:
        raise RuntimeError("pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    r = downscale_factor
    *batch, channels, height, width = input.shape
    for name, size in (("height", height), ("width", width)):
        if size % r != 0:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but input.size"
                               f"({-2 if name == 'height' else -1})={size} is not divisible by {r}")
    n = len(batch)
    out = input.reshape(*batch, channels, height // r, r, width // r, r)
    out = out.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return out.reshape(*batch, channels * r * r, height // r, width // r)


# ---- unfold / fold ----

def _block_positions(height, width, kernel, dilation, padding, stride, device):
    """Flat positions in the padded (height, width) plane of every kernel offset at every block, shaped
    (kernel_h * kernel_w * blocks,), and the block grid's size."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel, dilation, padding, stride
    padded_w = width + 2 * pw
    blocks_h = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    blocks_w = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    rows = _C.arange(kh, device=device).reshape(kh, 1, 1, 1) * dh + _C.arange(blocks_h, device=device).reshape(
        1, 1, blocks_h, 1) * sh
    cols = _C.arange(kw, device=device).reshape(1, kw, 1, 1) * dw + _C.arange(blocks_w, device=device).reshape(
        1, 1, 1, blocks_w) * sw
    return (rows * padded_w + cols).reshape(-1), (blocks_h, blocks_w)


def _check_blocks(height, width, kernel, dilation, padding, stride):
    blocks = [(size + 2 * p - d * (k - 1) - 1) // s + 1
              for size, k, d, p, s in zip((height, width), kernel, dilation, padding, stride)]
    if any(b < 1 for b in blocks):
        raise RuntimeError(
            f"Given input with spatial size ({height}, {width}), kernel_size={kernel}, dilation={dilation}, "
            f"padding={padding}, calculated shape of the array of sliding blocks as ({blocks[0]}, {blocks[1]}), "
            "but its components must be at least one.")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    if input.dim() not in (3, 4):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {_sizes(input.shape)}")
    kernel, dilation, padding, stride = (F._pair(v) for v in (kernel_size, dilation, padding, stride))
    height, width = input.shape[-2:]
    _check_blocks(height, width, kernel, dilation, padding, stride)
    positions, (blocks_h, blocks_w) = _block_positions(height, width, kernel, dilation, padding, stride,
                                                       input.device)
    padded = F.pad(input, (padding[1], padding[1], padding[0], padding[0]))
    flat = padded.reshape(*padded.shape[:-2], -1).index_select(-1, positions)
    channels = input.size(-3)
    return flat.reshape(*input.shape[:-3], channels * kernel[0] * kernel[1], blocks_h * blocks_w)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    if input.dim() not in (2, 3):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {_sizes(input.shape)}")
    output_size, kernel, dilation, padding, stride = (F._pair(v) for v in (output_size, kernel_size, dilation,
                                                                            padding, stride))
    patch = kernel[0] * kernel[1]
    columns = input.size(-2)
    if columns % patch != 0:
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={columns} and kernel_size={kernel}.")
    height, width = output_size
    _check_blocks(height, width, kernel, dilation, padding, stride)
    positions, (blocks_h, blocks_w) = _block_positions(height, width, kernel, dilation, padding, stride,
                                                       input.device)
    if input.size(-1) != blocks_h * blocks_w:
        raise RuntimeError(
            f"Given output_size={output_size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
            f"stride={stride}, expected size of input's dimension 2 to match the calculated number of sliding "
            f"blocks {blocks_h} * {blocks_w} = {blocks_h * blocks_w}, but got input.size(2)={input.size(-1)}.")
    batch = input.shape[:-2]
    values = input.reshape(*batch, columns // patch, -1)
    padded_h, padded_w = height + 2 * padding[0], width + 2 * padding[1]
    plane = _C.zeros(*values.shape[:-1], padded_h * padded_w, dtype=input.dtype, device=input.device)
    plane = plane.scatter_add(-1, positions.expand(*values.shape), values)
    plane = plane.reshape(*values.shape[:-1], padded_h, padded_w)
    return plane[..., padding[0]:padding[0] + height, padding[1]:padding[1] + width]


def unflatten(input, dim, sizes):
    """input with dim split into sizes (one of which may be -1)."""
    dim = dim + input.dim() if dim < 0 else dim
    size = input.size(dim)
    known = math.prod(s for s in sizes if s != -1)
    if (-1 not in sizes and known != size) or (-1 in sizes and (known == 0 or size % known != 0)):
        raise RuntimeError(f"unflatten: Provided sizes {_sizes(sizes)} don't multiply up to the size of dim {dim} "
                           f"({size}) in the input tensor")
    return input.reshape(*input.shape[:dim], *sizes, *input.shape[dim + 1:])
