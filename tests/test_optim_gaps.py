"""Rprop, ASGD and lr_scheduler.MultiplicativeLR against torch: trajectories, per-parameter state, state dicts
(and their round trip), reprs and errors."""
import warnings

import numpy as np
import pytest
import torch

import tapegrad
from test_errors import check_same_error
from test_optim_more import TOL, loss_fn, make_params

LIBS = (tapegrad, torch)

CONFIGS = {
    "Rprop": [{}, {"lr": 0.05, "etas": (0.3, 1.5)}, {"step_sizes": (1e-3, 0.02)}, {"maximize": True},
              {"lr": 0.2, "etas": (0.6, 1.1), "step_sizes": (0.05, 0.1), "foreach": False}],
    "ASGD": [{}, {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 5}, {"weight_decay": 0.1, "t0": 3},
             {"maximize": True, "t0": 0}, {"lr": 0.1, "lambd": 0.05, "t0": 1, "foreach": False}],
}
CASES = [(name, i) for name, configs in CONFIGS.items() for i in range(len(configs))]


def run(lib, name, config, dtype, steps=15, load_after=None, groups=False):
    """The parameters and the state dict after each step; the second parameter sits out every third step."""
    params = make_params(lib, dtype)
    arg = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.03}] if groups else params
    opt = getattr(lib.optim, name)(arg, **config)
    history = []
    for step in range(steps):
        opt.zero_grad()
        loss_fn(lib, params, step).backward()
        if step % 3 == 2:
            params[1].grad = None
        opt.step()
        state = opt.state_dict()  # its tensors are the optimizer's own: copied to keep this step's values
        state["state"] = {i: {k: v.clone() for k, v in s.items()} for i, s in state["state"].items()}
        history.append(([p.detach().numpy().copy() for p in params], state))
        if load_after == step:  # a state dict round trip into a fresh optimizer
            state = opt.state_dict()
            opt = getattr(lib.optim, name)(arg, **config)
            opt.load_state_dict(state)
    return history


def assert_same_state_dict(ours, ref, dtype):
    assert ours["param_groups"] == ref["param_groups"]
    assert list(ours["state"]) == list(ref["state"])
    for index, ref_state in ref["state"].items():
        state = ours["state"][index]
        assert list(state) == list(ref_state)
        for key, ref_value in ref_state.items():
            assert tuple(state[key].shape) == tuple(ref_value.shape)
            assert str(state[key].dtype) == str(ref_value.dtype)
            np.testing.assert_allclose(state[key].numpy(), ref_value.numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_trajectory_and_state_match_torch(name, index, dtype):
    config = CONFIGS[name][index]
    # Ascending this loss amplifies float32 rounding in its gradient (torch's SGD drifts from ours as much).
    steps = 10 if config.get("maximize") and dtype == "float32" else 15
    for (params, state), (ref_params, ref_state) in zip(run(tapegrad, name, config, dtype, steps),
                                                        run(torch, name, config, dtype, steps)):
        for ours, ref in zip(params, ref_params):
            np.testing.assert_allclose(ours, ref, **TOL[dtype])
        assert_same_state_dict(state, ref_state, dtype)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_param_groups_match_torch(name):
    ours = run(tapegrad, name, CONFIGS[name][1], "float64", steps=6, groups=True)
    ref = run(torch, name, CONFIGS[name][1], "float64", steps=6, groups=True)
    for (params, state), (ref_params, ref_state) in zip(ours, ref):
        for a, b in zip(params, ref_params):
            np.testing.assert_allclose(a, b, **TOL["float64"])
        assert_same_state_dict(state, ref_state, "float64")


@pytest.mark.parametrize("name", list(CONFIGS))
def test_state_dict_round_trip(name):
    config = CONFIGS[name][1]
    ours = run(tapegrad, name, config, "float64", steps=10, load_after=4)
    ref = run(torch, name, config, "float64", steps=10, load_after=4)  # loading casts ASGD's eta and mu to float64
    for a, b in zip(ours[-1][0], ref[-1][0]):
        np.testing.assert_allclose(a, b, **TOL["float64"])


@pytest.mark.parametrize("name", list(CONFIGS))
def test_loads_torch_state_dict(name):
    """A state dict torch saved (tensors carried over through NumPy) resumes to torch's trajectory."""
    config = CONFIGS[name][1]
    ref = run(torch, name, config, "float64", steps=10, load_after=4)
    ref_params = make_params(torch, "float64")
    ref_opt = getattr(torch.optim, name)(ref_params, **config)
    params = make_params(tapegrad, "float64")
    opt = getattr(tapegrad.optim, name)(params, **config)
    for step in range(10):
        if step == 5:
            saved = ref_opt.state_dict()
            state = {i: {k: tapegrad.tensor(v.numpy()) for k, v in s.items()} for i, s in saved["state"].items()}
            opt.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
            with torch.no_grad():
                for p, ref_p in zip(params, ref_params):
                    p.detach().copy_(tapegrad.tensor(ref_p.numpy()))
        for lib, o, ps in ((torch, ref_opt, ref_params), (tapegrad, opt, params)):
            o.zero_grad()
            loss_fn(lib, ps, step).backward()
            if step % 3 == 2:
                ps[1].grad = None
            o.step()
    for p, expected in zip(params, ref[-1][0]):
        np.testing.assert_allclose(p.detach().numpy(), expected, **TOL["float64"])


@pytest.mark.parametrize("name", list(CONFIGS))
def test_repr_and_defaults_match_torch(name):
    ours, ref = (getattr(lib.optim, name)(make_params(lib, "float32")) for lib in LIBS)
    assert repr(ours) == repr(ref)
    assert ours.defaults == ref.defaults


ERRORS = [
    "lib.optim.Rprop([lib.ones(2, requires_grad=True)], lr=-1)",
    "lib.optim.Rprop([lib.ones(2, requires_grad=True)], etas=(1.5, 1.2))",
    "lib.optim.Rprop([lib.ones(2, requires_grad=True)], etas=(0.5, 0.9))",
    "lib.optim.Rprop([lib.ones(2, requires_grad=True)], lr=lib.tensor([0.1, 0.2]))",
    "lib.optim.Rprop([])",
    "lib.optim.ASGD([lib.ones(2, requires_grad=True)], lr=-0.1)",
    "lib.optim.ASGD([lib.ones(2, requires_grad=True)], weight_decay=-1)",
    "lib.optim.ASGD(lib.ones(2, requires_grad=True))",
]


@pytest.mark.parametrize("code", ERRORS)
def test_error_matches_torch(code):
    check_same_error(code)


# ---- MultiplicativeLR ----

def _lambda_run(lib, lr_lambda, steps=8, load_after=None):
    params = make_params(lib, "float64")
    opt = lib.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=0.1)
    scheduler = lib.optim.lr_scheduler.MultiplicativeLR(opt, lr_lambda)
    rates = [scheduler.get_last_lr()]
    for step in range(steps):
        opt.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr())
        if load_after == step:
            state = scheduler.state_dict()
            scheduler = lib.optim.lr_scheduler.MultiplicativeLR(opt, lr_lambda)
            scheduler.load_state_dict(state)
    return rates, [g["lr"] for g in opt.param_groups], scheduler


