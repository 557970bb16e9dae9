"""The vectorised transcendental kernels (csrc/cpu/vec_math.h) against PyTorch and, in ulps, against a
correctly rounded long double reference: values of every magnitude, special values, every vector tail
length, strided layouts, activations and softmax rows, at each SIMD level this CPU has."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import tapegrad

DTYPES = ["float32", "float64"]
OPS = ["exp", "log", "log1p", "expm1", "tanh", "sigmoid", "erf"]
# PyTorch's own kernels are 1 ulp (2 for its sigmoid); ours are within 2 ulps of correctly rounded.
RTOL = {"float32": 3e-7, "float64": 5e-16}
MAX_ULPS = 2

LD = np.longdouble
PI = LD("3.14159265358979323846264338327950288")

# Where the kernels change formula or range, and where results overflow, underflow or saturate.
EDGES = [0.0, 0.25, 0.3465, 0.5, 0.6, 0.625, 0.6931, 0.8, 1.0, 1.4, 2.0, 2.6, 4.0, 6.0, 9.0, 10.0, 17.33, 19.06,
         20.0, 36.04, 87.33, 88.72, 89.0, 103.97, 104.0, 708.4, 709.78, 710.0, 745.13, 746.0]


def erf_reference(x):
    """erf in long double: the Taylor series below 2.5, 1 - erfc from its continued fraction up to 6.5,
    and 1 beyond (erfc(6.5) is below 2^-64)."""
    a = np.abs(x)
    result = np.ones_like(a)
    near = a < 2.5
    term = total = a[near]
    for n in range(1, 90):
        term = -term * a[near] * a[near] / n
        total = total + term / (2 * n + 1)
    result[near] = total * 2 / np.sqrt(PI)
    mid = (a >= 2.5) & (a < 6.5)
    fraction = a[mid]
    for k in range(300, 0, -1):
        fraction = a[mid] + LD(k) / 2 / fraction
    result[mid] = 1 - np.exp(-a[mid] * a[mid]) / (np.sqrt(PI) * fraction)
    return np.copysign(result, x)


def reference(op, x):
    """op at the inputs x, correctly rounded to x's dtype (computed in long double)."""
    with np.errstate(all="ignore"):
        xl = x.astype(LD)
        if op == "sigmoid":
            r = 1 / (1 + np.exp(-xl))
        elif op == "erf":
            r = np.where(np.isnan(xl), xl, erf_reference(np.nan_to_num(xl)))
        else:
            r = getattr(np, op)(xl)
        return r.astype(x.dtype)


def ulp_distance(a, b):
    """Steps between same-dtype floats (0 and -0 are one value); opposite signs count as far apart."""
    bits = a.view(np.int32 if a.dtype == np.float32 else np.int64).astype(np.int64), \
        b.view(np.int32 if b.dtype == np.float32 else np.int64).astype(np.int64)
    mag = [v & np.int64(np.iinfo(np.int64).max if a.dtype == np.float64 else 0x7FFFFFFF) for v in bits]
    same_side = (np.signbit(a) == np.signbit(b)) | ((mag[0] == 0) & (mag[1] == 0))
    return np.where(same_side, np.abs(mag[0] - mag[1]), np.iinfo(np.int64).max)


def wide_inputs(dtype, seed=0):
    """Random bit patterns (every exponent, NaN and inf included), uniform values at many scales, and
    each edge with its neighbours a few ulps away, both signs."""
    rng = np.random.default_rng(seed)
    np_dtype = np.dtype(dtype)
    uint = np.uint32 if np_dtype == np.float32 else np.uint64
    bits = rng.integers(0, np.iinfo(uint).max, size=60000, dtype=uint, endpoint=True).view(np_dtype)
    scales = [rng.uniform(-1, 1, 6000) * s for s in (1e-30, 1e-7, 1e-3, 0.1, 1, 3, 10, 50, 120, 800)]
    edges = np.array(EDGES + [-e for e in EDGES], dtype=np_dtype)
    near, up, down = [edges], edges, edges
    for _ in range(3):
        up, down = np.nextafter(up, np.inf), np.nextafter(down, -np.inf)
        near += [up, down]
    info = np.finfo(np_dtype)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, info.tiny, -info.tiny, info.smallest_subnormal,
                         -info.smallest_subnormal, info.max, -info.max, -1.0, 1.0], dtype=np_dtype)
    with np.errstate(over="ignore"):
        return np.concatenate([bits] + [s.astype(np_dtype) for s in scales] + near + [specials])


def check_close_to_torch(ours, expected, dtype):
    ours, expected = np.asarray(ours), np.asarray(expected)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    np.testing.assert_allclose(ours, expected, rtol=RTOL[dtype], atol=np.finfo(dtype).tiny)
    zero = (ours == 0) & (expected == 0)
    np.testing.assert_array_equal(np.signbit(ours[zero]), np.signbit(expected[zero]))


def check_close_at_scale(ours, expected, scale, dtype, ulps):
    """|ours - expected| <= rtol |expected| + ulps * eps * scale elementwise, for formulas whose rounding error
    is set by another magnitude than the result's (1 + erf and 1 + tanh cancel at the input's scale)."""
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    with np.errstate(invalid="ignore"):
        bound = RTOL[dtype] * np.abs(expected) + ulps * np.finfo(dtype).eps * scale
        ok = np.isnan(expected) | (ours == expected) | (np.abs(ours - expected) <= bound)
    assert ok.all(), f"{np.count_nonzero(~ok)} differ, first: {ours[~ok][0]!r} vs {expected[~ok][0]!r}"


