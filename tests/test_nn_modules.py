"""nn.Module and the layers against PyTorch: registration, traversal order, state_dict, repr,
modes and conversions, hooks, containers, and every layer's outputs and gradients from the
same weights (copied through NumPy)."""
import copy
import zlib
from collections import OrderedDict

import numpy as np
import pytest
import torch

import tapegrad

TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-7, atol=1e-10)}


def assert_close(ours, ref, dtype="float64"):
    assert tuple(ours.shape) == tuple(ref.shape)
    assert str(ours.dtype) == str(ref.dtype)
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), **TOL[dtype])


def assert_same_error(fn):
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(tapegrad)
    assert type(ours.value) is type(ref.value), (ours.value, ref.value)
    assert str(ours.value) == str(ref.value)


def copy_weights(ours, ref):
    """Loads ref's state into ours through NumPy."""
    state = {k: tapegrad.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()}
    ours.load_state_dict(state)


def check_same_repr(code):
    """`code`, an expression over `lib`, builds a module that prints as torch's does."""
    assert repr(eval(code, {"lib": tapegrad})) == repr(eval(code, {"lib": torch}))


def check_default_init(make, seed):
    """make(lib) after manual_seed(seed) has torch's state_dict: the same keys in the same order, and values."""
    layers = []
    for lib in (tapegrad, torch):
        lib.manual_seed(seed)
        layers.append(make(lib))
    ours, ref = (m.state_dict() for m in layers)
    assert list(ours) == list(ref)
    for key in ref:
        assert_close(ours[key], ref[key], "float32")


# ---- a model built the same way in both libraries ----

def make_model(L):
    nn = L.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.norm = nn.LayerNorm(4)
            self.register_buffer("steps", L.zeros(1))
            self.register_buffer("scratch", L.ones(2), persistent=False)
            self.scale = nn.Parameter(L.ones(1))

        def forward(self, x):
            return self.norm(self.fc(x)) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 4, padding_idx=0)
            self.blocks = nn.ModuleList([Block(), Block()])
            self.shared = self.blocks[0]
            self.heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "reg": nn.Sequential(nn.Linear(4, 2), nn.Tanh())})
            self.bn = nn.BatchNorm1d(4)
            self.drop = nn.Dropout(0.1)
            self.act = nn.GELU(approximate="tanh")
            self.empty = None
            self.register_parameter("unused", None)

        def forward(self, idx):
            h = self.embed(idx).mean(1)
            for block in self.blocks:
                h = self.act(block(h))
            h = self.drop(self.bn(h))
            return self.heads["cls"](h), self.heads["reg"](h)

    return Net()


@pytest.fixture
def models():
    tapegrad.manual_seed(0)
    torch.manual_seed(0)
    return make_model(tapegrad), make_model(torch)


def test_traversal_names_and_order_match_torch(models):
    ours, ref = models
    for method in ["named_parameters", "named_buffers", "named_children", "named_modules"]:
        assert [n for n, _ in getattr(ours, method)()] == [n for n, _ in getattr(ref, method)()], method
    assert [n for n, _ in ours.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in ref.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in ours.named_modules(remove_duplicate=False)] == \
        [n for n, _ in ref.named_modules(remove_duplicate=False)]
    assert [n for n, _ in ours.named_parameters(prefix="model", recurse=False)] == \
        [n for n, _ in ref.named_parameters(prefix="model", recurse=False)]
    assert [n for n, _ in ours.blocks[0].named_parameters(recurse=False)] == ["scale"]
    assert len(list(ours.parameters())) == len(list(ref.parameters()))
    assert len(list(ours.modules())) == len(list(ref.modules()))
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in ref.children()]


