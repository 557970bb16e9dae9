"""Adagrad, Adadelta, Adamax, NAdam, RAdam and LBFGS: trajectories against torch.optim."""
import numpy as np
import pytest
import torch

import tapegrad

TOL = {"float32": dict(rtol=1e-6, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-12)}

CONFIGS = {
    "Adagrad": [{}, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5},
                {"maximize": True}],
    "Adadelta": [{}, {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.05}, {"maximize": True}],
    "Adamax": [{}, {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}, {"maximize": True}],
    "NAdam": [{}, {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01},
              {"weight_decay": 0.1, "decoupled_weight_decay": True}, {"maximize": True}],
    "RAdam": [{}, {"lr": 0.01, "weight_decay": 0.1}, {"weight_decay": 0.1, "decoupled_weight_decay": True},
              {"betas": (0.5, 0.9)}],
}
CASES = [(name, i) for name, configs in CONFIGS.items() for i in range(len(configs))]


def make_params(lib, dtype):
    rng = np.random.default_rng(0)
    return [lib.tensor(rng.standard_normal(shape).astype(dtype)).requires_grad_(True) for shape in [(3, 4), (4,)]]


def loss_fn(lib, params, step):
    w, b = params
    x = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4).astype(str(w.dtype).replace("torch.", ""))) * (1 + step % 3)
    return ((x * w).sum(1).tanh() + b.sum() * b.sum() * 0.1).pow(2).sum()


def trajectory(lib, name, config, dtype, steps=20, load_after=None):
    params = make_params(lib, dtype)
    opt = getattr(lib.optim, name)(params, **config)
    history = []
    for step in range(steps):
        opt.zero_grad()
        loss_fn(lib, params, step).backward()
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
        if load_after == step:  # a state dict round trip into a fresh optimizer
            state = opt.state_dict()
            opt = getattr(lib.optim, name)(params, **config)
            opt.load_state_dict(state)
    return history


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_trajectory_matches_torch(name, index, dtype):
    config = CONFIGS[name][index]
    ours = trajectory(tapegrad, name, config, dtype)
    ref = trajectory(torch, name, config, dtype)
    for a, b in zip(ours, ref):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, **TOL[dtype])


@pytest.mark.parametrize("name", list(CONFIGS))
def test_state_dict_round_trip(name):
    ours = trajectory(tapegrad, name, {}, "float64", steps=10, load_after=4)
    ref = trajectory(torch, name, {}, "float64", steps=10)
    np.testing.assert_allclose(ours[-1][0], ref[-1][0], **TOL["float64"])
    state = getattr(tapegrad.optim, name)(make_params(tapegrad, "float64")).state_dict()
    ref_state = getattr(torch.optim, name)(make_params(torch, "float64")).state_dict()
    assert state["param_groups"][0].keys() == ref_state["param_groups"][0].keys()


def test_state_keys_match_torch():
    for name in CONFIGS:
        states = []
        for lib in (tapegrad, torch):
            params = make_params(lib, "float32")
            opt = getattr(lib.optim, name)(params)
            loss_fn(lib, params, 0).backward()
            opt.step()
            states.append({k: (tuple(v.shape), str(v.dtype)) for k, v in opt.state[params[0]].items()})
        assert states[0] == states[1], name


@pytest.mark.parametrize("name,bad", [("Adagrad", {"lr_decay": -1}), ("Adadelta", {"rho": 1.5}),
                                      ("Adamax", {"betas": (1.0, 0.9)}), ("NAdam", {"momentum_decay": -1}),
                                      ("RAdam", {"eps": -1}), ("Adagrad", {"lr": -0.1})])
def test_bad_hyperparameters(name, bad):
    with pytest.raises(ValueError) as ref:
        getattr(torch.optim, name)(make_params(torch, "float32"), **bad)
    with pytest.raises(ValueError) as ours:
        getattr(tapegrad.optim, name)(make_params(tapegrad, "float32"), **bad)
    assert str(ours.value) == str(ref.value)


def rosenbrock(lib, p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def mild(lib, p):
    x, y = p[0], p[1]
    return (x - 0.5) ** 2 + 3 * (y + 0.25) ** 2 + 0.5 * (x * y) ** 2


# Rosenbrock's valley amplifies float32 rounding differences into different iterates: float64 only there.
@pytest.mark.parametrize("objective,dtype", [(rosenbrock, "float64"), (mild, "float64"), (mild, "float32")])
@pytest.mark.parametrize("config", [{}, {"line_search_fn": "strong_wolfe"},
                                    {"history_size": 3, "max_iter": 5, "lr": 0.5},
                                    {"history_size": 4, "max_iter": 7, "line_search_fn": "strong_wolfe"}])
def test_lbfgs_matches_torch(config, objective, dtype):
    results = []
    for lib in (tapegrad, torch):
        p = lib.tensor(np.array([-1.2, 1.0], dtype=dtype)).requires_grad_(True)
        opt = lib.optim.LBFGS([p], **config)
        losses = []

        def closure():
            opt.zero_grad()
            loss = objective(lib, p)
            loss.backward()
            return loss

        for _ in range(4):
            losses.append(opt.step(closure).item())
        state = opt.state[p]
        results.append((losses, p.detach().numpy().copy(), state["func_evals"], state["n_iter"]))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(results[0][0], results[1][0], **tol)
    np.testing.assert_allclose(results[0][1], results[1][1], **tol)
    assert results[0][2:] == results[1][2:]


def test_lbfgs_refuses_groups_and_unknown_line_search():
    for lib in (tapegrad, torch):
        a, b = make_params(lib, "float32")
        with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
            lib.optim.LBFGS([{"params": [a]}, {"params": [b]}])
        opt = lib.optim.LBFGS([a], line_search_fn="wolfe")

        def closure():
            opt.zero_grad()
            loss = (a * a).sum()
            loss.backward()
            return loss

        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            opt.step(closure)
