"""tapegrad.optim against torch.optim: 20 steps from identical weights for every optimizer and
option combination, state and state_dict structure, param groups, zero_grad, and the errors."""
import copy
import inspect
import warnings

import numpy as np
import pytest
import torch

import tapegrad
import tapegrad.optim

RTOL = {"float32": 1e-5, "float64": 1e-7}
# Sizes cover 0-dim, empty, short tails and long vectorised runs.
SHAPES = [(5, 3), (7,), (), (1000,), (33,), (0, 3)]
STEPS = 20


def arrays(dtype, seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def make_params(lib, values):
    return [lib.tensor(v, requires_grad=True) for v in values]


def loss_of(lib, params, targets):
    """A weighted squared distance. Its gradient, 2 * (w * (p - t)), is computed with the same
    roundings by both libraries, so the optimizers see identical gradients from identical weights."""
    total = 0
    for p, t in zip(params, targets):
        d = p - lib.tensor(t)
        total = total + (d * d * lib.tensor(np.abs(t) + 0.5)).sum()
    return total


def assert_close(ours, ref, dtype, what=""):
    """Elementwise rtol, with entries that pass near zero judged on the tensor's scale (torch's sqrt,
    from MKL, is not correctly rounded, so Adam and RMSprop differ from it in the last bit)."""
    ref = ref.detach().numpy()
    rtol = RTOL[dtype]
    atol = rtol * float(np.abs(ref).max(initial=0.0))
    np.testing.assert_allclose(np.asarray(ours.detach()), ref, err_msg=what, rtol=rtol, atol=atol)


def assert_states_match(opt, ref_opt, params, ref_params, dtype):
    for p, q in zip(params, ref_params):
        ours, ref = opt.state[p], ref_opt.state[q]
        assert list(ours) == list(ref)
        for key in ref:
            assert str(ours[key].dtype) == str(ref[key].dtype), key
            assert tuple(ours[key].shape) == tuple(ref[key].shape), key
            assert_close(ours[key], ref[key], dtype, key)


def run_both(name, kwargs, dtype, steps=STEPS, check_state=True):
    """Trains the same parameters with tapegrad and torch, comparing after every step."""
    values, targets = arrays(dtype, 0), arrays(dtype, 1)
    params, ref_params = make_params(tapegrad, values), make_params(torch, values)
    opt = getattr(tapegrad.optim, name)(params, **kwargs)
    ref_opt = getattr(torch.optim, name)(ref_params, **kwargs)
    for step in range(steps):
        for lib, o, ps in ((tapegrad, opt, params), (torch, ref_opt, ref_params)):
            o.zero_grad()
            loss_of(lib, ps, targets).backward()
            o.step()
        for p, q in zip(params, ref_params):
            assert_close(p, q, dtype, f"{name}{kwargs} step {step}")
    if check_state:
        assert_states_match(opt, ref_opt, params, ref_params, dtype)
    return opt, ref_opt, params, ref_params


SGD_OPTIONS = [
    dict(lr=0.05),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.9, weight_decay=0.1),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.05, momentum=0.5, maximize=True),
    dict(lr=0.02, weight_decay=0.05, maximize=True),
    dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05, maximize=True),
]
ADAM_OPTIONS = [
    dict(lr=0.01),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, maximize=True),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-3),
    dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True),
    dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
]
ADAMW_OPTIONS = [
    dict(lr=0.01),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True),
]
RMSPROP_OPTIONS = [
    dict(lr=0.01),
    dict(lr=0.01, centered=True),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, centered=True, momentum=0.9),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, maximize=True),
    dict(lr=0.01, alpha=0.9, eps=1e-4),
    dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1, maximize=True),
]
CASES = (
    [("SGD", o) for o in SGD_OPTIONS]
    + [("Adam", o) for o in ADAM_OPTIONS]
    + [("AdamW", o) for o in ADAMW_OPTIONS]
    + [("RMSprop", o) for o in RMSPROP_OPTIONS]
)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_twenty_steps_match_torch(name, kwargs, dtype):
    run_both(name, kwargs, dtype)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                         ("Adam", dict(lr=0.1, amsgrad=True)),
                                         ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9))])
