"""Composite ops without gradients (index and range factories, counting, bitwise) and the in-place twins of the
composite ops, against torch."""
import pytest
import torch

import tapegrad
from fuzzkit import assert_call_matches, assert_same_error

CALLS = {
    "triu_indices": lambda L: L.triu_indices(3, 4, 1),
    "tril_indices": lambda L: L.tril_indices(4, 3, -1),
    "logspace": lambda L: L.logspace(-2, 1, 7),
    "logspace_base2": lambda L: L.logspace(0, 4, 5, base=2, dtype=L.float64),
    "count_nonzero": lambda L: L.count_nonzero(L.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])),
    "count_nonzero_dim": lambda L: L.tensor([[0, 1, 0], [2, 0, 3]]).count_nonzero(1),
    "bitwise_and": lambda L: L.bitwise_and(L.tensor([12, 10, -3]), L.tensor([10, 6, 5])),
    "bitwise_or_bool": lambda L: L.tensor([True, False]).bitwise_or(L.tensor([False, False])),
    "bitwise_xor_number": lambda L: L.bitwise_xor(L.tensor([12, 10, -3]), 5),
    "bitwise_not": lambda L: L.bitwise_not(L.tensor([0, 7, -8])),
    "bitwise_not_bool": lambda L: L.tensor([True, False]).bitwise_not(),
    "addcmul_": lambda L: L.ones(2, 3).addcmul_(L.arange(3.0), L.full((2, 1), 2.0), value=0.5),
    "addcdiv_": lambda L: L.ones(2, 3).addcdiv_(L.arange(3.0), L.full((2, 1), 4.0), value=-1),
    "lerp_": lambda L: L.zeros(3).lerp_(L.arange(3.0), 0.75),
    "clamp_min_": lambda L: L.arange(-2.0, 3.0).clamp_min_(0.5),
    "atan2_": lambda L: L.arange(-2.0, 3.0).atan2_(L.full((5,), 1.5)),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_matches_torch(name):
    assert_call_matches(CALLS[name])


BAD = {
    "bitwise_on_float": lambda L: L.bitwise_and(L.ones(2), L.ones(2)),
    "addcmul_float_into_long": lambda L: L.ones(2, dtype=L.int64).addcmul_(L.ones(2), L.ones(2)),
    "addcmul_broadcast_into_smaller": lambda L: L.ones(2).addcmul_(L.ones(3, 2), L.ones(2)),
    "lerp_dtype": lambda L: L.lerp(L.ones(2), L.ones(2, dtype=L.float64), 0.5),
    "addmm_shapes": lambda L: L.addmm(L.ones(2), L.ones(2, 3), L.ones(4, 2)),
    "meshgrid_indexing": lambda L: L.meshgrid(L.ones(2), indexing="yx"),
    "movedim_repeated": lambda L: L.movedim(L.ones(2, 3), (0, 0), (1, 0)),
    "trace_3d": lambda L: L.trace(L.ones(2, 2, 2)),
}


@pytest.mark.parametrize("name", list(BAD))
def test_errors_match_torch(name):
    assert_same_error(BAD[name])


@pytest.mark.parametrize("make", [
    lambda L: (L.tensor([1, 2]), L.tensor([1.0])),
    lambda L: (L.tensor([1, 2]), 2.5),
    lambda L: (L.tensor([True]), L.tensor([3])),
    lambda L: (L.tensor([1.0], dtype=L.float64), L.tensor(2.0)),
    lambda L: (L.tensor(1.0, dtype=L.float64), L.tensor([1.0])),
], ids=["int_float", "int_number", "bool_int", "double_float_0dim", "double_0dim_float"])
def test_result_type_matches_torch(make):
    assert str(tapegrad.result_type(*make(tapegrad))) == str(torch.result_type(*make(torch)))
