"""tapegrad.optim.lr_scheduler against torch's: learning-rate sequences over 40 epochs (exactly
equal: the same Python float arithmetic), closed forms, chaining, state dicts, warnings, errors."""
import math
import warnings

import pytest
import torch

import tapegrad
import tapegrad.optim

EPOCHS = 40


def optimizer(lib, lrs=(0.1, 0.05), name="SGD"):
    groups = [{"params": [lib.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return getattr(lib.optim, name)(groups, lr=1.0, momentum=0.9) if name == "SGD" else getattr(lib.optim, name)(groups)


def lr_sequence(lib, make_schedulers, epochs=EPOCHS, name="SGD"):
    """get_last_lr() and the group lrs after each epoch of optimizer.step(); scheduler.step()."""
    opt = optimizer(lib, name=name)
    schedulers = make_schedulers(lib, opt)
    seq = [[s.get_last_lr() for s in schedulers] + [[g["lr"] for g in opt.param_groups]]]
    for _ in range(epochs):
        opt.step()
        for s in schedulers:
            s.step()
        seq.append([s.get_last_lr() for s in schedulers] + [[g["lr"] for g in opt.param_groups]])
    return seq


class Scale:
    """A callable object, whose state LambdaLR saves (unlike a plain function's)."""

    def __init__(self, base):
        self.base = base

    def __call__(self, epoch):
        return self.base**epoch


SCHEDULES = {
    "StepLR": lambda lib, opt: [lib.optim.lr_scheduler.StepLR(opt, step_size=7)],
    "StepLR gamma": lambda lib, opt: [lib.optim.lr_scheduler.StepLR(opt, 3, gamma=0.7)],
    "MultiStepLR": lambda lib, opt: [lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 10, 10, 25], gamma=0.5)],
    "ExponentialLR": lambda lib, opt: [lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.93)],
    "CosineAnnealingLR": lambda lib, opt: [lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)],
    "CosineAnnealingLR eta_min": lambda lib, opt: [lib.optim.lr_scheduler.CosineAnnealingLR(opt, 15, eta_min=0.001)],
    "LambdaLR": lambda lib, opt: [lib.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0 / (1 + e))],
    "LambdaLR per group": lambda lib, opt: [
        lib.optim.lr_scheduler.LambdaLR(opt, [lambda e: 0.95**e, lambda e: math.cos(e / 10)])],
    "LambdaLR object": lambda lib, opt: [lib.optim.lr_scheduler.LambdaLR(opt, Scale(0.9))],
    "Exponential then Step (chained)": lambda lib, opt: [
        lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9), lib.optim.lr_scheduler.StepLR(opt, 5, gamma=0.5)],
    "Cosine and MultiStep (chained)": lambda lib, opt: [
        lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.01),
        lib.optim.lr_scheduler.MultiStepLR(opt, [4, 12])],
    "LinearLR": lambda lib, opt: [lib.optim.lr_scheduler.LinearLR(opt)],
    "LinearLR decay": lambda lib, opt: [lib.optim.lr_scheduler.LinearLR(opt, 1.0, 0.1, total_iters=30)],
    "OneCycleLR": lambda lib, opt: [lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=EPOCHS)],
    "OneCycleLR linear three-phase": lambda lib, opt: [lib.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[0.4, 0.2], epochs=8, steps_per_epoch=5, anneal_strategy="linear", three_phase=True)],
}


@pytest.mark.parametrize("case", list(SCHEDULES))
def test_lr_sequence_matches_torch(case):
    assert lr_sequence(tapegrad, SCHEDULES[case]) == lr_sequence(torch, SCHEDULES[case])


@pytest.mark.parametrize("name", ["Adam", "RMSprop"])
def test_lr_sequence_with_other_optimizers(name):
    make = SCHEDULES["CosineAnnealingLR"]
    assert lr_sequence(tapegrad, make, name=name) == lr_sequence(torch, make, name=name)


