"""tapegrad.nn.functional: PyTorch's functional API. Each function is a thin wrapper around one
C++ op (tapegrad._C._nn) that handles PyTorch's legacy and optional arguments."""
import warnings

from .. import _C
from .._C import _nn
from ..grad_mode import no_grad

__all__ = [
    "linear", "relu", "relu_", "leaky_relu", "leaky_relu_", "sigmoid", "tanh", "gelu", "silu", "elu", "softplus",
    "relu6", "hardtanh", "logsigmoid", "mish", "softmax", "log_softmax",
    "softmin", "dropout", "one_hot", "embedding", "layer_norm", "batch_norm", "conv2d", "conv_transpose1d",
    "conv_transpose2d", "max_pool2d", "avg_pool2d",
    "adaptive_avg_pool2d", "pad", "mse_loss", "l1_loss",
    "smooth_l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
]

linear = _nn.linear
sigmoid = _C.sigmoid
tanh = _C.tanh
gelu = _nn.gelu
one_hot = _nn.one_hot


def _legacy_reduction(size_average, reduce):
    """The reduction PyTorch derives from the deprecated size_average / reduce flags."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  stacklevel=3)
    return ret


# ---- activations ----

def _check_tensor(fn, input):
    if not isinstance(input, _C.Tensor):  # the TypeError torch's argument parser raises
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def relu(input, inplace=False):
    _check_tensor("relu", input)
    return input.relu_() if inplace else input.relu()


def relu_(input):
    _check_tensor("relu_", input)
    return input.relu_()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _nn.leaky_relu_(input, negative_slope) if inplace else _nn.leaky_relu(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return _nn.leaky_relu_(input, negative_slope)


def silu(input, inplace=False):
    return _nn.silu_(input) if inplace else _nn.silu(input)


def elu(input, alpha=1.0, inplace=False):
    return _nn.elu_(input, alpha) if inplace else _nn.elu(input, alpha)


softplus = _nn.softplus
logsigmoid = _nn.logsigmoid


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _nn.hardtanh_(input, min_val, max_val) if inplace else _nn.hardtanh(input, min_val, max_val)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def mish(input, inplace=False):
    return _nn.mish_(input) if inplace else _nn.mish(input)


def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    return input.softmax(dim) if dtype is None else input.softmax(dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    return (-input).softmax(dim) if dtype is None else (-input).softmax(dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    return input.log_softmax(dim) if dtype is None else input.log_softmax(dim, dtype=dtype)


def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return _nn.dropout(input, p, training, bool(inplace))  # torch tests inplace for truth


# ---- layers ----

def _embedding_renorm_(weight, input, max_norm, norm_type):
    """Rescales, in place, the rows of weight used by input whose norm exceeds max_norm (as PyTorch does)."""
    with no_grad():
        rows = sorted(set(input.reshape(-1).tolist()))
        for i in rows:
            row = weight.select(0, i)
            norm = row.norm(norm_type).item()
            if norm > max_norm:
                row.mul_(max_norm / (norm + 1e-7))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.size(0) + padding_idx
    else:
        padding_idx = -1
    if sparse:
        raise NotImplementedError("tapegrad has no sparse tensors: embedding(sparse=True) is not supported")
    if max_norm is not None:
        _embedding_renorm_(weight, input.contiguous(), max_norm, norm_type)
    return _nn.embedding(weight, input, padding_idx, scale_grad_by_freq)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    return _nn.layer_norm(input, normalized_shape, weight, bias, eps)


def _verify_batch_size(size):
    size_prods = size[0]
    for i in range(len(size) - 2):
        size_prods *= size[i + 2]
    if size_prods == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if training:
        _verify_batch_size(input.size())
    return _nn.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


# ---- convolution and pooling ----

def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _string_padding(padding, weight, stride, dilation):
    """(before, after) per spatial dim for padding='valid' or 'same'; 'same' pads an odd total's extra element
    after, as PyTorch does."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding != "same":
        raise RuntimeError(f"Invalid padding string: {padding!r}")
    if any(s != 1 for s in _pair(stride)):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    totals = [d * (k - 1) for d, k in zip(_pair(dilation), weight.shape[2:])]
    if any(t % 2 for t in totals):
        warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require a zero-padded copy "
                      "of the input be created", stacklevel=3)
    before = tuple(t // 2 for t in totals)
    return before, tuple(t - b for t, b in zip(totals, before))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if isinstance(padding, str):
        before, after = _string_padding(padding, weight, stride, dilation)
    else:
        before = after = padding
    return _nn.conv2d(input, weight, bias, stride, before, after, dilation, groups)


def _raise_for_non_int_sizes(function, **sizes):
    """PyTorch's TypeError for the first size argument that is neither an int nor a sequence of ints."""
    for name, value in sizes.items():
        if isinstance(value, int):
            continue
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"{function}(): argument '{name}' must be tuple of ints, not {type(value).__name__}")
        for pos, item in enumerate(value):
            if not isinstance(item, int):
                raise TypeError(f"{function}(): argument '{name}' must be tuple of ints, but found element of type "
                                f"{type(item).__name__} at pos {pos}")


def _conv_transpose(spatial_dims, input, weight, bias, stride, padding, output_padding, groups, dilation):
    try:
        return _nn.conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, spatial_dims)
    except TypeError:
        _raise_for_non_int_sizes(f"conv_transpose{spatial_dims}d", stride=stride, padding=padding,
                                 output_padding=output_padding, dilation=dilation)
        raise


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    output, indices = _nn.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (output, indices) if return_indices else output


