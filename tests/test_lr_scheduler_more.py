"""ConstantLR, PolynomialLR, SequentialLR, ChainedScheduler, CosineAnnealingWarmRestarts and CyclicLR: learning
rates (and cycled momentum) against torch.optim.lr_scheduler, epoch by epoch."""
import warnings

import pytest
import torch

import tapegrad


def make_optimizer(lib, name="SGD", **kwargs):
    params = [lib.zeros(2, requires_grad=True)]
    other = [lib.zeros(3, requires_grad=True)]
    groups = [{"params": params}, {"params": other, "lr": 0.5}]
    if name == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9, **kwargs)
    return getattr(lib.optim, name)(groups, lr=0.1, **kwargs)


SCHEDULERS = {
    "constant": lambda L, o: L.optim.lr_scheduler.ConstantLR(o, factor=0.25, total_iters=4),
    "polynomial": lambda L, o: L.optim.lr_scheduler.PolynomialLR(o, total_iters=6, power=2.0),
    "warm_restarts": lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3, eta_min=0.001),
    "warm_restarts_mult": lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
    "cyclic": lambda L, o: L.optim.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3),
    "cyclic_triangular2": lambda L, o: L.optim.lr_scheduler.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=2,
                                                                     step_size_down=3, mode="triangular2"),
    "cyclic_exp_range": lambda L, o: L.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=2, mode="exp_range",
                                                                   gamma=0.9),
    "sequential": lambda L, o: L.optim.lr_scheduler.SequentialLR(
        o, [L.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=3),
            L.optim.lr_scheduler.ExponentialLR(o, gamma=0.8)], milestones=[3]),
    "chained": lambda L, o: L.optim.lr_scheduler.ChainedScheduler(
        [L.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3),
         L.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)]),
}


def run(lib, name, steps=14, optimizer="SGD"):
    opt = make_optimizer(lib, optimizer)
    sched = SCHEDULERS[name](lib, opt)
    history = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            opt.step()
            sched.step()
            history.append((sched.get_last_lr(), [g.get("momentum", g.get("betas")) for g in opt.param_groups]))
    return history, sched


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_learning_rates_match_torch(name):
    ours, _ = run(tapegrad, name)
    ref, _ = run(torch, name)
    for (lrs, moms), (ref_lrs, ref_moms) in zip(ours, ref):
        assert lrs == pytest.approx(ref_lrs, rel=1e-12, abs=1e-15)
        assert moms == ref_moms


def test_cyclic_cycles_adam_beta1():
    ours, _ = run(tapegrad, "cyclic", optimizer="Adam")
    ref, _ = run(torch, "cyclic", optimizer="Adam")
    assert [m for _, m in ours] == [m for _, m in ref]


@pytest.mark.parametrize("name", ["sequential", "chained", "cyclic", "warm_restarts"])
def test_state_dict_matches_torch_keys(name):
    _, ours = run(tapegrad, name, steps=3)
    _, ref = run(torch, name, steps=3)
    assert set(ours.state_dict()) == set(ref.state_dict())


def test_warm_restarts_explicit_epoch():
    lrs = []
    for lib in (tapegrad, torch):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
        values = []
        for epoch in [0.5, 1.0, 2.5, 7.0, 3.25]:
            sched.step(epoch)
            values.append(sched.get_last_lr())
        lrs.append(values)
    assert lrs[0] == lrs[1]


@pytest.mark.parametrize("make", [
    lambda L, o: L.optim.lr_scheduler.ConstantLR(o, factor=2.0),
    lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    lambda L, o: L.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, mode="bad"),
    lambda L, o: L.optim.lr_scheduler.CyclicLR(L.optim.Adagrad([L.zeros(1, requires_grad=True)]), 0.01, 0.1),
    lambda L, o: L.optim.lr_scheduler.SequentialLR(o, [L.optim.lr_scheduler.ConstantLR(o)], milestones=[2]),
    lambda L, o: L.optim.lr_scheduler.ChainedScheduler([]),
])
def test_bad_arguments_match_torch(make):
    errors = []
    for lib in (tapegrad, torch):
        with pytest.raises(Exception) as info:
            make(lib, make_optimizer(lib))
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]
