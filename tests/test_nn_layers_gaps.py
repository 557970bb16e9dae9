"""The padding modes and modules, shrinkage and randomised activations, in-place functional spellings, max
unpooling, LP pooling, local response norm, pdist, alpha and 3-D dropout and nn.init's deprecated aliases
against PyTorch: outputs, input and parameter gradients (contiguous and not), gradcheck, seeded random draws,
reprs and errors."""
import warnings

import numpy as np
import pytest
import torch

import tapegrad
from test_errors import check_same_error
from test_nn_modules import assert_close, check_same_repr
from test_nn_rnn import _randn, check_module_against_torch

LIBS = (tapegrad, torch)


def _leaf_and_input(lib, x, noncontiguous):
    """A leaf holding x, and the input built from it: x itself, or a transposed (non-contiguous) view with x's
    values."""
    if not noncontiguous:
        leaf = lib.tensor(x, requires_grad=True)
        return leaf, leaf
    leaf = lib.tensor(np.ascontiguousarray(x.swapaxes(-1, -2)), requires_grad=True)
    view = leaf.transpose(-1, -2)
    assert not view.is_contiguous()
    return leaf, view


def check_function(name, fn, x, dtype, noncontiguous=False, seed=None):
    """fn(lib, input) agrees with torch: every output and the input's gradient of a weighted sum of them."""
    results = []
    for lib in LIBS:
        leaf, inp = _leaf_and_input(lib, x.astype(dtype), noncontiguous)
        if seed is not None:
            lib.manual_seed(seed)
        outs = fn(lib, inp)
        outs = list(outs) if isinstance(outs, tuple) else [outs]
        loss = sum((o * lib.tensor(np.linspace(-1, 2, o.numel()).reshape(tuple(o.shape)).astype(dtype))).sum()
                   for o in outs if o.is_floating_point() and o.requires_grad)
        if isinstance(loss, lib.Tensor):
            loss.backward()
        results.append(outs + [leaf.grad])
    for ours, ref in zip(*results):
        if ref is None:
            assert ours is None, name
        else:
            assert_close(ours, ref, dtype)


def _positive(name, *shape):
    return np.abs(_randn(name, *shape)) + 0.1


def _pooled_unpool(F, x, kernel, stride=None, padding=0, output_size=None, dims=2):
    pool = F.max_pool2d if dims == 2 else F.max_pool1d
    unpool = F.max_unpool2d if dims == 2 else F.max_unpool1d
    values, indices = pool(x, kernel, stride, padding, return_indices=True)
    return unpool(values, indices, kernel, stride, padding, output_size)


