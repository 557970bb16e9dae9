"""Ops composed in Python (python/tapegrad/_ops.py): pointwise with several inputs, binary math, products
with an added input, stacking and moving dims."""
from optables import OpCase

BINARY_SHAPES = {"same": [(3, 4), (3, 4)], "broadcast": [(3, 1), (4,)], "zero_dim": [(3, 4), ()]}

CASES = []
for pattern, shapes in BINARY_SHAPES.items():
    CASES += [
        OpCase(f"atan2_{pattern}", lambda L, a, b: L.atan2(a, b), shapes, domain="nonzero"),
        OpCase(f"hypot_{pattern}", lambda L, a, b: L.hypot(a, b), shapes, domain="nonzero"),
        OpCase(f"logaddexp_{pattern}", lambda L, a, b: L.logaddexp(a, b), shapes),
        OpCase(f"xlogy_{pattern}", lambda L, a, b: L.xlogy(a, b), shapes, domain="positive"),
        OpCase(f"fmod_{pattern}", lambda L, a, b: L.fmod(a, b), shapes, domain="nonzero", gradcheck=False),
        OpCase(f"fmax_{pattern}", lambda L, a, b: L.fmax(a, b), shapes),
        OpCase(f"fmin_{pattern}", lambda L, a, b: a.fmin(b), shapes),
        OpCase(f"clamp_min_tensor_{pattern}", lambda L, a, b: L.clamp_min(a, b), shapes),
        OpCase(f"clamp_max_tensor_{pattern}", lambda L, a, b: a.clamp_max(b), shapes),
    ]

CASES += [
    OpCase("addcmul", lambda L, a, b, c: L.addcmul(a, b, c), [(3, 4), (3, 4), (3, 4)]),
    OpCase("addcmul_value_broadcast", lambda L, a, b, c: a.addcmul(b, c, value=-0.5), [(3, 4), (4,), (3, 1)]),
    OpCase("addcdiv", lambda L, a, b, c: L.addcdiv(a, b, c, value=2), [(3, 4), (3, 4), (1, 4)], domain="nonzero"),
    OpCase("lerp_number", lambda L, a, b: L.lerp(a, b, 0.3), [(3, 4), (3, 4)]),
    OpCase("lerp_number_high", lambda L, a, b: a.lerp(b, 0.8), [(3, 4), (4,)]),
    OpCase("lerp_tensor", lambda L, a, b, w: L.lerp(a, b, w), [(3, 4), (3, 4), (3, 4)]),
    OpCase("xlogy_number_other", lambda L, a: L.xlogy(a, 2.5), [(3, 4)]),
    OpCase("xlogy_number_input", lambda L, a: L.xlogy(2.0, a), [(3, 4)], domain="positive"),
    OpCase("fmod_number", lambda L, a: L.fmod(a, 0.7), [(3, 4)], gradcheck=False),
    OpCase("frac", lambda L, a: L.frac(a * 3), [(3, 4)], gradcheck=False),
    OpCase("sgn", lambda L, a: a.sgn(), [(3, 4)], domain="nonzero", grad=False),  # torch: a ZeroTensor gradient
    OpCase("logit", lambda L, a: L.logit(a * 0.5 + 0.5), [(3, 4)], domain="unit"),
    OpCase("logit_eps", lambda L, a: a.logit(eps=0.2), [(3, 4)], domain="unit", gradcheck=False),
    OpCase("nan_to_num", lambda L, a: L.nan_to_num(a.log(), nan=1.5, posinf=2.0), [(3, 4)]),
    OpCase("clamp_min_number", lambda L, a: L.clamp_min(a, 0.1), [(3, 4)]),
    OpCase("clamp_max_number", lambda L, a: a.clamp_max(-0.1), [(3, 4)]),
    OpCase("addmm", lambda L, a, b, c: L.addmm(a, b, c), [(4,), (3, 5), (5, 4)]),
    OpCase("addmm_beta_alpha", lambda L, a, b, c: a.addmm(b, c, beta=0.5, alpha=-2), [(3, 4), (3, 5), (5, 4)]),
    OpCase("addmv", lambda L, a, b, c: L.addmv(a, b, c, alpha=1.5), [(3,), (3, 5), (5,)]),
    OpCase("baddbmm", lambda L, a, b, c: L.baddbmm(a, b, c, beta=2), [(2, 3, 4), (2, 3, 5), (2, 5, 4)]),
    OpCase("trace", lambda L, a: L.trace(a), [(4, 4)]),
    OpCase("trace_rectangular", lambda L, a: a.trace(), [(3, 5)]),
    OpCase("dist", lambda L, a, b: L.dist(a, b), [(3, 4), (4,)]),
    OpCase("dist_p1", lambda L, a, b: a.dist(b, 1), [(3, 4), (3, 4)], gradcheck=False),
    OpCase("dist_p3", lambda L, a, b: L.dist(a, b, 3), [(3, 4), (3, 4)]),
    OpCase("dist_inf", lambda L, a, b: L.dist(a, b, float("inf")), [(3, 4), (3, 4)]),
    OpCase("movedim", lambda L, a: L.movedim(a, 0, 2), [(2, 3, 4)]),
    OpCase("movedim_lists", lambda L, a: L.moveaxis(a, (0, -1), (-1, 1)), [(2, 3, 4)]),
    OpCase("hstack", lambda L, a, b: L.hstack([a, b]), [(3, 4), (3, 2)]),
    OpCase("hstack_1d", lambda L, a, b: L.hstack((a, b)), [(3,), (2,)]),
    OpCase("vstack", lambda L, a, b: L.vstack([a, b]), [(4,), (2, 4)]),
    OpCase("row_stack", lambda L, a, b: L.row_stack([a, b]), [(4,), (2, 4)]),
    OpCase("atleast_1d_2d_3d", lambda L, a: (L.atleast_1d(a), L.atleast_2d(a), L.atleast_3d(a)), [()]),
    OpCase("atleast_3d_of_matrix", lambda L, a: L.atleast_3d(a), [(3, 4)]),
    OpCase("ger", lambda L, a, b: L.ger(a, b), [(3,), (4,)]),
    OpCase("arctan2", lambda L, a, b: L.arctan2(a, b), [(3, 4), (4,)], domain="nonzero"),
    OpCase("dstack", lambda L, a, b: L.dstack([a, b]), [(3, 4), (3, 4)]),
    OpCase("column_stack", lambda L, a, b: L.column_stack([a, b]), [(3,), (3, 2)]),
    OpCase("take_along_dim", lambda L, a, i: L.take_along_dim(a, i, 1), [(3, 4), (3, 2)], index_inputs=(1,),
           index_high=4),
    OpCase("take_along_dim_broadcast", lambda L, a, i: L.take_along_dim(a, i, 0), [(3, 4), (2, 1)],
           index_inputs=(1,), index_high=3),
    OpCase("take_along_dim_flat", lambda L, a, i: a.take_along_dim(i), [(3, 4), (5,)], index_inputs=(1,),
           index_high=12, noncontig=False),
    OpCase("meshgrid_ij", lambda L, a, b: L.meshgrid(a, b, indexing="ij"), [(3,), (4,)]),
    OpCase("meshgrid_xy", lambda L, a, b, c: L.meshgrid([a, b, c], indexing="xy"), [(3,), (4,), (2,)]),
]
