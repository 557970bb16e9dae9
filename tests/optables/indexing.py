"""Indexing reads and writes, and the gather/scatter family, against PyTorch."""
from optables import OpCase


def _set(x, index, value):
    """x[index] = value on a copy of x, the way a model writes into an intermediate tensor."""
    x = x * 1
    x[index] = value
    return x


def _set_plain(L, value, index, shape):
    """A tensor requiring grad written into a plain zeros tensor."""
    x = L.zeros(shape, dtype=value.dtype)
    x[index] = value
    return x


CASES = [
    # ---- basic indexing: views ----
    OpCase("getitem_int", lambda L, a: a[1], [(3, 4)]),
    OpCase("getitem_negative_int", lambda L, a: a[-1, -2], [(3, 4)]),
    OpCase("getitem_slice_step", lambda L, a: a[1:, ::2], [(4, 5)]),
    OpCase("getitem_negative_slice", lambda L, a: a[-3:-1, 1:100], [(4, 5)]),
    OpCase("getitem_ellipsis_int", lambda L, a: a[..., 1], [(2, 3, 4)]),
    OpCase("getitem_none", lambda L, a: a[None, 1, :, None], [(3, 4)]),
    OpCase("getitem_alias", lambda L, a: a[...], [(3, 4)]),
    OpCase("getitem_chained", lambda L, a: a[1:][0][::2], [(3, 4)]),
    OpCase("getitem_tensor_int", lambda L, a: a[L.tensor(1), 2:], [(3, 4)]),
    # ---- advanced indexing: copies, IndexBackward0 (repeated indices accumulate) ----
    OpCase("getitem_index_tensor", lambda L, a, i: a[i], [(5, 3), (7,)], index_inputs=(1,), index_high=5),
    OpCase("getitem_index_2d", lambda L, a, i: a[i], [(5, 3), (2, 3)], index_inputs=(1,), index_high=5),
    OpCase("getitem_index_list", lambda L, a: a[[0, 2, 2, -1]], [(4, 3)]),
    OpCase("getitem_two_indices", lambda L, a, i, j: a[i, j], [(4, 4), (6,), (6,)], index_inputs=(1, 2), index_high=4),
    OpCase("getitem_broadcast_indices", lambda L, a, i, j: a[i[:, None], j], [(4, 4), (2,), (3,)],
           index_inputs=(1, 2), index_high=4),
    OpCase("getitem_index_then_slice", lambda L, a, i: a[i, :, 1:3], [(4, 3, 5), (5,)], index_inputs=(1,), index_high=4),
    OpCase("getitem_slice_then_index", lambda L, a, i: a[1:, i], [(3, 4, 2), (5,)], index_inputs=(1,), index_high=4),
    OpCase("getitem_separated_indices", lambda L, a, i, j: a[i, :, j], [(3, 4, 3), (2,), (2,)],
           index_inputs=(1, 2), index_high=3),
    OpCase("getitem_int_and_index", lambda L, a, i: a[1, ..., i], [(3, 4, 3), (4,)], index_inputs=(1,), index_high=3),
    OpCase("getitem_none_and_index", lambda L, a, i: a[None, i], [(4, 3), (3,)], index_inputs=(1,), index_high=4),
    OpCase("getitem_mask", lambda L, a, m: a[m], [(3, 4), (3, 4)], mask_inputs=(1,)),
    OpCase("getitem_mask_dim1", lambda L, a, m: a[:, m], [(3, 4), (4,)], mask_inputs=(1,)),
    OpCase("getitem_mask_leading", lambda L, a, m: a[m], [(3, 4, 2), (3, 4)], mask_inputs=(1,)),
    OpCase("getitem_mask_from_values", lambda L, a: a[a > 0], [(3, 4)]),
    OpCase("getitem_bool_list", lambda L, a: a[[True, False, True]], [(3, 4)]),
    OpCase("getitem_true", lambda L, a: a[True], [(3, 4)]),
    # ---- assignment: CopySlices for views, IndexPutBackward0 for tensor indices ----
    OpCase("setitem_int", lambda L, a, v: _set(a, 1, v), [(3, 4), (4,)]),
    OpCase("setitem_slice_broadcast", lambda L, a, v: _set(a, (slice(1, None), slice(None, None, 2)), v), [(3, 4), (2,)]),
    OpCase("setitem_number", lambda L, a: _set(a, (0, slice(1, 3)), 2.5), [(3, 4)]),
    OpCase("setitem_0dim_tensor", lambda L, a, v: _set(a, (slice(None), 1), v), [(3, 4), ()]),
    OpCase("setitem_ellipsis", lambda L, a, v: _set(a, (Ellipsis, 0), v), [(2, 3, 4), (3,)]),
    OpCase("setitem_index", lambda L, a, v: _set(a, L.tensor([3, 0]), v), [(5, 3), (2, 3)]),
    OpCase("setitem_index_broadcast", lambda L, a, v: _set(a, ([0, 2], slice(1, 3)), v), [(3, 4), (2,)]),
    OpCase("setitem_index_number", lambda L, a: _set(a, [2, 0], -1.0), [(3, 4)]),
    OpCase("setitem_under_int", lambda L, a, v: _set(a, (1, [0, 3]), v), [(3, 4), (2,)]),
    OpCase("setitem_mask_number", lambda L, a, m: _set(a, m, 0.0), [(3, 4), (3, 4)], mask_inputs=(1,)),
    OpCase("setitem_mask_0dim", lambda L, a, v: _set(a, a > 0, v), [(3, 4), ()]),
    OpCase("setitem_mask_rows", lambda L, a, v: _set(a, L.tensor([True, False, True]), v), [(3, 4), (4,)]),
    OpCase("setitem_into_plain", lambda L, v: _set_plain(L, v, [0, 2], (3, 4)), [(4,)]),
    OpCase("setitem_view_into_plain", lambda L, v: _set_plain(L, v, (slice(None), 1), (3, 4)), [(3,)]),
    # ---- functions ----
    OpCase("index_select", lambda L, a, i: L.index_select(a, 1, i), [(3, 5), (4,)], index_inputs=(1,), index_high=5),
    OpCase("index_select_dim0", lambda L, a, i: a.index_select(0, i), [(4, 3), (6,)], index_inputs=(1,), index_high=4),
    OpCase("gather", lambda L, a, i: L.gather(a, 1, i), [(3, 5), (3, 4)], index_inputs=(1,), index_high=5),
    OpCase("gather_dim0", lambda L, a, i: a.gather(0, i), [(4, 3), (2, 3)], index_inputs=(1,), index_high=4),
    OpCase("scatter_src", lambda L, a, s: a.scatter(1, L.tensor([[0, 2], [1, 0], [3, 1]]), s), [(3, 4), (3, 2)]),
    OpCase("scatter_value", lambda L, a: L.scatter(a, 0, L.tensor([[2, 0, 1]]), 1.5), [(3, 3)]),
    OpCase("scatter_add", lambda L, a, s, i: a.scatter_add(1, i, s), [(3, 4), (3, 5), (3, 5)], index_inputs=(2,),
           index_high=4),
    OpCase("scatter_add_inplace", lambda L, a, s, i: (a * 1).scatter_add_(0, i, s), [(4, 3), (5, 3), (5, 3)],
           index_inputs=(2,), index_high=4),
    OpCase("scatter_inplace", lambda L, a, s: (a * 1).scatter_(0, L.tensor([[1, 0]]), s), [(3, 2), (1, 2)]),
    OpCase("masked_fill", lambda L, a, m: a.masked_fill(m, 0.5), [(3, 4), (3, 4)], mask_inputs=(1,)),
    OpCase("masked_fill_broadcast_mask", lambda L, a, m: L.masked_fill(a, m, -1), [(3, 4), (4,)], mask_inputs=(1,)),
    OpCase("masked_fill_broadcast_input", lambda L, a, m: a.masked_fill(m, 2.0), [(4,), (3, 4)], mask_inputs=(1,)),
    OpCase("masked_fill_tensor_value", lambda L, a, m, v: a.masked_fill(m, v), [(3, 4), (3, 4), ()], mask_inputs=(1,)),
    OpCase("masked_fill_inplace", lambda L, a, m: (a * 1).masked_fill_(m, 3.0), [(3, 4), (3, 4)], mask_inputs=(1,)),
    OpCase("masked_select", lambda L, a, m: a.masked_select(m), [(3, 4), (3, 4)], mask_inputs=(1,)),
    OpCase("masked_select_broadcast", lambda L, a, m: L.masked_select(a, m), [(3, 1), (3, 4)], mask_inputs=(1,)),
    OpCase("take", lambda L, a, i: L.take(a, i), [(3, 4), (2, 3)], index_inputs=(1,), index_high=12),
    OpCase("index_put_accumulate", lambda L, a, v, i: a.index_put((i,), v, accumulate=True), [(4, 3), (6, 3), (6,)],
           index_inputs=(2,), index_high=4),
    OpCase("index_put_", lambda L, a, v: (a * 1).index_put_((L.tensor([1, 0]), L.tensor([2, 2])), v), [(3, 4), (2,)]),
    OpCase("nonzero", lambda L, m: L.nonzero(m), [(3, 4)], mask_inputs=(0,), grad=False),
    OpCase("nonzero_as_tuple", lambda L, a: L.nonzero(a > 0, as_tuple=True), [(3, 4)], grad=False),
]
