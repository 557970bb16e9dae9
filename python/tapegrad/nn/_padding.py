"""F.pad's reflect, replicate and circular modes: each padded dim is one index_select of the source positions,
so the gradient (an index_add onto the input) comes from autograd and sums the copies as PyTorch's does."""
from .. import _C
from ._spatial import _sizes

_MODES_HELP = ("Supported combinations for non-constant padding:\n"
               "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
               "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
               "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _reflect(i, n):
    i = abs(i)
    return 2 * (n - 1) - i if i >= n else i


def _source_indices(mode, size, before, after):
    """The input position each output position along one dim reads. Circular padding crops first (negative
    pads) and wraps around what is left, as PyTorch does."""
    if mode == "reflect":
        return [_reflect(i, size) for i in range(-before, size + after)]
    if mode == "replicate":
        return [min(max(i, 0), size - 1) for i in range(-before, size + after)]
    start, kept = max(-before, 0), size - max(-before, 0) - max(-after, 0)
    return [start + i % kept for i in range(-max(before, 0), kept + max(after, 0))]


def _check(input, pad, mode):
    dims = len(pad) // 2
    ndim = input.dim()
    if dims > 3 or ndim not in (dims + 1, dims + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {ndim}D input tensor.\n{_MODES_HELP}")
    if mode != "circular":
        first = 1 if ndim == dims + 2 else 0
        if any(s == 0 for s in input.shape[first:]):
            raise RuntimeError(f"Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with possibly 0 batch size "
                               f"and other non-zero dimensions for input, but got: {_sizes(input.shape)}")
    for k in range(dims):
        dim = ndim - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        size = input.size(dim)
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(f"Argument #{4 + 2 * k}: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({before}, {after}) at dimension {dim} of input "
                               f"{_sizes(input.shape)}")
        if mode == "circular":
            if before > size or after > size:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            kept = size - max(-before, 0) - max(-after, 0)
            if size + before + after < 0 or (kept <= 0 < size + before + after):
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
        elif size + before + after < 0:
            raise RuntimeError(f"input (W: {size}) is too small. Calculated output W: {size + before + after}")


def pad_nonconstant(input, pad, mode, value):
    """input padded by pad (PyTorch's last-dim-first pairs) with mode 'reflect', 'replicate' or 'circular'."""
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    pad = [int(p) for p in pad]
    if len(pad) % 2 != 0:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.dim()}")
    _check(input, pad, mode)
    out = input
    for k in range(len(pad) // 2):
        dim = input.dim() - 1 - k
        size = input.size(dim)
        indices = _source_indices(mode, size, pad[2 * k], pad[2 * k + 1])
        out = out.index_select(dim, _C.tensor(indices, dtype=_C.int64, device=input.device))
    return out