def check_op(op, dtype):
    """Raises AssertionError if op at dtype misses PyTorch or the reference; returns the largest ulp error."""
    x = wide_inputs(dtype)
    ours = getattr(tapegrad, op)(tapegrad.tensor(x)).numpy()
    check_close_to_torch(ours, getattr(torch, op)(torch.tensor(x)).numpy(), dtype)
    exact = reference(op, x)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(exact))
    finite = ~np.isnan(exact)
    ulps = ulp_distance(ours[finite], exact[finite])
    worst = int(ulps.max())
    assert worst <= MAX_ULPS, f"{op} {dtype}: {worst} ulps at x={x[finite][ulps.argmax()]!r}"
    return worst


def check_layouts(op, dtype):
    """Every length 0..70 (all vector tails), contiguous and strided, against PyTorch."""
    rng = np.random.default_rng(1)
    for n in range(71):
        x = (rng.standard_normal(2 * n) * 4).astype(dtype)
        if op in ("log", "log1p"):
            x = np.abs(x)
        for view in (lambda L, t: t, lambda L, t: t[::2], lambda L, t: t.reshape(2, n).t()):
            ours = getattr(tapegrad, op)(view(tapegrad, tapegrad.tensor(x)))
            expected = getattr(torch, op)(view(torch, torch.tensor(x)))
            check_close_to_torch(ours.numpy(), expected.numpy(), dtype)


def check_all():
    for dtype in DTYPES:
        for op in OPS:
            check_op(op, dtype)
            check_layouts(op, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_matches_torch_and_reference(op, dtype):
    assert check_op(op, dtype) <= MAX_ULPS


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_every_tail_length_and_layout(op, dtype):
    check_layouts(op, dtype)


@pytest.mark.parametrize("op", ["exp_", "log_", "log1p_", "expm1_", "tanh_", "sigmoid_"])
def test_in_place(op):
    x = np.linspace(0.01, 5, 67).astype("float32")
    ours, expected = tapegrad.tensor(x), torch.tensor(x)
    getattr(ours, op)()
    getattr(expected, op)()
    check_close_to_torch(ours.numpy(), expected.numpy(), "float32")


@pytest.mark.parametrize("capability", ["default", "avx2"])
def test_each_simd_level(capability):
    # The level is fixed when the library loads, so each one gets a fresh interpreter; on a CPU without
    # the level this reruns the best one it has.
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(tapegrad.__file__)))
    env = dict(os.environ, TAPEGRAD_CPU_CAPABILITY=capability, PYTHONPATH=os.pathsep.join([tests_dir, package_parent]))
    run = subprocess.run([sys.executable, "-c", "import test_vec_math; test_vec_math.check_all()"],
                         env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]


def activation_cases(dtype):
    rng = np.random.default_rng(2)
    return [wide_inputs(dtype)[60000:]] + [(rng.standard_normal(n) * 3).astype(dtype) for n in range(0, 70, 7)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_and_its_gradient(approximate, dtype):
    # PyTorch's float32 exact gelu uses an erf accurate to about 1e-7, hence the wider float32 margin.
    ulps = 16 if dtype == "float32" else 4
    for x in activation_cases(dtype):
        x = np.nan_to_num(np.clip(x, -1e4, 1e4))
        results = []
        for L in (tapegrad, torch):
            t = L.tensor(x, requires_grad=True)
            y = L.nn.functional.gelu(t, approximate=approximate)
            y.backward(L.ones_like(y))
            results.append((y.detach().numpy(), t.grad.numpy()))
        for ours, expected in zip(*results):
            check_close_at_scale(ours, expected, np.maximum(1, np.abs(x)), dtype, ulps)


@pytest.mark.parametrize("dtype", DTYPES)
def test_erf_gradient(dtype):
    for x in activation_cases(dtype):
        x = np.nan_to_num(x)
        grads = []
        for L in (tapegrad, torch):
            t = L.tensor(x, requires_grad=True)
            L.erf(t).sum().backward()
            grads.append(t.grad.numpy())
        check_close_to_torch(*grads, dtype)


def softmax_inputs(dtype):
    rng = np.random.default_rng(3)
    rows = [(rng.standard_normal((3, n)) * 10).astype(dtype) for n in list(range(71)) + [1000, 4099]]
    special = (rng.standard_normal((5, 9)) * 50).astype(dtype)
    special[0, 3] = -np.inf
    special[1, :] = -np.inf
    special[2, 4] = np.inf
    special[3, 1] = np.nan
    special[4, 2] = np.finfo(dtype).max
    return rows + [special]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [-1, 0])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_rows_and_gradient(name, dim, dtype):
    # dim=0 walks rows with a stride; -1 walks contiguous rows. Sums are rounded differently from PyTorch's;
    # log_softmax's x - max - log(sum) cancels at the scale of x, and both gradients at that of sum(|g|).
    rng = np.random.default_rng(4)
    for x in softmax_inputs(dtype):
        g = rng.standard_normal(x.shape).astype(dtype)
        results = []
        for L in (tapegrad, torch):
            t = L.tensor(x, requires_grad=True)
            y = getattr(L, name)(t, dim)
            y.backward(L.tensor(g))
            results.append((y.detach().numpy(), t.grad.numpy()))
        (y, grad), (y_expected, grad_expected) = results
        with np.errstate(invalid="ignore"):
            scale = np.maximum(1, np.abs(x)) if name == "log_softmax" else np.abs(y_expected)
        check_close_at_scale(y, y_expected, scale, dtype, 8)
        check_close_at_scale(grad, grad_expected, np.abs(g) + np.abs(g).sum(dim, keepdims=True), dtype, 8)
