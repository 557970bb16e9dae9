"""Numerical stability and IEEE behaviour against PyTorch: huge logits, saturated activations,
infinities, NaN propagation and division by zero, in values and in gradients, float32 and float64."""
import numpy as np
import pytest
import torch

import tapegrad

INF = float("inf")
NAN = float("nan")
DTYPES = ["float32", "float64"]
dtype_param = pytest.mark.parametrize("dtype", DTYPES)

# Every special value next to ordinary ones, so each op meets nan, both infinities and both zeros.
SPECIALS = [NAN, -INF, -1e4, -100.0, -2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 100.0, 1e4, INF]
BIG_LOGITS = [[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [1e4, 1e4, 1e4], [-1e4, -1e4, -1e4], [1e4, 0.0, -1e4]]
CLASS_TARGETS = [1, 0, 2, 1, 0]


def run(lib, fn, arrays, dtype, grad):
    """fn(lib, *leaves) on leaves made from arrays; with grad, also the leaves' gradients of its sum."""
    leaves = [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=grad) for a in arrays]
    out = fn(lib, *leaves)
    if not grad:
        return [out]
    out.sum().backward()
    return [out] + [leaf.grad for leaf in leaves]


def assert_like_torch(fn, arrays, dtype, grad=True):
    """Values (and gradients) agree with torch, with nan where torch has nan and the same infinities."""
    ours, ref = run(tapegrad, fn, arrays, dtype, grad), run(torch, fn, arrays, dtype, grad)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for name, o, r in zip(["value"] + [f"grad {i}" for i in range(len(arrays))], ours, ref):
        assert (o is None) == (r is None), name
        if r is None:
            continue
        assert str(o.dtype) == str(r.dtype), name
        o, r = o.detach().numpy(), r.detach().numpy()
        np.testing.assert_allclose(o, r, rtol=rtol, atol=rtol * 1e-2, equal_nan=True, err_msg=name)


def F(lib):
    return lib.nn.functional


# ---- huge logits and saturated activations ----

STABILITY = {
    "cross_entropy": (lambda lib, x: F(lib).cross_entropy(x, lib.tensor(CLASS_TARGETS)), [BIG_LOGITS]),
    "cross_entropy_none": (lambda lib, x: F(lib).cross_entropy(x, lib.tensor(CLASS_TARGETS), reduction="none"),
                           [BIG_LOGITS]),
    "cross_entropy_label_smoothing": (
        lambda lib, x: F(lib).cross_entropy(x, lib.tensor(CLASS_TARGETS), label_smoothing=0.1), [BIG_LOGITS]),
    "nll_of_log_softmax": (lambda lib, x: F(lib).nll_loss(F(lib).log_softmax(x, 1), lib.tensor(CLASS_TARGETS)),
                           [BIG_LOGITS]),
    "log_softmax": (lambda lib, x: F(lib).log_softmax(x, dim=1), [BIG_LOGITS]),
    "log_softmax_dim0": (lambda lib, x: F(lib).log_softmax(x, dim=0), [BIG_LOGITS]),
    "softmax": (lambda lib, x: F(lib).softmax(x, dim=1), [BIG_LOGITS]),
    "logsumexp": (lambda lib, x: lib.logsumexp(x, dim=1), [BIG_LOGITS]),
    "sigmoid": (lambda lib, x: lib.sigmoid(x), [[-100.0, -88.0, -50.0, -20.0, 0.0, 20.0, 50.0, 88.0, 100.0]]),
    "tanh": (lambda lib, x: lib.tanh(x), [[-100.0, -50.0, -20.0, -9.0, 0.0, 9.0, 20.0, 50.0, 100.0]]),
    "bce_with_logits": (
        lambda lib, x: F(lib).binary_cross_entropy_with_logits(
            x, lib.tensor([0.0, 1.0, 0.25, 0.5, 1.0, 0.0, 0.75, 1.0], dtype=x.dtype), reduction="none"),
        [[-1e4, -100.0, -50.0, 0.0, 50.0, 100.0, 1e4, -1e4]]),
    "bce_with_logits_pos_weight": (
        lambda lib, x: F(lib).binary_cross_entropy_with_logits(
            x, lib.tensor([0.0, 1.0, 0.25, 1.0, 0.0, 1.0], dtype=x.dtype),
            pos_weight=lib.tensor([3.0], dtype=x.dtype)),
        [[-1e4, -1e4, 100.0, 1e4, 1e4, -100.0]]),
    # Probabilities of exactly 0 and 1: torch clamps the logs at -100 rather than returning inf.
    "bce_of_saturated_probabilities": (
        lambda lib, p: F(lib).binary_cross_entropy(p, lib.tensor([1.0, 0.0, 0.0, 1.0, 0.5], dtype=p.dtype),
                                                   reduction="none"),
        [[0.0, 1.0, 0.0, 1.0, 1e-30]]),
    "mse_at_large_magnitudes": (lambda lib, x, y: F(lib).mse_loss(x, y), [[1e4, -1e4, 1e18], [-1e4, 1e4, 1e18]]),
}


