"""Tensor printing: tapegrad's format_tensor must equal repr() of the same torch tensor."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for tensor printing")

# Loaded by path: importing the tapegrad package needs its compiled extension.
_MODULE_PATH = Path(__file__).resolve().parents[1] / "python" / "tapegrad" / "_tensor_str.py"
_spec = importlib.util.spec_from_file_location("tapegrad_tensor_str", _MODULE_PATH)
tensor_str = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tensor_str)

nan, inf = float("nan"), float("inf")
rng = np.random.default_rng(20240513)


def f32(values):
    return np.array(values, dtype=np.float32)


def randn(*shape, scale=1.0, dtype=np.float32):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def random_magnitudes(n, low_exp, high_exp, dtype=np.float32):
    signs = rng.choice([-1.0, 1.0], n)
    return (signs * 10.0 ** rng.uniform(low_exp, high_exp, n)).astype(dtype)


def with_nan_in_middle(values):
    values = values.copy()
    values[len(values) // 2] = nan
    return values


FLOAT_CASES = {
    "scalar": f32(1.5),
    "scalar_negative": f32(-2.25),
    "scalar_zero": f32(0.0),
    "scalar_negative_zero": f32(-0.0),
    "scalar_nan": f32(nan),
    "scalar_inf": f32(inf),
    "scalar_minus_inf": f32(-inf),
    "scalar_int_valued": f32(3.0),
    "scalar_tiny": f32(1e-5),
    "scalar_huge": f32(1e10),
    "scalar_fraction_large": f32(123456.789),
    **{f"magnitude_1e{e}": randn(6, scale=10.0**e) for e in range(-6, 12)},
    "mixed_magnitudes": random_magnitudes(12, -6, 11),
    "mixed_small": random_magnitudes(8, -5, -2),
    "tiny_and_large": f32([1e-5, 1e5]),
    "ratio_exactly_1000": f32([1.5, 1500.0]),
    "ratio_above_1000": f32([1.5, 1501.0]),
    "min_at_1e-4_rounds_below": f32([1e-4, 0.05]),
    "min_above_1e-4": f32([1.1e-4, 0.05]),
    "max_at_1e8": f32([1e8, 5e7]),
    "rounding_widens": f32([0.99995, 9.99996, -0.00005]),
    "negatives": f32([-1.25, 0.5, -3.75]),
    "int_valued": f32([1.0, 2.0, 3.0]),
    "int_valued_negative": f32([-1.0, 0.0, 1000.0]),
    "int_valued_ratio_1001": f32([1.0, 1001.0]),
    "int_valued_1e8": f32([1e8, 2.0e7]),
    "int_valued_1e9": f32([1e9, 1e9]),
    "int_valued_2_pow_40": f32([2.0**40, 1.0]),
    "int_valued_signed_zero": f32([-0.0, 1.0, 2.0]),
    "nan_and_one": f32([nan, 1.0]),
    "infinities": f32([inf, -inf, nan]),
    "only_nan": f32([nan]),
    "zeros_signed": f32([0.0, -0.0]),
    "zeros": np.zeros(5, np.float32),
    "fraction_and_nonfinite": f32([1.5, nan, -inf]),
    "tiny_and_nan": f32([0.0, nan, 1e-6]),
    "huge_and_inf": f32([1e10, inf]),
    "matrix": randn(2, 3),
    "matrix_int_valued": np.round(randn(3, 4, scale=100)),
    "column": randn(4, 1),
    "row_matrix": randn(1, 5),
    "3d": randn(3, 1, 2),
    "3d_singletons": randn(1, 1, 1),
    "4d": randn(2, 2, 2, 2),
    "4d_mixed": random_magnitudes(24, -5, 9).reshape(2, 3, 2, 2),
    "transposed": randn(4, 5).T,
    "long_row_ints_valued": np.arange(100, dtype=np.float32),
    "long_row": randn(40),
    "long_row_sci": randn(30, scale=1e9),
    "wrapping_matrix": randn(3, 30),
    "wrapping_3d": randn(2, 2, 25, scale=1e6),
    "summarised_row": randn(1001),
    "summarised_row_large": randn(2000, scale=1e4),
    "summarised_matrix": randn(40, 30),
    "summarised_3d": randn(10, 10, 11),
    "summarised_short_outer": randn(3, 500),
    "summarised_4d": randn(2, 3, 4, 50),
    "summarised_zeros": np.zeros(2000, np.float32),
    "summarised_int_valued": np.arange(1500, dtype=np.float32),
    "summarised_hidden_nan": with_nan_in_middle(randn(1001)),
    "summarised_hidden_outlier": np.concatenate([randn(10), f32([1e12]), randn(1000)]),
}

FLOAT64_CASES = {
    **{f"{name}_f64": values.astype(np.float64) for name, values in FLOAT_CASES.items()},
    "min_at_1e-4_f64": np.array([1e-4, 0.05]),
    "third_f64": np.array([1 / 3, 2 / 3]),
    "extremes_f64": np.array([1e-300, 1e300]),
    "overflowing_ratio_f64": np.array([5e-324, 1e308]),
    "mixed_f64": random_magnitudes(15, -8, 14, np.float64),
}

INT_CASES = {
    "int_scalar": np.array(7),
    "int_scalar_negative": np.array(-3),
    "int_row": np.arange(10),
    "int_negative": np.array([-5, 10000, 3]),
    "int_extremes": np.array([2**62, -(2**63), 0]),
    "int_matrix": rng.integers(-50, 50, (3, 4)),
    "int_long_row": np.arange(100),
    "int_3d": rng.integers(0, 1000, (2, 3, 4)),
    "int_summarised": np.arange(2000),
    "int_summarised_3d": np.arange(1001).reshape(7, 11, 13),
}

BOOL_CASES = {
    "bool_scalar_true": np.array(True),
    "bool_scalar_false": np.array(False),
    "bool_row": np.array([True, False]),
    "bool_single": np.array([True]),
    "bool_all_true": np.ones(30, bool),
    "bool_matrix": rng.random((5, 5)) > 0.5,
    "bool_summarised": rng.random(2000) > 0.5,
}

EMPTY_CASES = {
    f"empty_{np.dtype(dtype).name}_{'x'.join(map(str, shape))}": np.zeros(shape, dtype)
    for dtype in (np.float32, np.float64, np.int64, np.bool_)
    for shape in ((0,), (0, 3), (3, 0), (2, 0, 3))
}

ALL_CASES = {**FLOAT_CASES, **FLOAT64_CASES, **INT_CASES, **BOOL_CASES, **EMPTY_CASES}

# A spread of cases re-checked under every print option setting.
OPTION_SAMPLE = [
    FLOAT_CASES[name]
    for name in (
        "scalar", "scalar_zero", "magnitude_1e-3", "magnitude_1e5", "mixed_magnitudes",
        "int_valued", "infinities", "zeros", "wrapping_matrix", "4d",
        "summarised_row", "summarised_matrix", "summarised_3d", "summarised_int_valued",
    )
] + [
    FLOAT64_CASES["third_f64"],
    INT_CASES["int_long_row"],
    INT_CASES["int_summarised_3d"],
    BOOL_CASES["bool_matrix"],
    BOOL_CASES["bool_summarised"],
    EMPTY_CASES["empty_float32_0x3"],
]


@pytest.fixture(autouse=True)
def restore_print_options():
    saved_torch = torch._tensor_str.get_printoptions()
    saved_ours = tensor_str.get_printoptions()
    yield
    torch.set_printoptions(**saved_torch)
    tensor_str.set_printoptions(**saved_ours)


def ours(t, is_param=False):
    grad_fn = t.grad_fn
    return tensor_str.format_tensor(
        t.detach().numpy(),
        dtype=str(t.dtype).removeprefix("torch."),
        requires_grad=t.requires_grad,
        grad_fn_name=None if grad_fn is None else type(grad_fn).__name__,
        is_param=is_param,
    )


def assert_prints_like_torch(t):
    assert ours(t) == repr(t)


def set_both(**options):
    torch.set_printoptions(**options)
    tensor_str.set_printoptions(**options)


@pytest.mark.parametrize("values", ALL_CASES.values(), ids=ALL_CASES.keys())
def test_matches_torch(values):
    assert_prints_like_torch(torch.from_numpy(values))


@pytest.mark.parametrize(
    "values",
    [f32(1.5), f32([1.0, 2.0]), randn(3, 4), randn(50), np.zeros((0, 3), np.float32),
     np.array([0.5, 1.5]), randn(1200)],
    ids=["scalar", "row", "matrix", "wrapping_row", "empty", "float64", "summarised"],
)
def test_requires_grad_suffix(values):
    assert_prints_like_torch(torch.from_numpy(values).requires_grad_())


@pytest.mark.parametrize(
    "op",
    [lambda t: t * 2, lambda t: t.sum(), lambda t: t.exp(), lambda t: t.reshape(-1),
     lambda t: t.double(), lambda t: t[0]],
    ids=["mul", "sum", "exp", "reshape", "to_double", "select"],
)
def test_grad_fn_suffix(op):
    leaf = torch.from_numpy(randn(3, 4)).requires_grad_()
    assert_prints_like_torch(op(leaf))


@pytest.mark.parametrize("length", range(1, 40))
def test_suffixes_wrap_at_linewidth(length):
    # Row lengths sweep the last line across column 80, where suffixes move down.
    values = (np.arange(length) / 3).astype(np.float64)
    leaf = torch.from_numpy(values).requires_grad_()
    assert_prints_like_torch(leaf)
    assert_prints_like_torch(leaf * 2)


@pytest.mark.parametrize("requires_grad", [True, False])
@pytest.mark.parametrize("values", [randn(2, 3), np.array([1.0, 2.0])], ids=["float32", "float64"])
def test_parameter(values, requires_grad):
    param = torch.nn.Parameter(torch.from_numpy(values), requires_grad=requires_grad)
    assert ours(param, is_param=True) == repr(param)


def test_device_suffix():
    # No CUDA oracle here: these literals are torch's format for cuda tensors.
    def on_cuda(values, dtype, **kwargs):
        return tensor_str.format_tensor(values, dtype=dtype, device="cuda:0", **kwargs)

    assert on_cuda(f32([1, 2]), "float32") == "tensor([1., 2.], device='cuda:0')"
    assert (
        on_cuda(np.array([1.0, 2.0]), "float64", requires_grad=True)
        == "tensor([1., 2.], device='cuda:0', dtype=torch.float64, requires_grad=True)"
    )
    assert (
        on_cuda(np.zeros((0, 3), np.int64), "int64")
        == "tensor([], device='cuda:0', size=(0, 3), dtype=torch.int64)"
    )
    assert tensor_str.format_tensor(f32(1.5), dtype="float32", device="cpu") == "tensor(1.5000)"


def test_unknown_dtype_is_rejected():
    with pytest.raises(ValueError, match="float16"):
        tensor_str.format_tensor(f32(1), dtype="float16")


@pytest.mark.parametrize(
    "options",
    [
        {"precision": 2},
        {"precision": 0},
        {"precision": 8},
        {"threshold": 5},
        {"threshold": 0},
        {"threshold": 10, "edgeitems": 1},
        {"threshold": 10, "edgeitems": 0},
        {"edgeitems": 0},
        {"threshold": 0, "edgeitems": 0},
        {"linewidth": 40},
        {"linewidth": 10},
        {"linewidth": 200},
        {"sci_mode": True},
        {"sci_mode": False},
        {"profile": "short"},
        {"profile": "full"},
        {"profile": "default"},
        {"profile": "short", "precision": 6, "linewidth": 60},
        {"profile": "no-such-profile"},
    ],
    ids=repr,
)
def test_print_options(options):
    set_both(**options)
    assert tensor_str.get_printoptions() == torch._tensor_str.get_printoptions()
    for values in OPTION_SAMPLE:
        assert_prints_like_torch(torch.from_numpy(values))
    assert_prints_like_torch(torch.from_numpy(randn(30)).requires_grad_())


def test_print_options_round_trip():
    set_both(precision=6, threshold=20, edgeitems=2, linewidth=50, sci_mode=True)
    saved = tensor_str.get_printoptions()
    assert saved == torch._tensor_str.get_printoptions()
    set_both(profile="full")
    tensor_str.set_printoptions(**saved)
    assert tensor_str.get_printoptions() == saved


def test_omitted_sci_mode_resets_to_automatic():
    set_both(sci_mode=True)
    set_both(precision=3)
    assert tensor_str.get_printoptions()["sci_mode"] is None
    assert_prints_like_torch(torch.from_numpy(f32([1.5, 2.5])))


@pytest.mark.parametrize("dims", [(), (0,), (2,), (2, 3), (1, 2, 3, 4)], ids=repr)
def test_format_size(dims):
    assert tensor_str.format_size(dims) == repr(torch.Size(dims))
