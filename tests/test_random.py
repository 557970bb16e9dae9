"""Random sampling with an explicit generator, and the samplers whose streams follow torch's: the same seed gives
torch's numbers. torch's CPU build draws bernoulli_(p) and exponential_ from MKL's own streams on Intel CPUs, so
those (and multinomial without replacement, an exponential race) are checked by their distributions instead."""
import numpy as np
import pytest
import torch

import tapegrad
from fuzzkit import assert_same_error


def seeded(lib, seed=7):
    g = lib.Generator()
    g.manual_seed(seed)
    return g


SAME_STREAM = {
    "rand_generator": lambda L: L.rand(2, 3, generator=seeded(L)),
    "randn_generator": lambda L: L.randn(5, generator=seeded(L), dtype=L.float64),
    "uniform_generator": lambda L: L.empty(4, 3).uniform_(-2, 3, generator=seeded(L)),
    "normal_generator": lambda L: L.empty(7).normal_(1.5, 0.5, generator=seeded(L)),
    "init_normal_generator": lambda L: L.nn.init.normal_(L.empty(3, 3), generator=seeded(L)),
}


@pytest.mark.parametrize("name", list(SAME_STREAM))
def test_generator_stream_matches_torch(name):
    ours, ref = SAME_STREAM[name](tapegrad), SAME_STREAM[name](torch)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


def test_generator_leaves_default_stream_alone():
    tapegrad.manual_seed(0)
    expected = tapegrad.rand(3)
    tapegrad.manual_seed(0)
    tapegrad.empty(5).normal_(generator=seeded(tapegrad))
    np.testing.assert_array_equal(tapegrad.rand(3).numpy(), expected.numpy())


def test_generator_must_be_a_generator():
    with pytest.raises(TypeError):
        tapegrad.empty(3).uniform_(generator=3)


SAME_SAMPLES = {
    "bernoulli_tensor": lambda L: L.bernoulli(L.rand(30)),
    "bernoulli_float64_probs": lambda L: L.bernoulli(L.rand(4, 5, dtype=L.float64), generator=seeded(L)),
    "bernoulli_tensor_p_": lambda L: L.empty(5, 6).bernoulli_(L.rand(6)),
    "random_float32": lambda L: L.empty(10).random_(),
    "random_float64": lambda L: L.empty(10, dtype=L.float64).random_(),
    "random_int64": lambda L: L.empty(10, dtype=L.int64).random_(),
    "random_from_to": lambda L: L.empty(10, dtype=L.int64).random_(-5, 5, generator=seeded(L)),
    "random_to": lambda L: L.empty(10).random_(7),
    "multinomial_replacement_1d": lambda L: L.multinomial(L.tensor([0.2, 0.3, 0.5]), 50, replacement=True),
    "multinomial_replacement_one_sample": lambda L: L.cat([L.multinomial(L.rand(3, 4), 1, True).view(-1).double(),
                                                           L.rand(2, dtype=L.float64)]),
    "multinomial_replacement_2d": lambda L: L.rand(4, 7).multinomial(20, True, generator=seeded(L)),
    "poisson": lambda L: L.poisson(L.rand(50) * 30),
    "poisson_then_rand": lambda L: L.cat([L.poisson(L.tensor([0.0, 1.5, 12.0, 100.0])), L.rand(3)]),
    "normal_tensor_number": lambda L: L.normal(L.zeros(20), 2.0),
    "normal_tensor_tensor": lambda L: L.normal(L.arange(20.0), L.rand(20)),
    "normal_number_tensor": lambda L: L.normal(1.0, L.rand(3, 20, dtype=L.float64), generator=seeded(L)),
    "normal_size": lambda L: L.normal(1.0, 2.0, (4, 5)),
    "randint_like": lambda L: L.randint_like(L.zeros(3, 4), 10),
    "randint_like_low_high": lambda L: L.randint_like(L.zeros(3, 4, dtype=L.int64), -3, 10),
}


@pytest.mark.parametrize("name", list(SAME_SAMPLES))
def test_samples_match_torch(name):
    torch.manual_seed(5)
    tapegrad.manual_seed(5)
    ours, ref = SAME_SAMPLES[name](tapegrad), SAME_SAMPLES[name](torch)
    assert str(ours.dtype) == str(ref.dtype) and tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_bernoulli_scalar_p_distribution():
    draws = tapegrad.empty(20000).bernoulli_(0.3, generator=seeded(tapegrad)).numpy()
    assert set(np.unique(draws)) <= {0.0, 1.0}
    assert abs(draws.mean() - 0.3) < 0.015


def test_exponential_distribution():
    draws = tapegrad.empty(20000, dtype=tapegrad.float64).exponential_(2.0, generator=seeded(tapegrad)).numpy()
    assert draws.min() >= 0
    assert abs(draws.mean() - 0.5) < 0.02 and abs(draws.std() - 0.5) < 0.02


def test_multinomial_without_replacement():
    probs = tapegrad.tensor([[0.1, 0.0, 0.6, 0.3], [1.0, 1.0, 1.0, 1.0]])
    tapegrad.manual_seed(0)
    draws = [tapegrad.multinomial(probs, 3) for _ in range(2000)]
    for sample in draws:
        assert sorted(set(sample[0].tolist())) == sorted(sample[0].tolist()) and 1 not in sample[0].tolist()
        assert len(set(sample[1].tolist())) == 3
    first = np.bincount([int(d[0, 0]) for d in draws], minlength=4) / len(draws)
    np.testing.assert_allclose(first, [0.1, 0.0, 0.6, 0.3], atol=0.04)


def test_normal_records_zero_gradients():
    def run(lib):
        mean = lib.zeros(3, requires_grad=True)
        std = lib.ones(3, requires_grad=True)
        out = lib.normal(mean, std)
        out.sum().backward()
        return out.grad_fn.name(), mean.grad.numpy(), std.grad.numpy()

    ours, ref = run(tapegrad), run(torch)
    assert ours[0] == ref[0]
    for o, r in zip(ours[1:], ref[1:]):
        np.testing.assert_array_equal(o, r)


BAD = {
    "multinomial_3d": lambda L: L.multinomial(L.ones(2, 2, 2), 1),
    "multinomial_zero_samples": lambda L: L.multinomial(L.ones(3), 0),
    "multinomial_too_many": lambda L: L.multinomial(L.ones(3), 4),
    "multinomial_negative": lambda L: L.multinomial(L.tensor([1.0, -1.0, 1.0]), 1),
    "multinomial_nan": lambda L: L.multinomial(L.tensor([1.0, float("nan")]), 1),
    "multinomial_zero_sum": lambda L: L.multinomial(L.zeros(3), 1),
    "multinomial_long": lambda L: L.multinomial(L.tensor([1, 2]), 1),
    "poisson_negative": lambda L: L.poisson(L.tensor([-1.0])),
    "bernoulli_probs": lambda L: L.bernoulli(L.tensor([1.5])),
    "bernoulli_p": lambda L: L.empty(2).bernoulli_(1.5),
    "exponential_lambda": lambda L: L.empty(3).exponential_(-1),
    "normal_std": lambda L: L.normal(L.zeros(2), -1.0),
    "normal_std_tensor": lambda L: L.normal(L.zeros(2), -L.ones(2)),
    "random_bounds": lambda L: L.empty(2).random_(5, 2),
}


@pytest.mark.parametrize("name", list(BAD))
def test_errors_match_torch(name):
    assert_same_error(BAD[name])