def test_assigned_gradients_match_torch(name, kwargs):
    """Gradients assigned from the same arrays each step, including zeros and large values."""
    values = arrays("float64", 2)
    params, ref_params = make_params(tapegrad, values), make_params(torch, values)
    opt, ref_opt = getattr(tapegrad.optim, name)(params, **kwargs), getattr(torch.optim, name)(ref_params, **kwargs)
    rng = np.random.default_rng(3)
    for _ in range(STEPS):
        for p, q, v in zip(params, ref_params, values):
            g = rng.standard_normal(v.shape) * rng.choice([0.0, 1e-3, 1.0, 1e3], size=v.shape)
            p.grad, q.grad = tapegrad.tensor(g), torch.tensor(g)
        opt.step()
        ref_opt.step()
        for p, q in zip(params, ref_params):
            assert_close(p, q, "float64")
    assert_states_match(opt, ref_opt, params, ref_params, "float64")


def test_large_parameters_match_torch():
    """Steps over more than 65536 elements release the GIL while they compute."""
    values, targets = arrays("float32", 7, [(300, 300), (70000,)]), arrays("float32", 8, [(300, 300), (70000,)])
    for name, kwargs in [("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.01)), ("RMSprop", dict(lr=0.01))]:
        params, ref_params = make_params(tapegrad, values), make_params(torch, values)
        opt, ref = getattr(tapegrad.optim, name)(params, **kwargs), getattr(torch.optim, name)(ref_params, **kwargs)
        for _ in range(3):
            for lib, o, ps in ((tapegrad, opt, params), (torch, ref, ref_params)):
                o.zero_grad()
                loss_of(lib, ps, targets).backward()
                o.step()
        for p, q in zip(params, ref_params):
            assert_close(p, q, "float32", name)


def test_tensor_learning_rate():
    values, targets = arrays("float64", 0), arrays("float64", 1)
    runs = []
    for lib in (tapegrad, torch):
        ps = make_params(lib, values)
        opt = lib.optim.SGD(ps, lr=lib.tensor(0.05, dtype=lib.float64), momentum=0.9)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)
        for _ in range(5):
            opt.zero_grad()
            loss_of(lib, ps, targets).backward()
            opt.step()
            sched.step()
        assert isinstance(opt.param_groups[0]["lr"], lib.Tensor)
        runs.append(ps)
    for p, q in zip(*runs):
        assert_close(p, q, "float64")


def test_sgd_is_bit_exact_in_float64():
    """No square roots in SGD: every rounding matches torch's (FMA where torch fuses)."""
    values = arrays("float64", 4)
    params, ref_params = make_params(tapegrad, values), make_params(torch, values)
    kwargs = dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)
    opt, ref_opt = tapegrad.optim.SGD(params, **kwargs), torch.optim.SGD(ref_params, **kwargs)
    rng = np.random.default_rng(5)
    for _ in range(STEPS):
        for p, q, v in zip(params, ref_params, values):
            g = rng.standard_normal(v.shape)
            p.grad, q.grad = tapegrad.tensor(g), torch.tensor(g)
        opt.step()
        ref_opt.step()
    for p, q in zip(params, ref_params):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


# ---- state ----

