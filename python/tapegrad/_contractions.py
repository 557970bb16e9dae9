"""Products that contract or combine dims: einsum, tensordot, kron, block_diag, cdist and cross.

einsum follows ATen's plan (diagonals for repeated labels, operands permuted to one label order, pairs
contracted left to right through bmm), so values, gradients and grad_fn names match PyTorch's.
"""
import builtins
import string
import warnings

from . import _C
from ._C import Tensor
from ._ops import _TYPE_WORD, _broadcast_shape, _recorded, result_type

# torch numbers labels A-Z then a-z; that order sorts the implicit output and the contracted dims.
_LABELS = string.ascii_uppercase + string.ascii_lowercase
_ELLIPSIS = len(_LABELS)


def _sum_keep(t, dims):
    return t.sum(dims, True) if dims else t


def _sumproduct_pair(left, right, sum_dims):
    """(left * right).sum(sum_dims, keepdim=True) for operands with equally many dims, through one bmm."""
    if not sum_dims:
        return left * right
    lro, lo, ro = [], [], []
    lro_size = lo_size = ro_size = sum_size = 1
    for d in range(left.dim()):
        in_left, in_right = left.shape[d] != 1, right.shape[d] != 1
        if d in sum_dims:
            if in_left and in_right:
                if left.shape[d] != right.shape[d]:
                    raise RuntimeError("non-broadcast dimensions must match")
                sum_size *= left.shape[d]
            elif in_left:
                left = left.sum(d, True)
            elif in_right:
                right = right.sum(d, True)
        elif in_left and in_right:
            if left.shape[d] != right.shape[d]:
                raise RuntimeError("non-broadcast dimensions must match")
            lro.append(d)
            lro_size *= left.shape[d]
        elif in_left:
            lo.append(d)
            lo_size *= left.shape[d]
        else:
            ro.append(d)
            ro_size *= right.shape[d]
    # When every right-only dim comes before the left-only ones, swapping lets bmm write the output order.
    if lo and ro and ro[-1] < lo[0]:
        left, right, lo, ro, lo_size, ro_size = right, left, ro, lo, ro_size, lo_size
    out_size = [left.shape[d] for d in lro + lo] + [1] * len(sum_dims) + [right.shape[d] for d in ro]
    left_order = lro + lo + list(sum_dims) + ro
    right_order = lro + list(sum_dims) + ro + lo
    out_order = [0] * len(out_size)
    for position, d in enumerate(lro + lo + list(sum_dims) + ro):
        out_order[d] = position
    left = left.permute(*left_order).reshape(lro_size, lo_size, sum_size)
    right = right.permute(*right_order).reshape(lro_size, sum_size, ro_size)
    return _C.bmm(left, right).view(*out_size).permute(*out_order)


def _parse_operand_labels(lhs, count):
    labels = [[]]
    i = 0
    while i < len(lhs):
        c = lhs[i]
        if c == ".":
            if _ELLIPSIS in labels[-1]:
                raise RuntimeError(f"einsum(): found '.' for operand {len(labels) - 1} for which an ellipsis was "
                                   "already found")
            if lhs[i:i + 3] != "..." or i + 2 >= len(lhs):
                raise RuntimeError(f"einsum(): found '.' for operand {len(labels) - 1} that is not part of any "
                                   "ellipsis")
            labels[-1].append(_ELLIPSIS)
            i += 2
        elif c == ",":
            if len(labels) == count:
                raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
            labels.append([])
        elif c != " ":
            if c not in _LABELS:
                raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, "
                                   "subscripts must be in [a-zA-Z]")
            labels[-1].append(_LABELS.index(c))
        i += 1
    if len(labels) != count:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    return labels


