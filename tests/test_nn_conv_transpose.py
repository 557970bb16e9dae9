"""Transposed convolutions (F.conv_transpose1d/2d, torch.conv_transpose1d/2d, nn.ConvTranspose1d/2d) against
PyTorch: values and gradients over a table of options, finite differences, second derivatives, the modules'
init, repr, state_dict and output_size, and errors."""
import numpy as np
import pytest
import torch

import tapegrad
from test_errors import check_same_error
from test_nn_modules import assert_close, check_default_init, check_same_repr, copy_weights

# name: (input shape, weight shape, keyword arguments, with a bias)
CONFIGS_2D = {
    "plain": ((2, 4, 5, 6), (4, 3, 3, 3), {}, True),
    "stride2": ((2, 4, 5, 5), (4, 3, 3, 3), {"stride": 2}, True),
    "stride3_padding": ((2, 3, 4, 5), (3, 2, 4, 4), {"stride": 3, "padding": 1}, True),
    "dcgan_upsample": ((3, 4, 4, 4), (4, 2, 4, 4), {"stride": 2, "padding": 1}, True),
    "output_padding": ((2, 4, 5, 4), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, True),
    "rectangular": ((2, 2, 4, 6), (2, 3, 2, 5), {"stride": (2, 3), "padding": (1, 2), "output_padding": (1, 2)},
                    False),
    "dilation": ((2, 3, 5, 5), (3, 2, 3, 3), {"dilation": 2, "padding": 2}, True),
    "output_padding_below_dilation": ((1, 2, 4, 4), (2, 3, 3, 2), {"dilation": 2, "output_padding": 1}, True),
    "groups2": ((2, 4, 5, 5), (4, 3, 3, 3), {"groups": 2, "stride": 2, "padding": 1}, True),
    "groups2_dilation_no_bias": ((2, 6, 4, 5), (6, 1, 2, 3), {"groups": 2, "dilation": (2, 1), "stride": (1, 2)},
                                 False),
    "depthwise": ((2, 4, 5, 5), (4, 1, 3, 3), {"groups": 4, "padding": 1}, True),
    "kernel1": ((2, 5, 3, 3), (5, 2, 1, 1), {}, True),
    "padding_crops_all_but_one": ((1, 2, 3, 3), (2, 2, 3, 3), {"padding": 2}, True),
    "unbatched": ((4, 5, 5), (4, 3, 3, 3), {"stride": 2}, True),
    "empty_batch": ((0, 4, 5, 5), (4, 3, 3, 3), {"stride": 2}, True),
}
CONFIGS_1D = {
    "plain": ((2, 4, 7), (4, 3, 3), {}, True),
    "stride2_output_padding": ((2, 4, 6), (4, 2, 4), {"stride": 2, "padding": 1, "output_padding": 1}, True),
    "groups_dilation": ((2, 4, 6), (4, 3, 3), {"groups": 2, "dilation": 3, "stride": 3}, False),
    "unbatched": ((4, 7), (4, 3, 3), {"stride": 2, "padding": 2}, True),
}
CASES = [("conv_transpose2d", name, *config) for name, config in CONFIGS_2D.items()] + \
        [("conv_transpose1d", name, *config) for name, config in CONFIGS_1D.items()]
CASE_IDS = [f"{fn[-2:]}-{name}" for fn, name, *_ in CASES]


def make_input(lib, array, noncontiguous):
    """array as a leaf of lib, built non-contiguous (a transposed copy transposed back) when asked."""
    if not noncontiguous or array.ndim < 2:
        return lib.tensor(array, requires_grad=True)
    flipped = lib.tensor(np.ascontiguousarray(np.swapaxes(array, -1, -2)))
    return flipped.transpose(-1, -2).detach().requires_grad_()


def assert_close_to_scale(ours, ref, dtype):
    """Elementwise closeness relative to ref's largest magnitude: float32 sums of many terms cancel."""
    assert tuple(ours.shape) == tuple(ref.shape) and str(ours.dtype) == str(ref.dtype)
    ref_np = ref.detach().numpy()
    tol = 2e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(ours.detach().numpy(), ref_np, rtol=tol, atol=tol * np.abs(ref_np).max(initial=1.0))


