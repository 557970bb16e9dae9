"""embedding_bag as torch.nn.functional.embedding_bag, composed of embedding (a gather whose backward honours
scale_grad_by_freq), scatter_add (sum and mean) and max over each bag: padding_idx entries are left out of
their bag, as torch leaves them out of its sums, means and maxes."""
import warnings

from .. import _C
from . import functional as F

_MODES = ("sum", "mean", "max")


def _check_bag_arguments(input, weight, offsets, mode, scale_grad_by_freq, sparse, per_sample_weights):
    """torch's Python-level checks; returns (flat indices, offsets, whether offsets end with the last bag's end,
    flat per-sample weights)."""
    if per_sample_weights is not None and input.size() != per_sample_weights.size():
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    fixed_last_offset = None
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        offsets = list(range(0, input.numel(), input.size(1))) if input.size(1) else [0] * input.size(0)
        fixed_last_offset = False
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    return input, offsets, fixed_last_offset, per_sample_weights


def _check_tensor_arguments(input, weight, offsets, per_sample_weights, padding_idx):
    """The checks torch's kernel makes; returns padding_idx in [0, num_embeddings) or -1 for none."""
    for name, tensor in (("indices", input), ("offsets", offsets)):
        if isinstance(tensor, _C.Tensor) and tensor.dtype != _C.int64:
            raise RuntimeError(f"Expected tensor for argument #1 '{name}' to have one of the following scalar types: "
                               f"Long, Int; but got {tensor.type()} instead (while checking arguments for "
                               "embedding_bag)")
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have the same type as tensor for argument "
                           f"#1 'per_sample_weights'; but type {weight.type()} does not equal "
                           f"{per_sample_weights.type()} (while checking arguments for embedding_bag)")
    num_weights = weight.size(0)
    if padding_idx is None:
        return -1
    if not -num_weights <= padding_idx < num_weights:
        raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num_weights} through "
                           f"{num_weights - 1}, but got {padding_idx}")
    return padding_idx % num_weights


def _bag_bounds(offsets, num_indices, include_last_offset):
    starts = offsets.tolist() if isinstance(offsets, _C.Tensor) else list(offsets)
    if starts and starts[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {starts[0]}")
    if starts and starts[-1] > num_indices:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {num_indices} but got offsets[-1] "
                           f"of {starts[-1]}")
    if include_last_offset:
        return starts[:-1], starts[1:]
    return starts, starts[1:] + [num_indices]


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    if weight.dtype == _C.int64 and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, "
                      "input, ...)` is deprecated, and should now be `embedding_bag(input, weight, ...)`.",
                      stacklevel=2)
        weight, input = input, weight
    input, offsets, fixed_last_offset, per_sample_weights = _check_bag_arguments(
        input, weight, offsets, mode, scale_grad_by_freq, sparse, per_sample_weights)
    if fixed_last_offset is not None:  # 2-D input: bags of equal length, whatever include_last_offset says
        include_last_offset = fixed_last_offset
    if sparse:
        raise NotImplementedError("tapegrad has no sparse tensors: embedding_bag(sparse=True) is not supported")
    if max_norm is not None:
        F._embedding_renorm_(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    padding_idx = _check_tensor_arguments(input, weight, offsets, per_sample_weights, padding_idx)
    indices = input.tolist()
    num_weights = weight.size(0)
    for position, index in enumerate(indices):
        if not 0 <= index < num_weights:
            raise RuntimeError(f"Index {position} of input takes value {index} which is not in the valid range "
                               f"[0, {num_weights})")
    starts, ends = _bag_bounds(offsets, len(indices), include_last_offset)
    kept = [[p for p in range(start, end) if indices[p] != padding_idx] for start, end in zip(starts, ends)]
    positions = [p for bag in kept for p in bag]
    rows = F.embedding(_C.tensor([indices[p] for p in positions], dtype=_C.int64), weight,
                       scale_grad_by_freq=scale_grad_by_freq)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.index_select(0, _C.tensor(positions, dtype=_C.int64)).unsqueeze(1)
    dim = weight.size(1)
    if mode == "max":
        bag_maxes, first = [], 0
        for bag in kept:
            bag_rows = rows[first:first + len(bag)]
            bag_maxes.append(bag_rows.max(0).values if bag else _C.zeros(dim, dtype=weight.dtype))
            first += len(bag)
        return _C.stack(bag_maxes) if bag_maxes else _C.zeros((0, dim), dtype=weight.dtype)
    bag_of_row = _C.tensor([b for b, bag in enumerate(kept) for _ in bag], dtype=_C.int64)
    sums = _C.zeros((len(kept), dim), dtype=weight.dtype).scatter_add(
        0, bag_of_row.unsqueeze(1).expand(len(positions), dim), rows)
    if mode == "sum":
        return sums
    sizes = _C.tensor([[max(len(bag), 1)] for bag in kept], dtype=weight.dtype)  # an empty bag's mean is zeros
    return sums / sizes
