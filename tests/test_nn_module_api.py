"""The Module API a training script touches (traversal, hooks including the full backward hooks, conversions,
non-strict loading, extra state, ModuleDict and ParameterDict), run as the same script in both libraries: every
value the script records must agree with PyTorch's."""
import copy
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import tapegrad


def _attempt(fn):
    try:
        return fn()
    except Exception as e:  # the recorded outcome is the error's type and message
        return f"{type(e).__name__}: {e}"


def _net(L):
    nn = L.nn
    L.manual_seed(0)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 3)
            self.act = nn.ReLU()
            self.register_buffer("stat", L.zeros(3), persistent=False)
            self.register_buffer("count", L.zeros(1))

        def forward(self, x):
            return self.act(self.fc(x))

    return nn.Sequential(Block(), nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Dropout(0.1)}),
                         nn.ModuleList([nn.Tanh(), nn.Tanh()]))


def traversal(L):
    m = _net(L)
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    return [[n for n, _ in m.named_modules()], [n for n, _ in m.named_children()],
            [n for n, _ in m.named_parameters()], [n for n, _ in m.named_buffers()], list(m.state_dict()),
            list(m.state_dict(prefix="pre.")), repr(m), seen, len(list(m.parameters(recurse=False))),
            [n for n, _ in m.named_parameters(prefix="x", recurse=True)]]


def shared_modules(L):
    lin = L.nn.Linear(2, 2)
    m = L.nn.Sequential(lin, lin)
    return [[n for n, _ in m.named_parameters()], [n for n, _ in m.named_parameters(remove_duplicate=False)],
            [n for n, _ in m.named_modules(remove_duplicate=False)], list(m.state_dict())]


def lookups(L):
    m = _net(L)
    found = [repr(m.get_submodule("0.fc")), tuple(m.get_parameter("0.fc.bias").shape), m.get_buffer("0.count").tolist()]
    errors = [_attempt(lambda t=t: m.get_submodule(t)) for t in ["0.nope", "0.fc.weight"]]
    errors += [_attempt(lambda t=t: m.get_parameter(t)) for t in ["0.fc", "0.fc.nope", "0.count"]]
    errors += [_attempt(lambda: m.get_buffer("0.fc.weight"))]
    return found + errors


def forward_hooks(L):
    m = L.nn.Linear(2, 2)
    calls = []
    x = L.ones(1, 2)
    m.register_forward_pre_hook(lambda mod, args: calls.append(("pre", len(args))))
    doubling = m.register_forward_hook(lambda mod, args, out: out * 2)
    ratio = (m(x) / m.forward(x)).tolist()
    doubling.remove()
    ratio_after = (m(x) / m.forward(x)).tolist()
    m.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] * 0,), kwargs), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: out + 1, with_kwargs=True, prepend=True)
    return [ratio, calls, ratio_after, (m(x) - m.bias).tolist()]