def run_case(lib, fn, arrays, kwargs, noncontiguous):
    x = make_input(lib, arrays[0], noncontiguous)
    w, b = (lib.tensor(a, requires_grad=True) if a is not None else None for a in arrays[1:])
    out = getattr(lib.nn.functional, fn)(x, w, b, **kwargs)
    weights = lib.tensor(np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)).astype(arrays[0].dtype))
    (out * weights).sum().backward()
    return [out, x.grad, w.grad] + ([b.grad] if b is not None else [])


@pytest.mark.parametrize("noncontiguous", [False, True], ids=["contiguous", "noncontiguous"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn,name,x_shape,w_shape,kwargs,bias", CASES, ids=CASE_IDS)
def test_values_and_gradients_match_torch(fn, name, x_shape, w_shape, kwargs, bias, dtype, noncontiguous):
    rng = np.random.default_rng(len(name) + len(x_shape))
    groups = kwargs.get("groups", 1)
    arrays = [rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype),
              rng.standard_normal(w_shape[1] * groups).astype(dtype) if bias else None]
    ours = run_case(tapegrad, fn, arrays, kwargs, noncontiguous)
    ref = run_case(torch, fn, arrays, kwargs, noncontiguous)
    for o, r in zip(ours, ref):
        assert_close_to_scale(o, r, dtype)


def test_grad_fn_is_convolution_backward():
    x = tapegrad.ones(1, 2, 3, 3, requires_grad=True)
    out = tapegrad.nn.functional.conv_transpose2d(x, tapegrad.ones(2, 1, 2, 2))
    assert type(out.grad_fn).__name__ == type(torch.nn.functional.conv_transpose2d(
        torch.ones(1, 2, 3, 3, requires_grad=True), torch.ones(2, 1, 2, 2)).grad_fn).__name__


@pytest.mark.parametrize("fn,kwargs,shapes", [
    ("conv_transpose2d", {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": (1, 2)},
     [(2, 4, 3, 3), (4, 2, 3, 2), (4,)]),
    ("conv_transpose1d", {"stride": 3, "padding": 1, "output_padding": 2}, [(2, 3, 4), (3, 2, 3), (2,)]),
])
def test_gradcheck(fn, kwargs, shapes):
    rng = np.random.default_rng(7)
    inputs = tuple(tapegrad.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)
    function = getattr(tapegrad.nn.functional, fn)
    assert tapegrad.autograd.gradcheck(lambda x, w, b: function(x, w, b, **kwargs), inputs)


SECOND_ORDER = {
    "plain": ("conv_transpose2d", (2, 2, 4, 4), (2, 3, 3, 3), {}),
    "strided_groups": ("conv_transpose2d", (2, 4, 3, 4), (4, 1, 3, 2),
                       {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    "dilation_output_padding": ("conv_transpose2d", (1, 2, 3, 3), (2, 2, 2, 2), {"dilation": 2, "output_padding": 1}),
    "1d_strided": ("conv_transpose1d", (2, 2, 5), (2, 3, 3), {"stride": 2, "output_padding": 1}),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_derivatives_match_torch(name):
    fn, x_shape, w_shape, kwargs = SECOND_ORDER[name]
    rng = np.random.default_rng(len(name))
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape),
              rng.standard_normal(w_shape[1] * kwargs.get("groups", 1))]
    results = []
    for lib in (tapegrad, torch):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in arrays)
        out = (getattr(lib.nn.functional, fn)(x, w, b, **kwargs) ** 2).sum()
        grads = lib.autograd.grad(out, (x, w, b), create_graph=True)
        second = lib.autograd.grad(sum((g * g).sum() for g in grads), (x, w, b))
        results.append([*grads, *second])
    for o, r in zip(*results):
        assert_close(o, r)


@pytest.mark.parametrize("name", ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"])
def test_top_level_functions_match_torch(name):
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((2, 4, 5) if name.endswith("1d") else (2, 4, 5, 5))
    w_np = rng.standard_normal((4, 4, 3) if name.endswith("1d") else (4, 4, 3, 3))
    outs = [getattr(lib, name)(lib.tensor(x_np), lib.tensor(w_np), None, 2) for lib in (tapegrad, torch)]
    assert_close(*outs)


# ---- modules ----

LAYERS = {
    "convt2d": (lambda L: L.nn.ConvTranspose2d(4, 6, 3), (2, 4, 5, 5)),
    "convt2d_options": (lambda L: L.nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=1, output_padding=1,
                                                       groups=2, bias=False, dilation=(1, 2)), (2, 4, 4, 5)),
    "convt2d_unbatched": (lambda L: L.nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1), (3, 4, 4)),
    "convt1d": (lambda L: L.nn.ConvTranspose1d(3, 4, 3, stride=2, output_padding=1), (2, 3, 6)),
    "convt1d_unbatched": (lambda L: L.nn.ConvTranspose1d(2, 4, 2, groups=2), (2, 6)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, dtype):
    """The layer with torch's (random) weights: output, input and parameter gradients."""
    make, shape = LAYERS[name]
    x = np.random.default_rng(len(name)).standard_normal(shape).astype(dtype)
    ref = make(torch).to(getattr(torch, dtype))
    ours = make(tapegrad).to(getattr(tapegrad, dtype))
    copy_weights(ours, ref)
    results = []
    for model, lib in ((ours, tapegrad), (ref, torch)):
        xt = lib.tensor(x, requires_grad=True)
        out = model(xt)
        weights = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype))
        (out * weights).sum().backward()
        results.append([out, xt.grad] + [p.grad for p in model.parameters()])
    for o, r in zip(*results):
        assert_close_to_scale(o, r, dtype)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.ConvTranspose2d(4, 6, (3, 2), groups=2),
    lambda lib: lib.nn.ConvTranspose2d(3, 5, 4, stride=2, padding=1, bias=False),
    lambda lib: lib.nn.ConvTranspose1d(2, 3, 5),
], ids=["2d_groups", "2d_no_bias", "1d"])
def test_default_init_and_state_dict_match_torch(make):
    check_default_init(make, 11)


