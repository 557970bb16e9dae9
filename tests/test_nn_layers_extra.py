"""GroupNorm, InstanceNorm1d/2d, RMSNorm, channel dropout, the newer activations, similarities and Bilinear
against PyTorch: outputs, input and parameter gradients, running statistics, reprs and errors."""

import numpy as np
import pytest
import torch

import tapegrad
from test_errors import check_same_error
from test_nn_modules import assert_close, check_default_init, check_same_repr, copy_weights
from test_nn_rnn import _randn, check_module_against_torch

LAYERS = {
    "group_norm": (lambda L: L.nn.GroupNorm(2, 6), (3, 6, 4)),
    "group_norm_4d_no_affine": (lambda L: L.nn.GroupNorm(3, 6, eps=1e-3, affine=False), (2, 6, 3, 2)),
    "group_norm_no_bias_2d": (lambda L: L.nn.GroupNorm(1, 4, bias=False), (5, 4)),
    "instance_norm1d": (lambda L: L.nn.InstanceNorm1d(3), (2, 3, 5)),
    "instance_norm1d_affine_unbatched": (lambda L: L.nn.InstanceNorm1d(3, affine=True), (3, 5)),
    "instance_norm2d_tracking": (lambda L: L.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
                                 (2, 3, 4, 5)),
    "instance_norm2d_eval_tracking": (lambda L: L.nn.InstanceNorm2d(3, track_running_stats=True).eval(),
                                      (2, 3, 4, 5)),
    "rms_norm": (lambda L: L.nn.RMSNorm(4), (3, 2, 4)),
    "rms_norm_eps_shape": (lambda L: L.nn.RMSNorm([2, 4], eps=1e-3), (3, 2, 4)),
    "rms_norm_no_affine": (lambda L: L.nn.RMSNorm(4, elementwise_affine=False), (3, 4)),
    "dropout1d_eval": (lambda L: L.nn.Dropout1d(0.3).eval(), (2, 3, 4)),
    "dropout2d_eval": (lambda L: L.nn.Dropout2d(0.3).eval(), (2, 3, 4, 4)),
    "prelu_shared": (lambda L: L.nn.PReLU(), (3, 4)),
    "prelu_channels": (lambda L: L.nn.PReLU(3), (2, 3, 4)),
    "glu": (lambda L: L.nn.GLU(), (3, 4)),
    "glu_dim": (lambda L: L.nn.GLU(1), (3, 4, 2)),
    "softsign": (lambda L: L.nn.Softsign(), (3, 4)),
    "tanhshrink": (lambda L: L.nn.Tanhshrink(), (3, 4)),
    "threshold": (lambda L: L.nn.Threshold(0.1, 20.0), (3, 4)),
    "hardswish": (lambda L: L.nn.Hardswish(), (5, 4)),
    "hardsigmoid": (lambda L: L.nn.Hardsigmoid(), (5, 4)),
    "celu": (lambda L: L.nn.CELU(0.5), (3, 4)),
    "selu": (lambda L: L.nn.SELU(), (3, 4)),
    "softmax2d": (lambda L: L.nn.Softmax2d(), (2, 3, 2, 2)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, dtype):
    make, shape = LAYERS[name]
    check_module_against_torch(name, make, [_randn(name, *shape, dtype=dtype)], dtype)


TWO_INPUTS = {
    "cosine_similarity": (lambda L: L.nn.CosineSimilarity(), (3, 4), (3, 4)),
    "cosine_similarity_broadcast": (lambda L: L.nn.CosineSimilarity(dim=-1, eps=1e-3), (2, 3, 4), (3, 4)),
    "pairwise_distance": (lambda L: L.nn.PairwiseDistance(), (3, 4), (3, 4)),
    "pairwise_distance_p1_keepdim": (lambda L: L.nn.PairwiseDistance(1.0, keepdim=True), (3, 4), (3, 4)),
    "bilinear": (lambda L: L.nn.Bilinear(3, 4, 5), (2, 3), (2, 4)),
    "bilinear_batched_no_bias": (lambda L: L.nn.Bilinear(3, 4, 2, bias=False), (2, 6, 3), (2, 6, 4)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(TWO_INPUTS))
def test_two_input_layer_matches_torch(name, dtype):
    make, shape1, shape2 = TWO_INPUTS[name]
    inputs = [_randn(name, *shape1, dtype=dtype), _randn(name + "2", *shape2, dtype=dtype)]
    check_module_against_torch(name, make, inputs, dtype)


@pytest.mark.parametrize("call", [
    lambda F, x: F.normalize(x),
    lambda F, x: F.normalize(x, p=1.0, dim=-1),
    lambda F, x: F.hardswish(x.clone(), inplace=True),
    lambda F, x: F.threshold(x, 0.0, -1.0),
])
def test_functional_matches_torch(call):
    x = _randn("functional", 3, 4)
    assert_close(call(tapegrad.nn.functional, tapegrad.tensor(x)), call(torch.nn.functional, torch.tensor(x)))


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_samples_a_distribution(hard):
    logits = tapegrad.tensor(_randn("gumbel", 4, 5), requires_grad=True)
    tapegrad.manual_seed(0)
    y = tapegrad.nn.functional.gumbel_softmax(logits, tau=0.5, hard=hard)
    np.testing.assert_allclose(y.sum(-1).detach().numpy(), np.ones(4), rtol=1e-6)
    if hard:
        assert set(y.detach().reshape(-1).tolist()) == {0.0, 1.0}
    (y * tapegrad.arange(5.0)).sum().backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) > 0


def test_bilinear_default_init_matches_torch():
    check_default_init(lambda lib: lib.nn.Bilinear(3, 4, 5), 3)


def test_instance_norm_running_stats_match_torch():
    x = _randn("running", 4, 3, 5)
    layers = [lib.nn.InstanceNorm1d(3, momentum=0.3, track_running_stats=True).double() for lib in (tapegrad, torch)]
    for _ in range(2):
        for layer, lib in zip(layers, (tapegrad, torch)):
            layer(lib.tensor(x))
    for ours, ref in zip(layers[0].buffers(), layers[1].buffers()):
        assert_close(ours, ref)


@pytest.mark.parametrize("fn", [
    lambda F, x: F.group_norm(x, 2, eps=1e-3),
    lambda F, x: F.instance_norm(x),
    lambda F, x: F.rms_norm(x, (4,)),
    lambda F, x: F.glu(x),
    lambda F, x: F.celu(x, 0.7),
    lambda F, x: F.selu(x),
    lambda F, x: F.softsign(x) + F.tanhshrink(x) + F.hardswish(x),
    lambda F, x: F.normalize(x, dim=-1),
    lambda F, x: F.cosine_similarity(x, x.flip(0)).sum() + F.pairwise_distance(x, x.flip(1)).sum(),
])
def test_gradcheck(fn):
    x = tapegrad.tensor(_randn("gradcheck", 2, 4, 4), requires_grad=True)
    assert tapegrad.autograd.gradcheck(lambda x: fn(tapegrad.nn.functional, x), (x,))


@pytest.mark.parametrize("name", ["dropout1d", "dropout2d"])
def test_channel_dropout_zeroes_whole_channels(name):
    x = tapegrad.ones(8, 16, 3, 3) if name == "dropout2d" else tapegrad.ones(8, 16, 5)
    out = getattr(tapegrad.nn.functional, name)(x, 0.5)
    per_channel = out.reshape(8, 16, -1)
    assert tapegrad.equal(per_channel.amax(-1), per_channel.amin(-1))  # each channel all 0 or all 2
    assert set(per_channel.reshape(-1).tolist()) == {0.0, 2.0}


def test_dropout2d_on_3d_input_warns_like_torch():
    for lib in (tapegrad, torch):
        with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
            lib.nn.functional.dropout2d(lib.ones(2, 3, 4))


REPRS = [
    "lib.nn.GroupNorm(2, 6)",
    "lib.nn.GroupNorm(2, 6, affine=False)",
    "lib.nn.InstanceNorm2d(3)",
    "lib.nn.InstanceNorm1d(3, affine=True, track_running_stats=True)",
    "lib.nn.RMSNorm(4)",
    "lib.nn.RMSNorm([3, 4], eps=1e-3, elementwise_affine=False)",
    "lib.nn.Dropout1d()",
    "lib.nn.Dropout2d(0.2)",
    "lib.nn.PReLU(3)",
    "lib.nn.GLU()",
    "lib.nn.Softsign()",
    "lib.nn.Tanhshrink()",
    "lib.nn.Threshold(0.1, 20.0)",
    "lib.nn.Threshold(0.1, 20.0, inplace=True)",
    "lib.nn.Hardswish()",
    "lib.nn.Hardsigmoid()",
    "lib.nn.CELU(0.5)",
    "lib.nn.SELU()",
    "lib.nn.SELU(inplace=True)",
    "lib.nn.Softmax2d()",
    "lib.nn.CosineSimilarity()",
    "lib.nn.PairwiseDistance()",
    "lib.nn.Bilinear(2, 3, 4)",
]


@pytest.mark.parametrize("code", REPRS)
def test_repr_matches_torch(code):
    check_same_repr(code)


def test_state_dict_keys_match_torch():
    for make in (lambda L: L.nn.GroupNorm(2, 4), lambda L: L.nn.InstanceNorm2d(3, True, track_running_stats=True),
                 lambda L: L.nn.RMSNorm(3)):
        ours, ref = make(tapegrad), make(torch)
        assert list(ours.state_dict()) == list(ref.state_dict())
        copy_weights(ours, ref)


ERRORS = [
    "lib.nn.functional.group_norm(lib.ones(2, 6, 3), 4)",
    "lib.nn.functional.group_norm(lib.ones(6), 2)",
    "lib.nn.GroupNorm(4, 6)",
    "lib.nn.GroupNorm(2, 6)(lib.ones(2, 4, 3))",
    "lib.nn.functional.rms_norm(lib.ones(2, 3), (4,))",
    "lib.nn.InstanceNorm1d(3)(lib.ones(2, 3, 4, 5))",
    "lib.nn.functional.dropout1d(lib.ones(2, 3, 4, 5))",
    "lib.nn.functional.glu(lib.ones(2, 5))",
    "lib.nn.functional.glu(lib.ones(2, 4), dim=3)",
    "lib.nn.PReLU(3)(lib.ones(2, 4))",
    "lib.nn.functional.normalize(lib.ones(2, 4), dim=2)",
    "lib.nn.functional.cosine_similarity(lib.ones(2, 4), lib.ones(3, 4))",
    "lib.nn.Softmax2d()(lib.ones(2, 3))",
]


@pytest.mark.parametrize("code", ERRORS)
@pytest.mark.filterwarnings("ignore")
def test_error_matches_torch(code):
    check_same_error(code)