def test_initial_lr_and_base_lrs():
    for lib in (tapegrad, torch):
        opt = optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
        assert sched.base_lrs == [0.1, 0.05] and sched.last_epoch == 0 and sched.get_last_lr() == [0.1, 0.05]


@pytest.mark.parametrize("case", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR eta_min"])
def test_closed_form_with_an_explicit_epoch(case):
    def run(lib):
        opt = optimizer(lib)
        sched = SCHEDULES[case](lib, opt)[0]
        out = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for epoch in [3, 7, 8, 20, 14, 33]:
                opt.step()
                sched.step(epoch)
                out.append((sched.last_epoch, sched.get_last_lr()))
        assert any("epoch parameter in `scheduler.step()`" in str(w.message) for w in caught)
        return out

    assert run(tapegrad) == run(torch)


def test_resuming_with_last_epoch():
    def run(lib):
        opt = optimizer(lib)
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"] * 2
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=12, last_epoch=5)
        out = [sched.get_last_lr()]
        for _ in range(10):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr())
        return out

    assert run(tapegrad) == run(torch)


@pytest.mark.parametrize("case", ["StepLR", "MultiStepLR", "CosineAnnealingLR", "LambdaLR object", "LinearLR"])
def test_state_dict_matches_torch_and_round_trips(case):
    def run(lib):
        opt = optimizer(lib)
        sched = SCHEDULES[case](lib, opt)[0]
        for _ in range(6):
            opt.step()
            sched.step()
        state = sched.state_dict()
        # A fresh optimizer and scheduler continue from the saved state.
        opt2 = optimizer(lib)
        sched2 = SCHEDULES[case](lib, opt2)[0]
        if case == "LambdaLR object":
            sched2.lr_lambdas[0].base = 0.5  # restored from the saved __dict__ below
        sched2.load_state_dict(state)
        for g, lr in zip(opt2.param_groups, sched.get_last_lr()):
            g["lr"] = lr
        out = []
        for _ in range(12):
            opt2.step()
            sched2.step()
            out.append(sched2.get_last_lr())
        return state, out

    (ours, ours_seq), (theirs, theirs_seq) = run(tapegrad), run(torch)
    assert ours == theirs
    assert list(ours) == list(theirs)
    assert ours_seq == theirs_seq


def test_lambda_functions_are_not_saved():
    for lib in (tapegrad, torch):
        sched = lib.optim.lr_scheduler.LambdaLR(optimizer(lib), [lambda e: 1.0, Scale(0.5)])
        assert sched.state_dict()["lr_lambdas"] == [None, {"base": 0.5}]


def test_group_lr_changed_from_outside_carries_on():
    def run(lib):
        opt = optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        out = []
        for epoch in range(15):
            if epoch == 4:
                opt.param_groups[0]["lr"] *= 0.5
            opt.step()
            sched.step()
            out.append(sched.get_last_lr())
        return out

    assert run(tapegrad) == run(torch)


# ---- warnings ----

def caught_messages(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(w.category, str(w.message)) for w in caught]


def test_scheduler_step_before_optimizer_step_warns_like_torch():
    def run(lib):
        sched = lib.optim.lr_scheduler.StepLR(optimizer(lib), 2)
        return caught_messages(sched.step)

    ours, theirs = run(tapegrad), run(torch)
    assert ours == theirs and len(ours) == 1 and "before `optimizer.step()`" in ours[0][1]


def test_no_warning_in_the_right_order():
    opt = optimizer(tapegrad)
    sched = tapegrad.optim.lr_scheduler.ExponentialLR(opt, 0.9)

    def epoch():
        opt.step()
        sched.step()

    assert caught_messages(epoch) == []


def test_overridden_optimizer_step_warns_like_torch():
    def run(lib):
        opt = optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        opt.step = lambda closure=None: None
        return caught_messages(sched.step)

    assert run(tapegrad) == run(torch)


