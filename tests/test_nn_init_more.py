"""trunc_normal_, orthogonal_, sparse_, dirac_ and eye_ against PyTorch: the same values after manual_seed in float32
and float64, on Parameters in place, and the same errors and warnings."""
import numpy as np
import pytest
import torch

import tapegrad
from test_nn_modules import assert_same_error

TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-13)}

INITS = {
    "trunc_normal_default": (lambda init, t: init.trunc_normal_(t), (6, 5)),
    "trunc_normal_wide": (lambda init, t: init.trunc_normal_(t, mean=0.5, std=0.1, a=0.0, b=1.0), (40,)),
    "trunc_normal_narrow_window": (lambda init, t: init.trunc_normal_(t, mean=1.0, std=0.5, a=0.0, b=0.3), (8, 9)),
    "trunc_normal_one_sided": (lambda init, t: init.trunc_normal_(t, mean=0.0, std=1.0, a=1.5, b=4.0), (30,)),
    "orthogonal_tall": (lambda init, t: init.orthogonal_(t), (7, 4)),
    "orthogonal_wide_gain": (lambda init, t: init.orthogonal_(t, gain=2.0), (3, 8)),
    "orthogonal_conv": (lambda init, t: init.orthogonal_(t), (6, 2, 3)),
    "sparse": (lambda init, t: init.sparse_(t, 0.3), (7, 5)),
    "sparse_std": (lambda init, t: init.sparse_(t, sparsity=0.9, std=1.0), (4, 6)),
    "dirac": (lambda init, t: init.dirac_(t), (4, 3, 5)),
    "dirac_groups_2d": (lambda init, t: init.dirac_(t, groups=2), (6, 2, 3, 3)),
    "dirac_3d": (lambda init, t: init.dirac_(t), (2, 3, 3, 2, 3)),
    "eye": (lambda init, t: init.eye_(t), (3, 5)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(INITS))
def test_init_matches_torch_after_manual_seed(name, dtype):
    fill, shape = INITS[name]
    results = []
    for lib in (tapegrad, torch):
        lib.manual_seed(7)
        param = lib.nn.Parameter(lib.empty(*shape, dtype=getattr(lib, dtype)))
        returned = fill(lib.nn.init, param)
        assert returned is param and param.is_leaf and param.requires_grad
        results.append(param)
    assert str(results[0].dtype) == str(results[1].dtype)
    np.testing.assert_allclose(results[0].detach().numpy(), results[1].detach().numpy(), **TOL[dtype])


def test_orthogonal_rows_are_orthonormal():
    w = tapegrad.nn.init.orthogonal_(tapegrad.empty(4, 9, dtype=tapegrad.float64)).numpy()
    np.testing.assert_allclose(w @ w.T, np.eye(4), atol=1e-12)


def test_trunc_normal_warns_like_torch_when_mean_is_far_outside():
    for lib in (tapegrad, torch):
        with pytest.warns(UserWarning, match="mean is more than 2 std from"):
            lib.nn.init.trunc_normal_(lib.empty(3), mean=10.0, std=1.0, a=-1.0, b=1.0)


ERRORS = {
    "eye_3d": lambda L: L.nn.init.eye_(L.empty(2, 2, 2)),
    "dirac_2d": lambda L: L.nn.init.dirac_(L.empty(2, 2)),
    "dirac_groups": lambda L: L.nn.init.dirac_(L.empty(3, 2, 3), groups=2),
    "orthogonal_1d": lambda L: L.nn.init.orthogonal_(L.empty(3)),
    "sparse_3d": lambda L: L.nn.init.sparse_(L.empty(2, 2, 2), 0.5),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_bad_input_raises_like_torch(name):
    assert_same_error(ERRORS[name])