class Factor:
    """A callable object: its __dict__ travels in the scheduler's state dict."""

    def __init__(self, base):
        self.base = base

    def __call__(self, epoch):
        return self.base + 0.01 * epoch


LAMBDAS = {
    "one_function": lambda epoch: 0.9,
    "per_group": [lambda epoch: 0.95, lambda epoch: 1.0 if epoch % 2 else 0.5],
    "callable_objects": (Factor(0.8), Factor(0.9)),
}


@pytest.mark.parametrize("name", list(LAMBDAS))
def test_multiplicative_lr_matches_torch(name):
    ours, ref = (_lambda_run(lib, LAMBDAS[name]) for lib in LIBS)
    assert ours[:2] == ref[:2]
    assert ours[2].state_dict() == ref[2].state_dict()


def test_multiplicative_lr_state_dict_round_trip():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fresh scheduler's first step comes before optimizer.step()
        ours = _lambda_run(tapegrad, LAMBDAS["callable_objects"], load_after=3)
    ref = _lambda_run(torch, LAMBDAS["callable_objects"])
    assert ours[1] == ref[1]
    assert ours[2].state_dict()["lr_lambdas"] == ref[2].state_dict()["lr_lambdas"] == [{"base": 0.8},
                                                                                        {"base": 0.9}]


SCHEDULER_ERRORS = [
    "p = lib.ones(2, requires_grad=True)\n"
    "lib.optim.lr_scheduler.MultiplicativeLR(lib.optim.SGD([p], lr=0.1), 0.9)",
    "p = lib.ones(2, requires_grad=True)\n"
    "lib.optim.lr_scheduler.MultiplicativeLR(lib.optim.SGD([p], lr=0.1), [lambda e: 1.0, lambda e: 1.0])",
    "lib.optim.lr_scheduler.MultiplicativeLR(None, lambda e: 1.0)",
]


@pytest.mark.parametrize("code", SCHEDULER_ERRORS)
def test_multiplicative_lr_errors_match_torch(code):
    check_same_error(code)


def test_new_names_are_exported_like_torch():
    assert "Rprop" in tapegrad.optim.__all__ and "ASGD" in tapegrad.optim.__all__
    assert "MultiplicativeLR" in tapegrad.optim.lr_scheduler.__all__
    assert issubclass(tapegrad.optim.lr_scheduler.MultiplicativeLR, tapegrad.optim.lr_scheduler.LRScheduler)
    assert not issubclass(tapegrad.optim.lr_scheduler.MultiplicativeLR, tapegrad.optim.lr_scheduler.LambdaLR)