@dtype_param
@pytest.mark.parametrize("case", STABILITY.values(), ids=STABILITY.keys())
def test_stability(case, dtype):
    fn, arrays = case
    assert_like_torch(fn, arrays, dtype)


@dtype_param
def test_cross_entropy_at_huge_logits_has_finite_values_and_gradients(dtype):
    """Not only like torch: a naive exp would give inf - inf = nan here."""
    x = tapegrad.tensor(BIG_LOGITS, dtype=getattr(tapegrad, dtype), requires_grad=True)
    loss = F(tapegrad).cross_entropy(x, tapegrad.tensor(CLASS_TARGETS))
    loss.backward()
    assert np.isfinite(loss.item())
    assert np.isfinite(x.grad.numpy()).all()


# ---- special values through every elementwise op ----

UNARY = {
    "neg": lambda lib, x: -x, "abs": lambda lib, x: x.abs(), "exp": lambda lib, x: x.exp(),
    "log": lambda lib, x: x.log(), "sqrt": lambda lib, x: x.sqrt(), "rsqrt": lambda lib, x: x.rsqrt(),
    "sin": lambda lib, x: x.sin(), "cos": lambda lib, x: x.cos(), "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: x.sigmoid(), "relu": lambda lib, x: x.relu(), "sign": lambda lib, x: x.sign(),
    "square": lambda lib, x: x.square(), "reciprocal": lambda lib, x: x.reciprocal(),
    "log1p": lambda lib, x: x.log1p(), "expm1": lambda lib, x: x.expm1(), "floor": lambda lib, x: x.floor(),
    "ceil": lambda lib, x: x.ceil(), "round": lambda lib, x: x.round(), "trunc": lambda lib, x: x.trunc(),
    "clamp": lambda lib, x: x.clamp(-1.0, 1.0), "clamp_min": lambda lib, x: x.clamp(min=0.0),
    "pow_2": lambda lib, x: x ** 2, "pow_half": lambda lib, x: x ** 0.5, "pow_minus_1": lambda lib, x: x ** -1,
    "pow_1": lambda lib, x: x ** 1, "pow_3": lambda lib, x: x ** 3, "pow_minus_2": lambda lib, x: x ** -2,
    "pow_2_float": lambda lib, x: x ** 2.0, "pow_4": lambda lib, x: x ** 4,
    "gelu": lambda lib, x: F(lib).gelu(x), "gelu_tanh": lambda lib, x: F(lib).gelu(x, approximate="tanh"),
    "leaky_relu": lambda lib, x: F(lib).leaky_relu(x, 0.1),
}


# torch's vectorised float32 erf GELU gives nan at +inf where its scalar path gives inf; not copied.
UNARY_INPUTS = {"gelu": [x for x in SPECIALS if x != INF]}


@dtype_param
@pytest.mark.parametrize("name", UNARY.keys())
def test_unary_special_values(name, dtype):
    assert_like_torch(UNARY[name], [UNARY_INPUTS.get(name, SPECIALS)], dtype)


def test_log_of_zero():
    """log(0) = -inf and its gradient 1/0 = inf, in both float dtypes."""
    for dtype in DTYPES:
        assert_like_torch(lambda lib, x: x.log(), [[0.0, -0.0, 1.0]], dtype)
        x = tapegrad.tensor([0.0], dtype=getattr(tapegrad, dtype), requires_grad=True)
        x.log().sum().backward()
        assert x.log().item() == -INF and x.grad.item() == INF