def test_state_dict_keys_values_and_metadata_match_torch(models):
    ours, ref = models
    ours_state, ref_state = ours.state_dict(), ref.state_dict()
    assert list(ours_state) == list(ref_state)
    assert dict(ours_state._metadata) == dict(ref_state._metadata)
    for key in ours_state:
        assert not ours_state[key].requires_grad
    assert ours.state_dict(keep_vars=True)["embed.weight"] is ours.embed.weight
    assert ours_state["embed.weight"].data_ptr() == ours.embed.weight.data_ptr()
    assert list(ours.state_dict(prefix="net.")) == list(ref.state_dict(prefix="net."))


def test_forward_and_gradients_match_torch_from_copied_weights(models):
    ours, ref = models
    ours.double()
    ref.double()
    copy_weights(ours, ref)
    idx = np.random.default_rng(3).integers(0, 10, size=(6, 5))
    outs = []
    for model, lib in ((ours, tapegrad), (ref, torch)):
        model.eval()
        cls, reg = model(lib.tensor(idx))
        (cls.sum() * 2 + (reg * reg).sum()).backward()
        outs.append((cls, reg, {n: p.grad for n, p in model.named_parameters() if p.grad is not None}))
    assert_close(outs[0][0], outs[1][0])
    assert_close(outs[0][1], outs[1][1])
    assert list(outs[0][2]) == list(outs[1][2])
    for name in outs[0][2]:
        assert_close(outs[0][2][name], outs[1][2][name])


def test_repr_matches_torch(models):
    ours, ref = models
    assert repr(ours) == repr(ref)
    layers = lambda L: L.nn.Sequential(OrderedDict([  # noqa: E731
        ("fc", L.nn.Linear(3, 4, bias=False)), ("relu", L.nn.ReLU(inplace=True)), ("leaky", L.nn.LeakyReLU(0.2)),
        ("sig", L.nn.Sigmoid()), ("tanh", L.nn.Tanh()), ("gelu", L.nn.GELU()), ("soft", L.nn.Softmax(dim=1)),
        ("logsoft", L.nn.LogSoftmax(1)), ("softmin", L.nn.Softmin(0)), ("drop", L.nn.Dropout(0.3, inplace=True)),
        ("flat", L.nn.Flatten(0)), ("id", L.nn.Identity(3, key=1)),
        ("emb", L.nn.Embedding(5, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)),
        ("ln", L.nn.LayerNorm((2, 3), eps=1e-3, elementwise_affine=False)),
        ("ln_nobias", L.nn.LayerNorm(3, bias=False)),
        ("bn", L.nn.BatchNorm1d(3, momentum=None, affine=False, track_running_stats=False)),
        ("list", L.nn.ModuleList([L.nn.ReLU(), L.nn.ReLU(), L.nn.Tanh(), L.nn.ReLU()])),
        ("empty_list", L.nn.ModuleList()), ("empty_seq", L.nn.Sequential()),
        ("losses", L.nn.ModuleList([L.nn.MSELoss(), L.nn.CrossEntropyLoss(label_smoothing=0.1)])),
    ]))
    assert repr(layers(tapegrad)) == repr(layers(torch))
    assert repr(tapegrad.nn.Linear(2, 3)) == "Linear(in_features=2, out_features=3, bias=True)"


def test_parameter_basics():
    p = tapegrad.nn.Parameter(tapegrad.tensor([1.0, 2.0]))
    ref = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    assert repr(p) == repr(ref)
    assert isinstance(p, tapegrad.Tensor) and isinstance(p, tapegrad.nn.Parameter)
    assert p.requires_grad and p.is_leaf
    frozen = tapegrad.nn.Parameter(tapegrad.ones(2), requires_grad=False)
    assert not frozen.requires_grad
    assert tuple(tapegrad.nn.Parameter().shape) == (0,)
    (p * p).sum().backward()
    assert p.grad.tolist() == [2.0, 4.0]
    clone = copy.deepcopy(p)
    assert type(clone) is tapegrad.nn.Parameter and clone.requires_grad
    assert clone.data_ptr() != p.data_ptr() and clone.tolist() == p.tolist()


