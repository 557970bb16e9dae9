"""index_add, index_copy, index_fill and scatter_reduce (python/tapegrad/_indexing.py)."""
from optables import OpCase

# Rows of a [3, 4] input that each column of a [2, 4] src scatters to (repeats included).
SCATTER_INDEX = [[0, 1, 2, 0], [2, 2, 1, 0]]


def scatter_reduce_case(reduce, include_self, dim=0):
    def fn(L, x, src):
        index = L.tensor(SCATTER_INDEX if dim == 0 else [[0, 3], [1, 1], [2, 0]])
        return x.scatter_reduce(dim, index, src, reduce, include_self=include_self)

    shapes = [(3, 4), (2, 4)] if dim == 0 else [(3, 4), (3, 2)]
    return OpCase(f"scatter_reduce_{reduce}_{'self' if include_self else 'noself'}_dim{dim}", fn, shapes,
                  gradcheck=reduce != "prod" or include_self)


CASES = [scatter_reduce_case(r, inc) for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)]
CASES += [
    scatter_reduce_case("mean", True, dim=1),
    scatter_reduce_case("amin", False, dim=1),
    OpCase("torch_scatter_reduce_prod", lambda L, x, s: L.scatter_reduce(x, 0, L.tensor(SCATTER_INDEX), s, "prod"),
           [(3, 4), (2, 4)], domain="nonzero"),
    OpCase("index_add", lambda L, x, s, i: x.index_add(0, i, s), [(3, 4), (5, 4), (5,)], index_inputs=(2,),
           index_high=3),
    OpCase("index_add_alpha_dim1", lambda L, x, s: L.index_add(x, 1, L.tensor([3, 0, 3]), s, alpha=-2),
           [(3, 4), (3, 3)]),
    OpCase("index_add_broadcast_free", lambda L, x, s: L.index_add(x, -1, L.tensor([1]), s), [(2, 3, 4), (2, 3, 1)]),
    OpCase("index_copy", lambda L, x, s: x.index_copy(0, L.tensor([2, 0]), s), [(3, 4), (2, 4)]),
    OpCase("index_copy_dim1", lambda L, x, s: L.index_copy(x, 1, L.tensor([1, 3, 0]), s), [(3, 4), (3, 3)]),
    OpCase("index_fill_number", lambda L, x: x.index_fill(1, L.tensor([0, 2]), -1.5), [(3, 4)]),
    OpCase("index_fill_tensor", lambda L, x, v: L.index_fill(x, 0, L.tensor([1, 1]), v), [(3, 4), ()]),
]
