"""Loss modules against PyTorch: every reduction, float32 and float64, gradients for input and
target, class weights, ignore_index, label smoothing, K-dim targets and numerical stability."""
import numpy as np
import pytest
import torch

import tapegrad

TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-7, atol=1e-10)}
REDUCTIONS = ["mean", "sum", "none"]


def lib_dtype(lib, dtype):
    return getattr(lib, dtype)


def run_loss(make_loss, make_inputs, dtype, grad_target=True):
    """Forward and backward of make_loss(lib)(*inputs) in both libraries; returns (ours, ref) pairs."""
    arrays = make_inputs(np.random.default_rng(11), dtype)
    results = []
    for lib in (tapegrad, torch):
        inputs = []
        for i, a in enumerate(arrays):
            differentiable = a.dtype.kind == "f" and (i == 0 or grad_target)
            inputs.append(lib.tensor(a, requires_grad=differentiable))
        out = make_loss(lib)(*inputs)
        seed = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)).astype(dtype))
        (out * seed).sum().backward()
        results.append([out] + [t.grad for t in inputs if t.requires_grad])
    return list(zip(*results))


def check(pairs, dtype):
    for ours, ref in pairs:
        assert tuple(ours.shape) == tuple(ref.shape)
        assert str(ours.dtype) == str(ref.dtype)
        np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), **TOL[dtype])


def real(shape):
    return lambda rng, dtype: [rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)]


def probabilities(shape):
    def make(rng, dtype):
        return [rng.uniform(0.02, 0.98, shape).astype(dtype), rng.uniform(0, 1, shape).astype(dtype)]
    return make


def classes(shape, num_classes, scale=1.0):
    """Logits of shape (N, C, ...) and int64 targets of shape (N, ...)."""
    def make(rng, dtype):
        target_shape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
        return [(rng.standard_normal(shape) * scale).astype(dtype),
                rng.integers(0, num_classes, size=target_shape).astype(np.int64)]
    return make


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
class TestPointwiseLosses:
    def test_mse(self, dtype, reduction):
        check(run_loss(lambda L: L.nn.MSELoss(reduction=reduction), real((4, 5)), dtype), dtype)

    def test_l1(self, dtype, reduction):
        check(run_loss(lambda L: L.nn.L1Loss(reduction=reduction), real((4, 5)), dtype), dtype)

    @pytest.mark.parametrize("beta", [1.0, 0.3, 0.0])
    def test_smooth_l1(self, dtype, reduction, beta):
        check(run_loss(lambda L: L.nn.SmoothL1Loss(reduction=reduction, beta=beta), real((4, 5)), dtype), dtype)

    def test_bce(self, dtype, reduction):
        check(run_loss(lambda L: L.nn.BCELoss(reduction=reduction), probabilities((4, 5)), dtype), dtype)

    def test_bce_class_weight(self, dtype, reduction):
        def make(L):
            return L.nn.BCELoss(weight=L.tensor([1.0, 0.5, 2.0, 1.5, 3.0], dtype=lib_dtype(L, dtype)),
                                reduction=reduction)
        check(run_loss(make, probabilities((4, 5)), dtype), dtype)

    def test_bce_with_logits(self, dtype, reduction):
        check(run_loss(lambda L: L.nn.BCEWithLogitsLoss(reduction=reduction), probabilities((4, 5)), dtype), dtype)

    def test_bce_with_logits_weights(self, dtype, reduction):
        def make(L):
            dt = lib_dtype(L, dtype)
            return L.nn.BCEWithLogitsLoss(weight=L.tensor([[2.0], [1.0], [0.5], [1.5]], dtype=dt),
                                          pos_weight=L.tensor([1.0, 0.5, 2.0, 1.5, 3.0], dtype=dt),
                                          reduction=reduction)
        check(run_loss(make, real((4, 5)), dtype), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
class TestClassLosses:
    def test_cross_entropy(self, dtype, reduction):
        check(run_loss(lambda L: L.nn.CrossEntropyLoss(reduction=reduction), classes((6, 4), 4), dtype), dtype)

    def test_cross_entropy_weight_ignore_index(self, dtype, reduction):
        def make(L):
            return L.nn.CrossEntropyLoss(weight=L.tensor([1.0, 2.0, 0.5, 3.0], dtype=lib_dtype(L, dtype)),
                                         ignore_index=2, reduction=reduction)
        check(run_loss(make, classes((9, 4), 4), dtype), dtype)

    @pytest.mark.parametrize("smoothing", [0.1, 0.5, 1.0])
    def test_cross_entropy_label_smoothing(self, dtype, reduction, smoothing):
        def make(L):
            return L.nn.CrossEntropyLoss(weight=L.tensor([1.0, 2.0, 0.5, 3.0], dtype=lib_dtype(L, dtype)),
                                         ignore_index=1, label_smoothing=smoothing, reduction=reduction)
        check(run_loss(make, classes((9, 4), 4), dtype), dtype)

    @pytest.mark.parametrize("shape", [(3, 4, 5), (2, 4, 3, 2), (2, 3, 2, 2, 2)], ids=["3d", "4d", "5d"])
    def test_cross_entropy_k_dim(self, dtype, reduction, shape):
        check(run_loss(lambda L: L.nn.CrossEntropyLoss(reduction=reduction, ignore_index=0), classes(shape, shape[1]),
                       dtype), dtype)

    def test_cross_entropy_probability_targets(self, dtype, reduction):
        def make_inputs(rng, dtype_):
            logits = rng.standard_normal((5, 4)).astype(dtype_)
            target = rng.uniform(0, 1, (5, 4))
            return [logits, (target / target.sum(1, keepdims=True)).astype(dtype_)]
        check(run_loss(lambda L: L.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.2), make_inputs, dtype),
              dtype)

    def test_cross_entropy_unbatched(self, dtype, reduction):
        check(run_loss(lambda L: L.nn.CrossEntropyLoss(reduction=reduction), classes((5,), 5), dtype), dtype)

    def test_nll(self, dtype, reduction):
        def make(L):
            loss = L.nn.NLLLoss(reduction=reduction, weight=L.tensor([0.5, 1.0, 2.0], dtype=lib_dtype(L, dtype)))
            return lambda x, t: loss(x.log_softmax(1), t)
        check(run_loss(make, classes((7, 3), 3), dtype), dtype)

    def test_nll_k_dim_ignore_index(self, dtype, reduction):
        check(run_loss(lambda L: L.nn.NLLLoss(reduction=reduction, ignore_index=1), classes((3, 4, 2, 3), 4), dtype),
              dtype)