def _einsum(equation, operands):
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    lhs, arrow, rhs = equation.partition("->")
    op_labels = _parse_operand_labels(lhs, len(operands))
    label_count = [0] * len(_LABELS)
    ell_num_dim = 0
    for i, (op, labels) in enumerate(zip(operands, op_labels)):
        named = [s for s in labels if s != _ELLIPSIS]
        has_ellipsis = len(named) != len(labels)
        for s in named:
            label_count[s] += 1
        if has_ellipsis:
            ell_num_dim = builtins.max(ell_num_dim, op.dim() - len(named))
        if (len(named) > op.dim()) if has_ellipsis else (len(named) != op.dim()):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(named)}) "
                               + ("is more than" if has_ellipsis else "does not match")
                               + f" the number of dimensions ({op.dim()}) for operand {i}"
                               + ("" if has_ellipsis else " and no ellipsis was given"))

    # Every label gets a position: output labels first, then the contracted ones.
    position = [-1] * len(_LABELS)
    next_position = 0
    ell_index = 0
    ell_in_output = False
    if not arrow:
        next_position = ell_num_dim
        ell_in_output = True
        for s in range(len(_LABELS)):
            if label_count[s] == 1:
                position[s] = next_position
                next_position += 1
    else:
        i = 0
        while i < len(rhs):
            c = rhs[i]
            if c == ".":
                if ell_in_output:
                    raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was already found")
                if rhs[i:i + 3] != "..." or i + 2 >= len(rhs):
                    raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis (...)")
                ell_index, ell_in_output = next_position, True
                next_position += ell_num_dim
                i += 2
            elif c != " ":
                if c not in _LABELS:
                    raise RuntimeError(f"einsum(): invalid subscript given at index {len(lhs) + 2 + i} in the "
                                       "equation string, subscripts must be in [a-zA-Z]")
                s = _LABELS.index(c)
                if label_count[s] == 0 or position[s] != -1:
                    problem = ("appears more than once in the output" if position[s] != -1
                               else "does not appear in the equation for any input operand")
                    raise RuntimeError(f"einsum(): output subscript {c} {problem}")
                position[s] = next_position
                next_position += 1
            i += 1
    out_num_dim = next_position
    if not ell_in_output:
        ell_index = next_position
        next_position += ell_num_dim
    for s in range(len(_LABELS)):
        if label_count[s] > 0 and position[s] == -1:
            position[s] = next_position
            next_position += 1

    # Diagonals for repeated labels, size-1 dims for missing ones, then one common dim order.
    label_size = [1] * len(_LABELS)
    ell_sizes = [1] * ell_num_dim
    dim_counts = [0] * next_position
    aligned = []
    for i, (op, labels) in enumerate(zip(operands, op_labels)):
        permutation = [-1] * next_position
        dim = 0
        for s in labels:
            if s == _ELLIPSIS:
                covered = op.dim() - (len(labels) - 1)
                for j in range(ell_num_dim - covered, ell_num_dim):
                    if op.shape[dim] != 1:
                        if ell_sizes[j] not in (1, op.shape[dim]):
                            raise RuntimeError(f"einsum(): dimension {dim} covered by ellipsis in operand {i}has "
                                               f"size {op.shape[dim]} which does not broadcast with previously seen "
                                               f"ellipsis with size {ell_sizes[j]} for the respective dimension")
                        ell_sizes[j] = op.shape[dim]
                        dim_counts[ell_index + j] += 1
                    permutation[ell_index + j] = dim
                    dim += 1
            elif permutation[position[s]] == -1:
                if op.shape[dim] != 1:
                    if label_size[s] not in (1, op.shape[dim]):
                        raise RuntimeError(f"einsum(): subscript {_LABELS[s]} has size {op.shape[dim]} for operand "
                                           f"{i} which does not broadcast with previously seen size {label_size[s]}")
                    label_size[s] = op.shape[dim]
                    dim_counts[position[s]] += 1
                permutation[position[s]] = dim
                dim += 1
            else:
                previous = permutation[position[s]]
                if op.shape[dim] != op.shape[previous]:
                    raise RuntimeError(f"einsum(): subscript {_LABELS[s]} is repeated for operand {i} but the sizes "
                                       f"don't match, {op.shape[dim]} != {op.shape[previous]}")
                op = op.diagonal(0, previous, dim).movedim(-1, previous)
        for k, val in enumerate(permutation):
            if val == -1:
                op = op.unsqueeze(dim)
                permutation[k] = dim
                dim += 1
        aligned.append(op.permute(*permutation))

    while len(aligned) > 1:
        a, b = aligned[0], aligned[1]
        if a.dtype != b.dtype:
            raise RuntimeError(f"expected scalar type {_TYPE_WORD[str(a.dtype)]} but found "
                               f"{_TYPE_WORD[str(b.dtype)]}")
        sum_dims, a_only, b_only = [], [], []
        for d in range(out_num_dim, next_position):
            in_a, in_b = a.shape[d] != 1, b.shape[d] != 1
            if in_a and in_b:
                if a.shape[d] != b.shape[d]:
                    raise RuntimeError("non-broadcast dimensions must match")
                dim_counts[d] -= 1
                if dim_counts[d] == 1:
                    sum_dims.append(d)
                    dim_counts[d] = 0
            elif dim_counts[d] == 1:
                if in_a:
                    a_only.append(d)
                    dim_counts[d] = 0
                elif in_b:
                    b_only.append(d)
                    dim_counts[d] = 0
        aligned = [_sumproduct_pair(_sum_keep(a, a_only), _sum_keep(b, b_only), sum_dims)] + aligned[2:]

    result = aligned[0]
    if next_position > out_num_dim:
        if len(operands) > 1:
            return result.view(*result.shape[:out_num_dim])
        return result.sum(list(range(out_num_dim, next_position)))
    return result


