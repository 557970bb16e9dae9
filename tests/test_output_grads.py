"""relu, tanh and sigmoid backward: the fused kernels that read the op's output, against torch.

Without create_graph the gradient comes from one fused kernel; with it, from the formula in tapegrad
ops (so that it can be differentiated again). Both are checked, on every layout the loops walk.
"""
import numpy as np
import pytest
import torch

import tapegrad

OPS = ["relu", "tanh", "sigmoid"]
GRAD_LAYOUTS = {
    "contiguous": lambda g: g,
    "transposed": lambda g: g.t().contiguous().t(),
    "sliced": lambda g: g.unsqueeze(2).expand(g.shape[0], g.shape[1], 2).flatten(1)[:, ::2],
    "expanded": lambda g: g[:1].expand(g.shape[0], g.shape[1]),
}
SHAPES = [(7, 5), (300, 400)]  # the second above the pool's grain


def pair(shape, dtype, seed):
    data = np.random.default_rng(seed).uniform(-4, 4, size=shape).astype(dtype)
    return tapegrad.tensor(data), torch.tensor(data)


def tolerance(dtype):
    # tanh's 1 - y * y is one fused multiply-add here and two roundings in ATen: up to an ulp of 1 apart,
    # times |g| <= 4.
    return dict(rtol=1e-6, atol=5e-7) if dtype == "float32" else dict(rtol=1e-13, atol=1e-15)


def torch_backward_of(op, grad, output):
    """ATen's own backward kernel for op, given tapegrad's output: the kernels compare without the
    forward's last-ulp differences, which 1 - y * y magnifies where tanh(x) is near 1."""
    if op == "relu":
        return torch.ops.aten.threshold_backward(grad, output, 0)
    return getattr(torch.ops.aten, f"{op}_backward")(grad, output)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("layout", GRAD_LAYOUTS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", OPS)
def test_grad_matches_torch(op, dtype, layout, shape):
    x, tx = pair(shape, dtype, seed=0)
    g, tg = pair(shape, dtype, seed=1)
    x.requires_grad_()
    tx.requires_grad_()
    g, tg = GRAD_LAYOUTS[layout](g), GRAD_LAYOUTS[layout](tg)
    y = getattr(x, op)()
    ours = tapegrad.autograd.grad(y, x, g)[0]
    theirs = torch_backward_of(op, tg, torch.from_numpy(y.detach().numpy()))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), **tolerance(dtype))
    end_to_end = torch.autograd.grad(getattr(tx, op)(), tx, tg)[0]
    np.testing.assert_allclose(ours.numpy(), end_to_end.numpy(), rtol=1e-4 if dtype == "float32" else 1e-10,
                               atol=1e-6 if dtype == "float32" else 1e-13)
    recorded = tapegrad.autograd.grad(getattr(x, op)(), x, g, create_graph=True)[0]
    np.testing.assert_allclose(recorded.detach().numpy(), ours.numpy(), **tolerance(dtype))


@pytest.mark.parametrize("op", OPS)
def test_double_backward_matches_torch(op):
    x, tx = pair((6, 4), "float64", seed=2)
    x.requires_grad_()
    tx.requires_grad_()
    (gx,) = tapegrad.autograd.grad(getattr(x, op)().sum(), x, create_graph=True)
    (tgx,) = torch.autograd.grad(getattr(tx, op)().sum(), tx, create_graph=True)
    ours = tapegrad.autograd.grad((gx * gx).sum(), x)[0]
    theirs = torch.autograd.grad((tgx * tgx).sum(), tx)[0]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("op", OPS)
def test_gradcheck(op):
    x = tapegrad.tensor(np.random.default_rng(3).uniform(-2, 2, size=(5, 3)) + 0.05, requires_grad=True)
    assert tapegrad.autograd.gradcheck(getattr(tapegrad, op), (x,))


def test_relu_grad_at_nan_zero_and_negative_zero():
    values = [float("nan"), 0.0, -0.0, -1.0, 2.0, float("inf"), float("-inf")]
    x, tx = tapegrad.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    ours = tapegrad.autograd.grad(x.relu(), x, tapegrad.ones(len(values)))[0]
    theirs = torch.autograd.grad(tx.relu(), tx, torch.ones(len(values)))[0]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_grad_of_other_dtype_is_cast():
    x, tx = pair((4, 3), "float32", seed=4)
    x.requires_grad_()
    tx.requires_grad_()
    ours = tapegrad.autograd.grad(x.sigmoid(), x, tapegrad.ones(4, 3, dtype=tapegrad.float64))
    theirs = torch.autograd.grad(tx.sigmoid(), tx, torch.ones(4, 3, dtype=torch.float64))
    assert ours[0].dtype == tapegrad.float32
    np.testing.assert_allclose(ours[0].numpy(), theirs[0].numpy(), rtol=1e-6)