avg_pool2d = _nn.avg_pool2d


def adaptive_avg_pool2d(input, output_size):
    # None keeps that dim's input size.
    sizes = _pair(output_size)
    if len(sizes) == 2:
        sizes = tuple(input.shape[-2 + i] if s is None else s for i, s in enumerate(sizes))
    return _nn.adaptive_avg_pool2d(input, sizes)


def pad(input, pad, mode="constant", value=None):
    if mode != "constant":
        return _pad_nonconstant(input, pad, mode, value)
    return _C.constant_pad_nd(input, pad, 0 if value is None else value)


# ---- losses ----

def _check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def _weighted_pointwise_loss(errors, weight, input, reduction):
    """PyTorch's composite for mse_loss / l1_loss with per-element weights."""
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    _check_reduction(reduction)
    weighted = errors * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    return weighted.sum() / weight.sum()


def _warn_broadcast(input, target):
    if target.size() != input.size():
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if weight is not None:
        _warn_broadcast(input, target)
        return _weighted_pointwise_loss((input - target) ** 2, weight, input, reduction)
    return _nn.mse_loss(input, target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if weight is not None:
        _warn_broadcast(input, target)
        return _weighted_pointwise_loss((input - target).abs(), weight, input, reduction)
    return _nn.l1_loss(input, target, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    return _nn.smooth_l1_loss(input, target, reduction, beta)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    return _nn.binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    return _nn.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    return _nn.nll_loss(input, target, weight, reduction, ignore_index)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    return _nn.cross_entropy(input, target, weight, reduction, ignore_index, label_smoothing)


# ---- attention (composed in _attention.py) ----

from ._attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: E402

__all__ += ["scaled_dot_product_attention", "multi_head_attention_forward"]

# ---- spatial functions composed from the 2-D ops (_spatial.py) ----

from ._spatial import (  # noqa: E402
    adaptive_avg_pool1d, adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d, conv1d, fold, interpolate,
    max_pool1d, pixel_shuffle, pixel_unshuffle, unfold,
)

__all__ += ["conv1d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d",
            "interpolate", "pixel_shuffle", "pixel_unshuffle", "unfold", "fold"]

# ---- normalisation and channel dropout composed in _norm.py ----

from ._norm import dropout1d, dropout2d, group_norm, instance_norm, rms_norm  # noqa: E402

__all__ += ["group_norm", "instance_norm", "rms_norm", "dropout1d", "dropout2d"]

# ---- activations and similarities composed in _pointwise.py ----

from ._pointwise import (  # noqa: E402
    bilinear, celu, cosine_similarity, glu, gumbel_softmax, hardsigmoid, hardswish, normalize, pairwise_distance,
    prelu, selu, softsign, tanhshrink, threshold,
)

__all__ += ["glu", "softsign", "tanhshrink", "threshold", "hardsigmoid", "hardswish", "celu", "selu", "prelu",
            "normalize", "cosine_similarity", "pairwise_distance", "bilinear", "gumbel_softmax"]

# ---- losses composed in _losses.py ----

from ._losses import (  # noqa: E402
    cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div, margin_ranking_loss,
    multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss, poisson_nll_loss, soft_margin_loss,
    triplet_margin_loss, triplet_margin_with_distance_loss,
)

__all__ += ["kl_div", "poisson_nll_loss", "gaussian_nll_loss", "huber_loss", "soft_margin_loss",
            "multilabel_soft_margin_loss", "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
            "triplet_margin_loss", "triplet_margin_with_distance_loss", "multi_margin_loss", "multilabel_margin_loss"]

# ---- embedding_bag composed in _embedding_bag.py ----

from ._embedding_bag import embedding_bag  # noqa: E402

__all__ += ["embedding_bag"]

# ---- non-constant padding modes (_padding.py) ----

from ._padding import pad_nonconstant as _pad_nonconstant  # noqa: E402

# ---- shrinkage, rrelu, in-place spellings and pdist (_pointwise.py) ----

from ._pointwise import (  # noqa: E402
    celu_, elu_, hardshrink, hardtanh_, pdist, rrelu, rrelu_, selu_, softshrink, threshold_,
)

__all__ += ["hardshrink", "softshrink", "rrelu", "rrelu_", "elu_", "celu_", "selu_", "threshold_", "hardtanh_",
            "pdist"]

# ---- max unpooling, LP pooling and *_with_indices (_pooling.py) ----

from ._pooling import (  # noqa: E402
    adaptive_max_pool1d_with_indices, adaptive_max_pool2d_with_indices, lp_pool1d, lp_pool2d, max_pool1d_with_indices,
    max_pool2d_with_indices, max_unpool1d, max_unpool2d,
)

__all__ += ["max_unpool1d", "max_unpool2d", "lp_pool1d", "lp_pool2d", "max_pool1d_with_indices",
            "max_pool2d_with_indices", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices"]

# ---- local response norm, alpha dropout and dropout3d (_norm.py) ----

from ._norm import alpha_dropout, dropout3d, feature_alpha_dropout, local_response_norm  # noqa: E402

__all__ += ["local_response_norm", "alpha_dropout", "feature_alpha_dropout", "dropout3d"]
