"""torch.linalg on small matrices: det, slogdet, logdet, inv, solve (python/tapegrad/linalg.py), and the norms."""
import math

from optables import OpCase


def conditioned(L, a):
    """a plus 3 on the diagonal: far from singular, so float32 results stay close to torch's."""
    return a + 3 * L.eye(a.shape[-1], dtype=a.dtype)


CASES = [
    OpCase("linalg_det", lambda L, a: L.linalg.det(conditioned(L, a)), [(4, 4)]),
    OpCase("linalg_det_batched", lambda L, a: L.det(conditioned(L, a)), [(2, 3, 3, 3)]),
    OpCase("det_method", lambda L, a: a.det(), [(3, 3)], rtol=1e-4),
    OpCase("linalg_slogdet", lambda L, a: tuple(L.linalg.slogdet(conditioned(L, a))), [(2, 4, 4)]),
    OpCase("logdet", lambda L, a: L.logdet(conditioned(L, a)), [(3, 3)]),
    OpCase("linalg_inv", lambda L, a: L.linalg.inv(conditioned(L, a)), [(4, 4)]),
    OpCase("inverse_batched", lambda L, a: conditioned(L, a).inverse(), [(3, 2, 2)]),
    OpCase("linalg_solve_matrix", lambda L, a, b: L.linalg.solve(conditioned(L, a), b), [(4, 4), (4, 3)]),
    OpCase("linalg_solve_vector", lambda L, a, b: L.linalg.solve(conditioned(L, a), b), [(4, 4), (4,)]),
    OpCase("linalg_solve_batch_vector", lambda L, a, b: L.linalg.solve(conditioned(L, a), b), [(2, 3, 3), (2, 3)]),
    OpCase("linalg_solve_broadcast", lambda L, a, b: L.linalg.solve(conditioned(L, a), b), [(2, 1, 3, 3), (4, 3, 2)]),
    OpCase("linalg_solve_right", lambda L, a, b: L.linalg.solve(conditioned(L, a), b, left=False), [(3, 3), (2, 3)]),
    OpCase("linalg_vector_norm", lambda L, a: L.linalg.vector_norm(a), [(3, 4)]),
    OpCase("linalg_vector_norm_dims", lambda L, a: L.linalg.vector_norm(a, 3, dim=(0, 2), keepdim=True),
           [(2, 3, 4)]),
    OpCase("linalg_vector_norm_inf", lambda L, a: L.linalg.vector_norm(a, math.inf, dim=1), [(3, 4)]),
    OpCase("linalg_vector_norm_dtype", lambda L, a: L.linalg.vector_norm(a, 1, dtype=L.float64), [(3, 4)],
           gradcheck=False),
    OpCase("linalg_matrix_norm_fro", lambda L, a: L.linalg.matrix_norm(a), [(2, 3, 4)]),
    OpCase("linalg_matrix_norm_1", lambda L, a: L.linalg.matrix_norm(a, 1), [(2, 3, 4)]),
    OpCase("linalg_matrix_norm_neg1_keepdim", lambda L, a: L.linalg.matrix_norm(a, -1, keepdim=True), [(3, 4)]),
    OpCase("linalg_matrix_norm_inf_dims", lambda L, a: L.linalg.matrix_norm(a, math.inf, dim=(2, 0)), [(3, 4, 5)]),
    OpCase("linalg_matrix_norm_neg_inf", lambda L, a: L.linalg.matrix_norm(a, -math.inf), [(3, 4)]),
    OpCase("linalg_norm_default", lambda L, a: L.linalg.norm(a), [(2, 3, 4)]),
    OpCase("linalg_norm_vector_ord", lambda L, a: L.linalg.norm(a, 0.5), [(5,)]),
    OpCase("linalg_norm_matrix_ord", lambda L, a: L.linalg.norm(a, 1), [(3, 4)]),
    OpCase("linalg_norm_dim", lambda L, a: L.linalg.norm(a, dim=1), [(3, 4)]),
    OpCase("linalg_norm_dims_fro", lambda L, a: L.linalg.norm(a, dim=(0, 1), keepdim=True), [(3, 4)]),
]
