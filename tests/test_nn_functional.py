"""tapegrad.nn.functional beyond the op table: grad_fn names, double backward, dropout's random
mask, warnings, legacy arguments, in-place variants and errors, each against PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import tapegrad

# Broadcasting losses warn on purpose; the tests that check the warning record it themselves.
pytestmark = pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")

RNG = np.random.default_rng(0)


def arrays(*shapes, dtype="float64"):
    return [RNG.standard_normal(s).astype(dtype) for s in shapes]


def tensors(lib, arrs, requires_grad=True):
    return [lib.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f") for a in arrs]


def assert_close(ours, ref, rtol=1e-7, atol=1e-10):
    assert tuple(ours.shape) == tuple(ref.shape)
    assert str(ours.dtype) == str(ref.dtype)
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)


def assert_same_error(fn, exact=True):
    """fn(lib) raises the same exception type (and message) for tapegrad and torch."""
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(tapegrad)
    assert type(ours.value) is type(ref.value), (ours.value, ref.value)
    if exact:
        assert str(ours.value) == str(ref.value)
    else:
        assert str(ref.value).split(":")[0] in str(ours.value), (str(ours.value), str(ref.value))


# ---- grad_fn names ----

def _idx(lib, values):
    return lib.tensor(values)


GRAD_FN_CASES = [
    ("linear", lambda L, F, x: F.linear(x, L.ones(3, 4, dtype=x.dtype), L.zeros(3, dtype=x.dtype))),
    ("linear_no_bias", lambda L, F, x: F.linear(x, L.ones(3, 4, dtype=x.dtype))),
    ("linear_3d", lambda L, F, x: F.linear(x.reshape(1, 5, 4), L.ones(3, 4, dtype=x.dtype), L.zeros(3, dtype=x.dtype))),
    ("linear_1d", lambda L, F, x: F.linear(x.select(0, 0), L.ones(3, 4, dtype=x.dtype), L.zeros(3, dtype=x.dtype))),
    ("relu", lambda L, F, x: F.relu(x)),
    ("leaky_relu", lambda L, F, x: F.leaky_relu(x, 0.1)),
    ("gelu", lambda L, F, x: F.gelu(x)),
    ("gelu_tanh", lambda L, F, x: F.gelu(x, approximate="tanh")),
    ("softmax", lambda L, F, x: F.softmax(x, 1)),
    ("log_softmax", lambda L, F, x: F.log_softmax(x, 1)),
    ("dropout", lambda L, F, x: F.dropout(x, 0.5)),
    ("layer_norm", lambda L, F, x: F.layer_norm(x, (4,))),
    ("batch_norm", lambda L, F, x: F.batch_norm(x, None, None, training=True)),
    ("embedding", lambda L, F, x: F.embedding(_idx(L, [0, 2]), x)),
    ("mse_loss", lambda L, F, x: F.mse_loss(x, L.zeros_like(x))),
    ("mse_loss_none", lambda L, F, x: F.mse_loss(x, L.zeros_like(x), reduction="none")),
    ("l1_loss", lambda L, F, x: F.l1_loss(x, L.zeros_like(x))),
    ("l1_loss_sum", lambda L, F, x: F.l1_loss(x, L.zeros_like(x), reduction="sum")),
    ("l1_loss_none", lambda L, F, x: F.l1_loss(x, L.zeros_like(x), reduction="none")),
    ("smooth_l1_loss", lambda L, F, x: F.smooth_l1_loss(x, L.zeros_like(x))),
    ("bce", lambda L, F, x: F.binary_cross_entropy(x.sigmoid(), L.ones_like(x) * 0.5)),
    ("bce_with_logits", lambda L, F, x: F.binary_cross_entropy_with_logits(x, L.ones_like(x) * 0.5)),
    ("nll_loss", lambda L, F, x: F.nll_loss(x, _idx(L, [0, 1, 2, 3, 0]))),
    ("cross_entropy", lambda L, F, x: F.cross_entropy(x, _idx(L, [0, 1, 2, 3, 0]))),
    ("cross_entropy_none", lambda L, F, x: F.cross_entropy(x, _idx(L, [0, 1, 2, 3, 0]), reduction="none")),
    ("cross_entropy_smoothing", lambda L, F, x: F.cross_entropy(x, _idx(L, [0, 1, 2, 3, 0]), label_smoothing=0.1)),
    ("cross_entropy_3d", lambda L, F, x: F.cross_entropy(x.reshape(1, 5, 4), _idx(L, [[0, 1, 2, 3]]))),
    ("cross_entropy_3d_none",
     lambda L, F, x: F.cross_entropy(x.reshape(1, 5, 4), _idx(L, [[0, 1, 2, 3]]), reduction="none")),
    ("cross_entropy_4d", lambda L, F, x: F.cross_entropy(x.reshape(1, 5, 2, 2), _idx(L, [[[0, 1], [2, 3]]]))),
]


@pytest.mark.parametrize("name,fn", GRAD_FN_CASES, ids=[c[0] for c in GRAD_FN_CASES])
def test_grad_fn_names_match_torch(name, fn):
    data = arrays((5, 4))[0]
    names = []
    for lib in (tapegrad, torch):
        x = lib.tensor(data, requires_grad=True)
        out = fn(lib, lib.nn.functional, x)
        gf = out.grad_fn
        names.append(gf.name() if lib is tapegrad else type(gf).__name__)
    assert names[0] == names[1]


# ---- double backward: every fused backward has a differentiable twin for create_graph ----

def _class_weight(L):
    return L.tensor([1.0, 2.0, 0.5, 3.0], dtype=L.float64)


DOUBLE_BACKWARD_CASES = [
    ("linear", [(5, 4), (3, 4), (3,)], lambda L, F, x, w, b: F.linear(x, w, b)),
    ("linear_3d", [(2, 5, 4), (3, 4), (3,)], lambda L, F, x, w, b: F.linear(x, w, b)),
    ("gelu", [(3, 4)], lambda L, F, x: F.gelu(x)),
    ("gelu_tanh", [(3, 4)], lambda L, F, x: F.gelu(x, approximate="tanh")),
    ("leaky_relu", [(3, 4)], lambda L, F, x: F.leaky_relu(x, 0.2) * x),
    ("mse_loss", [(3, 4), (3, 4)], lambda L, F, x, t: F.mse_loss(x * x, t)),
    ("mse_loss_none", [(3, 4), (4,)], lambda L, F, x, t: F.mse_loss(x.sin(), t, reduction="none")),
    ("smooth_l1_loss", [(3, 4), (3, 4)], lambda L, F, x, t: F.smooth_l1_loss(x * x, t, beta=0.7)),
    ("bce", [(3, 4), (3, 4)], lambda L, F, x, t: F.binary_cross_entropy(x.sigmoid(), t.sigmoid())),
    ("bce_weight", [(3, 4), (3, 4)],
     lambda L, F, x, t: F.binary_cross_entropy(x.sigmoid(), t.sigmoid(), weight=_class_weight(L))),
    ("bce_with_logits", [(3, 4), (3, 4)], lambda L, F, x, t: F.binary_cross_entropy_with_logits(x, t.sigmoid())),
    ("bce_with_logits_pos_weight", [(3, 4), (3, 4)],
     lambda L, F, x, t: F.binary_cross_entropy_with_logits(x, t.sigmoid(), pos_weight=_class_weight(L),
                                                            weight=_class_weight(L), reduction="sum")),
    ("nll_loss", [(5, 4)], lambda L, F, x: F.nll_loss((x * x).log_softmax(1), L.tensor([0, 1, 2, 3, 1]))),
    ("nll_loss_weight_none", [(5, 4)],
     lambda L, F, x: F.nll_loss(x * x, L.tensor([0, 1, 2, 3, 1]), weight=_class_weight(L), reduction="none")),
    ("cross_entropy", [(5, 4)], lambda L, F, x: F.cross_entropy(x * x, L.tensor([0, 1, 2, 3, 1]))),
    ("cross_entropy_smoothing", [(5, 4)],
     lambda L, F, x: F.cross_entropy(x * x, L.tensor([0, 1, 2, 3, 1]), label_smoothing=0.2, ignore_index=1)),
    ("layer_norm", [(3, 4), (4,), (4,)], lambda L, F, x, w, b: F.layer_norm(x, (4,), w, b)),
    ("batch_norm", [(5, 3), (3,), (3,)], lambda L, F, x, w, b: F.batch_norm(x, None, None, w, b, training=True)),
    ("batch_norm_eval", [(5, 3), (3,), (3,)],
     lambda L, F, x, w, b: F.batch_norm(x, L.zeros(3, dtype=L.float64), L.ones(3, dtype=L.float64) * 2, w, b) * x),
    ("embedding", [(4, 3), (2, 3)], lambda L, F, w, v: F.embedding(L.tensor([0, 2, 2, 1]), w * w) * (v * v).sum()),
    ("embedding_padding", [(4, 3)], lambda L, F, w: F.embedding(L.tensor([0, 2, 2, 1]), w * w, padding_idx=2)),
]


@pytest.mark.parametrize("name,shapes,fn", DOUBLE_BACKWARD_CASES, ids=[c[0] for c in DOUBLE_BACKWARD_CASES])
def test_double_backward_matches_torch(name, shapes, fn):
    arrs = arrays(*shapes)
    results = []
    for lib in (tapegrad, torch):
        inputs = tensors(lib, arrs)
        out = fn(lib, lib.nn.functional, *inputs)
        weight = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
        grads = lib.autograd.grad((out * weight).sum(), inputs, create_graph=True)
        total = sum(((g * g).sum() for g in grads), lib.tensor(0.0, dtype=lib.float64))
        second = lib.autograd.grad(total, inputs, allow_unused=True)
        results.append((grads, second))
    for ours, ref in zip(results[0][0], results[1][0]):
        assert_close(ours, ref)
    for ours, ref in zip(results[0][1], results[1][1]):
        if ref is None:
            assert ours is None or not np.any(ours.numpy())
        else:
            assert_close(ours, ref)


# ---- dropout ----

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_mask_matches_torch_after_manual_seed(dtype, p):
    data = np.ones((7, 33), dtype=dtype)
    outs = []
    for lib in (tapegrad, torch):
        lib.manual_seed(2024)
        outs.append(lib.nn.functional.dropout(lib.tensor(data), p))
    assert_close(*outs, rtol=0, atol=0)


DROPOUT_DATA = np.random.default_rng(1).standard_normal((6, 10))
DROPOUT_WEIGHTS = np.random.default_rng(2).standard_normal((6, 10))


def test_dropout_module_train_eval_and_gradient():
    outs, grads = [], []
    for lib in (tapegrad, torch):
        lib.manual_seed(5)
        layer = lib.nn.Dropout(0.25)
        x = lib.tensor(DROPOUT_DATA, requires_grad=True)
        y = layer(x)
        (y * lib.tensor(DROPOUT_WEIGHTS)).sum().backward()
        outs.append(y)
        grads.append(x.grad)
        layer.eval()
        assert layer(x) is x
    assert_close(*outs, rtol=0, atol=0)
    assert_close(*grads, rtol=0, atol=0)


def test_dropout_keeps_expected_fraction():
    tapegrad.manual_seed(0)
    y = tapegrad.nn.functional.dropout(tapegrad.ones(200000), 0.3)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.005
    np.testing.assert_allclose(np.unique(y.numpy()), [0.0, np.float32(1) / np.float32(0.7)])


def test_dropout_identity_cases_return_input():
    x = tapegrad.randn(3, 4)
    F = tapegrad.nn.functional
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(tapegrad.ones(0), 0.5).shape == (0,)


def test_dropout_inplace_writes_input():
    x, ref = tapegrad.ones(4, 5), torch.ones(4, 5)
    tapegrad.manual_seed(3)
    torch.manual_seed(3)
    out = tapegrad.nn.functional.dropout(x, 0.5, inplace=True)
    torch.nn.functional.dropout(ref, 0.5, inplace=True)
    assert out is x
    assert_close(x, ref, rtol=0, atol=0)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_errors(p):
    assert_same_error(lambda L: L.nn.functional.dropout(L.ones(3), p))
    assert_same_error(lambda L: L.nn.Dropout(p))


# ---- activations ----

def test_leaky_relu_inplace_returns_input_and_matches():
    data = arrays((3, 4))[0]
    outs = []
    for lib in (tapegrad, torch):
        x = lib.tensor(data)
        y = lib.nn.functional.leaky_relu(x, 0.2, inplace=True)
        assert y is x
        outs.append(x)
    assert_close(*outs)


def test_leaky_relu_inplace_gradient_and_negative_slope_error():
    data = arrays((3, 4))[0]
    grads, names = [], []
    for lib in (tapegrad, torch):
        x = lib.tensor(data, requires_grad=True)
        y = lib.nn.functional.leaky_relu(x * 2, 0.1, inplace=True)
        names.append(y.grad_fn.name().rsplit("::", 1)[-1])
        (y * y).sum().backward()
        grads.append(x.grad)
    assert names == ["LeakyReluBackward1", "LeakyReluBackward1"]
    assert_close(*grads)

    def negative_slope(L):
        x = L.ones(3, requires_grad=True)
        L.nn.functional.leaky_relu(x * 2, -0.1, inplace=True).sum().backward()
    assert_same_error(negative_slope)


def test_relu_inplace_returns_input():
    x = tapegrad.tensor([-1.0, 2.0])
    assert tapegrad.nn.functional.relu(x, inplace=True) is x
    assert x.tolist() == [0.0, 2.0]


def test_gelu_values_at_extremes():
    data = np.array([-30.0, -5.0, 0.0, 5.0, 30.0])
    for approximate in ("none", "tanh"):
        outs = [lib.nn.functional.gelu(lib.tensor(data), approximate=approximate) for lib in (tapegrad, torch)]
        assert_close(*outs)


def test_activation_errors():
    assert_same_error(lambda L: L.nn.functional.gelu(L.ones(3), approximate="foo"))
    assert_same_error(lambda L: L.nn.functional.gelu(L.ones(3, dtype=L.int64)))
    assert_same_error(lambda L: L.nn.functional.leaky_relu(L.ones(3, dtype=L.int64)))


def test_softmax_implicit_dim_warns_and_picks_torch_dim():
    for shape in [(4,), (3, 4), (2, 3, 4), (2, 3, 4, 5)]:
        data = arrays(shape)[0]
        outs = []
        for lib in (tapegrad, torch):
            with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
                outs.append(lib.nn.functional.softmax(lib.tensor(data)))
        assert_close(*outs)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        tapegrad.nn.functional.log_softmax(tapegrad.ones(2, 3))


# ---- one_hot ----

def test_one_hot_values_and_dtype():
    for args in [([[0, 2], [1, 3]],), ([3, 0, 1], 6)]:
        outs = [lib.nn.functional.one_hot(lib.tensor(args[0]), *args[1:]) for lib in (tapegrad, torch)]
        assert_close(*outs, rtol=0, atol=0)
    empty = tapegrad.nn.functional.one_hot(tapegrad.zeros(0, dtype=tapegrad.int64), 3)
    assert tuple(empty.shape) == (0, 3) and empty.dtype == tapegrad.int64


def test_one_hot_errors():
    assert_same_error(lambda L: L.nn.functional.one_hot(L.tensor([0, 3]), 3))
    assert_same_error(lambda L: L.nn.functional.one_hot(L.tensor([0, -1])))
    assert_same_error(lambda L: L.nn.functional.one_hot(L.tensor([0.0, 1.0])))
    assert_same_error(lambda L: L.nn.functional.one_hot(L.zeros(0, dtype=L.int64)))


# ---- linear ----

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_transposed_and_sliced_operands(dtype):
    x, w, b = arrays((6, 5), (3, 3), (7,), dtype=dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else {}
    results = []
    for lib in (tapegrad, torch):
        xt, wt, bt = tensors(lib, [x, w, b])
        out = lib.nn.functional.linear(xt.narrow(1, 1, 3), wt.t(), bt.narrow(0, 1, 3))
        (out * out).sum().backward()
        results.append([out, xt.grad, wt.grad, bt.grad])
    for ours, ref in zip(*results):
        assert_close(ours, ref, **tol)


def test_linear_integer_inputs_match_torch():
    outs = [lib.nn.functional.linear(lib.tensor([[1, 2, 3]]), lib.tensor([[1, 0, 2], [3, 1, 1]]), lib.tensor([5, 6]))
            for lib in (tapegrad, torch)]
    assert_close(*outs, rtol=0, atol=0)


def test_linear_vector_weight_is_a_matmul():
    x, w = arrays((4, 3), (3,))
    outs = [lib.nn.functional.linear(lib.tensor(x), lib.tensor(w)) for lib in (tapegrad, torch)]
    assert_close(*outs)


LINEAR_ERRORS = [
    lambda L: L.nn.functional.linear(L.randn(2, 3), L.randn(4, 5)),
    lambda L: L.nn.functional.linear(L.randn(2, 3), L.randn(4, 5), L.randn(4)),
    lambda L: L.nn.functional.linear(L.randn(3), L.randn(4, 5)),
    lambda L: L.nn.functional.linear(L.randn(2, 2, 3), L.randn(4, 5), L.randn(4)),
    lambda L: L.nn.functional.linear(L.randn(2, 3), L.randn(4, 3), L.randn(5)),
    lambda L: L.nn.functional.linear(L.randn(2, 3), L.randn(4, 3), L.randn(3, 4)),
    lambda L: L.nn.functional.linear(L.randn(2, 3), L.randn(4, 3), L.randn(1, 1, 4)),
    lambda L: L.nn.functional.linear(L.randn(2, 3), L.randn(4, 3).double()),
    lambda L: L.nn.functional.linear(L.randn(2, 3), L.randn(4, 3), L.randn(4).double()),
    lambda L: L.nn.functional.linear(L.tensor(2.0), L.randn(4, 3)),
    lambda L: L.nn.Linear(3, 4)(L.randn(2, 5)),
]


@pytest.mark.parametrize("fn", LINEAR_ERRORS)
def test_linear_errors_match_torch(fn):
    assert_same_error(fn)


# ---- losses: warnings, legacy arguments, dtypes ----

def test_pointwise_loss_broadcast_warning_matches_torch():
    for name in ("mse_loss", "l1_loss", "smooth_l1_loss"):
        messages = []
        for lib in (tapegrad, torch):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                getattr(lib.nn.functional, name)(lib.ones(3, 1), lib.ones(3))
            messages.append([str(w.message) for w in caught if issubclass(w.category, UserWarning)])
        assert messages[0] == messages[1] and len(messages[0]) == 1


def test_broadcast_warning_points_at_the_caller():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tapegrad.nn.functional.mse_loss(tapegrad.ones(2), tapegrad.ones(1))
    assert caught[0].filename == __file__


@pytest.mark.parametrize("size_average,reduce", [(None, False), (False, None), (True, True), (False, True)])
def test_legacy_reduction_arguments(size_average, reduce):
    x, t = arrays((3, 4), (3, 4))
    outs = []
    for lib in (tapegrad, torch):
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            outs.append(lib.nn.functional.mse_loss(lib.tensor(x), lib.tensor(t), size_average=size_average,
                                                   reduce=reduce))
    assert_close(*outs)


def test_loss_dtype_promotion_matches_torch():
    cases = [
        lambda L: L.nn.functional.mse_loss(L.ones(3), L.ones(3, dtype=L.float64) * 2),
        lambda L: L.nn.functional.mse_loss(L.ones(3), L.tensor([1, 2, 3])),
        lambda L: L.nn.functional.smooth_l1_loss(L.ones(3, dtype=L.float64), L.ones(3)),
        lambda L: L.nn.functional.binary_cross_entropy_with_logits(L.ones(3), L.ones(3, dtype=L.float64)),
    ]
    for fn in cases:
        assert_close(fn(tapegrad), fn(torch))


def test_mse_loss_gradient_flows_to_a_broadcast_target():
    x, t = arrays((3, 4), (4,))
    grads = []
    for lib in (tapegrad, torch):
        xt, tt = tensors(lib, [x, t])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.nn.functional.mse_loss(xt, tt).backward()
        grads.append((xt.grad, tt.grad))
    assert_close(grads[0][0], grads[1][0])
    assert_close(grads[0][1], grads[1][1])


LOSS_ERRORS = [
    lambda L: L.nn.functional.cross_entropy(L.randn(3, 4), L.tensor([0, 5, 1])),
    lambda L: L.nn.functional.cross_entropy(L.randn(3, 4), L.tensor([0, -1, 1])),
    lambda L: L.nn.functional.cross_entropy(L.randn(3, 4), L.tensor([0, 1])),
    lambda L: L.nn.functional.cross_entropy(L.randn(3, 4), L.tensor([[0, 1, 1]])),
    lambda L: L.nn.functional.cross_entropy(L.randn(3, 4), L.tensor([0.0, 1, 1])),
    lambda L: L.nn.functional.cross_entropy(L.randn(3, 4), L.tensor([0, 1, 1]), weight=L.ones(3)),
    lambda L: L.nn.functional.cross_entropy(L.randn(3, 4, 5), L.zeros(3, 4, dtype=L.int64)),
    lambda L: L.nn.functional.cross_entropy(L.randn(3, 4, 5), L.zeros(3, 5, dtype=L.int64) + 7),
    lambda L: L.nn.functional.cross_entropy(L.randn(3, 4, 5, 2), L.zeros(3, 5, 3, dtype=L.int64)),
    lambda L: L.nn.functional.cross_entropy(L.randn(3, 4), L.randn(3, 4), ignore_index=1),
    lambda L: L.nn.functional.cross_entropy(L.randn(3, 4), L.tensor([0, 1, 1]), reduction="foo"),
    lambda L: L.nn.functional.cross_entropy(L.randn(3, 4), L.tensor([0, 1, 1]), label_smoothing=1.5),
    lambda L: L.nn.functional.cross_entropy(L.tensor(1.0), L.tensor(0)),
    lambda L: L.nn.functional.cross_entropy(L.randn(4), L.tensor(5)),
    lambda L: L.nn.functional.nll_loss(L.randn(3, 4), L.tensor([0.0, 1, 1])),
    lambda L: L.nn.functional.nll_loss(L.randn(3, 4, dtype=L.float64).long(), L.tensor([0, 1, 1])),
    lambda L: L.nn.functional.nll_loss(L.randn(3, 4), L.tensor([0, 1, 1]), weight=L.ones(4, requires_grad=True)),
    lambda L: L.nn.functional.mse_loss(L.randn(3), L.randn(4)),
    lambda L: L.nn.functional.mse_loss(L.ones(3, dtype=L.int64), L.ones(3, dtype=L.int64)),
    lambda L: L.nn.functional.mse_loss(L.ones(3), L.ones(3), reduction="avg"),
    lambda L: L.nn.functional.binary_cross_entropy(L.tensor([0.5, 2.0]), L.tensor([1.0, 0.0])),
    lambda L: L.nn.functional.binary_cross_entropy(L.rand(3), L.rand(4)),
    lambda L: L.nn.functional.binary_cross_entropy(L.rand(3), L.rand(3).double()),
    lambda L: L.nn.functional.binary_cross_entropy(L.rand(3), L.rand(3), weight=L.ones(3, requires_grad=True)),
    lambda L: L.nn.functional.binary_cross_entropy_with_logits(L.rand(3), L.rand(4)),
    lambda L: L.nn.functional.binary_cross_entropy_with_logits(L.rand(2, 3), L.rand(2, 3), pos_weight=L.ones(4)),
    lambda L: L.nn.functional.binary_cross_entropy_with_logits(L.rand(2, 3), L.rand(2, 3), weight=L.ones(4)),
    lambda L: L.nn.functional.binary_cross_entropy_with_logits(L.rand(3), L.rand(3),
                                                                pos_weight=L.ones(3, requires_grad=True)),
    lambda L: L.nn.functional.l1_loss(L.randn(3), L.randn(3), weight=L.ones(2)),
    lambda L: L.nn.functional.mse_loss(L.randn(3), L.randn(3), weight=L.ones(3), reduction="avg"),
    lambda L: L.nn.functional.smooth_l1_loss(L.randn(3), L.randn(3), beta=-1),
]


@pytest.mark.parametrize("fn", LOSS_ERRORS)
def test_loss_errors_match_torch(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_error(fn)


# ---- embedding, layer_norm, batch_norm ----

def test_embedding_repeated_indices_accumulate():
    w = arrays((5, 3))[0]
    idx = [[1, 1, 4], [1, 0, 4]]
    grads = []
    for lib in (tapegrad, torch):
        wt = lib.tensor(w, requires_grad=True)
        out = lib.nn.functional.embedding(lib.tensor(idx), wt)
        (out * lib.tensor(np.arange(18.0).reshape(2, 3, 3))).sum().backward()
        grads.append(wt.grad)
    assert_close(*grads)


def test_embedding_max_norm_renormalises_rows_in_place():
    w = arrays((5, 3))[0] * 3
    results = []
    for lib in (tapegrad, torch):
        wt = lib.tensor(w)
        out = lib.nn.functional.embedding(lib.tensor([0, 2, 2]), wt, max_norm=1.0)
        results.append((out, wt))
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])


EMBEDDING_NORM_ERRORS = [
    lambda L: L.nn.functional.embedding(L.tensor([0, 5]), L.randn(5, 3)),
    lambda L: L.nn.functional.embedding(L.tensor([0, -1]), L.randn(5, 3)),
    lambda L: L.nn.functional.embedding(L.tensor([0.0, 1]), L.randn(5, 3)),
    lambda L: L.nn.functional.embedding(L.tensor([0, 1]), L.randn(5)),
    lambda L: L.nn.functional.embedding(L.tensor([0, 1]), L.randn(5, 3), padding_idx=5),
    lambda L: L.nn.functional.embedding(L.tensor([0, 1]), L.randn(5, 3), padding_idx=-6),
    lambda L: L.nn.functional.layer_norm(L.randn(2, 3), (4,)),
    lambda L: L.nn.functional.layer_norm(L.randn(2, 3), (3,), weight=L.ones(4)),
    lambda L: L.nn.functional.batch_norm(L.randn(1, 3), L.zeros(3), L.ones(3), training=True),
    lambda L: L.nn.functional.batch_norm(L.randn(2, 4), L.zeros(3), L.ones(3), training=True),
    lambda L: L.nn.functional.batch_norm(L.randn(3, 2), None, None, training=False),
    lambda L: L.nn.functional.batch_norm(L.randn(3, 2), L.zeros(2), None, training=False),
    lambda L: L.nn.functional.batch_norm(L.randn(3), None, None, training=True),
    lambda L: L.nn.functional.batch_norm(L.randn(3, 2), None, None, weight=L.ones(3), training=True),
    lambda L: L.nn.functional.layer_norm(L.randn(3, 2), []),
]


@pytest.mark.parametrize("fn", EMBEDDING_NORM_ERRORS)
def test_embedding_and_norm_errors_match_torch(fn):
    assert_same_error(fn)


@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_updates_running_stats_in_place(momentum):
    x = arrays((6, 3, 4))[0]
    results = []
    for lib in (tapegrad, torch):
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        out = lib.nn.functional.batch_norm(lib.tensor(x), rm, rv, training=True, momentum=momentum)
        results.append((out, rm, rv))
    for ours, ref in zip(*results):
        assert_close(ours, ref)


def test_layer_norm_float32_matches_torch():
    x, w, b = arrays((8, 16), (16,), (16,), dtype="float32")
    outs = []
    for lib in (tapegrad, torch):
        xt, wt, bt = tensors(lib, [x * 50 + 3, w, b])
        y = lib.nn.functional.layer_norm(xt, (16,), wt, bt)
        (y * y).sum().backward()
        outs.append([y, xt.grad, wt.grad, bt.grad])
    for ours, ref in zip(*outs):
        assert_close(ours, ref, rtol=1e-5, atol=1e-5)