# Pairs that make inf - inf, 0 * inf, inf / inf, 0 / 0, and nan meeting every kind of number.
PAIRS_A = [NAN, 1.0, NAN, INF, INF, 0.0, -INF, INF, 0.0, 2.0, -2.0, 0.0, 1e30]
PAIRS_B = [1.0, NAN, NAN, INF, -INF, INF, -INF, 0.0, 0.0, 0.0, -0.0, -0.0, 1e30]

BINARY = {
    "add": lambda lib, a, b: a + b, "sub": lambda lib, a, b: a - b, "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b, "pow": lambda lib, a, b: a ** b,
    "maximum": lambda lib, a, b: lib.maximum(a, b), "minimum": lambda lib, a, b: lib.minimum(a, b),
    "floor_divide": lambda lib, a, b: lib.floor_divide(a, b), "remainder": lambda lib, a, b: a % b,
    "div_floor": lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
    "where": lambda lib, a, b: lib.where(a > b, a, b),
}
NON_DIFFERENTIABLE = {"floor_divide", "div_floor", "div_trunc"}


@dtype_param
@pytest.mark.parametrize("name", BINARY.keys())
def test_binary_special_values(name, dtype):
    assert_like_torch(BINARY[name], [PAIRS_A, PAIRS_B], dtype, grad=name not in NON_DIFFERENTIABLE)


@dtype_param
@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_with_nan_and_inf(name, dtype):
    assert_like_torch(lambda lib, a, b: getattr(lib, name)(a, b), [PAIRS_A, PAIRS_B], dtype, grad=False)


# ---- NaN propagation through reductions, softmax and matmul ----

WITH_NAN = [[1.0, NAN, 3.0, -2.0], [0.5, 2.0, -1.0, 4.0], [INF, 1.0, -INF, 0.0]]

REDUCTIONS = {
    "sum": lambda lib, x: x.sum(), "sum_dim": lambda lib, x: x.sum(1), "mean": lambda lib, x: x.mean(),
    "mean_dim0": lambda lib, x: x.mean(0), "prod_dim": lambda lib, x: x.prod(1),
    "amax": lambda lib, x: x.amax(1), "amin": lambda lib, x: x.amin(0), "max": lambda lib, x: x.max(),
    "min": lambda lib, x: x.min(), "max_dim": lambda lib, x: x.max(1).values,
    "min_dim": lambda lib, x: x.min(0).values, "logsumexp": lambda lib, x: lib.logsumexp(x, 1),
    "norm": lambda lib, x: x.norm(dim=1), "var": lambda lib, x: x.var(1), "std": lambda lib, x: x.std(0),
    "softmax": lambda lib, x: lib.softmax(x, 1), "log_softmax": lambda lib, x: lib.log_softmax(x, 1),
    "matmul": lambda lib, x: x @ lib.ones(4, 2, dtype=x.dtype),
    "matmul_left": lambda lib, x: lib.ones(2, 3, dtype=x.dtype) @ x,
    "matmul_transposed": lambda lib, x: x.t() @ x,
    "mv": lambda lib, x: lib.mv(x, lib.ones(4, dtype=x.dtype)),
    "layer_norm": lambda lib, x: F(lib).layer_norm(x, (4,)),
    "cross_entropy": lambda lib, x: F(lib).cross_entropy(x, lib.tensor([0, 1, 2]), reduction="none"),
}


@dtype_param
@pytest.mark.parametrize("fn", REDUCTIONS.values(), ids=REDUCTIONS.keys())
def test_nan_and_inf_through_reductions(fn, dtype):
    assert_like_torch(fn, [WITH_NAN], dtype)


INDEX_REDUCTIONS = {
    "argmax": lambda lib, x: x.argmax(), "argmin": lambda lib, x: x.argmin(),
    "argmax_dim": lambda lib, x: x.argmax(1), "argmin_dim": lambda lib, x: x.argmin(0),
    "max_indices": lambda lib, x: x.max(1).indices, "min_indices": lambda lib, x: x.min(1).indices,
}