def test_parameter_shares_data_with_its_source():
    data = tapegrad.zeros(3)
    p = tapegrad.nn.Parameter(data)
    data.add_(1.0)
    assert p.tolist() == [1.0, 1.0, 1.0]


def test_buffer_assignment_registers_a_buffer():
    for lib in (tapegrad, torch):
        m = lib.nn.Module()
        m.stat = lib.nn.Buffer(lib.ones(2))
        m.temp = lib.nn.Buffer(lib.zeros(1), persistent=False)
        assert [n for n, _ in m.named_buffers()] == ["stat", "temp"]
        assert list(m.state_dict()) == ["stat"]
        m.stat = lib.zeros(2)
        assert list(m.state_dict()) == ["stat"]


# ---- registration rules and errors ----

REGISTRATION_ERRORS = [
    lambda L: L.nn.Module().register_buffer("a.b", L.ones(1)),
    lambda L: L.nn.Module().register_buffer("", L.ones(1)),
    lambda L: L.nn.Module().register_buffer(1, L.ones(1)),
    lambda L: L.nn.Module().register_buffer("x", [1.0]),
    lambda L: L.nn.Module().register_buffer("training", L.ones(1)),
    lambda L: L.nn.Module().register_parameter("x", L.ones(1)),
    lambda L: L.nn.Module().register_parameter("a.b", L.nn.Parameter(L.ones(1))),
    lambda L: L.nn.Module().register_parameter("x", L.nn.Parameter(L.ones(1, requires_grad=True)) * 2),
    lambda L: setattr(L.nn.Linear(3, 4), "weight", L.ones(1)),
    lambda L: setattr(L.nn.Sequential(L.nn.ReLU()), "0", L.ones(1)),
    lambda L: L.nn.Module().add_module(1, L.nn.Linear(1, 1)),
    lambda L: L.nn.Module().add_module("x", 1),
    lambda L: L.nn.Module().add_module("a.b", L.nn.ReLU()),
    lambda L: L.nn.Module().add_module("training", L.nn.ReLU()),
    lambda L: L.nn.ModuleList([1]),
    lambda L: L.nn.Module().forward(1),
    lambda L: L.nn.Module().foo,
    lambda L: L.nn.Linear(3, 4).foo,
    lambda L: L.nn.Linear(3, 4).train("x"),
    lambda L: L.nn.Linear(3, 4).to(L.int64),
    lambda L: L.nn.Module(1),
    lambda L: L.nn.Module(a=1),
    lambda L: L.nn.Linear(2, 2).get_submodule("x.y"),
    lambda L: L.nn.Sequential(L.nn.ReLU()).get_parameter("0.weight"),
]


@pytest.mark.parametrize("fn", REGISTRATION_ERRORS)
def test_registration_errors_match_torch(fn):
    assert_same_error(fn)


def test_attribute_assignment_moves_between_registries():
    m = tapegrad.nn.Module()
    m.x = tapegrad.nn.Parameter(tapegrad.ones(1))
    assert list(m._parameters) == ["x"]
    m.x = None
    assert m.x is None and list(m._parameters) == ["x"]
    del m.x
    m.x = tapegrad.nn.ReLU()
    assert list(m._parameters) == [] and list(m._modules) == ["x"]
    m.x = tapegrad.nn.Parameter(tapegrad.ones(1))
    assert list(m._parameters) == ["x"] and list(m._modules) == []
    del m.x
    m.x = tapegrad.nn.ReLU()
    m.x = None
    assert m.x is None and "x" in m._modules
    m.register_buffer("b", tapegrad.ones(1))
    m.b = None
    assert m.b is None and "b" in m._buffers
    del m.b
    del m.x
    assert not m._buffers and not m._modules
    m.plain = 3
    assert m.plain == 3 and "plain" in m.__dict__
    del m.plain
    assert "plain" not in dir(m)


