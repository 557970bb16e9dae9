"""Matrix products in every rank combination: dot, mv, mm, bmm and matmul / @ with broadcast batch dims and
transposed operands (which reach BLAS as transpose flags)."""
from optables import OpCase

MATMUL_SHAPES = {
    "1d_1d": [(4,), (4,)],
    "2d_1d": [(3, 4), (4,)],
    "1d_2d": [(4,), (4, 5)],
    "2d_2d": [(3, 4), (4, 5)],
    "3d_3d": [(2, 3, 4), (2, 4, 5)],
    "3d_2d": [(2, 3, 4), (4, 5)],
    "2d_3d": [(3, 4), (2, 4, 5)],
    "3d_1d": [(2, 3, 4), (4,)],
    "1d_3d": [(4,), (2, 4, 5)],
    "4d_3d_broadcast": [(2, 1, 3, 4), (5, 4, 2)],
    "3d_4d_broadcast": [(5, 3, 4), (2, 1, 4, 2)],
    "batch1_broadcast": [(1, 3, 4), (2, 4, 5)],
    "batch1_rhs": [(2, 3, 4), (1, 4, 5)],
    "4d_1d": [(2, 2, 3, 4), (4,)],
    "1d_4d": [(4,), (2, 2, 4, 3)],
    "4d_2d": [(2, 3, 2, 4), (4, 3)],
    "unit_dims": [(1, 1), (1, 1)],
    "row_times_column": [(1, 5), (5, 1)],
    "column_times_row": [(5, 1), (1, 5)],
    "empty_inner": [(2, 0), (0, 3)],
    "empty_outer": [(0, 3), (3, 4)],
}

CASES = []
for name, shapes in MATMUL_SHAPES.items():
    CASES.append(OpCase(f"matmul_{name}", lambda L, a, b: a @ b, shapes))
    CASES.append(OpCase(f"matmul_fn_{name}", lambda L, a, b: L.matmul(a, b), shapes))

CASES += [
    OpCase("matmul_method", lambda L, a, b: a.matmul(b), [(3, 4), (4, 2)]),
    # Transposed operands: views BLAS reads with a transpose flag.
    OpCase("mm_lhs_transposed", lambda L, a, b: a.t() @ b, [(4, 3), (4, 5)]),
    OpCase("mm_rhs_transposed", lambda L, a, b: a @ b.t(), [(3, 4), (5, 4)]),
    OpCase("mm_both_transposed", lambda L, a, b: a.t() @ b.t(), [(4, 3), (5, 4)]),
    OpCase("mm_narrowed", lambda L, a, b: a.narrow(1, 1, 4) @ b.narrow(0, 2, 4), [(3, 6), (7, 2)]),
    OpCase("mm_expanded", lambda L, a, b: a.expand(3, 4) @ b, [(1, 4), (4, 5)]),
    OpCase("bmm_transposed", lambda L, a, b: a.transpose(1, 2).bmm(b.transpose(1, 2)), [(2, 4, 3), (2, 5, 4)]),
    OpCase("matmul_batch_transposed", lambda L, a, b: a.transpose(-1, -2) @ b, [(2, 4, 3), (4, 5)]),
    OpCase("matmul_mT", lambda L, a, b: a @ b.mT, [(2, 3, 4), (2, 5, 4)]),
    OpCase("matmul_permuted_batch", lambda L, a, b: a.permute(1, 0, 2) @ b, [(3, 2, 4), (2, 4, 5)]),
    OpCase("mm", lambda L, a, b: L.mm(a, b), [(3, 4), (4, 5)]),
    OpCase("mm_method", lambda L, a, b: a.mm(b), [(2, 3), (3, 3)]),
    OpCase("bmm", lambda L, a, b: L.bmm(a, b), [(2, 3, 4), (2, 4, 5)]),
    OpCase("bmm_method", lambda L, a, b: a.bmm(b), [(3, 2, 2), (3, 2, 4)]),
    OpCase("dot", lambda L, a, b: L.dot(a, b), [(5,), (5,)]),
    OpCase("dot_method", lambda L, a, b: a.dot(b), [(3,), (3,)]),
    OpCase("mv", lambda L, a, b: L.mv(a, b), [(3, 4), (4,)]),
    OpCase("mv_method", lambda L, a, b: a.mv(b), [(2, 5), (5,)]),
    OpCase("mv_transposed", lambda L, a, b: a.t().mv(b), [(4, 3), (4,)]),
    # A product feeding a product: the backward of one is the incoming gradient of the other.
    OpCase("matmul_chain", lambda L, a, b, c: (a @ b).tanh() @ c, [(2, 3), (3, 4), (4, 2)]),
    OpCase("matmul_same_operand", lambda L, a: a @ a.t(), [(3, 4)]),
]