@dtype_param
@pytest.mark.parametrize("fn", INDEX_REDUCTIONS.values(), ids=INDEX_REDUCTIONS.keys())
def test_nan_wins_arg_reductions(fn, dtype):
    """torch treats nan as larger and smaller than everything: argmax and argmin both point at it."""
    assert_like_torch(fn, [WITH_NAN], dtype, grad=False)


@dtype_param
def test_nan_propagates_through_a_training_step(dtype):
    """A nan in the input reaches the loss and every gradient, as in torch, instead of vanishing."""
    def step(lib, x, w):
        return F(lib).cross_entropy(F(lib).relu(x @ w), lib.tensor([0, 1, 2]))

    assert_like_torch(step, [WITH_NAN, np.linspace(-1, 1, 12).reshape(4, 3)], dtype)


# ---- division by zero ----

@dtype_param
def test_float_division_by_zero(dtype):
    dividend = [1.0, -1.0, 0.0, NAN, INF, -INF, 1.0, 0.0]
    divisor = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.0, -0.0]
    for fn in [BINARY["div"], BINARY["remainder"]]:
        assert_like_torch(fn, [dividend, divisor], dtype)
    for name in ["floor_divide", "div_floor", "div_trunc"]:
        assert_like_torch(BINARY[name], [dividend, divisor], dtype, grad=False)
    assert_like_torch(lambda lib, x: x / 0, [dividend], dtype)
    assert_like_torch(lambda lib, x: x.reciprocal(), [[0.0, -0.0]], dtype)


def test_integer_true_division_by_zero_gives_float_infinities():
    for divisor in [lambda lib: 0, lambda lib: lib.zeros(3, dtype=lib.int64)]:
        ours, ref = (lib.tensor([1, -1, 0]) / divisor(lib) for lib in (tapegrad, torch))
        assert str(ours.dtype) == str(ref.dtype)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())


INTEGER_DIVISIONS = {
    "floor_divide": lambda lib, a, b: a // b, "remainder": lambda lib, a, b: a % b,
    "floor_divide_fn": lambda lib, a, b: lib.floor_divide(a, b), "remainder_fn": lambda lib, a, b: lib.remainder(a, b),
    "div_floor": lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
}


@pytest.mark.parametrize("divisor", ["scalar", "tensor", "one_zero_among_many"])
@pytest.mark.parametrize("fn", INTEGER_DIVISIONS.values(), ids=INTEGER_DIVISIONS.keys())
def test_integer_division_by_zero_raises(fn, divisor):
    """Integer division has no infinity: torch raises RuntimeError('ZeroDivisionError')."""
    def attempt(lib):
        a = lib.tensor([7, -7, 0, 3])
        b = {"scalar": 0, "tensor": lib.zeros(4, dtype=lib.int64),
             "one_zero_among_many": lib.tensor([2, 3, 0, 5])}[divisor]
        return fn(lib, a, b)

    with pytest.raises(RuntimeError) as ref:
        attempt(torch)
    with pytest.raises(RuntimeError) as ours:
        attempt(tapegrad)
    assert str(ours.value) == str(ref.value) == "ZeroDivisionError"


@pytest.mark.parametrize("fn", INTEGER_DIVISIONS.values(), ids=INTEGER_DIVISIONS.keys())
def test_integer_division_signs_match_torch(fn):
    """Away from zero divisors, floor and trunc rounding and the remainder's sign follow torch."""
    a, b = [7, -7, 7, -7, 0, 6], [2, 2, -2, -2, 3, -3]
    ours, ref = (fn(lib, lib.tensor(a), lib.tensor(b)) for lib in (tapegrad, torch))
    assert str(ours.dtype) == str(ref.dtype)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_integer_trunc_division_is_exact_for_large_int64():
    """No trip through double: 2**62 + 1 survives division by 1 and by -3."""
    a, b = [2**62 + 1, -(2**62) - 1, 2**53 + 1], [1, -3, 2]
    ours, ref = (lib.div(lib.tensor(a), lib.tensor(b), rounding_mode="trunc") for lib in (tapegrad, torch))
    assert ours.tolist() == ref.tolist()
