"""torch.linalg: norms, and det / slogdet / inv / solve on small matrices through an LU factorisation with
partial pivoting (LAPACK's getrf, written over NumPy batches), with PyTorch's gradients in tapegrad ops."""
import math

from . import _C
from ._contractions import linalg_cross as cross  # noqa: F401
from ._ops import _TYPE_WORD, _recorded
from ._statistics import _values_indices_type
from .autograd.function import Function


class LinAlgError(RuntimeError):
    """A matrix the operation is undefined for (singular), as torch.linalg.LinAlgError."""


_SlogdetResult = _values_indices_type("linalg_slogdet", ("sign", "logabsdet"))


# ---- checks ----

def _check_matrices(fn, A):
    if A.dim() < 2:
        raise RuntimeError(f"{fn}: The input tensor A must have at least 2 dimensions.")
    if not A.is_floating_point():
        raise RuntimeError(f"{fn}: Expected a floating point or complex tensor as input. Got {_TYPE_WORD[str(A.dtype)]}")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{fn}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")


# ---- LU with partial pivoting ----

def _lu(A):
    """(lu, permutation, sign, first_zero_pivot) of each matrix in A: the rows of A in `permutation` order equal
    L @ U (L unit lower, U upper, both packed in lu); sign is the permutation's; first_zero_pivot is the 1-based
    position of the first zero on U's diagonal, 0 where there is none."""
    import numpy as np

    lu = np.array(A.detach(), copy=True)
    n = lu.shape[-1]
    batch = lu.shape[:-2]
    permutation = np.broadcast_to(np.arange(n), batch + (n,)).copy()
    sign = np.ones(batch, dtype=lu.dtype)
    first_zero = np.zeros(batch, dtype=np.int64)
    rows = np.indices(batch) if batch else ()
    for k in range(n):
        pivot_row = k + np.argmax(np.abs(lu[..., k:, k]), axis=-1)
        swap = pivot_row != k
        # Swap row k with the pivot row in every matrix at once.
        row_k = lu[..., k, :].copy()
        lu[..., k, :] = lu[(*rows, pivot_row)] if batch else lu[pivot_row]
        if batch:
            lu[(*rows, pivot_row)] = row_k
        else:
            lu[pivot_row] = row_k
        perm_k = permutation[..., k].copy()
        permutation[..., k] = np.take_along_axis(permutation, pivot_row[..., None], -1)[..., 0] if batch else \
            permutation[pivot_row]
        if batch:
            np.put_along_axis(permutation, pivot_row[..., None], perm_k[..., None], -1)
        else:
            permutation[pivot_row] = perm_k
        sign = np.where(swap, -sign, sign)
        pivot = lu[..., k, k]
        zero = pivot == 0
        first_zero = np.where(zero & (first_zero == 0), k + 1, first_zero)
        # As getrf, a zero pivot leaves its column as it is and the factorisation goes on.
        safe = np.where(zero, 1, pivot)
        multipliers = np.where(zero[..., None], 0, lu[..., k + 1:, k] / safe[..., None])
        lu[..., k + 1:, k] = np.where(zero[..., None], lu[..., k + 1:, k], multipliers)
        lu[..., k + 1:, k + 1:] -= multipliers[..., :, None] * lu[..., k, None, k + 1:]
    return lu, permutation, sign, first_zero


def _lu_solve(lu, permutation, B):
    """X with A X = B from A's LU factors; B has A's batch shape and k columns."""
    import numpy as np

    n = lu.shape[-1]
    x = np.take_along_axis(B, permutation[..., None], -2).astype(lu.dtype, copy=True)
    for i in range(n):  # L y = P B, L unit lower
        x[..., i, :] -= np.einsum("...j,...jk->...k", lu[..., i, :i], x[..., :i, :])
    for i in reversed(range(n)):  # U x = y
        x[..., i, :] -= np.einsum("...j,...jk->...k", lu[..., i, i + 1:], x[..., i + 1:, :])
        x[..., i, :] /= lu[..., i, i, None]
    return x


def _from_numpy(array, like):
    import numpy as np

    return _C.from_numpy(np.array(array, order="C")).to(like.dtype)  # ascontiguousarray would make 0-dim 1-dim


# ---- det / slogdet ----

def _det_compute(A):
    import numpy as np

    lu, _, sign, _ = _lu(A)
    return _from_numpy(sign * np.prod(np.diagonal(lu, axis1=-2, axis2=-1), axis=-1), A)


def _inverse_transpose(A):
    return inv(A).transpose(-2, -1)


def _det_grads(g, A):
    det = _det(A) if A.requires_grad else _det_compute(A)
    return ((g * det)[..., None, None] * _inverse_transpose(A),)


_det = _recorded("LinalgDetBackward0", _det_compute, _det_grads)


def det(A):
    _check_matrices("linalg.det", A)
    return _det(A)


