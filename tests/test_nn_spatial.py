"""Conv1d, 1-D and adaptive max pooling, padding, Upsample/interpolate, PixelShuffle, Unflatten and Fold/Unfold
against PyTorch: outputs, input and parameter gradients, indices, reprs, default init and errors."""
import numpy as np
import pytest
import torch

import tapegrad
from test_errors import check_same_error
from test_nn_modules import assert_close, check_default_init, check_same_repr
from test_nn_rnn import _randn, check_module_against_torch

LAYERS = {
    "conv1d": (lambda L: L.nn.Conv1d(3, 4, 3), (2, 3, 9)),
    "conv1d_options": (lambda L: L.nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, bias=False),
                       (2, 4, 11)),
    "conv1d_same_unbatched": (lambda L: L.nn.Conv1d(2, 3, 3, padding="same", dilation=2), (2, 8)),
    "max_pool1d": (lambda L: L.nn.MaxPool1d(3, 2, 1, ceil_mode=True), (2, 3, 8)),
    "max_pool1d_unbatched_dilated": (lambda L: L.nn.MaxPool1d(2, dilation=2), (3, 9)),
    "avg_pool1d": (lambda L: L.nn.AvgPool1d(3, 2, 1, count_include_pad=False), (2, 3, 8)),
    "adaptive_avg_pool1d": (lambda L: L.nn.AdaptiveAvgPool1d(3), (2, 3, 7)),
    "adaptive_max_pool1d": (lambda L: L.nn.AdaptiveMaxPool1d(3), (2, 3, 7)),
    "adaptive_max_pool2d_uneven": (lambda L: L.nn.AdaptiveMaxPool2d((3, 2)), (2, 3, 7, 5)),
    "adaptive_max_pool2d_even": (lambda L: L.nn.AdaptiveMaxPool2d(2), (2, 3, 6, 4)),
    "adaptive_max_pool2d_none_unbatched": (lambda L: L.nn.AdaptiveMaxPool2d((None, 3)), (3, 5, 7)),
    "zero_pad2d": (lambda L: L.nn.ZeroPad2d((1, 2, 0, 3)), (2, 3, 4, 5)),
    "constant_pad1d": (lambda L: L.nn.ConstantPad1d(2, 1.5), (2, 3, 4)),
    "upsample_nearest_scale": (lambda L: L.nn.Upsample(scale_factor=2), (2, 3, 4, 5)),
    "upsample_nearest_size": (lambda L: L.nn.Upsample(size=(7, 3)), (2, 3, 4, 5)),
    "upsample_nearest_fraction": (lambda L: L.nn.Upsample(scale_factor=1.7), (2, 3, 4, 5)),
    "upsample_nearest_exact": (lambda L: L.nn.Upsample(size=(7, 9), mode="nearest-exact"), (2, 3, 4, 5)),
    "upsample_nearest_1d": (lambda L: L.nn.Upsample(size=11), (2, 3, 4)),
    "upsample_bilinear": (lambda L: L.nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 4, 5)),
    "upsample_bilinear_align": (lambda L: L.nn.Upsample(size=(7, 3), mode="bilinear", align_corners=True),
                                (2, 3, 4, 5)),
    "upsample_bilinear_fraction": (lambda L: L.nn.Upsample(scale_factor=(1.5, 2.3), mode="bilinear"),
                                   (2, 3, 4, 5)),
    "upsample_bilinear_recompute": (lambda L: L.nn.Upsample(scale_factor=1.7, mode="bilinear",
                                                            recompute_scale_factor=True), (2, 3, 4, 5)),
    "upsampling_bilinear2d": (lambda L: L.nn.UpsamplingBilinear2d(scale_factor=2), (1, 2, 3, 4)),
    "upsample_linear_1d": (lambda L: L.nn.Upsample(size=9, mode="linear"), (2, 3, 4)),
    "pixel_shuffle": (lambda L: L.nn.PixelShuffle(2), (2, 8, 3, 4)),
    "pixel_shuffle_unbatched": (lambda L: L.nn.PixelShuffle(3), (9, 2, 2)),
    "pixel_unshuffle": (lambda L: L.nn.PixelUnshuffle(2), (2, 2, 4, 6)),
    "unflatten": (lambda L: L.nn.Unflatten(1, (2, -1)), (3, 8, 2)),
    "unflatten_negative_dim": (lambda L: L.nn.Unflatten(-1, (2, 3)), (3, 6)),
    "unfold": (lambda L: L.nn.Unfold(2), (2, 3, 4, 5)),
    "unfold_options": (lambda L: L.nn.Unfold((2, 3), dilation=(2, 1), padding=1, stride=2), (2, 3, 6, 7)),
    "unfold_unbatched": (lambda L: L.nn.Unfold(3, padding=1), (2, 4, 4)),
    "fold": (lambda L: L.nn.Fold((4, 5), 2), (2, 12, 12)),
    "fold_options": (lambda L: L.nn.Fold((6, 7), (2, 3), dilation=(2, 1), padding=1, stride=2), (2, 18, 12)),
    "fold_unbatched": (lambda L: L.nn.Fold((3, 3), 2), (8, 4)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, dtype):
    make, shape = LAYERS[name]
    check_module_against_torch(name, make, [_randn(name, *shape, dtype=dtype)], dtype)


