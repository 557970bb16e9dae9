"""bincount, searchsorted and bucketize against torch: values, dtypes and bad-input errors."""
import pytest

import tapegrad
from fuzzkit import assert_call_matches, assert_same_error

CALLS = {
    "bincount": lambda L: L.bincount(L.tensor([1, 3, 1, 0])),
    "bincount_minlength": lambda L: L.tensor([1, 3]).bincount(minlength=6),
    "bincount_float_weights": lambda L: L.bincount(L.tensor([1, 3, 1]), L.tensor([0.5, 1.0, 2.0])),
    "bincount_double_weights": lambda L: L.bincount(L.tensor([1, 3, 1]), L.tensor([0.5, 1.0, 2.0],
                                                                                   dtype=L.float64)),
    "bincount_long_weights": lambda L: L.bincount(L.tensor([1, 3, 1]), L.tensor([1, 2, 3])),
    "bincount_empty": lambda L: L.bincount(L.tensor([], dtype=L.int64)),
    "searchsorted": lambda L: L.searchsorted(L.tensor([1, 2, 2, 3]), L.tensor([[2, 0], [4, 3]])),
    "searchsorted_right": lambda L: L.searchsorted(L.tensor([1.0, 2, 2, 3]), L.tensor([2.0, 2.5]), right=True),
    "searchsorted_side": lambda L: L.searchsorted(L.tensor([1.0, 2, 2, 3]), L.tensor([2.0]), side="right"),
    "searchsorted_scalar": lambda L: L.searchsorted(L.tensor([1, 2, 2, 3]), 2),
    "searchsorted_batched": lambda L: L.searchsorted(L.tensor([[1.0, 2, 3], [2, 4, 6]]), L.tensor([[2.5], [4.0]]),
                                                     right=True),
    "searchsorted_sorter": lambda L: L.searchsorted(L.tensor([3.0, 1, 2]), L.tensor([1.5, 2.5]),
                                                    sorter=L.tensor([1, 2, 0])),
    "bucketize": lambda L: L.bucketize(L.tensor([[0.5, 2.0], [3.0, 9.0]]), L.tensor([1.0, 2.0, 3.0])),
    "bucketize_right": lambda L: L.bucketize(L.tensor([2.0, 3.0]), L.tensor([1.0, 2.0, 3.0]), right=True),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_matches_torch(name):
    assert_call_matches(CALLS[name])


BAD = {
    "bincount_negative": lambda L: L.bincount(L.tensor([-1])),
    "bincount_2d": lambda L: L.bincount(L.tensor([[1]])),
    "bincount_float": lambda L: L.bincount(L.tensor([1.0])),
    "bincount_minlength": lambda L: L.bincount(L.tensor([1]), minlength=-1),
    "bincount_weights_length": lambda L: L.bincount(L.tensor([1, 2]), L.ones(3)),
    "searchsorted_side": lambda L: L.searchsorted(L.tensor([1.0, 2]), L.tensor([1.0]), side="x"),
    "searchsorted_opposites": lambda L: L.searchsorted(L.tensor([1.0, 2]), L.tensor([1.0]), side="left",
                                                       right=True),
    "searchsorted_shapes": lambda L: L.searchsorted(L.tensor([[1.0, 2]]), L.tensor([1.0])),
    "bucketize_2d": lambda L: L.bucketize(L.tensor([1.0]), L.tensor([[1.0, 2]])),
}


@pytest.mark.parametrize("name", list(BAD))
def test_errors_match_torch(name):
    assert_same_error(BAD[name])


def test_out_int32_is_refused_without_an_int32_dtype():
    with pytest.raises(NotImplementedError, match="no int32 dtype"):
        tapegrad.searchsorted(tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([1.5]), out_int32=True)