def test_attributes_match_torch():
    layers = [lib.nn.ConvTranspose2d(4, 6, 3, stride=(2, 1), padding=1, output_padding=(1, 0), groups=2)
              for lib in (tapegrad, torch)]
    for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                 "padding_mode", "output_padding", "transposed"):
        assert getattr(layers[0], name) == getattr(layers[1], name), name
    assert [tuple(p.shape) for p in layers[0].parameters()] == [tuple(p.shape) for p in layers[1].parameters()]


REPRS = [
    "lib.nn.ConvTranspose2d(4, 6, 3)",
    "lib.nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=1, output_padding=1, groups=2, bias=False, dilation=2)",
    "lib.nn.ConvTranspose1d(4, 6, 3, stride=2, output_padding=1)",
    "lib.nn.ConvTranspose1d(2, 2, 1, padding=3, dilation=2)",
]


@pytest.mark.parametrize("code", REPRS)
def test_repr_matches_torch(code):
    check_same_repr(code)


@pytest.mark.parametrize("layer,shape,output_size", [
    ("ConvTranspose2d(4, 3, 3, stride=2, padding=1)", (2, 4, 5, 5), [10, 10]),
    ("ConvTranspose2d(4, 3, 3, stride=2, padding=1)", (2, 4, 5, 5), (9, 10)),
    ("ConvTranspose2d(4, 3, 3, stride=2, padding=1)", (2, 4, 5, 5), "lib.Size([2, 3, 10, 9])"),
    ("ConvTranspose2d(4, 3, 3, stride=3)", (4, 5, 5), [3, 17, 16]),
    ("ConvTranspose1d(4, 3, 3, stride=2, padding=1)", (2, 4, 5), [10]),
    ("ConvTranspose1d(4, 3, 3, stride=2, padding=1)", (4, 5), [3, 10]),
])
def test_output_size_matches_torch(layer, shape, output_size):
    x_np = np.random.default_rng(5).standard_normal(shape).astype("float32")
    outs = []
    for lib in (tapegrad, torch):
        lib.manual_seed(0)
        size = eval(output_size, {"lib": lib}) if isinstance(output_size, str) else output_size
        outs.append(eval("lib.nn." + layer, {"lib": lib})(lib.tensor(x_np), output_size=size))
    assert_close(*outs, "float32")