def backward_hooks(L):
    nn = L.nn

    class Two(nn.Module):
        def forward(self, a, scale, b):
            return a * scale + b.sum(), a - b

    m = Two()
    log = []

    def pre_hook(mod, grad_output):
        log.append(("pre", [None if g is None else g.tolist() for g in grad_output]))
        return grad_output[0] * 2, grad_output[1]

    def hook(mod, grad_input, grad_output):
        log.append(("hook", [None if g is None else g.tolist() for g in grad_input]))
        return grad_input[0] * 10, None, grad_input[2]

    m.register_full_backward_pre_hook(pre_hook)
    m.register_full_backward_hook(hook)
    a = L.tensor([1.0, 2.0], requires_grad=True)
    b = L.tensor([3.0, 4.0], requires_grad=True)
    o1, o2 = m(a, 3.0, b)
    (o1.sum() + (o2 * L.tensor([1.0, -1.0])).sum()).backward()
    results = [list(log), a.grad.tolist(), b.grad.tolist()]
    log.clear()
    a.grad = None
    o1, _ = m(a, 3.0, b.detach())  # an output without gradient, an input that needs none
    o1.sum().backward()
    results += [list(log), a.grad.tolist()]

    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    order = []
    for name, child in seq.named_children():
        child.register_full_backward_hook(lambda mod, gi, go, name=name: order.append((name, tuple(go[0].shape))))
    seq(L.ones(4, 2, requires_grad=True)).sum().backward()
    results.append(order)

    lin = nn.Linear(2, 2)
    got = []
    handle = lin.register_full_backward_hook(lambda mod, gi, go: got.append((gi, tuple(go[0].shape))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lin(L.ones(1, 2)).sum().backward()  # no input needs a gradient: the hook fires with grad_input None
    results += [got, [str(w.message) for w in caught]]
    handle.remove()
    lin(L.ones(1, 2)).sum().backward()
    results.append(len(got))

    bad = nn.Linear(2, 2)
    bad.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    results.append(_attempt(lambda: bad(L.ones(1, 2, requires_grad=True)).sum().backward()))
    bad_pre = nn.Linear(2, 2)
    bad_pre.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
    results.append(_attempt(lambda: bad_pre(L.ones(1, 2, requires_grad=True)).sum().backward()))
    return results


def grads_and_modes(L):
    m = _net(L)
    out = []
    m.requires_grad_(False)
    out.append([p.requires_grad for p in m.parameters()])
    m.requires_grad_()
    m[1]["a"](m[0](L.ones(1, 2))).sum().backward()
    m.zero_grad(set_to_none=False)
    out.append([p.grad.abs().sum().item() for p in m.parameters()])
    m.zero_grad()
    out.append([p.grad for p in m.parameters()])
    m.eval()
    out.append([x.training for x in m.modules()])
    m.train()
    out.append([x.training for x in m.modules()])
    out.append(_attempt(lambda: m.train("x")))
    return out


def conversions(L):
    m = _net(L)
    out = [{k: str(v.dtype) for k, v in m.double().state_dict().items()},
           {k: str(v.dtype) for k, v in m.float().state_dict().items()},
           str(m.to(L.float64)[0].fc.weight.dtype), str(m.to(dtype=L.float32)[0].fc.weight.dtype),
           str(m.to(L.zeros(1, dtype=L.float64))[0].fc.weight.dtype), str(m.to("cpu")[0].fc.weight.device),
           _attempt(lambda: m.to(L.int64))]
    emb = L.nn.Embedding(3, 2)
    emb.register_buffer("idx", L.arange(3))
    emb.double()
    return out + [str(emb.idx.dtype), str(emb.weight.dtype)]


def loading(L):
    m = _net(L)
    state = m.state_dict()
    del state["0.fc.bias"]
    state["extra"] = L.ones(1)
    state["1.a.extra"] = L.ones(1)
    result = m.load_state_dict(state, strict=False)
    return [repr(result), result.missing_keys, result.unexpected_keys, _attempt(lambda: m.load_state_dict(state)),
            repr(m.load_state_dict(m.state_dict())),
            _attempt(lambda: m.load_state_dict({"0.fc.weight": L.ones(2, 2)}, strict=False))]


def extra_state(L):
    class WithState(L.nn.Module):
        def get_extra_state(self):
            return {"k": 1}

        def set_extra_state(self, state):
            self.loaded = state

    m = L.nn.Sequential(WithState())
    state = m.state_dict()
    m.load_state_dict(state)
    plain = L.nn.Linear(1, 1)
    return [list(state), state["0._extra_state"], m[0].loaded,
            _attempt(lambda: m.load_state_dict({})),
            _attempt(lambda: plain.load_state_dict({**plain.state_dict(), "_extra_state": 1}))]


def module_dict(L):
    nn = L.nn
    d = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
    out = [list(d.keys()), len(d), "a" in d]
    d.update([("c", nn.Sigmoid())])
    out += [repr(d), repr(d.pop("b")), list(d)]
    d["z"] = nn.Identity()
    del d["a"]
    out.append([(k, repr(v)) for k, v in d.items()])
    copied = nn.ModuleDict()
    copied.update(d)
    out.append(list(copied))
    d.clear()
    out.append(len(d))
    for bad in [3, [("x",)], [nn.ReLU()]]:
        out.append(_attempt(lambda bad=bad: d.update(bad)))
    out.append(_attempt(lambda: d["missing"]))
    return out


def parameter_dict(L):
    nn = L.nn
    p = nn.ParameterDict({"w": nn.Parameter(L.ones(2)), "b": L.zeros(3)})  # a plain dict goes in sorted
    out = [repr(p), type(p["b"]).__name__, list(p.keys()), len(p), "w" in p]
    p["c"] = L.ones(1, 2)
    p.update(OrderedDict([("e", L.ones(1)), ("d", nn.Parameter(L.ones(1)))]))
    out += [list(p.state_dict()), [n for n, _ in p.named_parameters()], tuple(p.pop("c").shape), list(p)]

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.params = nn.ParameterDict({"x": nn.Parameter(L.ones(2))})

    out += [list(Holder().state_dict()), repr(Holder()), list(p.copy()), p.get("zz", 5),
            [k for k, _ in p.items()], [tuple(v.shape) for v in p.values()], list(reversed(p))]
    out.append(p.popitem()[0])
    del p["w"]
    out.append(list(p))
    p.clear()
    out.append(len(p))
    q = nn.ParameterDict([("a", L.ones(1))])
    q.setdefault("k", L.zeros(1))
    out += [list(q), repr(q.fromkeys(["x", "y"])), list(q | nn.ParameterDict({"e": L.ones(1)})),
            list(nn.ParameterDict({"e": L.ones(1)}) | q)]
    q |= {"f": L.ones(1)}
    out.append(list(q))
    for bad in [3, [("x",)], [L.ones(1)]]:
        out.append(_attempt(lambda bad=bad: q.update(bad)))
    out += [_attempt(lambda: q[1]), _attempt(lambda: q(L.ones(1))), _attempt(lambda: q["missing"])]
    return out


def nested_repr(L):
    nn = L.nn
    m = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)),
                      nn.ModuleList([nn.Linear(3, 3) for _ in range(3)]),
                      nn.ParameterList([nn.Parameter(L.ones(2)), L.zeros(3)]))
    m.add_module("empty", None)
    return [repr(m)]