class _Slogdet(Function):
    _node_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, A):
        import numpy as np

        lu, _, sign, _ = _lu(A)
        diagonal = np.diagonal(lu, axis1=-2, axis2=-1)
        ctx.save_for_backward(A)
        with np.errstate(divide="ignore"):  # a singular matrix's log|det| is -inf
            logabsdet = np.sum(np.log(np.abs(diagonal)), axis=-1)
        return _from_numpy(sign * np.prod(np.sign(diagonal), axis=-1), A), _from_numpy(logabsdet, A)

    @staticmethod
    def backward(ctx, g_sign, g_logabsdet):
        (A,) = ctx.saved_tensors
        return g_logabsdet[..., None, None] * _inverse_transpose(A)


def slogdet(A):
    _check_matrices("linalg.slogdet", A)
    return _SlogdetResult(*_Slogdet.apply(A))


def logdet(A):
    sign, logabsdet = slogdet(A)
    return _C.where(sign == -1, _C.full_like(logabsdet, math.nan), logabsdet)


# ---- inv / solve ----

def _singular(fn, first_zero):
    import numpy as np

    bad = np.flatnonzero(first_zero)
    if bad.size:
        raise LinAlgError(f"{fn}: The diagonal element {int(first_zero.reshape(-1)[bad[0]])} is zero, the inversion "
                          "could not be completed because the input matrix is singular.")


def _inv_compute(A):
    import numpy as np

    lu, permutation, _, first_zero = _lu(A)
    _singular("linalg.inv", first_zero)
    identity = np.broadcast_to(np.eye(A.shape[-1], dtype=lu.dtype), lu.shape)
    return _from_numpy(_lu_solve(lu, permutation, identity), A)


def _inv_grads(g, A):
    inverse_t = _inverse_transpose(A)
    return (-(inverse_t @ g @ inverse_t),)


_inv = _recorded("LinalgInvExBackward0", _inv_compute, _inv_grads)


def inv(A):
    _check_matrices("linalg.inv", A)
    return _inv(A)


def _is_vector_rhs(A, B):
    return B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def _solve_left(A, B):
    import numpy as np

    vector = _is_vector_rhs(A, B)
    rhs = B.unsqueeze(-1) if vector else B
    batch = tuple((_C.empty(*A.shape[:-2], 1, 1) + _C.empty(*rhs.shape[:-2], 1, 1)).shape[:-2])
    a = A.expand(*batch, *A.shape[-2:])
    lu, permutation, _, first_zero = _lu(a)
    if first_zero.any():
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.")
    b = np.broadcast_to(np.asarray(rhs.detach().to(A.dtype)), batch + tuple(rhs.shape[-2:]))
    x = _from_numpy(_lu_solve(lu, permutation, b), A)
    return x.squeeze(-1) if vector else x


def _transposed(t):
    return t.transpose(-2, -1)


def _solve_compute(A, B, left):
    return _solve_left(A, B) if left else _transposed(_solve_left(_transposed(A), _transposed(B)))


def _solve_left_grads(g, A, B):
    grad_B = solve(_transposed(A), g)
    X = solve(A, B)
    if _is_vector_rhs(A, B):
        return -grad_B.unsqueeze(-1) * X.unsqueeze(-2), grad_B
    return -(grad_B @ _transposed(X)), grad_B


def _solve_grads(g, A, B, left):
    if left:
        return _solve_left_grads(g, A, B) + (None,)
    # X A = B is A^T X^T = B^T.
    grad_At, grad_Bt = _solve_left_grads(_transposed(g), _transposed(A), _transposed(B))
    return _transposed(grad_At), _transposed(grad_Bt), None


_solve = _recorded("LinalgSolveExBackward0", _solve_compute, _solve_grads)


def solve(A, B, *, left=True):
    _check_matrices("linalg.solve", A)
    vector = left and _is_vector_rhs(A, B)
    rows = B.shape[-1] if vector else B.shape[-2] if left else B.shape[-1]
    if rows != A.shape[-1]:
        columns = 1 if vector else B.shape[-1] if left else B.shape[-2]
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and {rows}x{columns})")
    return _solve(A, B, left)


# ---- norms ----

def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    if not x.is_floating_point():
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           + _TYPE_WORD[str(x.dtype)])
    dims = None if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    return _C.norm(x, ord, dims, keepdim, dtype=dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if ord == "fro":
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs singular values, which tapegrad does not "
                                  "compute")
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if dtype is not None:
        A = A.to(dtype)
    rows, cols = (d % A.dim() for d in dim)
    # 1: the largest column sum of |A| (down the rows); inf: the largest row sum. As ATen: a 1-norm along one dim,
    # then amax (amin for negative orders) along the other.
    summed, reduced = (rows, cols) if abs(ord) == 1 else (cols, rows)
    sums = vector_norm(A, 1, summed, keepdim=keepdim)
    if not keepdim and summed < reduced:
        reduced -= 1
    return sums.amax(reduced, keepdim) if ord > 0 else sums.amin(reduced, keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.dim() not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                           f"{A.dim()}D.")
    if A.dim() == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)


FUNCTIONS = {"det": det, "slogdet": slogdet, "logdet": logdet, "inverse": inv}
METHODS = ["det", "slogdet", "logdet", "inverse"]
INPLACE = []