def test_parameter_can_be_set_to_none():
    ours, ref = tapegrad.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours.bias = None
    ref.bias = None
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight"]
    assert ours(tapegrad.ones(1, 2)).shape == (1, 2)


def test_dir_lists_registered_names():
    m = tapegrad.nn.Sequential(tapegrad.nn.Linear(2, 2))
    names = dir(m[0])
    assert "weight" in names and "bias" in names and "forward" in names
    assert "0" not in dir(m)


def test_get_submodule_and_parameter(models):
    ours, _ = models
    assert ours.get_submodule("heads.reg.0") is ours.heads["reg"][0]
    assert ours.get_parameter("blocks.1.fc.weight") is ours.blocks[1].fc.weight
    assert ours.get_buffer("bn.running_mean") is ours.bn.running_mean
    assert ours.get_submodule("") is ours


# ---- modes, conversions, grads ----

def test_train_eval_propagate(models):
    ours, _ = models
    assert ours.training and ours.blocks[1].norm.training
    assert ours.eval() is ours
    assert not any(m.training for m in ours.modules())
    ours.train()
    assert all(m.training for m in ours.modules())
    ours.heads.train(False)
    assert ours.training and not ours.heads["reg"][1].training


def test_zero_grad(models):
    ours, _ = models
    ours.eval()
    ours(tapegrad.tensor([[1, 2, 3]]))[0].sum().backward()
    grads = [p for p in ours.parameters() if p.grad is not None]
    assert grads
    ours.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any().item() for p in grads)
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())


def test_requires_grad_(models):
    ours, _ = models
    assert ours.requires_grad_(False) is ours
    assert not any(p.requires_grad for p in ours.parameters())
    ours.blocks.requires_grad_()
    assert all(p.requires_grad for p in ours.blocks.parameters())
    assert not ours.embed.weight.requires_grad


def test_apply_visits_children_first(models):
    orders = []
    for model in models:
        seen = []
        assert model.apply(lambda m: seen.append(type(m).__name__)) is model
        orders.append(seen)
    assert orders[0] == orders[1]


def test_to_and_dtype_conversions_keep_parameter_objects(models):
    ours, _ = models
    weight = ours.blocks[0].fc.weight
    ours(tapegrad.tensor([[1, 2], [3, 4]]))[0].sum().backward()
    assert ours.double() is ours
    assert ours.blocks[0].fc.weight is weight
    assert weight.dtype == tapegrad.float64 and weight.grad.dtype == tapegrad.float64
    assert ours.bn.running_mean.dtype == tapegrad.float64
    assert ours.bn.num_batches_tracked.dtype == tapegrad.int64
    ours.float()
    assert weight.dtype == tapegrad.float32
    ours.to(tapegrad.float64)
    assert weight.dtype == tapegrad.float64
    ours.to("cpu", dtype=tapegrad.float32)
    assert weight.dtype == tapegrad.float32 and weight.requires_grad and weight.is_leaf
    ours.to(tapegrad.zeros(1, dtype=tapegrad.float64))
    assert weight.dtype == tapegrad.float64
    assert ours.cpu() is ours


def test_deepcopy_gives_an_independent_model(models):
    ours, _ = models
    twin = copy.deepcopy(ours)
    assert twin.shared is twin.blocks[0]
    for (n1, p1), (n2, p2) in zip(ours.named_parameters(), twin.named_parameters()):
        assert n1 == n2 and p1 is not p2 and p1.data_ptr() != p2.data_ptr()
        assert isinstance(p2, tapegrad.nn.Parameter)
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())


# ---- __call__ and hooks ----

def test_call_passes_arguments_to_forward():
    class Add(tapegrad.nn.Module):
        def forward(self, a, b=1, *, c=0):
            return a + b + c

    assert Add()(1, 2, c=3) == 6