# ---- numerical stability ----

def test_cross_entropy_is_stable_for_huge_logits():
    logits = [[1e4, -1e4, 0.0], [-5e3, 5e3, 5e3], [1e30, 0.0, -1e30]]
    target = [0, 1, 2]
    pairs = run_loss(lambda L: L.nn.CrossEntropyLoss(reduction="none"),
                     lambda rng, dtype: [np.array(logits, dtype=dtype), np.array(target)], "float32")
    for ours, ref in pairs:
        assert np.all(np.isfinite(ours.detach().numpy()))
    check(pairs, "float32")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_with_logits_is_stable_for_huge_logits(dtype):
    logits = [-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0]
    targets = [0.0, 1.0, 0.3, 0.5, 0.7, 0.0, 1.0]

    def make(L):
        return L.nn.BCEWithLogitsLoss(reduction="none", pos_weight=L.tensor(2.0, dtype=lib_dtype(L, dtype)))

    pairs = run_loss(make, lambda rng, dt: [np.array(logits, dtype=dt), np.array(targets, dtype=dt)], dtype)
    for ours, _ in pairs:
        assert np.all(np.isfinite(ours.detach().numpy()))
    check(pairs, dtype)


def test_bce_clamps_log_to_minus_100():
    pairs = run_loss(lambda L: L.nn.BCELoss(reduction="none"),
                     lambda rng, dtype: [np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype),
                                         np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)], "float64", grad_target=False)
    np.testing.assert_array_equal(pairs[0][0].detach().numpy(), [100.0, 100.0, 0.0, 0.0])
    check(pairs, "float64")


def test_cross_entropy_with_every_target_ignored_is_nan_like_torch():
    for reduction, smoothing in [("mean", 0.0), ("mean", 0.1), ("sum", 0.0)]:
        pairs = run_loss(lambda L: L.nn.CrossEntropyLoss(ignore_index=1, reduction=reduction,
                                                         label_smoothing=smoothing),
                         lambda rng, dtype: [rng.standard_normal((3, 4)).astype(dtype), np.array([1, 1, 1])],
                         "float64")
        ours, ref = pairs[0]
        np.testing.assert_array_equal(np.isnan(ours.detach().numpy()), np.isnan(ref.detach().numpy()))
        np.testing.assert_allclose(pairs[1][0].numpy(), pairs[1][1].numpy())


# ---- modules ----

def test_loss_module_reprs_and_buffers_match_torch():
    for name in ["MSELoss", "L1Loss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss"]:
        ours, ref = getattr(tapegrad.nn, name)(), getattr(torch.nn, name)()
        assert repr(ours) == repr(ref)
        assert ours.reduction == ref.reduction
        assert list(ours.state_dict()) == list(ref.state_dict())
    ours = tapegrad.nn.CrossEntropyLoss(weight=tapegrad.ones(3))
    ref = torch.nn.CrossEntropyLoss(weight=torch.ones(3))
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight"]
    assert (ours.ignore_index, ours.label_smoothing) == (ref.ignore_index, ref.label_smoothing)


def test_loss_module_legacy_arguments():
    with pytest.warns(UserWarning):
        ours = tapegrad.nn.MSELoss(size_average=False)
    with pytest.warns(UserWarning):
        ref = torch.nn.MSELoss(size_average=False)
    assert ours.reduction == ref.reduction == "sum"


def test_loss_modules_follow_the_module_dtype():
    model = tapegrad.nn.CrossEntropyLoss(weight=tapegrad.ones(3)).double()
    assert model.weight.dtype == tapegrad.float64
