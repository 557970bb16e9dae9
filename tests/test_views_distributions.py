"""Tensor.unfold, unflatten, nbytes / itemsize, broadcast_shapes / broadcast_tensors and torch.distributions'
Normal and Categorical, against torch."""
import math

import numpy as np
import pytest
import torch

import tapegrad
from fuzzkit import assert_same_error

X = np.arange(24.0).reshape(4, 6)
CALLS = {
    "unfold": lambda L: L.tensor(X).unfold(1, 2, 1),
    "unfold_step": lambda L: L.tensor(X).unfold(0, 2, 2),
    "unfold_strided_input": lambda L: L.tensor(X).t().unfold(1, 3, 1),
    "unfold_full_window": lambda L: L.tensor(X).unfold(-1, 6, 4),
    "unfold_0d": lambda L: L.tensor(3.0).unfold(0, 1, 1),
    "unflatten": lambda L: L.tensor(X).unflatten(1, (2, 3)),
    "unflatten_infer": lambda L: L.unflatten(L.tensor(X), -1, (-1, 2)),
    "broadcast_tensors": lambda L: L.broadcast_tensors(L.zeros(3, 1), L.ones(4), L.tensor(2.0)),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_matches_torch(name):
    ours, ref = CALLS[name](tapegrad), CALLS[name](torch)
    ours, ref = (ours if isinstance(ours, tuple) else (ours,)), (ref if isinstance(ref, tuple) else (ref,))
    for o, r in zip(ours, ref):
        assert tuple(o.shape) == tuple(r.shape) and tuple(o.stride()) == tuple(r.stride())
        np.testing.assert_array_equal(o.numpy(), r.numpy())


def test_unfold_is_a_view_with_torchs_gradient():
    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        windows = x.t().unfold(1, 2, 1)
        (windows * lib.arange(36.0, dtype=lib.float64).reshape(6, 3, 2)).sum().backward()
        base = lib.zeros(5)
        base.unfold(0, 2, 2)[1, 0] = 7
        return windows.grad_fn.name(), x.grad.numpy(), base.numpy()

    ours, ref = run(tapegrad), run(torch)
    assert ours[0] == ref[0]
    np.testing.assert_array_equal(ours[1], ref[1])
    np.testing.assert_array_equal(ours[2], ref[2])
    x = tapegrad.tensor(X[:2, :5], requires_grad=True)
    assert tapegrad.autograd.gradcheck(lambda t: t.unfold(1, 3, 2), (x,))


def test_sizes_in_bytes():
    for lib in (tapegrad, torch):
        assert lib.zeros(3, 4).nbytes == 48 and lib.zeros(3, dtype=lib.float64).itemsize == 8
    assert tapegrad.broadcast_shapes((3, 1), (4,), 1) == torch.broadcast_shapes((3, 1), (4,), 1)


BAD = {
    "unfold_too_big": lambda L: L.zeros(3, 4).unfold(1, 5, 1),
    "unfold_step_0": lambda L: L.zeros(3, 4).unfold(1, 2, 0),
    "unfold_dim": lambda L: L.zeros(3, 4).unfold(3, 1, 1),
    "unflatten_product": lambda L: L.zeros(3, 4).unflatten(1, (3, 3)),
    "broadcast_shapes": lambda L: L.broadcast_shapes((3,), (4,)),
    "broadcast_tensors": lambda L: L.broadcast_tensors(L.zeros(3), L.zeros(4)),
    "normal_scale": lambda L: L.distributions.Normal(L.zeros(2), L.tensor([1.0, -1.0])),
    "categorical_both": lambda L: L.distributions.Categorical(probs=L.ones(2), logits=L.ones(2)),
    "categorical_0d": lambda L: L.distributions.Categorical(probs=L.tensor(1.0)),
}


@pytest.mark.parametrize("name", list(BAD))
def test_errors_match_torch(name):
    assert_same_error(BAD[name], lambda text: text.split("\n")[0])


def distribution_results(lib):
    lib.manual_seed(3)
    categorical = lib.distributions.Categorical(probs=lib.tensor([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))
    samples = categorical.sample((4,))
    from_logits = lib.distributions.Categorical(logits=lib.tensor([1.0, 2.0, 3.0]))
    loc = lib.tensor([0.0, 1.0], requires_grad=True)
    scale = lib.tensor([2.0, 0.5], requires_grad=True)
    normal = lib.distributions.Normal(loc, scale)
    drawn = normal.rsample((3,))
    (normal.log_prob(drawn).sum() + normal.entropy().sum()).backward()
    value = lib.tensor([0.25, 1.5])
    return [samples, categorical.log_prob(samples), categorical.entropy(), categorical.mode, categorical.probs,
            from_logits.logits, from_logits.probs, from_logits.sample((5,)), from_logits.entropy(), drawn,
            normal.sample((2,)), loc.grad, scale.grad, normal.mean, normal.stddev, normal.variance,
            normal.cdf(value), normal.icdf(lib.tensor([0.1, 0.9])), lib.distributions.Normal(0.0, 1.0).log_prob(value)]


def test_distributions_match_torch():
    for o, r in zip(distribution_results(tapegrad), distribution_results(torch)):
        assert tuple(o.shape) == tuple(r.shape) and str(o.dtype) == str(r.dtype)
        np.testing.assert_allclose(o.detach().numpy(), r.detach().numpy(), rtol=1e-6)


def test_distribution_shapes():
    normal = tapegrad.distributions.Normal(tapegrad.zeros(2, 1), tapegrad.ones(3))
    assert tuple(normal.batch_shape) == (2, 3) and tuple(normal.event_shape) == ()
    assert tuple(normal.sample((4,)).shape) == (4, 2, 3)
    categorical = tapegrad.distributions.Categorical(logits=tapegrad.zeros(2, 5))
    assert tuple(categorical.batch_shape) == (2,) and tuple(categorical.param_shape) == (2, 5)
    assert bool(categorical.mean.isnan().all()) and math.isclose(categorical.entropy()[0].item(), math.log(5),
                                                                 rel_tol=1e-6)