@pytest.mark.parametrize("call", [
    lambda L, x: L.nn.functional.max_pool1d(x, 3, 2, 1, return_indices=True),
    lambda L, x: L.nn.functional.adaptive_max_pool1d(x, 3, return_indices=True),
    lambda L, x: L.nn.functional.adaptive_max_pool2d(x.reshape(2, 3, 2, 4), (3, 3), return_indices=True),
    lambda L, x: L.nn.functional.adaptive_max_pool2d(x.reshape(2, 3, 2, 4), 1, return_indices=True),
])
def test_pooling_indices_match_torch(call):
    x = _randn("indices", 2, 3, 8)
    (out, idx), (ref_out, ref_idx) = (call(lib, lib.tensor(x)) for lib in (tapegrad, torch))
    assert_close(out, ref_out)
    assert idx.tolist() == ref_idx.tolist()


@pytest.mark.parametrize("fn", [
    lambda F, x: F.unfold(x, (2, 3), padding=1, stride=(1, 2)),
    lambda F, x: F.fold(x[..., :4].reshape(1, 8, 6), (3, 4), 2, stride=(2, 1), padding=(1, 0)),
    lambda F, x: F.interpolate(x, size=(5, 7), mode="bilinear"),
    lambda F, x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True),
    lambda F, x: F.adaptive_max_pool2d(x, (2, 3)),
    lambda F, x: F.conv1d(x.reshape(2, 3, 10), x.reshape(2, 3, 10)[:, :, :3], stride=2, padding=1),
])
def test_gradcheck(fn):
    x = tapegrad.tensor(_randn("gradcheck", 1, 3, 4, 5), requires_grad=True)
    assert tapegrad.autograd.gradcheck(lambda x: fn(tapegrad.nn.functional, x), (x,))


def test_unfold_keeps_infinities_in_place():
    x = _randn("inf", 1, 2, 3, 3)
    x[0, 0, 1, 1] = np.inf
    ours, ref = (lib.nn.functional.unfold(lib.tensor(x), 2) for lib in (tapegrad, torch))
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_conv1d_default_init_matches_torch():
    check_default_init(lambda lib: lib.nn.Conv1d(4, 6, 3, groups=2), 5)