def _subscript_letters(sublist):
    letters = []
    for s in sublist:
        if s is Ellipsis:
            letters.append("...")
        elif isinstance(s, int) and 0 <= s < len(_LABELS):
            letters.append(_LABELS[s])
        else:
            raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
    return "".join(letters)


def einsum(*args):
    """torch.einsum(equation, *operands), einsum(equation, [operands]) or the sublist form
    einsum(op1, [0, 1], op2, [1, 2], [0, 2])."""
    if len(args) < 2:
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                         "operand and its subscripts list")
    if isinstance(args[0], Tensor):
        equation = ",".join(_subscript_letters(sub) for sub in args[1::2])
        if len(args) % 2 == 1:
            equation += "->" + _subscript_letters(args[-1])
            operands = args[:-1:2]
        else:
            operands = args[::2]
    else:
        equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    return _einsum(equation, list(operands))


def tensordot(a, b, dims=2, out=None):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > builtins.min(a.dim(), b.dim()):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(a.dim() - dims, a.dim())), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    dims_a = [d % builtins.max(a.dim(), 1) for d in dims_a]
    dims_b = [d % builtins.max(b.dim(), 1) for d in dims_b]
    contracted = 1
    for da, db in zip(dims_a, dims_b):
        sa, sb = a.shape[da], b.shape[db]
        if sb == 1:  # broadcast dims are summed right away
            a = a.sum(da, True)
        elif sa == 1:
            b = b.sum(db, True)
        elif sa != sb:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa} in dim {da} and second "
                               f"has size {sb} in dim {db}")
        else:
            contracted *= sa
    kept_a = [d for d in range(a.dim()) if d not in dims_a]
    kept_b = [d for d in range(b.dim()) if d not in dims_b]
    out_shape = [a.shape[d] for d in kept_a] + [b.shape[d] for d in kept_b]
    rows = a.permute(*(kept_a + dims_a)).reshape(-1, contracted) if a.dim() else a.reshape(1, 1)
    cols = b.permute(*(dims_b + kept_b)).reshape(contracted, -1) if b.dim() else b.reshape(1, 1)
    return _C.mm(rows, cols).reshape(*out_shape)


def kron(input, other):
    ndim = builtins.max(input.dim(), other.dim())
    a_shape = [1] * (ndim - input.dim()) + list(input.shape)
    b_shape = [1] * (ndim - other.dim()) + list(other.shape)
    a_view = input.reshape(*[n for size in a_shape for n in (size, 1)])
    b_view = other.reshape(*[n for size in b_shape for n in (1, size)])
    return _C._unsafe_view(a_view * b_view, [x * y for x, y in zip(a_shape, b_shape)])


def _block_diag_compute(*tensors):
    dtype = result_type(*tensors)
    matrices = [t.reshape(1, -1) if t.dim() < 2 else t for t in tensors]
    rows = builtins.sum(m.shape[0] for m in matrices)
    cols = builtins.sum(m.shape[1] for m in matrices)
    out = _C.zeros(rows, cols, dtype=dtype)
    r = c = 0
    for m in matrices:
        out[r:r + m.shape[0], c:c + m.shape[1]] = m
        r, c = r + m.shape[0], c + m.shape[1]
    return out


def _block_diag_grads(g, *tensors):
    grads, r, c = [], 0, 0
    for t in tensors:
        h, w = (1, t.numel()) if t.dim() < 2 else tuple(t.shape)
        grads.append(g[r:r + h, c:c + w].reshape(t.shape))
        r, c = r + h, c + w
    return grads


_block_diag = _recorded("BlockDiagBackward0", _block_diag_compute, _block_diag_grads)