def test_get_lr_outside_step_warns_like_torch():
    def run(lib):
        sched = lib.optim.lr_scheduler.StepLR(optimizer(lib), 2)
        return caught_messages(sched.get_lr)

    ours, theirs = run(tapegrad), run(torch)
    assert ours == theirs and len(ours) == 1


# ---- errors ----

def assert_same_error(fn):
    with pytest.raises(Exception) as ours:
        fn(tapegrad)
    with pytest.raises(Exception) as ref:
        fn(torch)
    assert type(ours.value) is type(ref.value), (ours.value, ref.value)
    assert str(ours.value) == str(ref.value)


@pytest.mark.parametrize("fn", [
    lambda lib: lib.optim.lr_scheduler.StepLR(object(), 2),
    lambda lib: lib.optim.lr_scheduler.ExponentialLR(optimizer(lib), 0.9, last_epoch=3),
    lambda lib: lib.optim.lr_scheduler.LambdaLR(optimizer(lib), [lambda e: 1.0]),
    lambda lib: lib.optim.lr_scheduler.LRScheduler(optimizer(lib)),
    lambda lib: lib.optim.lr_scheduler.LinearLR(optimizer(lib), start_factor=0),
    lambda lib: lib.optim.lr_scheduler.LinearLR(optimizer(lib), end_factor=2),
    lambda lib: lib.optim.lr_scheduler.OneCycleLR(optimizer(lib), 0.1),
    lambda lib: lib.optim.lr_scheduler.OneCycleLR(optimizer(lib), 0.1, total_steps=0),
    lambda lib: lib.optim.lr_scheduler.OneCycleLR(optimizer(lib), 0.1, 10, pct_start=2),
    lambda lib: lib.optim.lr_scheduler.OneCycleLR(optimizer(lib), 0.1, 10, anneal_strategy="exp"),
    lambda lib: lib.optim.lr_scheduler.OneCycleLR(optimizer(lib), [0.1], 10),
    lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer(lib), factor=1.0),
    lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer(lib), mode="best"),
    lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer(lib), min_lr=[0.1]),
], ids=["not an optimizer", "resume without initial_lr", "lambda count", "base get_lr", "linear start", "linear end",
        "one cycle steps", "one cycle total", "one cycle pct", "one cycle strategy", "one cycle max_lr count",
        "plateau factor", "plateau mode", "plateau min_lr count"])
def test_errors_match_torch(fn):
    assert_same_error(fn)


# ---- OneCycleLR's momentum and ReduceLROnPlateau ----

@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_one_cycle_cycles_momentum_like_torch(name):
    def run(lib):
        opt = optimizer(lib, name=name)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=12)
        seen = []
        for _ in range(12):
            opt.step()
            sched.step()
            seen.append([(g["lr"], g["betas"][0] if name == "Adam" else g["momentum"]) for g in opt.param_groups])
        return seen

    assert run(tapegrad) == run(torch)


def test_one_cycle_past_total_steps_raises_like_torch():
    def run(lib):
        opt = optimizer(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=2)
        for _ in range(2):
            opt.step()
            sched.step()
        sched.step()

    assert_same_error(run)


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 0.2, 0.3, 0.3, 0.3, 0.3]


@pytest.mark.parametrize("kwargs", [
    {"patience": 2},
    {"mode": "max", "factor": 0.5, "patience": 1, "threshold_mode": "abs", "threshold": 0.01, "cooldown": 2},
    {"patience": 0, "min_lr": [0.02, 0.001], "factor": 0.3},
], ids=["min rel", "max abs cooldown", "per-group min_lr"])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    def run(lib):
        opt = optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        seen = []
        for metric in PLATEAU_METRICS:
            opt.step()
            sched.step(metric)
            seen.append((sched.get_last_lr(), sched.num_bad_epochs, sched.best, sched.cooldown_counter))
        return seen, sched.state_dict()

    assert run(tapegrad) == run(torch)