def test_forward_hooks():
    lin = tapegrad.nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = lin.register_forward_hook(lambda m, args, out: calls.append(args[0].sum().item()) or out * 2)
    out = lin(tapegrad.ones(1, 2))
    assert calls == [0.0]
    np.testing.assert_allclose(out.detach().numpy(), (lin.bias * 2).detach().numpy()[None])
    pre.remove()
    post.remove()
    assert not lin._forward_hooks and not lin._forward_pre_hooks
    kw = lin.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] + 1,), kwargs), with_kwargs=True)
    out = lin(tapegrad.zeros(1, 2))
    ref = tapegrad.nn.functional.linear(tapegrad.ones(1, 2), lin.weight, lin.bias)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy())
    kw.remove()


# ---- load_state_dict ----

def test_load_state_dict_from_torch_weights_round_trips(models):
    ours, ref = models
    copy_weights(ours, ref)
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), ref.state_dict()[key].numpy())


LOAD_ERRORS = [
    lambda L: L.nn.Linear(3, 4).load_state_dict({"weight": L.zeros(4, 3)}),
    lambda L: L.nn.Linear(3, 4).load_state_dict({"weight": L.zeros(4, 3), "bias": L.zeros(4), "foo": L.zeros(1)}),
    lambda L: L.nn.Linear(3, 4).load_state_dict({"weight": L.zeros(4, 4), "bias": L.zeros(4)}),
    lambda L: L.nn.Linear(3, 4).load_state_dict({"weight": 5, "bias": L.zeros(4)}),
    lambda L: L.nn.Linear(3, 4).load_state_dict(5),
    lambda L: L.nn.Sequential(L.nn.Linear(1, 1), L.nn.BatchNorm1d(2)).load_state_dict(
        {"0.weight": L.zeros(1, 1), "1.weight": L.zeros(3), "2.bias": L.zeros(1), "1.junk.x": L.zeros(1)}),
]


@pytest.mark.parametrize("fn", LOAD_ERRORS)
def test_load_state_dict_errors_match_torch(fn):
    assert_same_error(fn)


def test_load_state_dict_non_strict_reports_keys():
    results = []
    for lib in (tapegrad, torch):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        res = m.load_state_dict({"0.weight": lib.zeros(2, 2), "extra": lib.zeros(1)}, strict=False)
        results.append((res.missing_keys, res.unexpected_keys, repr(res)))
        assert repr(m.load_state_dict(m.state_dict())) == "<All keys matched successfully>"
    assert results[0] == results[1]


def test_load_state_dict_without_metadata_fills_num_batches_tracked():
    bn = tapegrad.nn.BatchNorm1d(3)
    state = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    assert repr(bn.load_state_dict(state)) == "<All keys matched successfully>"


def test_load_state_dict_copies_into_existing_parameters():
    m = tapegrad.nn.Linear(2, 2)
    weight = m.weight
    m.load_state_dict({"weight": tapegrad.ones(2, 2), "bias": tapegrad.zeros(2)})
    assert m.weight is weight and weight.tolist() == [[1.0, 1.0], [1.0, 1.0]] and weight.requires_grad
    m.load_state_dict({"weight": tapegrad.zeros(2, 2), "bias": tapegrad.zeros(2)}, assign=True)
    assert m.weight is not weight and isinstance(m.weight, tapegrad.nn.Parameter) and m.weight.requires_grad


# ---- containers ----

def test_sequential_indexing_and_editing():
    for lib in (tapegrad, torch):
        nn = lib.nn
        seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and seq[1] is list(seq)[1]
        head = seq[:2]
        assert type(head) is nn.Sequential and len(head) == 2 and head[0] is seq[0]
        seq.append(nn.Sigmoid())
        seq.insert(0, nn.Identity())
        seq.extend(nn.Sequential(nn.Tanh()))
        assert [type(m).__name__ for m in seq] == ["Identity", "Linear", "ReLU", "Linear", "Sigmoid", "Tanh"]
        del seq[0]
        assert list(seq._modules) == ["0", "1", "2", "3", "4"]
        seq[1] = nn.GELU()
        assert type(seq[1]).__name__ == "GELU"
        assert len(seq + nn.Sequential(nn.ReLU())) == 6
        popped = seq.pop(4)
        assert type(popped).__name__ == "Tanh" and len(seq) == 4
    assert_same_error(lambda L: L.nn.Sequential(L.nn.ReLU())[1])
    assert_same_error(lambda L: L.nn.Sequential(L.nn.ReLU())[-2])