def block_diag(*tensors):
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.dim()} dimensions")
    if not tensors:
        return _C.zeros(1, 0)  # torch's shape for no blocks
    return _block_diag(*tensors)


def _pairwise_difference(x1, x2):
    return x1.unsqueeze(-2) - x2.unsqueeze(-3)


def _cdist_compute(x1, x2, p):
    return _C.norm(_pairwise_difference(x1, x2), p, -1)


def _cdist_grads(g, x1, x2, p):
    diff = _pairwise_difference(x1, x2)
    dist = _C.norm(diff, p, -1).unsqueeze(-1)
    g = g.unsqueeze(-1)
    zero = _C.zeros_like(diff)
    if p == 0:
        grad = zero
    elif p == 1:
        grad = g * diff.sign()
    elif p == float("inf"):
        grad = g * diff.sign() * (diff.abs() == dist).to(diff.dtype)
    elif p < 2:
        grad = _C.where(dist == 0, zero, diff.sign() * diff.abs().pow(p - 1) * g / dist.pow(p - 1))
    else:
        grad = _C.where(dist == 0, zero, diff * diff.abs().pow(p - 2) * g / dist.pow(p - 1))
    return grad.sum(-2), -grad.sum(-3), None


_cdist = _recorded("CdistBackward0", _cdist_compute, _cdist_grads)


def _euclidean_compute(x1, x2):
    x1_norm = x1.pow(2).sum(-1, True)
    x2_norm = x2.pow(2).sum(-1, True)
    x1_ = _C.cat([x1 * -2, x1_norm, _C.ones_like(x1_norm)], -1)
    x2_ = _C.cat([x2, _C.ones_like(x2_norm), x2_norm], -1)
    return (x1_ @ x2_.mT).clamp_min(0).sqrt()


def _euclidean_grads(g, x1, x2):
    distance = _euclidean_compute(x1, x2)
    ratio = _C.where(distance == 0, _C.zeros_like(g), g / distance)
    return x1 * ratio.sum(-1, True) - ratio @ x2, x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT @ x1


_euclidean_dist = _recorded("EuclideanDistBackward0", _euclidean_compute, _euclidean_grads)

_COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.dim()}D")
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_TYPE_WORD[str(x.dtype)]}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    r1, r2, columns = x1.shape[-2], x2.shape[-2], x1.shape[-1]
    batch = _broadcast_shape(list(x1.shape[:-2]), list(x2.shape[:-2]))
    x1 = x1.expand(*batch, r1, columns)
    x2 = x2.expand(*batch, r2, columns)
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist"
                         or (compute_mode == _COMPUTE_MODES[0] and (r1 > 25 or r2 > 25)))
    if not use_mm:
        return _cdist(x1, x2, float(p))
    flat = builtins.max(1, _prod(batch))
    result = _euclidean_dist(x1.reshape(flat, r1, columns), x2.reshape(flat, r2, columns))
    return result.view(*batch, r1, r2)


def _prod(sizes):
    out = 1
    for n in sizes:
        out *= n
    return out


def _cross_compute(a, b, dim):
    shift1 = _C.tensor([1, 2, 0])
    shift2 = _C.tensor([2, 0, 1])
    return (a.index_select(dim, shift1) * b.index_select(dim, shift2)
            - a.index_select(dim, shift2) * b.index_select(dim, shift1))


def _cross_grads(g, a, b, dim):
    return _cross_compute(b, g, dim), _cross_compute(g, a, dim), None


_cross = _recorded("LinalgCrossBackward0", _cross_compute, _cross_grads)


def linalg_cross(input, other, *, dim=-1):
    if input.dim() != other.dim():
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[dim]} and "
                           f"{other.shape[dim]}")
    dtype = result_type(input, other)
    return _cross(input.to(dtype), other.to(dtype), dim % input.dim())


def cross(input, other, dim=None):
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = _broadcast_shape(list(input.shape), list(other.shape))
        dim = next((d for d, n in enumerate(shape) if n == 3), -1)
    return linalg_cross(input, other, dim=dim)


def inner(input, other):
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


FUNCTIONS = {"inner": inner, "einsum": einsum, "tensordot": tensordot, "kron": kron, "block_diag": block_diag, "cdist": cdist,
             "cross": cross}
METHODS = ["inner", "kron", "cross"]
INPLACE = []
