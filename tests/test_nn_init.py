"""nn.init against PyTorch: identical values after manual_seed (the RNG is bit-exact), gains,
fans, statistics and errors."""
import math
import warnings

import numpy as np
import pytest
import torch

import tapegrad

SHAPES = [(5, 3), (64, 33), (4, 3, 2, 2)]


def seeded(fn, shape, dtype="float32", seed=7):
    """fn(lib, tensor) in both libraries from the same seed, on a parameter that requires grad."""
    out = []
    for lib in (tapegrad, torch):
        lib.manual_seed(seed)
        t = lib.empty(shape, dtype=getattr(lib, dtype)).requires_grad_()
        result = fn(lib, t)
        assert result is t
        assert t.requires_grad and t.grad_fn is None
        out.append(t.detach().numpy())
    return out


INITIALIZERS = {
    "uniform_": lambda L, t: L.nn.init.uniform_(t),
    "uniform_range": lambda L, t: L.nn.init.uniform_(t, -0.3, 1.7),
    "normal_": lambda L, t: L.nn.init.normal_(t),
    "normal_mean_std": lambda L, t: L.nn.init.normal_(t, 2.0, 0.5),
    "xavier_uniform_": lambda L, t: L.nn.init.xavier_uniform_(t),
    "xavier_uniform_gain": lambda L, t: L.nn.init.xavier_uniform_(t, gain=L.nn.init.calculate_gain("tanh")),
    "xavier_normal_": lambda L, t: L.nn.init.xavier_normal_(t),
    "xavier_normal_gain": lambda L, t: L.nn.init.xavier_normal_(t, gain=2.0),
    "kaiming_uniform_": lambda L, t: L.nn.init.kaiming_uniform_(t),
    "kaiming_uniform_sqrt5": lambda L, t: L.nn.init.kaiming_uniform_(t, a=math.sqrt(5)),
    "kaiming_uniform_fan_out_relu": lambda L, t: L.nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
    "kaiming_normal_": lambda L, t: L.nn.init.kaiming_normal_(t),
    "kaiming_normal_fan_out": lambda L, t: L.nn.init.kaiming_normal_(t, a=0.2, mode="fan_out"),
    "constant_": lambda L, t: L.nn.init.constant_(t, 0.25),
    "ones_": lambda L, t: L.nn.init.ones_(t),
    "zeros_": lambda L, t: L.nn.init.zeros_(t),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", list(INITIALIZERS))
def test_initialiser_values_equal_torch_after_manual_seed(name, shape, dtype):
    ours, ref = seeded(INITIALIZERS[name], shape, dtype)
    np.testing.assert_array_equal(ours, ref)


def test_successive_draws_stay_in_step_with_torch():
    def draws(lib, t):
        lib.nn.init.kaiming_uniform_(t)
        lib.nn.init.normal_(t, 0.0, 0.1)
        return lib.nn.init.xavier_uniform_(t)
    ours, ref = seeded(draws, (17, 9))
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None),
])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert tapegrad.nn.init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_fans_match_torch():
    for shape in SHAPES:
        assert (tapegrad.nn.init._calculate_fan_in_and_fan_out(tapegrad.empty(shape))
                == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)))


def test_initialiser_statistics():
    tapegrad.manual_seed(0)
    t = tapegrad.empty(400, 500)
    tapegrad.nn.init.kaiming_normal_(t, nonlinearity="relu")
    assert abs(t.std().item() - math.sqrt(2.0 / 500)) < 1e-3
    assert abs(t.mean().item()) < 1e-3
    tapegrad.nn.init.xavier_uniform_(t)
    bound = math.sqrt(6.0 / 900)
    assert t.max().item() <= bound and t.min().item() >= -bound
    assert abs(t.std().item() - bound / math.sqrt(3)) < 1e-3


INIT_ERRORS = [
    lambda L: L.nn.init.kaiming_uniform_(L.empty(3)),
    lambda L: L.nn.init.xavier_uniform_(L.empty(3)),
    lambda L: L.nn.init.xavier_normal_(L.empty(())),
    lambda L: L.nn.init.calculate_gain("foo"),
    lambda L: L.nn.init.calculate_gain("leaky_relu", "a"),
    lambda L: L.nn.init.calculate_gain("leaky_relu", True),
    lambda L: L.nn.init.kaiming_uniform_(L.empty(3, 4), mode="foo"),
    lambda L: L.nn.init.kaiming_normal_(L.empty(3, 4), nonlinearity="foo"),
]


@pytest.mark.parametrize("fn", INIT_ERRORS)
def test_init_errors_match_torch(fn):
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(tapegrad)
    assert type(ours.value) is type(ref.value)
    assert str(ours.value) == str(ref.value)


def test_zero_element_kaiming_warns_and_is_a_no_op():
    for lib in (tapegrad, torch):
        t = lib.empty(0, 3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert lib.nn.init.kaiming_uniform_(t) is t
        assert [str(w.message) for w in caught] == ["Initializing zero-element tensors is a no-op"]


@pytest.mark.parametrize("layer", [
    lambda L: L.nn.Linear(7, 5),
    lambda L: L.nn.Linear(3, 1, bias=False),
    lambda L: L.nn.Embedding(6, 4, padding_idx=2),
    lambda L: L.nn.Sequential(L.nn.Linear(4, 8), L.nn.ReLU(), L.nn.Linear(8, 2)),
    lambda L: L.nn.LayerNorm(5),
    lambda L: L.nn.BatchNorm1d(3),
])
@pytest.mark.parametrize("seed", [0, 1, 1234])
def test_default_layer_init_equals_torch_after_manual_seed(layer, seed):
    states = []
    for lib in (tapegrad, torch):
        lib.manual_seed(seed)
        states.append({k: v.numpy() for k, v in layer(lib).state_dict().items()})
    assert list(states[0]) == list(states[1])
    for key in states[0]:
        np.testing.assert_array_equal(states[0][key], states[1][key])