REPRS = [
    "lib.nn.Conv1d(2, 3, 3, padding=1, bias=False)",
    "lib.nn.Conv1d(4, 6, 3, stride=2, dilation=2, groups=2)",
    "lib.nn.MaxPool1d(3)",
    "lib.nn.AvgPool1d(3, 2, 1)",
    "lib.nn.AdaptiveAvgPool1d(3)",
    "lib.nn.AdaptiveMaxPool1d(3)",
    "lib.nn.AdaptiveMaxPool2d((2, None))",
    "lib.nn.ZeroPad2d(1)",
    "lib.nn.ZeroPad2d((1, 2, 3, 4))",
    "lib.nn.ZeroPad1d(2)",
    "lib.nn.ConstantPad2d(1, 3.5)",
    "lib.nn.Upsample(scale_factor=2, mode='bilinear')",
    "lib.nn.Upsample(size=(3, 4))",
    "lib.nn.UpsamplingNearest2d(scale_factor=3)",
    "lib.nn.PixelShuffle(2)",
    "lib.nn.PixelUnshuffle(2)",
    "lib.nn.Unflatten(1, (2, 3))",
    "lib.nn.Unfold(2, padding=1)",
    "lib.nn.Fold((4, 5), 2)",
]


@pytest.mark.parametrize("code", REPRS)
def test_repr_matches_torch(code):
    check_same_repr(code)


ERRORS = [
    "lib.nn.functional.conv1d(lib.ones(1, 2, 3, 4), lib.ones(4, 2, 3))",
    "lib.nn.functional.conv1d(lib.ones(2, 5, 10), lib.ones(4, 3, 3))",
    "lib.nn.functional.conv1d(lib.ones(5, 10), lib.ones(4, 3, 3))",
    "lib.nn.functional.conv1d(lib.ones(2, 3, 2), lib.ones(4, 3, 3))",
    "lib.nn.Conv1d(3, 4, 3, groups=2)",
    "lib.nn.functional.max_pool1d(lib.ones(2, 3, 4, 5), 2)",
    "lib.nn.functional.avg_pool1d(lib.ones(2, 3, 4, 5), 2)",
    "lib.nn.functional.adaptive_avg_pool1d(lib.ones(2, 3, 4, 5), 2)",
    "lib.nn.functional.adaptive_max_pool2d(lib.ones(2, 3, 4, 5, 6), 2)",
    "lib.nn.functional.interpolate(lib.ones(1, 2, 3, 4), size=5, scale_factor=2)",
    "lib.nn.functional.interpolate(lib.ones(1, 2, 3, 4))",
    "lib.nn.functional.interpolate(lib.ones(1, 2, 3, 4), size=5, align_corners=True)",
    "lib.nn.functional.interpolate(lib.ones(1, 2, 3), size=5, mode='bilinear')",
    "lib.nn.functional.interpolate(lib.ones(1, 2, 3, 4), size=5, mode='foo')",
    "lib.nn.functional.interpolate(lib.ones(1, 2, 3, 4), size=(5, 6, 7))",
    "lib.nn.functional.pixel_shuffle(lib.ones(1, 5, 3, 4), 2)",
    "lib.nn.functional.pixel_shuffle(lib.ones(5, 3), 2)",
    "lib.nn.functional.pixel_unshuffle(lib.ones(1, 4, 3, 4), 2)",
    "lib.nn.functional.unfold(lib.ones(1, 2, 3, 4, 5), 2)",
    "lib.nn.functional.unfold(lib.ones(1, 2, 3, 4), 5)",
    "lib.nn.functional.fold(lib.ones(1, 7, 6), (3, 4), 2)",
    "lib.nn.functional.fold(lib.ones(1, 8, 5), (3, 4), 2)",
    "lib.nn.functional.fold(lib.ones(1, 2, 3, 8, 5), (3, 4), 2)",
    "lib.nn.Unflatten(1, (2, 2))(lib.ones(2, 5))",
    "lib.nn.Unflatten(1, 4)",
    "lib.nn.Unflatten(1, (2, 2.0))",
]


@pytest.mark.parametrize("code", ERRORS)
def test_error_matches_torch(code):
    check_same_error(code)