# name -> (fn(F, x), input), x of float64 values; the input is cast to each dtype.
FUNCTIONS = {
    "pad_reflect_1d": (lambda F, x: F.pad(x, (2, 3), "reflect"), _randn("r1", 2, 3, 5)),
    "pad_reflect_1d_unbatched_negative": (lambda F, x: F.pad(x, (-1, 3), "reflect"), _randn("r1n", 3, 5)),
    "pad_reflect_2d": (lambda F, x: F.pad(x, (1, 2, 3, 0), "reflect"), _randn("r2", 2, 3, 4, 5)),
    "pad_reflect_3d": (lambda F, x: F.pad(x, (1, 2, 1, 0, 2, 1), "reflect"), _randn("r3", 2, 3, 3, 4, 5)),
    "pad_replicate_1d": (lambda F, x: F.pad(x, (4, 6), "replicate"), _randn("p1", 2, 3, 5)),
    "pad_replicate_2d_negative": (lambda F, x: F.pad(x, (-2, 3, 2, -1), "replicate"), _randn("p2", 3, 4, 5)),
    "pad_replicate_3d": (lambda F, x: F.pad(x, (1, 1, 2, 2, 3, 0), "replicate"), _randn("p3", 3, 2, 4, 5)),
    "pad_circular_1d": (lambda F, x: F.pad(x, (5, 2), "circular"), _randn("c1", 2, 3, 5)),
    "pad_circular_2d_negative": (lambda F, x: F.pad(x, (-1, 3, 2, -1), "circular"), _randn("c2", 2, 3, 4, 5)),
    "pad_circular_1d_crop_both": (lambda F, x: F.pad(x, (-2, -1), "circular"), _randn("c1c", 2, 3, 5)),
    "pad_circular_3d": (lambda F, x: F.pad(x, (1, 2, 1, 0, 2, 1), "circular"), _randn("c3", 1, 2, 3, 4, 5)),
    "pad_reflect_zero_value": (lambda F, x: F.pad(x, (1, 1), "reflect", 0), _randn("rz", 2, 4)),
    "hardshrink": (lambda F, x: F.hardshrink(x), _randn("hs", 3, 4, 5)),
    "hardshrink_lambda": (lambda F, x: F.hardshrink(x, 1.2), _randn("hs2", 3, 4, 5)),
    "softshrink": (lambda F, x: F.softshrink(x), _randn("ss", 3, 4, 5)),
    "softshrink_lambda": (lambda F, x: F.softshrink(x, 0.9), _randn("ss2", 3, 4, 5)),
    "rrelu_eval": (lambda F, x: F.rrelu(x), _randn("rr", 3, 4, 5)),
    "rrelu_eval_bounds": (lambda F, x: F.rrelu(x, 0.2, 0.6, training=False), _randn("rr2", 3, 4, 5)),
    "rrelu_inplace_eval": (lambda F, x: F.rrelu_(x * 1, 0.1, 0.3), _randn("rri", 3, 4, 5)),
    "elu_": (lambda F, x: F.elu_(x * 1, 0.7), _randn("elu_", 3, 4, 5)),
    # torch's celu_ and selu_ cannot be differentiated (their saved input is overwritten): forward only.
    "celu_": (lambda F, x: F.celu_(x.detach() * 1, 1.3), _randn("celu_", 3, 4, 5)),
    "selu_": (lambda F, x: F.selu_(x.detach() * 1), _randn("selu_", 3, 4, 5)),
    "threshold_": (lambda F, x: F.threshold_(x * 1, 0.2, -3.0), _randn("thr_", 3, 4, 5)),
    "hardtanh_": (lambda F, x: F.hardtanh_(x * 1, -0.5, 0.7), _randn("ht_", 3, 4, 5)),
    "max_unpool2d": (lambda F, x: _pooled_unpool(F, x, 2), _randn("mu2", 2, 3, 6, 4)),
    "max_unpool2d_overlapping_padded": (lambda F, x: _pooled_unpool(F, x, 3, 1, 1), _randn("mu2o", 2, 3, 5, 4)),
    "max_unpool2d_output_size": (lambda F, x: _pooled_unpool(F, x, 2, output_size=(7, 5)), _randn("mu2s", 3, 6, 4)),
    "max_unpool2d_output_size_nchw": (lambda F, x: _pooled_unpool(F, x, (2, 1), output_size=[2, 3, 7, 4]),
                                      _randn("mu2n", 2, 3, 6, 4)),
    "max_unpool1d": (lambda F, x: _pooled_unpool(F, x, 2, dims=1), _randn("mu1", 2, 3, 6)),
    "max_unpool1d_stride_output_size": (lambda F, x: _pooled_unpool(F, x, 3, 2, 1, (8,), dims=1),
                                        _randn("mu1s", 3, 7)),
    "lp_pool1d": (lambda F, x: F.lp_pool1d(x, 2, 3), _randn("lp1", 2, 3, 7)),
    "lp_pool1d_stride_ceil": (lambda F, x: F.lp_pool1d(x, 1.5, 3, 2, True), _positive("lp1c", 2, 3, 8)),
    "lp_pool1d_inf": (lambda F, x: F.lp_pool1d(x, float("inf"), 2), _randn("lp1i", 2, 3, 8)),
    "lp_pool2d": (lambda F, x: F.lp_pool2d(x, 2, 2), _randn("lp2", 2, 3, 4, 6)),
    "lp_pool2d_odd_power": (lambda F, x: F.lp_pool2d(x, 3, (2, 3), 1), _randn("lp2o", 2, 3, 4, 6)),
    "lp_pool2d_minus_inf_ceil": (lambda F, x: F.lp_pool2d(x, -float("inf"), 2, ceil_mode=True),
                                 _randn("lp2m", 3, 5, 5)),
    "local_response_norm_3d": (lambda F, x: F.local_response_norm(x, 3), _randn("lrn3", 2, 5, 6)),
    "local_response_norm_4d": (lambda F, x: F.local_response_norm(x, 2, 1e-2, 0.5, 2.0), _randn("lrn4", 2, 6, 3, 4)),
    "local_response_norm_5d": (lambda F, x: F.local_response_norm(x, 4, 0.1), _randn("lrn5", 2, 5, 2, 3, 2)),
    "pdist": (lambda F, x: F.pdist(x), _randn("pd", 6, 4)),
    "pdist_p1": (lambda F, x: F.pdist(x, 1), _randn("pd1", 5, 3)),
    "pdist_p3": (lambda F, x: F.pdist(x, 3.0), _randn("pd3", 5, 3)),
    "pdist_inf": (lambda F, x: F.pdist(x, float("inf")), _randn("pdi", 5, 3)),
    "alpha_dropout_eval": (lambda F, x: F.alpha_dropout(x, 0.3), _randn("ad", 3, 4, 5)),
    "max_pool1d_with_indices": (lambda F, x: F.max_pool1d_with_indices(x, 3, 2), _randn("mpi1", 2, 3, 7)),
    "max_pool2d_with_indices": (lambda F, x: F.max_pool2d_with_indices(x, 2, 1, 1), _randn("mpi2", 2, 3, 5, 4)),
    "adaptive_max_pool1d_with_indices": (lambda F, x: F.adaptive_max_pool1d_with_indices(x, 3),
                                         _randn("ampi1", 2, 3, 7)),
    "adaptive_max_pool2d_with_indices": (lambda F, x: F.adaptive_max_pool2d_with_indices(x, (2, 3)),
                                         _randn("ampi2", 2, 3, 5, 7)),
}


