"""torch.linalg det / slogdet / inv / solve on singular and special inputs, the norms' bad orders, and their
errors, against torch."""
import math

import numpy as np
import pytest
import torch

import tapegrad

SINGULAR = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 5.0]]
CALLS = {
    "det_singular": lambda L: L.linalg.det(L.tensor(SINGULAR)),
    "det_permutation": lambda L: L.det(L.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])),
    "slogdet_singular": lambda L: tuple(L.linalg.slogdet(L.tensor(SINGULAR, dtype=L.float64))),
    "slogdet_negative": lambda L: tuple(L.slogdet(L.tensor([[0.0, 2.0], [3.0, 1.0]]))),
    "logdet_negative": lambda L: L.logdet(L.tensor([[0.0, 2.0], [3.0, 1.0]])),
    "det_empty": lambda L: L.linalg.det(L.zeros(2, 0, 0)),
    "inv_1x1": lambda L: L.linalg.inv(L.tensor([[4.0]])),
    "solve_needs_pivoting": lambda L: L.linalg.solve(L.tensor([[1e-20, 1.0], [1.0, 1.0]], dtype=L.float64),
                                                     L.tensor([1.0, 2.0], dtype=L.float64)),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_matches_torch(name):
    ours, ref = CALLS[name](tapegrad), CALLS[name](torch)
    ours, ref = (ours if isinstance(ours, tuple) else (ours,)), (ref if isinstance(ref, tuple) else (ref,))
    for o, r in zip(ours, ref):
        assert tuple(o.shape) == tuple(r.shape) and str(o.dtype) == str(r.dtype)
        np.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-6, atol=1e-6)


def test_slogdet_is_a_named_tuple():
    sign, logabsdet = tapegrad.linalg.slogdet(tapegrad.eye(2) * 2)
    result = tapegrad.linalg.slogdet(tapegrad.eye(2) * 2)
    assert result.sign.item() == sign.item() == 1.0
    assert math.isclose(result.logabsdet.item(), logabsdet.item()) and math.isclose(logabsdet.item(), math.log(4), rel_tol=1e-6)


def test_double_backward_through_inv_and_det():
    def run(lib):
        a = lib.tensor([[2.0, 0.5], [0.3, 1.5]], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad((lib.linalg.inv(a).sum() + lib.linalg.det(a)), a, create_graph=True)
        g.pow(2).sum().backward()
        return a.grad.numpy()

    np.testing.assert_allclose(run(tapegrad), run(torch), rtol=1e-10)


def test_gradcheck_solve_and_slogdet():
    a = tapegrad.tensor([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.0, 0.4, 1.0]], dtype=tapegrad.float64,
                        requires_grad=True)
    b = tapegrad.tensor([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]], dtype=tapegrad.float64, requires_grad=True)
    assert tapegrad.autograd.gradcheck(lambda x, y: tapegrad.linalg.solve(x, y), (a, b))
    assert tapegrad.autograd.gradcheck(lambda x: tapegrad.linalg.slogdet(x).logabsdet, (a,))


BAD = {
    "inv_singular": lambda L: L.linalg.inv(L.tensor(SINGULAR)),
    "inv_zero": lambda L: L.linalg.inv(L.zeros(3, 3)),
    "inv_not_square": lambda L: L.linalg.inv(L.ones(2, 3)),
    "inv_1d": lambda L: L.linalg.inv(L.ones(3)),
    "inv_long": lambda L: L.linalg.inv(L.ones(2, 2, dtype=L.int64)),
    "det_not_square": lambda L: L.linalg.det(L.ones(2, 3)),
    "slogdet_not_square": lambda L: L.linalg.slogdet(L.ones(2, 3)),
    "solve_singular": lambda L: L.linalg.solve(L.zeros(2, 2), L.ones(2)),
    "solve_shapes": lambda L: L.linalg.solve(L.eye(2), L.ones(3)),
    "matrix_norm_1d": lambda L: L.linalg.matrix_norm(L.ones(3)),
    "matrix_norm_order": lambda L: L.linalg.matrix_norm(L.ones(3, 3), 3),
    "vector_norm_long": lambda L: L.linalg.vector_norm(L.ones(3, dtype=L.int64)),
    "norm_3d_ord": lambda L: L.linalg.norm(L.ones(2, 2, 2), "fro"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_errors_match_torch(name):
    errors = []
    for lib in (tapegrad, torch):
        with pytest.raises(RuntimeError) as info:
            BAD[name](lib)
        errors.append((issubclass(type(info.value), lib.linalg.LinAlgError), str(info.value)))
    assert errors[0] == errors[1]