def buffers(L):
    m = L.nn.BatchNorm1d(3)
    out = [[n for n, _ in m.named_buffers()], list(m.state_dict())]
    m.register_buffer("tmp", None)
    m.register_buffer("hidden", L.ones(1), persistent=False)
    out += [list(m.state_dict()), [n for n, _ in m.named_buffers()]]
    out += [_attempt(lambda: m.register_buffer("weight", L.ones(1))), _attempt(lambda: m.register_buffer("x", 3)),
            _attempt(lambda: m.register_buffer("a.b", L.ones(1)))]
    lin = L.nn.Linear(2, 2)
    lin.register_parameter("foo", None)
    out += [list(lin.state_dict()), [n for n, _ in lin.named_parameters()]]
    del lin.foo
    return out + [hasattr(lin, "foo")]


def deep_copy(L):
    m = _net(L)
    clone = copy.deepcopy(m)
    return [clone[0].fc.weight is m[0].fc.weight, bool((clone[0].fc.weight == m[0].fc.weight).all()),
            type(clone[0].fc.weight).__name__]


SCRIPTS = [traversal, shared_modules, lookups, forward_hooks, backward_hooks, grads_and_modes, conversions, loading,
           extra_state, module_dict, parameter_dict, nested_repr, buffers, deep_copy]


def _normalise(value):
    """torch.X names and messages print as tapegrad's do once the library name is the same."""
    return repr(value).replace("tapegrad", "torch")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda f: f.__name__)
def test_script_records_what_torch_records(script):
    assert _normalise(script(tapegrad)) == _normalise(script(torch))


def test_half_precision_is_refused_clearly():
    for convert in ("half", "bfloat16"):
        with pytest.raises(TypeError, match="tapegrad has no"):
            getattr(tapegrad.nn.Linear(2, 2), convert)()


def test_backward_hook_gradients_feed_the_optimizer_like_torch():
    results = []
    for L in (tapegrad, torch):
        L.manual_seed(1)
        model = L.nn.Sequential(L.nn.Linear(3, 4), L.nn.Tanh(), L.nn.Linear(4, 1))
        model[0].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0.5,))
        model[2].register_full_backward_pre_hook(lambda mod, go: (go[0] * 3,))
        x = L.tensor([[0.1, -0.2, 0.3], [0.5, 0.4, -0.6]], requires_grad=True)
        model(x).pow(2).sum().backward()
        results.append([x.grad.tolist()] + [p.grad.tolist() for p in model.parameters()])
    for ours, ref in zip(*results):
        np.testing.assert_allclose(np.array(ours), np.array(ref), rtol=1e-5, atol=1e-7)
