"""The composite losses (KL divergence, Poisson / Gaussian NLL, Huber, the margin and embedding losses) against
PyTorch: every reduction in float32 and float64, gradients of every differentiable input, float64 gradcheck,
module reprs and state, and the errors PyTorch raises for bad input."""
import warnings

import numpy as np
import pytest
import torch

import tapegrad
from test_losses import TOL
from test_nn_modules import assert_same_error

REDUCTIONS = ["mean", "sum", "none"]


def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


# name -> (loss(lib, reduction), inputs(rng) as [(array, differentiable)])
CASES = {
    "kl_div": (lambda L, r: L.nn.KLDivLoss(reduction=r),
               lambda g: [(g.standard_normal((3, 5)), True), (g.uniform(0.05, 1, (3, 5)), True)]),
    "kl_div_log_target": (lambda L, r: L.nn.KLDivLoss(reduction=r, log_target=True),
                          lambda g: [(g.standard_normal((3, 5)), True), (g.standard_normal((3, 5)), True)]),
    "poisson_nll": (lambda L, r: L.nn.PoissonNLLLoss(reduction=r),
                    lambda g: [(g.standard_normal((4, 3)), True), (g.uniform(0, 4, (4, 3)), True)]),
    "poisson_nll_linear_full": (lambda L, r: L.nn.PoissonNLLLoss(log_input=False, full=True, eps=1e-4, reduction=r),
                                lambda g: [(g.uniform(0.1, 3, (4, 3)), True), (g.uniform(0.2, 4, (4, 3)), True)]),
    "gaussian_nll": (lambda L, r: L.nn.GaussianNLLLoss(reduction=r),
                     lambda g: [(g.standard_normal((4, 3)), True), (g.standard_normal((4, 3)), True),
                                (g.uniform(0.1, 2, (4, 3)), True)]),
    "gaussian_nll_shared_var_full": (lambda L, r: L.nn.GaussianNLLLoss(full=True, eps=0.3, reduction=r),
                                     lambda g: [(g.standard_normal((4, 3)), True), (g.standard_normal((4, 3)), True),
                                                (g.uniform(0.1, 2, (4,)), True)]),
    "gaussian_nll_broadcast_var": (lambda L, r: L.nn.GaussianNLLLoss(reduction=r),
                                   lambda g: [(g.standard_normal((4, 3, 2)), True),
                                              (g.standard_normal((4, 3, 2)), True),
                                              (g.uniform(0.1, 2, (4, 1, 2)), True)]),
    "huber": (lambda L, r: L.nn.HuberLoss(reduction=r),
              lambda g: [(g.standard_normal((4, 5)) * 2, True), (g.standard_normal((4, 5)), True)]),
    "huber_delta": (lambda L, r: L.nn.HuberLoss(reduction=r, delta=0.4),
                    lambda g: [(g.standard_normal((4, 5)), True), (g.standard_normal((4, 5)), True)]),
    "soft_margin": (lambda L, r: L.nn.SoftMarginLoss(reduction=r),
                    lambda g: [(g.standard_normal((4, 5)), True), (_signs(g, (4, 5)), False)]),
    "multilabel_soft_margin": (lambda L, r: L.nn.MultiLabelSoftMarginLoss(reduction=r),
                               lambda g: [(g.standard_normal((4, 5)), True), (g.integers(0, 2, (4, 5)) * 1.0, True)]),
    "multilabel_soft_margin_weight": (
        lambda L, r: L.nn.MultiLabelSoftMarginLoss(weight=L.tensor(np.linspace(0.5, 2, 5)), reduction=r),
        lambda g: [(g.standard_normal((4, 5)), True), (g.uniform(0, 1, (4, 5)), True)]),
    "margin_ranking": (lambda L, r: L.nn.MarginRankingLoss(margin=0.3, reduction=r),
                       lambda g: [(g.standard_normal(6), True), (g.standard_normal(6), True), (_signs(g, 6), True)]),
    "hinge_embedding": (lambda L, r: L.nn.HingeEmbeddingLoss(reduction=r),
                        lambda g: [(g.standard_normal((4, 5)), True), (_signs(g, (4, 5)), False)]),
    "hinge_embedding_margin": (lambda L, r: L.nn.HingeEmbeddingLoss(margin=0.5, reduction=r),
                               lambda g: [(g.standard_normal(7), True), (_signs(g, 7), False)]),
    "cosine_embedding": (lambda L, r: L.nn.CosineEmbeddingLoss(margin=0.2, reduction=r),
                         lambda g: [(g.standard_normal((6, 4)), True), (g.standard_normal((6, 4)), True),
                                    (_signs(g, 6), False)]),
    "cosine_embedding_unbatched": (lambda L, r: L.nn.CosineEmbeddingLoss(reduction=r),
                                   lambda g: [(g.standard_normal(4), True), (g.standard_normal(4), True),
                                              (np.array(-1.0), False)]),
    "triplet_margin": (lambda L, r: L.nn.TripletMarginLoss(reduction=r),
                       lambda g: [(g.standard_normal((5, 4)), True), (g.standard_normal((5, 4)), True),
                                  (g.standard_normal((5, 4)), True)]),
    "triplet_margin_p1_swap": (lambda L, r: L.nn.TripletMarginLoss(margin=2.0, p=1, swap=True, reduction=r),
                               lambda g: [(g.standard_normal((5, 4)), True), (g.standard_normal((5, 4)), True),
                                          (g.standard_normal((5, 4)), True)]),
    "triplet_distance_cosine_swap": (
        lambda L, r: L.nn.TripletMarginWithDistanceLoss(
            distance_function=lambda a, b: 1 - L.nn.functional.cosine_similarity(a, b), swap=True, reduction=r),
        lambda g: [(g.standard_normal((5, 4)), True), (g.standard_normal((5, 4)), True),
                   (g.standard_normal((5, 4)), True)]),
    "triplet_distance_default": (lambda L, r: L.nn.TripletMarginWithDistanceLoss(margin=0.5, reduction=r),
                                 lambda g: [(g.standard_normal((5, 4)), True), (g.standard_normal((5, 4)), True),
                                            (g.standard_normal((5, 4)), True)]),
    "multi_margin": (lambda L, r: L.nn.MultiMarginLoss(reduction=r),
                     lambda g: [(g.standard_normal((5, 4)), True), (g.integers(0, 4, 5), False)]),
    "multi_margin_p2_weight": (
        lambda L, r: L.nn.MultiMarginLoss(p=2, margin=0.7, weight=L.tensor(np.linspace(0.5, 2, 4)), reduction=r),
        lambda g: [(g.standard_normal((5, 4)), True), (g.integers(0, 4, 5), False)]),
    "multi_margin_unbatched": (lambda L, r: L.nn.MultiMarginLoss(reduction=r),
                               lambda g: [(g.standard_normal(4), True), (np.array([2]), False)]),
    "multi_margin_scalar_target": (lambda L, r: L.nn.MultiMarginLoss(reduction=r),
                                   lambda g: [(g.standard_normal(4), True), (np.array(1), False)]),
    "multilabel_margin": (lambda L, r: L.nn.MultiLabelMarginLoss(reduction=r),
                          lambda g: [(g.standard_normal((3, 5)), True),
                                     (np.array([[3, 0, -1, 1, 2], [1, 2, 4, 0, 3], [4, 4, -1, 0, 0]]), False)]),
    "multilabel_margin_unbatched": (lambda L, r: L.nn.MultiLabelMarginLoss(reduction=r),
                                    lambda g: [(g.standard_normal(4), True), (np.array([2, -1, 0, 0]), False)]),
}