# torch's local_response_norm views a 5-D input, which fails on a transposed one.
CONTIGUOUS_ONLY = {"local_response_norm_5d"}


@pytest.mark.parametrize("noncontiguous", [False, True], ids=["contiguous", "transposed"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_function_matches_torch(name, dtype, noncontiguous):
    if noncontiguous and name in CONTIGUOUS_ONLY:
        check_same_error("x = lib.ones(2, 5, 2, 3, 2).transpose(-1, -2)\nlib.nn.functional.local_response_norm(x, 4)")
        return
    fn, x = FUNCTIONS[name]
    check_function(name, lambda lib, t: fn(lib.nn.functional, t), x, dtype, noncontiguous)


# Random in training: the same seed draws the same slopes / masks as torch.
SEEDED = {
    "rrelu_train": (lambda F, x: F.rrelu(x, training=True), _randn("rrt", 3, 4, 5)),
    "rrelu_train_inplace": (lambda F, x: F.rrelu_(x * 1, 0.05, 0.5, training=True), _randn("rrti", 4, 6)),
    "alpha_dropout_train": (lambda F, x: F.alpha_dropout(x, 0.3, training=True), _randn("adt", 3, 4, 5)),
    # tapegrad's x * 1 is contiguous where torch's keeps x's layout, which sets the order of the draws.
    "alpha_dropout_train_inplace": (lambda F, x: F.alpha_dropout(x.contiguous() * 1, 0.6, True, True),
                                    _randn("adti", 3, 4, 5)),
    "alpha_dropout_p1": (lambda F, x: F.alpha_dropout(x, 1.0, training=True), _randn("ad1", 3, 4)),
    "feature_alpha_dropout_train": (lambda F, x: F.feature_alpha_dropout(x, 0.4, training=True),
                                    _randn("fadt", 4, 6, 3, 2)),
    "dropout3d_train": (lambda F, x: F.dropout3d(x, 0.4), _randn("d3t", 4, 6, 2, 3, 2)),
    "dropout1d_train": (lambda F, x: F.dropout1d(x, 0.3), _randn("d1t", 4, 6, 5)),
    "dropout2d_train": (lambda F, x: F.dropout2d(x, 0.6), _randn("d2t", 4, 6, 3, 5)),
    "dropout3d_unbatched_train": (lambda F, x: F.dropout3d(x, 0.4), _randn("d3u", 6, 2, 3, 2)),
    "dropout3d_unbatched_inplace": (lambda F, x: F.dropout3d(x.contiguous() * 1, 0.4, inplace=True),
                                    _randn("d3ui", 6, 2, 3, 2)),
}


@pytest.mark.parametrize("noncontiguous", [False, True], ids=["contiguous", "transposed"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(SEEDED))
def test_seeded_random_function_matches_torch(name, dtype, noncontiguous):
    fn, x = SEEDED[name]
    check_function(name, lambda lib, t: fn(lib.nn.functional, t), x, dtype, noncontiguous, seed=7)


@pytest.mark.parametrize("lower, upper", [(1.0 / 8, 1.0 / 3), (0.0, 1.0)])
def test_rrelu_training_slopes_lie_in_bounds(lower, upper):
    x = -tapegrad.rand(10000) - 0.5
    slopes = tapegrad.nn.functional.rrelu(x, lower, upper, training=True) / x
    assert lower <= slopes.min().item() and slopes.max().item() <= upper
    assert abs(slopes.mean().item() - (lower + upper) / 2) < 0.02  # U(lower, upper) has this mean


GRADCHECK = [
    lambda F, x: F.pad(x, (2, 1, 1, 2), "reflect"),
    lambda F, x: F.pad(x, (3, -1, 2, 4), "replicate"),
    lambda F, x: F.pad(x, (3, 1, -1, 2), "circular"),
    lambda F, x: F.hardshrink(x, 0.3) + F.softshrink(x, 0.4),
    lambda F, x: F.rrelu(x, 0.1, 0.4),
    lambda F, x: _pooled_unpool(F, x, 2),
    lambda F, x: F.lp_pool2d(x, 2, 2, 1) + F.lp_pool2d(x.abs() + 0.5, 1.5, 2, 1),
    lambda F, x: F.lp_pool1d(x.flatten(-2), 2, 3, 2),
    lambda F, x: F.local_response_norm(x, 3, alpha=0.5),
    lambda F, x: F.pdist(x.flatten(0, 2)),
]


@pytest.mark.parametrize("index", range(len(GRADCHECK)))
def test_gradcheck(index):
    x = tapegrad.tensor(_randn(f"gradcheck{index}", 2, 3, 4, 4), requires_grad=True)
    assert tapegrad.autograd.gradcheck(lambda t: GRADCHECK[index](tapegrad.nn.functional, t), (x,))


def test_gradcheck_seeded_random_functions():
    F = tapegrad.nn.functional

    def reseeded(t):
        tapegrad.manual_seed(3)  # the same draws at every evaluation
        return F.rrelu(t, training=True) + F.alpha_dropout(t, 0.3, training=True)

    x = tapegrad.tensor(_randn("gradcheck_random", 3, 5), requires_grad=True)
    assert tapegrad.autograd.gradcheck(reseeded, (x,))


def test_pad_integer_input_matches_torch():
    x = np.arange(12).reshape(1, 3, 4)
    for mode in ("reflect", "replicate", "circular"):
        ours = tapegrad.nn.functional.pad(tapegrad.tensor(x), (2, 1), mode)
        ref = torch.nn.functional.pad(torch.tensor(x), (2, 1), mode)
        assert str(ours.dtype) == str(ref.dtype) and ours.tolist() == ref.tolist()


LAYERS = {
    "reflection_pad1d": (lambda L: L.nn.ReflectionPad1d(2), (2, 3, 5)),
    "reflection_pad2d": (lambda L: L.nn.ReflectionPad2d((1, 2, 0, 3)), (2, 3, 4, 5)),
    "reflection_pad3d": (lambda L: L.nn.ReflectionPad3d(1), (3, 2, 3, 4)),
    "replication_pad1d": (lambda L: L.nn.ReplicationPad1d((3, 1)), (3, 5)),
    "replication_pad2d": (lambda L: L.nn.ReplicationPad2d(2), (2, 3, 4, 5)),
    "replication_pad3d": (lambda L: L.nn.ReplicationPad3d((1, 0, 2, 1, 0, 1)), (2, 2, 3, 4, 2)),
    "circular_pad1d": (lambda L: L.nn.CircularPad1d(3), (2, 3, 5)),
    "circular_pad2d": (lambda L: L.nn.CircularPad2d((1, 2, 3, 0)), (3, 4, 5)),
    "circular_pad3d": (lambda L: L.nn.CircularPad3d(1), (2, 2, 3, 4, 2)),
    "constant_pad3d": (lambda L: L.nn.ConstantPad3d((1, 0, 2, 1, 0, 1), 2.5), (2, 2, 3, 4, 2)),
    "zero_pad3d": (lambda L: L.nn.ZeroPad3d(1), (2, 3, 4, 2)),
    "hardshrink": (lambda L: L.nn.Hardshrink(), (3, 4)),
    "softshrink": (lambda L: L.nn.Softshrink(0.3), (3, 4)),
    "rrelu_eval": (lambda L: L.nn.RReLU(0.1, 0.3).eval(), (3, 4)),
    "lp_pool1d": (lambda L: L.nn.LPPool1d(2, 3, 2), (2, 3, 9)),
    "lp_pool2d": (lambda L: L.nn.LPPool2d(3, (2, 3), ceil_mode=True), (2, 3, 5, 7)),
    "local_response_norm": (lambda L: L.nn.LocalResponseNorm(3, k=2.0), (2, 5, 3, 4)),
    "alpha_dropout_eval": (lambda L: L.nn.AlphaDropout(0.2).eval(), (3, 4)),
    "feature_alpha_dropout_eval": (lambda L: L.nn.FeatureAlphaDropout(0.2).eval(), (3, 4, 2)),
    "dropout3d_eval": (lambda L: L.nn.Dropout3d(0.2).eval(), (2, 3, 4, 2, 2)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, dtype):
    make, shape = LAYERS[name]
    check_module_against_torch(name, make, [_randn(name, *shape, dtype=dtype)], dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make", [lambda L: L.nn.RReLU(), lambda L: L.nn.AlphaDropout(0.4),
                                  lambda L: L.nn.FeatureAlphaDropout(0.4), lambda L: L.nn.Dropout3d()])
def test_random_layer_in_training_matches_torch(make, dtype):
    check_function("random_layer", lambda lib, t: make(lib)(t), _randn("random_layer", 2, 3, 4, 2, 3), dtype, seed=5)


@pytest.mark.parametrize("dims", [1, 2])
def test_max_unpool_modules_invert_max_pool_like_torch(dims):
    x = _randn("unpool_module", 2, 3, 6, 4)[..., 0] if dims == 1 else _randn("unpool_module", 2, 3, 6, 4)
    outs = []
    for lib in LIBS:
        pool = (lib.nn.MaxPool1d if dims == 1 else lib.nn.MaxPool2d)(2, stride=2, return_indices=True)
        unpool = (lib.nn.MaxUnpool1d if dims == 1 else lib.nn.MaxUnpool2d)(2, stride=2)
        values, indices = pool(lib.tensor(x))
        outs.append(unpool(values, indices, output_size=list(x.shape)))
    assert_close(*outs)


def test_max_unpool_gradient_reaches_every_pooled_value():
    values = tapegrad.tensor(_randn("unpool_grad", 1, 1, 2, 2), requires_grad=True)
    indices = tapegrad.tensor([[[[0, 3], [9, 15]]]])
    tapegrad.nn.functional.max_unpool2d(values, indices, 2).sum().backward()
    assert values.grad.tolist() == [[[[1.0, 1.0], [1.0, 1.0]]]]


REPRS = [
    "lib.nn.ReflectionPad1d(2)", "lib.nn.ReflectionPad2d((1, 2, 3, 4))", "lib.nn.ReflectionPad3d(1)",
    "lib.nn.ReplicationPad1d((1, 0))", "lib.nn.ReplicationPad2d(3)", "lib.nn.ReplicationPad3d(2)",
    "lib.nn.CircularPad1d(1)", "lib.nn.CircularPad2d([1, 2, 3, 4])", "lib.nn.CircularPad3d(1)",
    "lib.nn.ConstantPad3d(1, 2.5)", "lib.nn.ConstantPad3d((1, 2, 3, 4, 5, 6), -1)", "lib.nn.ZeroPad3d(1)",
    "lib.nn.Hardshrink()", "lib.nn.Hardshrink(0.25)", "lib.nn.Softshrink()", "lib.nn.Softshrink(1)",
    "lib.nn.RReLU()", "lib.nn.RReLU(0.1, 0.2, True)",
    "lib.nn.MaxUnpool1d(2)", "lib.nn.MaxUnpool1d(3, 2, 1)", "lib.nn.MaxUnpool2d(2)", "lib.nn.MaxUnpool2d((2, 3), 1, 1)",
    "lib.nn.LPPool1d(2, 3)", "lib.nn.LPPool2d(1.5, (2, 3), 1, True)",
    "lib.nn.LocalResponseNorm(3)", "lib.nn.LocalResponseNorm(2, 0.1, 0.5, 2)",
    "lib.nn.AlphaDropout()", "lib.nn.FeatureAlphaDropout(0.2, True)", "lib.nn.Dropout3d(0.3)",
]


@pytest.mark.parametrize("code", REPRS)
def test_repr_matches_torch(code):
    check_same_repr(code)


def test_layers_have_no_state_like_torch():
    for code in ("lib.nn.ReflectionPad2d(1)", "lib.nn.RReLU()", "lib.nn.LPPool2d(2, 2)", "lib.nn.MaxUnpool2d(2)",
                 "lib.nn.LocalResponseNorm(2)", "lib.nn.AlphaDropout()"):
        ours, ref = (eval(code, {"lib": lib}) for lib in LIBS)
        assert list(ours.state_dict()) == list(ref.state_dict()) == []


ERRORS = [
    "lib.nn.functional.pad(lib.ones(1, 2, 3), (3, 3), 'reflect')",
    "lib.nn.functional.pad(lib.ones(1, 2, 3, 4), (0, 0, 3, 0), 'reflect')",
    "lib.nn.functional.pad(lib.ones(1, 2, 3, 4, 5), (0, 0, 0, 0, 3, 0), 'reflect')",
    "lib.nn.functional.pad(lib.ones(1, 2, 3), (-2, -2), 'reflect')",
    "lib.nn.functional.pad(lib.ones(1, 2, 3), (-2, -2), 'replicate')",
    "lib.nn.functional.pad(lib.ones(1, 2, 3), (4, 0), 'circular')",
    "lib.nn.functional.pad(lib.ones(1, 2, 3), (-2, -2), 'circular')",
    "lib.nn.functional.pad(lib.ones(1, 2, 3), (1,), 'reflect')",
    "lib.nn.functional.pad(lib.ones(1, 2, 3), (1, 1, 1, 1, 1, 1, 1, 1), 'replicate')",
    "lib.nn.functional.pad(lib.ones(1, 2, 3), (1, 1, 1, 1, 1, 1), 'reflect')",
    "lib.nn.functional.pad(lib.ones(3), (1, 1), 'circular')",
    "lib.nn.functional.pad(lib.ones(1, 2, 3), (1, 1), 'reflect', value=1.0)",
    "lib.nn.functional.pad(lib.ones(1, 2, 3), (1, 1), 'bogus')",
    "lib.nn.functional.pad(lib.ones(2, 0, 3), (1, 1), 'reflect')",
    "lib.nn.functional.pad(lib.ones(2, 3, 0, 4), (1, 1, 1, 1), 'replicate')",
    "lib.nn.CircularPad1d(1)(lib.ones(3))",
    "lib.nn.CircularPad2d(1)(lib.ones(3, 3))",
    "lib.nn.ReflectionPad2d(1)(lib.ones(3, 4))",
    "lib.nn.functional.softshrink(lib.ones(2, 3), -1)",
    "lib.nn.functional.softshrink(lib.ones(2, 3, dtype=lib.float64), -0.5)",
    "lib.nn.functional.softshrink(lib.ones(2, dtype=lib.int64))",
    "lib.nn.functional.hardshrink(lib.ones(2, dtype=lib.int64))",
    "lib.nn.functional.hardshrink([1.0])",
    "lib.nn.functional.rrelu(lib.ones(2, 3), 0.5, 0.1)",
    "lib.nn.functional.rrelu(lib.ones(2, 3), 0.5, 0.1, training=True)",
    "lib.nn.RReLU(0.5, 0.1)(lib.ones(2))",
    "lib.nn.functional.rrelu(lib.ones(2, dtype=lib.int64), training=True)",
    "lib.nn.functional.rrelu(lib.ones(2, dtype=lib.int64))",
    "lib.nn.functional.lp_pool2d(lib.ones(2, 3), 2, 2)",
    "lib.nn.functional.max_pool2d_with_indices(lib.ones(2), 2)",
    "lib.nn.MaxUnpool2d(2)(lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int64), output_size=[1, 2, 3])",
    "lib.nn.init.eye(lib.ones(2, 3, 4))",
    "lib.nn.functional.max_unpool2d(lib.ones(1, 1, 2, 2), lib.ones(1, 1, 2, 2, dtype=lib.int64) * 16, 2)",
    "lib.nn.functional.max_unpool2d(lib.ones(1, 1, 2, 2), lib.ones(1, 1, 2, 2, dtype=lib.int64) * -1, 2)",
    "lib.nn.functional.max_unpool2d(lib.ones(1, 1, 2, 2), lib.ones(1, 1, 2, 2), 2)",
    "lib.nn.functional.max_unpool2d(lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 2, 3, dtype=lib.int64), 2)",
    "lib.nn.functional.max_unpool2d(lib.ones(2, 2), lib.zeros(2, 2, dtype=lib.int64), 2)",
    "lib.nn.functional.max_unpool2d(lib.ones(1, 0, 2), lib.zeros(1, 0, 2, dtype=lib.int64), 2)",
    "lib.nn.functional.max_unpool2d(lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int64), 2, "
    "output_size=(9, 4))",
    "lib.nn.functional.max_unpool2d(lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int64), 2, "
    "output_size=(4,))",
    "lib.nn.functional.max_unpool1d(lib.ones(1, 1, 2), lib.ones(1, 1, 2, dtype=lib.int64) * 7, 2)",
    "lib.nn.functional.local_response_norm(lib.ones(2, 3), 2)",
    "lib.nn.functional.pdist(lib.ones(2, 3, 4))",
    "lib.nn.functional.pdist(lib.ones(2, 3, dtype=lib.int64))",
    "lib.nn.functional.pdist(lib.ones(2, 3), -1)",
    "lib.nn.functional.alpha_dropout(lib.ones(2, 3), 1.5, True)",
    "lib.nn.functional.feature_alpha_dropout(lib.ones(2, 3), -0.1)",
    "lib.nn.functional.feature_alpha_dropout(lib.ones(3), 0.5, True)",
    "lib.nn.AlphaDropout(2.0)",
    "lib.nn.functional.dropout3d(lib.ones(2, 3, 4, 5), 1.5)",
]


@pytest.mark.parametrize("code", ERRORS)
@pytest.mark.filterwarnings("ignore")
def test_error_matches_torch(code):
    check_same_error(code)


def test_dropout3d_on_3d_input_warns_like_torch():
    for lib in LIBS:
        with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
            lib.nn.functional.dropout3d(lib.ones(2, 3, 4))


def test_functional_names_exist_in_torch():
    added = ["hardshrink", "softshrink", "rrelu", "rrelu_", "elu_", "celu_", "selu_", "threshold_", "hardtanh_",
             "pdist", "max_unpool1d", "max_unpool2d", "lp_pool1d", "lp_pool2d", "max_pool1d_with_indices",
             "max_pool2d_with_indices", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
             "local_response_norm", "alpha_dropout", "feature_alpha_dropout", "dropout3d"]
    for name in added:
        assert hasattr(torch.nn.functional, name) and hasattr(tapegrad.nn.functional, name), name
        assert name in tapegrad.nn.functional.__all__


# ---- nn.init's deprecated spellings ----

DEPRECATED_INITS = [
    ("uniform", (-0.5, 0.5), (3, 4)),
    ("normal", (0.0, 2.0), (3, 4)),
    ("constant", (0.3,), (3, 4)),
    ("eye", (), (3, 4)),
    ("dirac", (), (4, 2, 3)),
    ("xavier_uniform", (), (3, 4)),
    ("xavier_normal", (1.5,), (3, 4)),
    ("kaiming_uniform", (), (3, 4)),
    ("kaiming_normal", (0.1, "fan_out"), (3, 4, 2)),
    ("orthogonal", (), (3, 5)),
    ("sparse", (0.5,), (4, 3)),
]


@pytest.mark.parametrize("name, args, shape", DEPRECATED_INITS, ids=[case[0] for case in DEPRECATED_INITS])
def test_deprecated_init_warns_and_forwards_like_torch(name, args, shape):
    results = []
    for lib in LIBS:
        fn = getattr(lib.nn.init, name)
        assert fn.__name__ == name
        lib.manual_seed(4)
        t = lib.empty(*shape)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = fn(t, *args)
        messages = [(w.category, str(w.message)) for w in caught]
        assert out is t
        results.append((t, messages))
    (ours, our_warnings), (ref, ref_warnings) = results
    assert our_warnings == ref_warnings == [(FutureWarning, f"`nn.init.{name}` is now deprecated in favor of "
                                                            f"`nn.init.{name}_`.")]
    assert_close(ours, ref, "float32")


# ---- LazyLinear ----

@pytest.mark.parametrize("bias", [True, False])
def test_lazy_linear_materialises_like_torch(bias):
    x = _randn("lazy", 4, 2, 5, dtype="float32")
    results = []
    for lib in LIBS:
        lib.manual_seed(11)
        layer = lib.nn.LazyLinear(3, bias=bias)
        before = (repr(layer), str(layer.weight), type(layer).__name__, layer.has_uninitialized_params(),
                  [(k, type(v).__name__) for k, v in layer.state_dict().items()])
        inp = lib.tensor(x, requires_grad=True)
        out = layer(inp)
        out.sum().backward()
        after = (repr(layer), type(layer).__name__, type(layer.weight).__name__)
        results.append((before, after, [out, inp.grad] + [p for p in layer.parameters()] +
                        [p.grad for p in layer.parameters()]))
    (before, after, tensors), (ref_before, ref_after, ref_tensors) = results
    assert before == ref_before and after == ref_after
    for ours, ref in zip(tensors, ref_tensors, strict=True):
        assert_close(ours, ref, "float32")


def test_lazy_linear_load_state_dict_materialises_like_torch():
    ref_linear = torch.nn.Linear(4, 3)
    state = {k: v.detach().numpy() for k, v in ref_linear.state_dict().items()}
    outs = []
    for lib in LIBS:
        layer = lib.nn.LazyLinear(3).double()
        layer.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        assert type(layer).__name__ == "LazyLinear" and not layer.has_uninitialized_params()
        outs.append(layer(lib.tensor(_randn("lazy_load", 2, 4))))
        assert repr(layer) == "Linear(in_features=4, out_features=3, bias=True)"
    assert_close(*outs, "float32")


def test_lazy_linear_dtype_and_copy_like_torch():
    for lib in LIBS:
        layer = lib.nn.LazyLinear(2).double()
        twin = __import__("copy").deepcopy(layer)
        assert str(twin.weight) == "<UninitializedParameter>"
        assert str(layer(lib.ones(3, 4, dtype=lib.float64)).dtype) == "torch.float64"
        assert twin(lib.ones(1, 5, dtype=lib.float64)).shape == (1, 2)


LAZY_ERRORS = [
    "lib.nn.LazyLinear(3).weight.shape",
    "m = lib.nn.LazyLinear(3)\nm.load_state_dict(lib.nn.Linear(4, 3).state_dict())\nm(lib.ones(2, 5))",
    "lib.nn.Linear(4, 3).load_state_dict(lib.nn.LazyLinear(3).state_dict())",
]


@pytest.mark.parametrize("code", LAZY_ERRORS)
def test_lazy_linear_errors_match_torch(code):
    check_same_error(code)