def test_state_is_created_lazily_with_torch_keys():
    for name, kwargs, keys in [
        ("SGD", dict(momentum=0.9), ["momentum_buffer"]),
        ("Adam", dict(amsgrad=True), ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
        ("AdamW", {}, ["step", "exp_avg", "exp_avg_sq"]),
        ("RMSprop", dict(momentum=0.9, centered=True), ["step", "square_avg", "momentum_buffer", "grad_avg"]),
    ]:
        p = tapegrad.tensor([1.0, 2.0], requires_grad=True)
        opt = getattr(tapegrad.optim, name)([p], **kwargs)
        assert len(opt.state) == 0
        opt.step()  # no gradient yet: nothing happens
        assert len(opt.state) == 0 and p.tolist() == [1.0, 2.0]
        p.grad = tapegrad.tensor([0.5, -0.5])
        opt.step()
        assert list(opt.state[p]) == keys
        if "step" in keys:
            step = opt.state[p]["step"]
            assert isinstance(step, tapegrad.Tensor) and step.dim() == 0 and step.dtype == tapegrad.float32
            assert step.item() == 1.0
            opt.step()
            assert step.item() == 2.0  # updated in place


def test_sgd_without_momentum_keeps_no_state():
    p = tapegrad.tensor([1.0], requires_grad=True)
    p.grad = tapegrad.tensor([1.0])
    opt = tapegrad.optim.SGD([p], lr=0.1)
    opt.step()
    assert len(opt.state) == 0


def test_momentum_buffer_is_a_copy_of_the_first_gradient():
    p = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    g = tapegrad.tensor([0.5, -0.25])
    p.grad = g
    opt = tapegrad.optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    buf = opt.state[p]["momentum_buffer"]
    assert buf.tolist() == [0.5, -0.25]
    assert buf.data_ptr() != g.data_ptr()
    assert not buf.requires_grad


def test_step_dtype_follows_default_dtype():
    old = tapegrad.get_default_dtype()
    try:
        for lib in (tapegrad, torch):
            lib.set_default_dtype(lib.float64)
        p, q = tapegrad.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
        p.grad, q.grad = tapegrad.tensor([1.0]), torch.tensor([1.0])
        opt, ref = tapegrad.optim.Adam([p]), torch.optim.Adam([q])
        opt.step()
        ref.step()
        assert str(opt.state[p]["step"].dtype) == str(ref.state[q]["step"].dtype) == "torch.float64"
    finally:
        tapegrad.set_default_dtype(old)
        torch.set_default_dtype(torch.float32)


def test_parameters_without_grad_are_skipped():
    values = arrays("float64", 6, [(3,), (4,)])
    params, ref_params = make_params(tapegrad, values), make_params(torch, values)
    opt, ref = tapegrad.optim.Adam(params, lr=0.1), torch.optim.Adam(ref_params, lr=0.1)
    for step in range(4):
        k = step % 2  # alternate which parameter has a gradient
        for ps in (params, ref_params):
            ps[k].grad = ps[k].detach() * 2
            ps[1 - k].grad = None
        opt.step()
        ref.step()
        for p, q in zip(params, ref_params):
            assert_close(p, q, "float64")
    assert_states_match(opt, ref, params, ref_params, "float64")


def test_mixed_dtypes_in_one_group():
    values = [np.arange(4, dtype=np.float32), np.arange(3, dtype=np.float64)]
    params, ref_params = make_params(tapegrad, values), make_params(torch, values)
    opt, ref = tapegrad.optim.RMSprop(params, momentum=0.5), torch.optim.RMSprop(ref_params, momentum=0.5)
    for _ in range(5):
        for ps in (params, ref_params):
            for p in ps:
                p.grad = p.detach() - 1
        opt.step()
        ref.step()
    for p, q, v in zip(params, ref_params, values):
        assert_close(p, q, str(v.dtype))
        assert str(p.dtype) == str(q.dtype)


def test_non_contiguous_parameters_and_gradients():
    base = np.arange(12, dtype=np.float64).reshape(3, 4) / 7
    params = [tapegrad.tensor(base).t().detach().requires_grad_()]
    ref_params = [torch.tensor(base).t().detach().requires_grad_()]
    assert not params[0].is_contiguous()
    opt = tapegrad.optim.Adam(params, lr=0.1, amsgrad=True, weight_decay=0.1)
    ref = torch.optim.Adam(ref_params, lr=0.1, amsgrad=True, weight_decay=0.1)
    for i in range(5):
        g = np.cos(base * (i + 1))
        params[0].grad = tapegrad.tensor(g).t()
        ref_params[0].grad = torch.tensor(g).t()
        opt.step()
        ref.step()
        assert_close(params[0], ref_params[0], "float64")


def test_gradient_sharing_memory_with_the_parameter():
    for lib in (tapegrad, torch):
        p = lib.tensor([1.0, -2.0], requires_grad=True)
        p.grad = p.detach()
        lib.optim.SGD([p], lr=0.5, momentum=0.9).step()
        assert p.tolist() == [0.5, -1.0]


def test_step_bumps_the_version_counter():
    def run(lib):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (p * p).sum()
        p.grad = lib.tensor([1.0, 1.0])
        lib.optim.SGD([p], lr=0.1).step()
        y.backward()

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        run(tapegrad)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        run(torch)


def test_closure_runs_with_grad_enabled_and_returns_its_loss():
    values, targets = arrays("float64", 0, [(4,)]), arrays("float64", 1, [(4,)])
    for lib in (tapegrad, torch):
        params = make_params(lib, values)
        opt = lib.optim.SGD(params, lr=0.1)

        def closure():
            opt.zero_grad()
            loss = loss_of(lib, params, targets)
            loss.backward()
            return loss

        with lib.no_grad():
            loss = opt.step(closure)
        assert loss.requires_grad
        if lib is tapegrad:
            ours = (loss.item(), params[0].tolist())
        else:
            np.testing.assert_allclose(ours[0], loss.item(), rtol=1e-12)
            np.testing.assert_allclose(ours[1], params[0].tolist(), rtol=1e-12)


# ---- param groups ----

def test_param_groups_with_their_own_options():
    values, targets = arrays("float64", 0), arrays("float64", 1)
    opts = []
    for lib in (tapegrad, torch):
        ps = make_params(lib, values)
        opt = lib.optim.SGD([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.01, "nesterov": True}],
                            lr=0.05, momentum=0.9)
        opts.append((opt, ps))
    (opt, params), (ref, ref_params) = opts
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == [
        {k: v for k, v in g.items() if k != "params"} for g in ref.param_groups]
    for _ in range(STEPS):
        for lib, o, ps in ((tapegrad, opt, params), (torch, ref, ref_params)):
            o.zero_grad()
            loss_of(lib, ps, targets).backward()
            o.step()
    for p, q in zip(params, ref_params):
        assert_close(p, q, "float64")