def _run(lib, loss, arrays, dtype):
    inputs = [lib.tensor(a.astype(dtype) if a.dtype.kind == "f" else a, requires_grad=grad) for a, grad in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's reduction='mean' warning
        out = loss(*inputs)
    seed = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)).astype(dtype))
    (out * seed).sum().backward()
    return [out] + [t.grad for t in inputs if t.requires_grad]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(CASES))
def test_loss_matches_torch(name, reduction, dtype):
    make, make_inputs = CASES[name]
    arrays = make_inputs(np.random.default_rng(5))
    ours = _run(tapegrad, make(tapegrad, reduction).to(getattr(tapegrad, dtype)), arrays, dtype)
    ref = _run(torch, make(torch, reduction).to(getattr(torch, dtype)), arrays, dtype)
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        assert tuple(o.shape) == tuple(r.shape)
        assert str(o.dtype) == str(r.dtype)
        np.testing.assert_allclose(o.detach().numpy(), r.detach().numpy(), **TOL[dtype])


@pytest.mark.parametrize("name", ["kl_div", "poisson_nll_linear_full", "gaussian_nll", "huber_delta", "soft_margin",
                                  "multilabel_soft_margin_weight", "margin_ranking", "cosine_embedding",
                                  "triplet_margin", "multi_margin_p2_weight", "multilabel_margin"])