# ---- errors ----

F = "lib.nn.functional."
X, W = "lib.ones(2, 4, 5, 5)", "lib.ones(4, 3, 3, 3)"
X1, W1 = "lib.ones(2, 4, 5)", "lib.ones(4, 3, 3)"
ERRORS = [
    F + f"conv_transpose2d(lib.ones(4, 5), {W})",
    F + f"conv_transpose2d(lib.ones(1, 2, 4, 5, 5), {W})",
    F + f"conv_transpose2d({X}, lib.ones(4, 3, 3))",
    F + f"conv_transpose2d({X}, lib.ones(4, 3, 3, 3, 1))",
    F + f"conv_transpose2d({X}, lib.ones(4, 3))",
    F + f"conv_transpose2d({X}, lib.ones(4))",
    F + f"conv_transpose2d(lib.ones(2, 5, 5, 5), {W})",
    F + f"conv_transpose2d(lib.ones(5, 5, 5), {W})",
    F + "conv_transpose2d(lib.ones(2, 3, 5, 5), lib.ones(3, 2, 3, 3), groups=2)",
    F + "conv_transpose2d(lib.ones(2, 0, 5, 5), lib.ones(0, 3, 3, 3))",
    F + f"conv_transpose2d({X}, {W}, groups=0)",
    F + f"conv_transpose2d({X}, {W}, groups=-1, padding=-1)",
    F + f"conv_transpose2d({X}, {W}, stride=2, output_padding=2)",
    F + f"conv_transpose2d({X}, {W}, stride=2, dilation=2, output_padding=(1, 2))",
    F + f"conv_transpose2d({X}, {W}, output_padding=1)",
    F + f"conv_transpose2d({X}, {W}, output_padding=-1, stride=0)",
    F + f"conv_transpose2d({X}, {W}, padding=-1, output_padding=-1)",
    F + f"conv_transpose2d({X}, {W}, padding=(1, -1))",
    F + f"conv_transpose2d({X}, {W}, stride=0)",
    F + f"conv_transpose2d({X}, {W}, stride=(1, -2))",
    F + f"conv_transpose2d({X}, {W}, dilation=-1)",
    F + f"conv_transpose2d({X}, {W}, lib.ones(4))",
    F + f"conv_transpose2d({X}, {W}, lib.ones(3, 1))",
    F + f"conv_transpose2d({X}, {W}, stride=(1, 2, 3))",
    F + f"conv_transpose2d({X}, {W}, padding=(1, 2, 3), output_padding=(1, 1, 1))",
    F + f"conv_transpose2d({X}, {W}, output_padding=(1, 2, 3))",
    F + f"conv_transpose2d({X}, {W}, dilation=(1, 2, 3), output_padding=(1, 1, 1))",
    F + f"conv_transpose2d(lib.ones(1, 4, 1, 1), {W}, padding=3)",
    F + f"conv_transpose2d(lib.ones(1, 4, 1, 1), {W}, padding=(1, 2))",
    F + f"conv_transpose2d(lib.ones(1, 4, 2, 2), {W}, padding=2)",
    F + f"conv_transpose2d(lib.ones(2, 4, 0, 5), {W})",
    F + f"conv_transpose2d(lib.ones(4, 0, 5), {W})",
    F + f"conv_transpose2d(lib.ones(2, 4, 5, 5, dtype=lib.float64), {W})",
    F + f"conv_transpose2d(lib.ones(2, 4, 5, 5, dtype=lib.float64), {W}, output_padding=1)",
    F + f"conv_transpose2d({X}, lib.ones(4, 3, 3, 3, dtype=lib.float64))",
    F + f"conv_transpose2d({X}, {W}, lib.ones(3, dtype=lib.float64))",
    F + f"conv_transpose1d({X}, {W1})",
    F + f"conv_transpose1d(lib.ones(5), {W1})",
    F + f"conv_transpose1d({X1}, {W})",
    F + f"conv_transpose1d(lib.ones(4, 5), {W})",
    F + f"conv_transpose1d({X1}, lib.ones(4, 3))",
    F + f"conv_transpose1d(lib.ones(2, 5, 5), {W1})",
    F + f"conv_transpose1d({X1}, {W1}, stride=2, output_padding=2)",
    F + f"conv_transpose1d({X1}, {W1}, padding=-1)",
    F + f"conv_transpose1d({X1}, {W1}, padding=-1, groups=0)",
    F + f"conv_transpose1d({X1}, {W1}, stride=(1, 2))",
    F + f"conv_transpose1d(lib.ones(1, 4, 1), {W1}, padding=3)",
    F + f"conv_transpose1d({X1}, {W1}, groups=3)",
    F + f"conv_transpose1d({X1}, {W1}, lib.ones(4))",
    F + f"conv_transpose1d(lib.ones(2, 4, 5, dtype=lib.float64), {W1})",
    "lib.nn.ConvTranspose2d(4, 4, 3, groups=0)",
    "lib.nn.ConvTranspose2d(3, 4, 3, groups=2)",
    "lib.nn.ConvTranspose2d(4, 3, 3, groups=2)",
    "lib.nn.ConvTranspose2d(4, 4, 3, groups=0, padding_mode='reflect')",
    "lib.nn.ConvTranspose1d(4, 4, 3, padding_mode='circular')",
    f"lib.nn.ConvTranspose2d(4, 4, 3, stride=2, output_padding=2)({X})",
    "lib.nn.ConvTranspose2d(4, 4, 3)(lib.ones(1, 2, 4, 5, 5))",
    "lib.nn.ConvTranspose1d(4, 4, 3)(lib.ones(4, 5, 5))",
]
M = "lib.nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1)"
OUTPUT_SIZE_ERRORS = [
    f"{M}({X}, output_size=[8, 8])",
    f"{M}({X}, output_size=(11, 10))",
    f"{M}({X}, output_size=[10])",
    f"{M}({X}, output_size=[3, 10, 10])",
    f"{M}({X}, output_size=[1, 2, 3, 10, 10])",
    f"{M}(lib.ones(4, 5, 5), output_size=[2, 3, 10, 10])",
    f"lib.nn.ConvTranspose1d(4, 3, 3, stride=2, padding=1)({X1}, output_size=[11])",
]