def test_add_param_group_after_some_steps():
    values, targets = arrays("float64", 0), arrays("float64", 1)
    runs = []
    for lib in (tapegrad, torch):
        ps = make_params(lib, values)
        opt = lib.optim.Adam(ps[:3], lr=0.01)
        for step in range(10):
            if step == 5:
                opt.add_param_group({"params": ps[3:], "lr": 0.05, "amsgrad": True})
            opt.zero_grad()
            loss_of(lib, ps, targets).backward()
            opt.step()
        runs.append((opt, ps))
    (opt, params), (ref, ref_params) = runs
    assert opt.param_groups[1]["amsgrad"] and opt.param_groups[1]["betas"] == (0.9, 0.999)
    for p, q in zip(params, ref_params):
        assert_close(p, q, "float64")
    assert_states_match(opt, ref, params, ref_params, "float64")


def test_named_parameters_record_param_names():
    for lib in (tapegrad, torch):
        a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
        opt = lib.optim.SGD([("a", a), ("b", b)])
        assert opt.param_groups[0]["param_names"] == ["a", "b"]
        assert opt.state_dict()["param_groups"][0]["param_names"] == ["a", "b"]


def test_duplicate_parameters_warn():
    for lib in (tapegrad, torch):
        p = lib.zeros(2, requires_grad=True)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            lib.optim.SGD([p, p])


def test_repr_matches_torch():
    for name, kwargs in CASES:
        p, q = tapegrad.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
        assert repr(getattr(tapegrad.optim, name)([p], **kwargs)) == repr(getattr(torch.optim, name)([q], **kwargs))


@pytest.mark.parametrize("name", ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop"])
def test_signatures_match_torch(name):
    def params_of(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls.__init__).parameters.values()]

    assert params_of(getattr(tapegrad.optim, name)) == params_of(getattr(torch.optim, name))


# ---- zero_grad ----

def test_zero_grad_sets_to_none():
    p = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    opt = tapegrad.optim.SGD([p])
    opt.zero_grad()
    assert p.grad is None


def test_zero_grad_in_place_keeps_the_tensor():
    for lib in (tapegrad, torch):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        (p * p).sum().backward()
        g = p.grad
        lib.optim.SGD([p]).zero_grad(set_to_none=False)
        assert p.grad is g and g.tolist() == [0.0, 0.0]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_zero_grad_in_place_detaches_a_graph_gradient():
    for lib in (tapegrad, torch):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        (p * p * p).sum().backward(create_graph=True)
        assert p.grad.requires_grad
        lib.optim.SGD([p]).zero_grad(set_to_none=False)
        assert not p.grad.requires_grad and p.grad.grad_fn is None and p.grad.tolist() == [0.0, 0.0]


# ---- state_dict ----