def test_sequential_with_ordered_dict_and_forward():
    x = np.random.default_rng(0).standard_normal((4, 3))
    outs = []
    for lib in (tapegrad, torch):
        lib.manual_seed(42)
        seq = lib.nn.Sequential(OrderedDict([("fc", lib.nn.Linear(3, 2)), ("act", lib.nn.Tanh())]))
        assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
        assert seq.fc is seq[0]
        outs.append(seq(lib.tensor(x, dtype=lib.float32)))
    assert_close(*outs, dtype="float32")


def test_module_list_and_dict():
    for lib in (tapegrad, torch):
        nn = lib.nn
        ml = nn.ModuleList([nn.ReLU()])
        ml.append(nn.Tanh()).extend([nn.GELU()])
        ml += [nn.Sigmoid()]
        ml.insert(1, nn.Identity())
        assert [type(m).__name__ for m in ml] == ["ReLU", "Identity", "Tanh", "GELU", "Sigmoid"]
        assert type(ml[1:3]) is nn.ModuleList and len(ml[1:3]) == 2
        del ml[0]
        assert list(ml._modules) == ["0", "1", "2", "3"] and type(ml[-1]).__name__ == "Sigmoid"
        ml[0] = nn.ReLU()
        assert type(ml.pop(0)).__name__ == "ReLU" and len(ml) == 3
        md = nn.ModuleDict([("a", nn.ReLU()), ("b", nn.Tanh())])
        md["c"] = nn.GELU()
        md.update({"d": nn.Identity()})
        assert list(md) == list(md.keys()) == ["a", "b", "c", "d"] and "c" in md and len(md) == 4
        assert type(md.pop("a")).__name__ == "ReLU" and list(md.keys()) == ["b", "c", "d"]
        del md["b"]
        assert [k for k, _ in md.items()] == ["c", "d"] and len(list(md.values())) == 2
        md.clear()
        assert len(md) == 0
    assert_same_error(lambda L: L.nn.ModuleList([L.nn.ReLU()])[2])
    assert_same_error(lambda L: L.nn.ModuleList().extend(3))
    assert_same_error(lambda L: L.nn.ModuleDict().update(3))
    assert_same_error(lambda L: L.nn.ModuleDict([("a", L.nn.ReLU(), 1)]))


# ---- layers against torch from identical weights ----