@pytest.mark.parametrize("code", ERRORS + OUTPUT_SIZE_ERRORS)
def test_errors_match_torch(code):
    check_same_error(code)


# With oneDNN, torch reports these from its kernel library's internals; its own kernels' checks are the spec.
@pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")
@pytest.mark.parametrize("code", [
    F + f"conv_transpose2d({X}, {W}, dilation=0)",
    F + f"conv_transpose2d({X}, {W}, dilation=(1, 0), output_padding=1)",
    F + f"conv_transpose2d({X}, lib.ones(4, 0, 3, 3))",
    F + f"conv_transpose1d({X1}, {W1}, dilation=0)",
])
def test_errors_match_torch_native_kernels(code):
    with torch.backends.mkldnn.flags(enabled=False):
        check_same_error(code)


@pytest.mark.parametrize("code", [
    F + f"conv_transpose2d({X}, {W}, padding='same')",
    F + f"conv_transpose2d({X}, {W}, stride=1.5)",
    f"lib.nn.ConvTranspose2d(4, 4, 3, padding='same')({X})",
])
def test_argument_type_errors_match_torch(code):
    check_same_error(code, "conv_transpose2d(): argument ")


def test_integer_inputs_are_refused_with_a_clear_error():
    """torch convolves int64 tensors; tapegrad's convolutions are floating-point only (as its conv2d)."""
    with pytest.raises(NotImplementedError, match="\"conv_transpose2d\" not implemented for 'int64'"):
        tapegrad.nn.functional.conv_transpose2d(tapegrad.ones(1, 2, 3, 3, dtype=tapegrad.int64),
                                                tapegrad.ones(2, 1, 2, 2, dtype=tapegrad.int64))
