"""unique, unique_consecutive, histc, the in-place index_add_/index_copy_/index_fill_/scatter_reduce_ and their
errors, against torch."""
import numpy as np
import pytest
import torch

import tapegrad
from fuzzkit import assert_same_error


def assert_same(ours, ref):
    ours = ours if isinstance(ours, tuple) else (ours,)
    ref = ref if isinstance(ref, tuple) else (ref,)
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        assert str(o.dtype) == str(r.dtype) and tuple(o.shape) == tuple(r.shape)
        np.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-6)


VALUES = [[3.0, 1.0, 2.0, 3.0], [1.0, 1.0, -4.0, 2.0], [3.0, 1.0, 2.0, 3.0]]
CALLS = {
    "unique": lambda L: L.unique(L.tensor(VALUES)),
    "unique_inverse_counts": lambda L: L.unique(L.tensor(VALUES), return_inverse=True, return_counts=True),
    "unique_int_counts": lambda L: L.tensor([5, 2, 5, 5, 0]).unique(return_counts=True),
    "unique_bool": lambda L: L.unique(L.tensor([True, False, True]), return_inverse=True),
    "unique_empty": lambda L: L.unique(L.zeros(0), return_inverse=True, return_counts=True),
    "unique_dim0": lambda L: L.unique(L.tensor(VALUES), dim=0, return_inverse=True, return_counts=True),
    "unique_dim1": lambda L: L.unique(L.tensor([[1, 2, 1], [0, 5, 0]]), dim=1, return_inverse=True),
    "unique_consecutive": lambda L: L.unique_consecutive(L.tensor([1, 1, 2, 2, 3, 1, 1]), return_inverse=True,
                                                         return_counts=True),
    "unique_consecutive_2d": lambda L: L.tensor(VALUES).unique_consecutive(return_counts=True),
    "unique_consecutive_dim0": lambda L: L.unique_consecutive(L.tensor([[1, 2], [1, 2], [0, 2], [1, 2]]), dim=0,
                                                              return_inverse=True, return_counts=True),
    "histc": lambda L: L.histc(L.tensor([1.0, 2, 1, 4, 2.5, -1]), bins=4, min=0, max=3),
    "histc_data_range": lambda L: L.tensor([1.0, 2, 1, 4, 2.5], dtype=L.float64).histc(bins=5),
    "histc_constant": lambda L: L.histc(L.full((4,), 2.0), bins=4),
    "histc_random": lambda L: L.histc(L.tensor(np.random.default_rng(0).standard_normal(1000).astype("float32")), 30,
                                      -2, 2),
    "index_add_": lambda L: L.zeros(3, 4).index_add_(1, L.tensor([0, 2, 0]), L.ones(3, 3), alpha=3),
    "index_copy_": lambda L: L.zeros(3, 4).index_copy_(0, L.tensor([2, 0]), L.arange(8.0).view(2, 4)),
    "index_fill_": lambda L: L.zeros(3, 4).index_fill_(1, L.tensor([3]), L.tensor(-2.0)),
    "index_fill_long": lambda L: L.zeros(3, 4, dtype=L.int64).index_fill(0, L.tensor([1]), 7),
    "scatter_reduce_": lambda L: L.ones(3, 4).scatter_reduce_(0, L.tensor([[0, 1, 2, 0]]), L.full((1, 4), 5.0),
                                                              "amax"),
    "scatter_reduce_mean_long": lambda L: L.tensor([[1, 2], [3, 4]]).scatter_reduce(
        1, L.tensor([[0, 0], [1, 1]]), L.tensor([[4, 5], [7, 7]]), "mean", include_self=False),
    "scatter_reduce_amax_long_noself": lambda L: L.zeros(2, 3, dtype=L.int64).scatter_reduce(
        1, L.tensor([[0, 0], [2, 2]]), L.tensor([[-4, -5], [7, 9]]), "amax", include_self=False),
    "scatter_reduce_prod_long_wraps": lambda L: L.ones(2, dtype=L.int64).scatter_reduce(
        0, L.tensor([0, 0, 1]), L.tensor([2 ** 40, 2 ** 40 + 1, 3]), "prod"),
    "scatter_reduce_nan": lambda L: L.zeros(4).scatter_reduce(0, L.tensor([0, 0, 1]), L.tensor([float("nan"), 1, 2]),
                                                              "amin"),
    "scatter_reduce_legacy_max": lambda L: L.zeros(4).scatter_reduce(0, L.tensor([0, 0, 1]), L.tensor([3.0, 1, 2]),
                                                                     "max"),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_matches_torch(name):
    assert_same(CALLS[name](tapegrad), CALLS[name](torch))


def test_scatter_reduce_prod_gradient_through_zeros():
    def run(lib):
        x = lib.tensor([[1.0, 0.0, 2.0], [0.0, 3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        src = lib.tensor([[0.0, 2.0, 0.0], [5.0, 0.0, 0.0]], dtype=lib.float64, requires_grad=True)
        index = lib.tensor([[0, 1, 1], [1, 0, 1]])
        x.scatter_reduce(0, index, src, "prod").sum().backward()
        return x.grad.numpy(), src.grad.numpy()

    for o, r in zip(run(tapegrad), run(torch)):
        np.testing.assert_allclose(o, r)


def test_amax_ties_share_the_gradient():
    def run(lib):
        x = lib.tensor([1.0, 5.0], requires_grad=True)
        src = lib.tensor([5.0, 5.0, 0.0], requires_grad=True)
        x.scatter_reduce(0, lib.tensor([1, 1, 0]), src, "amax").sum().backward()
        return x.grad.numpy(), src.grad.numpy()

    for o, r in zip(run(tapegrad), run(torch)):
        np.testing.assert_allclose(o, r)


BAD = {
    "scatter_reduce_reduce": lambda L: L.zeros(3).scatter_reduce(0, L.tensor([0]), L.ones(1), "add"),
    "scatter_reduce_dtype": lambda L: L.zeros(3).scatter_reduce(0, L.tensor([0]), L.ones(1, dtype=L.float64), "sum"),
    "scatter_reduce_bounds": lambda L: L.zeros(3).scatter_reduce(0, L.tensor([5]), L.ones(1), "amax"),
    "index_add_bounds": lambda L: L.zeros(3, 4).index_add(0, L.tensor([0, 5]), L.ones(2, 4)),
    "index_add_negative": lambda L: L.zeros(3, 4).index_add(0, L.tensor([-1, 0]), L.ones(2, 4)),
    "index_add_shape": lambda L: L.zeros(3, 4).index_add(0, L.tensor([0, 1]), L.ones(2, 3)),
    "index_add_index_2d": lambda L: L.zeros(3, 4).index_add(0, L.tensor([[0, 1]]), L.ones(2, 4)),
    "index_add_float_index": lambda L: L.zeros(3, 4).index_add(0, L.tensor([0.0, 1]), L.ones(2, 4)),
    "index_add_dtype": lambda L: L.zeros(3, 4).index_add(0, L.tensor([0, 1]), L.ones(2, 4, dtype=L.float64)),
    "index_add_count": lambda L: L.zeros(3, 4).index_add(0, L.tensor([0, 1, 2]), L.ones(2, 4)),
    "index_add_dim": lambda L: L.zeros(3, 4).index_add(2, L.tensor([0]), L.ones(3, 1)),
    "index_copy_bounds": lambda L: L.zeros(3, 4).index_copy(0, L.tensor([0, 5]), L.ones(2, 4)),
    "index_copy_shape": lambda L: L.zeros(3, 4, 5).index_copy(1, L.tensor([0, 1]), L.ones(3, 2, 4)),
    "index_copy_count": lambda L: L.zeros(3, 4, 5).index_copy(1, L.tensor([0, 1, 2]), L.ones(3, 2, 5)),
    "index_copy_dtype": lambda L: L.zeros(3, 4).index_copy(0, L.tensor([0, 1]), L.ones(2, 4, dtype=L.float64)),
    "index_fill_bounds": lambda L: L.zeros(3, 4).index_fill(0, L.tensor([0, 5]), 1.0),
    "index_fill_value_1d": lambda L: L.zeros(3, 4).index_fill(0, L.tensor([0, 1]), L.ones(2)),
    "index_fill_float_index": lambda L: L.zeros(3, 4).index_fill(0, L.tensor([0.0, 1]), 1.0),
    "histc_long": lambda L: L.histc(L.tensor([1, 2]), 3),
    "histc_bins": lambda L: L.histc(L.ones(3), 0),
    "histc_range": lambda L: L.histc(L.ones(3), 3, 2, 1),
    "unique_dim": lambda L: L.unique(L.ones(3, 4), dim=5),
}


@pytest.mark.parametrize("name", list(BAD))
def test_errors_match_torch(name):
    assert_same_error(BAD[name], lambda text: text.split("\n")[0])
