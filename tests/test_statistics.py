"""Bad input to the composed reductions raises what PyTorch raises; result types and edge cases match torch."""
import numpy as np
import pytest
import torch

import tapegrad
from fuzzkit import assert_same_error

BAD = {
    "kthvalue_k_high": lambda L: L.kthvalue(L.ones(3, 4), 5, 1),
    "kthvalue_k_zero": lambda L: L.ones(3, 4).kthvalue(0),
    "kthvalue_dim": lambda L: L.kthvalue(L.ones(3, 4), 1, 2),
    "quantile_q_range": lambda L: L.quantile(L.ones(3), 1.5),
    "quantile_q_tensor_range": lambda L: L.quantile(L.ones(3), L.tensor([0.5, 2.0])),
    "quantile_interpolation": lambda L: L.quantile(L.ones(3), 0.5, interpolation="foo"),
    "quantile_long": lambda L: L.quantile(L.ones(3, dtype=L.int64), 0.5),
    "quantile_empty": lambda L: L.quantile(L.ones(0), 0.5),
    "quantile_q_2d": lambda L: L.quantile(L.ones(3), L.tensor([[0.5]])),
    "quantile_q_dtype": lambda L: L.quantile(L.ones(3), L.tensor([0.5], dtype=L.float64)),
    "nanquantile_long": lambda L: L.nanquantile(L.ones(3, dtype=L.int64), 0.5),
    "nanmean_long": lambda L: L.nanmean(L.ones(3, dtype=L.int64)),
    "median_empty_dim": lambda L: L.median(L.ones(0, 3), 0),
    "mode_empty": lambda L: L.mode(L.ones(0)),
    "logcumsumexp_long": lambda L: L.logcumsumexp(L.ones(3, dtype=L.int64), 0),
    "cumprod_dim": lambda L: L.cumprod(L.ones(3), 1),
}


@pytest.mark.parametrize("name", list(BAD))
def test_errors_match_torch(name):
    assert_same_error(BAD[name])


NAN = float("nan")
CALLS = {
    "median_nan_all": lambda L: L.median(L.tensor([1.0, NAN, 2.0])),
    "median_nan_index": lambda L: L.median(L.tensor([[1.0, NAN, 2.0, NAN]]), 1),
    "median_even": lambda L: L.tensor([4.0, 1.0, 3.0, 2.0]).median(),
    "median_long": lambda L: L.median(L.tensor([[5, 1, 4], [2, 2, 9]]), 1),
    "nanmedian_all_nan": lambda L: L.nanmedian(L.tensor([[NAN, NAN], [NAN, 1.0]]), 1),
    "nanmedian_global": lambda L: L.nanmedian(L.tensor([NAN, 3.0, 1.0])),
    "mode_ties_last_index": lambda L: L.mode(L.tensor([[1.0, 2, 2, 3, 3], [5, 5, 1, 1, 7]]), 1),
    "mode_long": lambda L: L.mode(L.tensor([3, 1, 3, 1, 1])),
    "cummax_nan": lambda L: L.cummax(L.tensor([1.0, NAN, 3.0, NAN, 0.5]), 0),
    "cummin_long": lambda L: L.cummin(L.tensor([[3, 1, 2, 1], [0, 5, -1, -1]]), 1),
    "cumprod_long": lambda L: L.cumprod(L.tensor([[1, 2, 3], [4, 5, 6]]), 1),
    "cumprod_bool_dtype": lambda L: L.cumprod(L.tensor([True, True, False]), 0, dtype=L.float64),
    "logcumsumexp_inf": lambda L: L.logcumsumexp(L.tensor([float("-inf"), 0.0, 1000.0, -1000.0]), 0),
    "nansum_long": lambda L: L.nansum(L.tensor([[1, 2], [3, 4]]), 0),
    "nansum_dtype": lambda L: L.nansum(L.tensor([1.5, NAN]), dtype=L.float64),
    "nanmean_all_nan": lambda L: L.nanmean(L.tensor([[NAN, 1.0], [NAN, 3.0]]), 0),
    "std_mean_unbiased_false": lambda L: L.std_mean(L.tensor([[1.0, 2.0], [4.0, 8.0]]), 1, unbiased=False)[0],
    "quantile_q_list_all": lambda L: L.quantile(L.tensor([[1.0, 4.0], [2.0, 3.0]]), L.tensor([0.0, 0.5, 1.0])),
    "kthvalue_0d": lambda L: L.kthvalue(L.tensor(2.5), 1),
}


def flat(result):
    return list(result) if isinstance(result, tuple) else [result]


@pytest.mark.parametrize("name", list(CALLS))
def test_matches_torch(name):
    ours, ref = CALLS[name](tapegrad), CALLS[name](torch)
    assert type(ours).__name__ == type(ref).__name__
    for o, r in zip(flat(ours), flat(ref)):
        assert str(o.dtype) == str(r.dtype) and tuple(o.shape) == tuple(r.shape)
        np.testing.assert_allclose(np.asarray(o), r.numpy(), rtol=1e-6)


def test_return_type_repr_and_fields():
    result = tapegrad.median(tapegrad.tensor([[1.0, 3.0, 2.0]]), 1)
    assert repr(result).startswith("torch.return_types.median(\nvalues=tensor([2.])")
    values, indices = result
    assert values is result.values and indices is result.indices
    assert isinstance(result, tapegrad.return_types.median)