LAYERS = {
    "linear": (lambda L: L.nn.Linear(5, 3), (4, 5)),
    "linear_no_bias_3d": (lambda L: L.nn.Linear(5, 3, bias=False), (2, 4, 5)),
    "linear_1d_input": (lambda L: L.nn.Linear(5, 3), (5,)),
    "identity": (lambda L: L.nn.Identity(), (3, 4)),
    "flatten": (lambda L: L.nn.Flatten(), (2, 3, 4)),
    "flatten_range": (lambda L: L.nn.Flatten(0, 1), (2, 3, 4)),
    "relu": (lambda L: L.nn.ReLU(), (3, 4)),
    "leaky_relu": (lambda L: L.nn.LeakyReLU(0.3), (3, 4)),
    "sigmoid": (lambda L: L.nn.Sigmoid(), (3, 4)),
    "tanh": (lambda L: L.nn.Tanh(), (3, 4)),
    "gelu": (lambda L: L.nn.GELU(), (3, 4)),
    "gelu_tanh": (lambda L: L.nn.GELU("tanh"), (3, 4)),
    "softmax": (lambda L: L.nn.Softmax(dim=-1), (3, 4)),
    "log_softmax": (lambda L: L.nn.LogSoftmax(dim=0), (3, 4)),
    "softmin": (lambda L: L.nn.Softmin(dim=1), (3, 4)),
    "dropout_eval": (lambda L: L.nn.Dropout(0.5).eval(), (3, 4)),
    "layer_norm": (lambda L: L.nn.LayerNorm(4), (2, 3, 4)),
    "layer_norm_2d_shape_no_bias": (lambda L: L.nn.LayerNorm((3, 4), bias=False), (2, 3, 4)),
    "layer_norm_no_affine": (lambda L: L.nn.LayerNorm(4, elementwise_affine=False), (3, 4)),
    "batch_norm_2d": (lambda L: L.nn.BatchNorm1d(4), (6, 4)),
    "batch_norm_3d": (lambda L: L.nn.BatchNorm1d(3), (4, 3, 5)),
    "batch_norm_eval": (lambda L: L.nn.BatchNorm1d(4).eval(), (6, 4)),
    "batch_norm_no_affine_no_stats": (lambda L: L.nn.BatchNorm1d(4, affine=False, track_running_stats=False), (6, 4)),
    "mlp": (lambda L: L.nn.Sequential(L.nn.Linear(5, 8), L.nn.ReLU(), L.nn.Linear(8, 8), L.nn.Tanh(),
                                      L.nn.Linear(8, 2)), (7, 5)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, dtype):
    check_layer_against_torch(name, *LAYERS[name], dtype)


def check_layer_against_torch(name, make, shape, dtype):
    """make(lib) built in both libraries with torch's weights (randomised) copied over: outputs, input and
    parameter gradients, and buffers agree."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # str hash() varies per process
    x = rng.standard_normal(shape).astype(dtype)
    ref = make(torch).to(getattr(torch, dtype))
    ours = make(tapegrad).to(getattr(tapegrad, dtype))
    # Give affine parameters non-trivial values before copying, so gradients through them are tested.
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype)))
    copy_weights(ours, ref)
    results = []
    for model, lib in ((ours, tapegrad), (ref, torch)):
        xt = lib.tensor(x, requires_grad=True)
        out = model(xt)
        weights = lib.tensor(np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)).astype(dtype))
        (out * weights).sum().backward()
        results.append([out, xt.grad] + [p.grad for p in model.parameters()]
                       + [b for b in model.buffers()])
    for o, r in zip(*results):
        assert_close(o, r, dtype)


def test_embedding_layer_matches_torch():
    idx = [[0, 2, 2], [4, 0, 1]]
    results = []
    for lib in (tapegrad, torch):
        lib.manual_seed(9)
        emb = lib.nn.Embedding(5, 3, padding_idx=2)
        out = emb(lib.tensor(idx))
        (out * out).sum().backward()
        results.append((out, emb.weight.grad, emb.weight))
    for o, r in zip(*results):
        assert_close(o, r, "float32")
    assert not results[0][1].select(0, 2).any().item()


def test_embedding_from_pretrained():
    w = tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    emb = tapegrad.nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad
    assert emb(tapegrad.tensor([1])).tolist() == [[3.0, 4.0]]
    assert repr(emb) == repr(torch.nn.Embedding.from_pretrained(torch.tensor([[1.0, 2.0], [3.0, 4.0]])))


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_running_stats_follow_torch(momentum):
    rng = np.random.default_rng(4)
    batches = [rng.standard_normal((8, 3, 2)) * 3 + 1 for _ in range(4)]
    results = []
    for lib in (tapegrad, torch):
        bn = lib.nn.BatchNorm1d(3, momentum=momentum).double()
        for batch in batches:
            bn(lib.tensor(batch))
        stats = [bn.running_mean.clone(), bn.running_var.clone(), bn.num_batches_tracked.clone()]
        bn.eval()
        results.append(stats + [bn(lib.tensor(batches[0]))])
    for o, r in zip(*results):
        assert_close(o, r)


def test_batch_norm_errors_match_torch():
    assert_same_error(lambda L: L.nn.BatchNorm1d(3)(L.randn(2, 3, 4, 5)))
    assert_same_error(lambda L: L.nn.BatchNorm1d(3)(L.randn(1, 3)))
    assert_same_error(lambda L: L.nn.BatchNorm1d(3)(L.randn(2, 4)))


def test_dropout_layer_follows_training_flag():
    layer = tapegrad.nn.Dropout(0.5)
    x = tapegrad.ones(1000)
    assert (layer(x) == 0).any().item()
    layer.eval()
    assert layer(x) is x


def test_forward_without_backward_frees_its_outputs():
    """A forward pass with grad enabled and no backward (validation without no_grad) must not keep its
    activations: freed blocks are reused, so twenty passes cycle through a few addresses."""
    tapegrad.manual_seed(0)
    model = tapegrad.nn.Sequential(tapegrad.nn.Linear(32, 64), tapegrad.nn.ReLU(), tapegrad.nn.Sigmoid(),
                                   tapegrad.nn.LogSoftmax(1))
    x = tapegrad.randn(16, 32)
    addresses = {model(x).data_ptr() for _ in range(20)}
    assert len(addresses) <= 4


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_twenty_sgd_steps_match_torch(dtype):
    """An MLP classifier trained with plain SGD updates stays within tolerance of torch."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((32, 6)).astype(dtype)
    y = rng.integers(0, 3, size=32)
    models = []
    for lib in (tapegrad, torch):
        lib.manual_seed(17)
        models.append(lib.nn.Sequential(lib.nn.Linear(6, 16), lib.nn.GELU(), lib.nn.LayerNorm(16),
                                        lib.nn.Linear(16, 3)).to(getattr(lib, dtype)))
    for model, lib in zip(models, (tapegrad, torch)):
        xt, yt = lib.tensor(x), lib.tensor(y)
        for _ in range(20):
            model.zero_grad()
            lib.nn.functional.cross_entropy(model(xt), yt, label_smoothing=0.05).backward()
            with lib.no_grad():
                for p in model.parameters():
                    p.sub_(p.grad * 0.1)
    for (n1, p1), (n2, p2) in zip(models[0].named_parameters(), models[1].named_parameters()):
        assert n1 == n2
        assert_close(p1, p2, dtype)


# ---- nn.utils ----

@pytest.mark.parametrize("norm_type,max_norm", [(2.0, 0.5), (1, 100.0), (float("inf"), 0.1), (3.0, 1.0)])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(s) for s in [(3, 4), (4,), (2, 2)]]
    results = []
    for lib in (tapegrad, torch):
        params = [lib.nn.Parameter(lib.zeros(g.shape, dtype=lib.float64)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g)
        params.append(lib.nn.Parameter(lib.zeros(2, dtype=lib.float64)))
        total = lib.nn.utils.clip_grad_norm_(iter(params), max_norm, norm_type=norm_type)
        results.append([total] + [p.grad for p in params[:-1]])
    for ours, ref in zip(*results):
        assert_close(ours, ref)


def test_clip_grad_value_and_nonfinite_error():
    for lib in (tapegrad, torch):
        p = lib.nn.Parameter(lib.zeros(3))
        p.grad = lib.tensor([-2.0, 0.5, 3.0])
        lib.nn.utils.clip_grad_value_(p, 1)
        assert p.grad.tolist() == [-1.0, 0.5, 1.0]
        assert lib.nn.utils.clip_grad_norm_([lib.nn.Parameter(lib.zeros(1))], 1.0).item() == 0.0

    def nonfinite(L):
        p = L.nn.Parameter(L.zeros(2))
        p.grad = L.tensor([float("inf"), 1.0])
        L.nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert_same_error(nonfinite)