def test_loss_gradcheck(name):
    make, make_inputs = CASES[name]
    arrays = make_inputs(np.random.default_rng(7))
    inputs = [tapegrad.tensor(a, requires_grad=grad) for a, grad in arrays]
    loss = make(tapegrad, "sum").double()
    assert tapegrad.autograd.gradcheck(lambda *xs: loss(*xs), tuple(inputs))


def test_kl_div_batchmean_and_legacy_match_torch():
    x, y = np.random.default_rng(2).standard_normal((2, 3, 4))
    for kwargs in [dict(reduction="batchmean"), dict(reduction="batchmean", log_target=True),
                   dict(size_average=False), dict(reduce=False)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = tapegrad.nn.functional.kl_div(tapegrad.tensor(x), tapegrad.tensor(y).exp(), **kwargs)
            ref = torch.nn.functional.kl_div(torch.tensor(x), torch.tensor(y).exp(), **kwargs)
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)


def test_kl_div_mean_warns_like_torch():
    x = tapegrad.zeros(2, 3)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        tapegrad.nn.functional.kl_div(x, x.exp())


def test_functional_huber_weight_and_gaussian_float_var_match_torch():
    x, y, w = np.random.default_rng(3).standard_normal((3, 4, 5))
    results = []
    for lib in (tapegrad, torch):
        F = lib.nn.functional
        a = lib.tensor(x, requires_grad=True)
        out = F.huber_loss(a, lib.tensor(y), delta=0.5, weight=lib.tensor(w).abs())
        out = out + F.gaussian_nll_loss(a, lib.tensor(y), 0.7, full=True)
        out.backward()
        results.append((out, a.grad))
    for o, r in zip(*results):
        np.testing.assert_allclose(o.detach().numpy(), r.detach().numpy(), rtol=1e-12)


NAMES = ["KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "HuberLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
         "MultiLabelMarginLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss",
         "TripletMarginLoss", "TripletMarginWithDistanceLoss"]


@pytest.mark.parametrize("name", NAMES)
def test_module_repr_attributes_and_state_match_torch(name):
    ours, ref = getattr(tapegrad.nn, name)(), getattr(torch.nn, name)()
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for attr in ["reduction", "margin", "p", "eps", "swap", "full", "log_input", "log_target", "delta", "weight"]:
        assert getattr(ours, attr, "absent") == getattr(ref, attr, "absent"), attr


def test_weighted_modules_keep_their_weight_as_a_buffer():
    ours = tapegrad.nn.MultiMarginLoss(weight=tapegrad.ones(3))
    ref = torch.nn.MultiMarginLoss(weight=torch.ones(3))
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight"]


def _x(L, *shape):
    return L.arange(float(np.prod(shape))).reshape(shape) / 7


