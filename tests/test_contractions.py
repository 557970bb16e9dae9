"""Bad input to einsum, tensordot, cdist, cross, block_diag and diagonal raises what PyTorch raises; results with
no gradient (dtype promotion, integer inputs, the deprecated cross dim) match torch."""
import warnings

import numpy as np
import pytest
import torch

import tapegrad
from fuzzkit import assert_call_matches, assert_same_error

BAD = {
    "einsum_no_operands": lambda L: L.einsum("ij,jk"),
    "einsum_rank": lambda L: L.einsum("ij", L.ones(2)),
    "einsum_sizes": lambda L: L.einsum("ij,jk", L.ones(2, 3), L.ones(4, 5)),
    "einsum_unknown_output": lambda L: L.einsum("i,j->k", L.ones(2), L.ones(2)),
    "einsum_repeated_sizes": lambda L: L.einsum("ii", L.ones(2, 3)),
    "einsum_bad_subscript": lambda L: L.einsum("i1", L.ones(2, 3)),
    "einsum_bad_output_subscript": lambda L: L.einsum("i->1", L.ones(2)),
    "einsum_extra_operand": lambda L: L.einsum("i", L.ones(2), L.ones(2)),
    "einsum_missing_operand": lambda L: L.einsum("i,i,i", L.ones(2), L.ones(2)),
    "einsum_dtypes": lambda L: L.einsum("i,i", L.ones(2, dtype=L.float64), L.ones(2)),
    "einsum_ellipsis_broadcast": lambda L: L.einsum("...i,...i", L.ones(2, 3), L.ones(4, 3)),
    "einsum_output_repeated": lambda L: L.einsum("i,i->ii", L.ones(2), L.ones(2)),
    "einsum_lone_dot": lambda L: L.einsum("i.,i", L.ones(2), L.ones(2)),
    "einsum_two_ellipses": lambda L: L.einsum("......", L.ones(2)),
    "einsum_sublist_range": lambda L: L.einsum(L.ones(2), [60]),
    "tensordot_sizes": lambda L: L.tensordot(L.ones(2, 3), L.ones(4, 3), dims=([1], [0])),
    "tensordot_negative": lambda L: L.tensordot(L.ones(2, 3), L.ones(4, 3), dims=-1),
    "tensordot_too_many": lambda L: L.tensordot(L.ones(2, 3), L.ones(4, 3), dims=3),
    "tensordot_lengths": lambda L: L.tensordot(L.ones(2, 3), L.ones(4, 3), dims=([1], [0, 1])),
    "cdist_mode": lambda L: L.cdist(L.ones(3, 4), L.ones(2, 4), compute_mode="x"),
    "cdist_columns": lambda L: L.cdist(L.ones(3, 4), L.ones(2, 5)),
    "cdist_1d": lambda L: L.cdist(L.ones(4), L.ones(2, 4)),
    "cdist_negative_p": lambda L: L.cdist(L.ones(3, 4), L.ones(2, 4), p=-1),
    "cdist_long": lambda L: L.cdist(L.ones(3, 4, dtype=L.int64), L.ones(2, 4, dtype=L.int64)),
    "cross_length": lambda L: L.linalg.cross(L.ones(3, 4), L.ones(3, 4)),
    "cross_dim_length": lambda L: L.cross(L.ones(3, 4), L.ones(4, 3), dim=0),
    "cross_ranks": lambda L: L.linalg.cross(L.ones(3, 3), L.ones(3)),
    "block_diag_3d": lambda L: L.block_diag(L.ones(2, 2), L.ones(2, 2, 2)),
    "diagonal_same_dims": lambda L: L.diagonal(L.ones(3, 4), 0, 1, -1),
    "diagonal_dim_range": lambda L: L.ones(3, 4).diagonal(0, 0, 2),
}


@pytest.mark.parametrize("name", list(BAD))
def test_errors_match_torch(name):
    assert_same_error(BAD[name])


CALLS = {
    "kron_promotes": lambda L: L.kron(L.tensor([1, 2]), L.tensor([[0.5], [1.5]], dtype=L.float64)),
    "kron_long": lambda L: L.kron(L.tensor([[1, 2], [3, 4]]), L.tensor([1, -1])),
    "block_diag_promotes": lambda L: L.block_diag(L.tensor([[1, 2]]), L.tensor(2.5), L.tensor([True, False])),
    "block_diag_empty": lambda L: L.block_diag(),
    "einsum_long": lambda L: L.einsum("ij,j->i", L.tensor([[1, 2], [3, 4]]), L.tensor([5, 6])),
    "tensordot_tensor_dims": lambda L: L.tensordot(L.arange(6.0).reshape(2, 3), L.arange(12.0).reshape(3, 4),
                                                   dims=L.tensor([[1], [0]])),
    "cdist_identical_points": lambda L: L.cdist(L.ones(30, 2), L.ones(3, 2)),
    "diagonal_0d_offset": lambda L: L.arange(24.0).reshape(2, 3, 4).diagonal(2, 2, 1),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_matches_torch(name):
    assert_call_matches(CALLS[name])


def test_cross_without_dim_warns_and_takes_first_dim_of_three():
    a, b = np.random.default_rng(0).standard_normal((2, 3, 3))
    results = []
    for lib in (tapegrad, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results.append(np.asarray(lib.cross(lib.tensor(a), lib.tensor(b))))
        assert any("without specifying the dim arg is deprecated" in str(w.message) for w in caught)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_diagonal_is_a_view():
    x = tapegrad.zeros(3, 3)
    x.diagonal().fill_(1.0)
    np.testing.assert_array_equal(np.asarray(x), np.eye(3))


def test_einsum_cdist_gradients_at_zero_distance():
    grads = []
    for lib in (tapegrad, torch):
        x = lib.ones(30, 2, requires_grad=True)
        lib.cdist(x, lib.ones(3, 2)).sum().backward()
        grads.append(np.asarray(x.grad))
    np.testing.assert_array_equal(grads[0], grads[1])