def structure(obj):
    """The state dict with tensors replaced by (dtype, shape)."""
    if isinstance(obj, (tapegrad.Tensor, torch.Tensor)):
        return ("tensor", str(obj.dtype), tuple(obj.shape))
    if isinstance(obj, dict):
        return {k: structure(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(structure(v) for v in obj)
    return obj


def trained(name, kwargs, steps=10):
    values, targets = arrays("float64", 0), arrays("float64", 1)
    runs = []
    for lib in (tapegrad, torch):
        ps = make_params(lib, values)
        opt = getattr(lib.optim, name)([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.02}], **kwargs)
        for _ in range(steps):
            opt.zero_grad()
            loss_of(lib, ps, targets).backward()
            opt.step()
        runs.append((opt, ps))
    return runs, targets


STATE_CASES = [("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)),
               ("AdamW", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True))]


@pytest.mark.parametrize("name,kwargs", STATE_CASES)
def test_state_dict_structure_matches_torch(name, kwargs):
    ((opt, _), (ref, _)), _ = trained(name, kwargs)
    ours, theirs = opt.state_dict(), ref.state_dict()
    assert structure(ours) == structure(theirs)
    for index, entry in theirs["state"].items():
        for key, value in entry.items():
            assert_close(ours["state"][index][key], value, "float64", key)


@pytest.mark.parametrize("name,kwargs", STATE_CASES)
def test_state_dict_round_trip_continues_identically(name, kwargs):
    (runs, targets) = trained(name, kwargs)
    (opt, params), (ref, ref_params) = runs
    saved = copy.deepcopy(opt.state_dict())
    fresh_params = [tapegrad.tensor(p.detach().numpy(), requires_grad=True) for p in params]
    fresh = getattr(tapegrad.optim, name)([{"params": fresh_params[:2]}, {"params": fresh_params[2:]}], **kwargs)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[1]["lr"] == 0.02
    for _ in range(10):
        for lib, o, ps in ((tapegrad, fresh, fresh_params), (torch, ref, ref_params)):
            o.zero_grad()
            loss_of(lib, ps, targets).backward()
            o.step()
    for p, q in zip(fresh_params, ref_params):
        assert_close(p, q, "float64")
    assert_states_match(fresh, ref, fresh_params, ref_params, "float64")


def test_load_torch_state_dict_into_tapegrad():
    """torch's state dict, its tensors copied through NumPy, loads into tapegrad and continues."""
    (runs, targets) = trained("Adam", dict(lr=0.01, amsgrad=True))
    (opt, params), (ref, ref_params) = runs
    theirs = ref.state_dict()
    converted = {
        "state": {i: {k: tapegrad.tensor(v.numpy()) for k, v in entry.items()} for i, entry in theirs["state"].items()},
        "param_groups": copy.deepcopy(theirs["param_groups"]),
    }
    fresh_params = [tapegrad.tensor(q.detach().numpy(), requires_grad=True) for q in ref_params]
    fresh = tapegrad.optim.Adam([{"params": fresh_params[:2]}, {"params": fresh_params[2:]}])
    fresh.load_state_dict(converted)
    for _ in range(5):
        for lib, o, ps in ((tapegrad, fresh, fresh_params), (torch, ref, ref_params)):
            o.zero_grad()
            loss_of(lib, ps, targets).backward()
            o.step()
    for p, q in zip(fresh_params, ref_params):
        assert_close(p, q, "float64")


def test_load_state_dict_casts_state_to_the_parameter_dtype():
    for lib in (tapegrad, torch):
        p = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([p], momentum=0.9)
        opt.load_state_dict({"state": {0: {"momentum_buffer": lib.ones(2, dtype=lib.float64)}},
                             "param_groups": [dict(opt.state_dict()["param_groups"][0])]})
        assert opt.state[p]["momentum_buffer"].dtype == lib.float32


def test_adam_load_state_dict_turns_a_number_step_into_a_tensor():
    p = tapegrad.zeros(2, requires_grad=True)
    opt = tapegrad.optim.Adam([p])
    sd = {"state": {0: {"step": 3, "exp_avg": tapegrad.zeros(2), "exp_avg_sq": tapegrad.zeros(2)}},
          "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
    opt.load_state_dict(sd)
    assert isinstance(opt.state[p]["step"], tapegrad.Tensor) and opt.state[p]["step"].item() == 3.0


def test_load_state_dict_keeps_adamw_decoupled():
    p = tapegrad.zeros(2, requires_grad=True)
    sd = tapegrad.optim.Adam([p]).state_dict()
    opt = tapegrad.optim.AdamW([p])
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


# ---- errors: type and message as torch's ----

def assert_same_error(fn):
    with pytest.raises(Exception) as ours:
        fn(tapegrad)
    with pytest.raises(Exception) as ref:
        fn(torch)
    assert type(ours.value) is type(ref.value), (ours.value, ref.value)
    assert str(ours.value) == str(ref.value)


def _p(lib):
    return lib.zeros(2, requires_grad=True)


ERROR_CASES = {
    "negative lr": lambda lib: lib.optim.SGD([_p(lib)], lr=-0.1),
    "negative momentum": lambda lib: lib.optim.SGD([_p(lib)], momentum=-0.5),
    "negative weight_decay": lambda lib: lib.optim.SGD([_p(lib)], weight_decay=-1),
    "nesterov without momentum": lambda lib: lib.optim.SGD([_p(lib)], nesterov=True),
    "nesterov with dampening": lambda lib: lib.optim.SGD([_p(lib)], momentum=0.9, dampening=0.1, nesterov=True),
    "adam lr": lambda lib: lib.optim.Adam([_p(lib)], lr=-1.0),
    "adam eps": lambda lib: lib.optim.Adam([_p(lib)], eps=-1e-8),
    "adam beta0": lambda lib: lib.optim.Adam([_p(lib)], betas=(1.0, 0.999)),
    "adam beta1": lambda lib: lib.optim.Adam([_p(lib)], betas=(0.9, -0.1)),
    "adam int betas": lambda lib: lib.optim.Adam([_p(lib)], betas=(0, 0.999)),
    "adam weight_decay": lambda lib: lib.optim.AdamW([_p(lib)], weight_decay=-0.1),
    "rmsprop alpha": lambda lib: lib.optim.RMSprop([_p(lib)], alpha=-0.1),
    "rmsprop eps": lambda lib: lib.optim.RMSprop([_p(lib)], eps=-1.0),
    "rmsprop momentum": lambda lib: lib.optim.RMSprop([_p(lib)], momentum=-1.0),
    "tensor lr of 2 elements": lambda lib: lib.optim.SGD([_p(lib)], lr=lib.tensor([0.1, 0.2])),
    "fused and foreach": lambda lib: lib.optim.Adam([_p(lib)], fused=True, foreach=True),
    "single tensor": lambda lib: lib.optim.SGD(_p(lib)),
    "single double tensor": lambda lib: lib.optim.Adam(lib.zeros(2, dtype=lib.float64)),
    "empty list": lambda lib: lib.optim.SGD([]),
    "not a tensor": lambda lib: lib.optim.SGD([_p(lib), 3]),
    "set of params": lambda lib: lib.optim.SGD([{"params": {_p(lib)}}]),
    "non-leaf": lambda lib: lib.optim.SGD([_p(lib) * 2]),
    "group not a dict": lambda lib: lib.optim.SGD([_p(lib)]).add_param_group([_p(lib)]),
    "shared between groups": lambda lib: (lambda p: lib.optim.SGD([{"params": [p]}, {"params": [p]}]))(_p(lib)),
    "names in one group only": lambda lib: lib.optim.SGD([{"params": [("a", _p(lib))]}, {"params": [_p(lib)]}]),
    "load: group count": lambda lib: lib.optim.SGD([_p(lib)]).load_state_dict(
        {"state": {}, "param_groups": []}),
    "load: group size": lambda lib: lib.optim.SGD([_p(lib)]).load_state_dict(
        {"state": {}, "param_groups": [{"params": [0, 1]}]}),
    "step not implemented": lambda lib: lib.optim.Optimizer([_p(lib)], {}).step(),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_match_torch(case):
    assert_same_error(ERROR_CASES[case])


def test_differentiable_is_refused():
    with pytest.raises(NotImplementedError, match="differentiable"):
        tapegrad.optim.SGD([_p(tapegrad)], differentiable=True)


def test_mismatched_state_is_a_clear_error():
    p = tapegrad.zeros(3, requires_grad=True)
    p.grad = tapegrad.ones(3)
    opt = tapegrad.optim.SGD([p], momentum=0.9)
    opt.state[p]["momentum_buffer"] = tapegrad.zeros(4)
    with pytest.raises(RuntimeError, match=r"momentum_buffer has shape \[4\] but the parameter has shape \[3\]"):
        opt.step()
    assert p.tolist() == [0.0, 0.0, 0.0]  # checked before anything is written


def test_missing_option_is_a_key_error():
    p = tapegrad.zeros(3, requires_grad=True)
    p.grad = tapegrad.ones(3)
    opt = tapegrad.optim.SGD([p])
    del opt.param_groups[0]["momentum"]
    with pytest.raises(KeyError, match="momentum"):
        opt.step()


def test_no_warnings_on_a_plain_step():
    p = tapegrad.zeros(3, requires_grad=True)
    p.grad = tapegrad.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tapegrad.optim.Adam([p]).step()