ERRORS = {
    "bad_reduction": lambda L: L.nn.functional.huber_loss(_x(L, 3), _x(L, 3), reduction="bad"),
    "kl_bad_reduction": lambda L: L.nn.functional.kl_div(_x(L, 3), _x(L, 3), reduction="bad"),
    "poisson_bad_reduction": lambda L: L.nn.functional.poisson_nll_loss(_x(L, 3), _x(L, 3), reduction="x"),
    "gaussian_bad_reduction": lambda L: L.nn.functional.gaussian_nll_loss(_x(L, 3), _x(L, 3), 1.0, reduction="x"),
    "gaussian_negative_var": lambda L: L.nn.functional.gaussian_nll_loss(_x(L, 3), _x(L, 3), -_x(L, 3) - 1),
    "gaussian_negative_float_var": lambda L: L.nn.functional.gaussian_nll_loss(_x(L, 3), _x(L, 3), -1.0),
    "gaussian_var_size": lambda L: L.nn.functional.gaussian_nll_loss(_x(L, 3, 4), _x(L, 3, 4), L.ones(2, 4)),
    "soft_margin_target_grad": lambda L: L.nn.functional.soft_margin_loss(_x(L, 3), L.ones(3, requires_grad=True)),
    "huber_delta": lambda L: L.nn.functional.huber_loss(_x(L, 3), _x(L, 3), delta=0),
    "huber_delta_type": lambda L: L.nn.HuberLoss(delta="a"),
    "huber_weight_size": lambda L: L.nn.functional.huber_loss(_x(L, 3), _x(L, 3), weight=L.ones(2)),
    "msm_bad_reduction": lambda L: L.nn.functional.multilabel_soft_margin_loss(_x(L, 2, 3), _x(L, 2, 3),
                                                                               reduction="x"),
    "ranking_dims": lambda L: L.nn.functional.margin_ranking_loss(_x(L, 3, 4), _x(L, 3, 4), L.ones(4)),
    "cosine_target_dims": lambda L: L.nn.functional.cosine_embedding_loss(_x(L, 3, 4), _x(L, 3, 4), L.ones(3, 1)),
    "cosine_input_dims": lambda L: L.nn.functional.cosine_embedding_loss(_x(L, 3, 4), _x(L, 4), L.ones(3)),
    "cosine_unbatched_dims": lambda L: L.nn.functional.cosine_embedding_loss(_x(L, 3, 4), _x(L, 3, 4), L.ones(())),
    "triplet_dims": lambda L: L.nn.functional.triplet_margin_loss(_x(L, 3, 4), _x(L, 3, 4), _x(L, 4)),
    "triplet_margin": lambda L: L.nn.functional.triplet_margin_loss(_x(L, 3, 4), _x(L, 3, 4), _x(L, 3, 4), margin=0),
    "triplet_module_margin": lambda L: L.nn.TripletMarginLoss(margin=-1),
    "triplet_distance_margin": lambda L: L.nn.TripletMarginWithDistanceLoss(margin=0),
    "triplet_distance_reduction": lambda L: L.nn.functional.triplet_margin_with_distance_loss(
        _x(L, 3), _x(L, 3), _x(L, 3), reduction="x"),
    "multi_margin_target_range": lambda L: L.nn.functional.multi_margin_loss(_x(L, 3, 4), L.tensor([0, 1, 5])),
    "multi_margin_target_size": lambda L: L.nn.functional.multi_margin_loss(_x(L, 3, 4), L.tensor([0, 1])),
    "multi_margin_target_dtype": lambda L: L.nn.functional.multi_margin_loss(_x(L, 3, 4), L.tensor([0.0, 1, 2])),
    "multi_margin_p": lambda L: L.nn.functional.multi_margin_loss(_x(L, 3, 4), L.tensor([0, 1, 2]), p=3),
    "multi_margin_weight_dims": lambda L: L.nn.functional.multi_margin_loss(_x(L, 3, 4), L.tensor([0, 1, 2]),
                                                                            weight=L.ones(2, 2)),
    "multi_margin_weight_size": lambda L: L.nn.functional.multi_margin_loss(_x(L, 3, 4), L.tensor([0, 1, 2]),
                                                                            weight=L.ones(3)),
    "multi_margin_input_dims": lambda L: L.nn.functional.multi_margin_loss(_x(L, 2, 3, 4), L.tensor([0, 1])),
    "multi_margin_module_p": lambda L: L.nn.MultiMarginLoss(p=3),
    "multi_margin_module_weight": lambda L: L.nn.MultiMarginLoss(weight=L.ones(2, 2)),
    "multilabel_margin_target_size": lambda L: L.nn.functional.multilabel_margin_loss(
        _x(L, 3, 4), L.tensor([[0, 1, -1]] * 3)),
    "multilabel_margin_target_range": lambda L: L.nn.functional.multilabel_margin_loss(
        _x(L, 3, 4), L.tensor([[0, 1, 7, -1]] * 3)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_bad_input_raises_like_torch(name):
    assert_same_error(ERRORS[name])
