"""Type promotion and integer semantics against torch: result dtypes, values and errors."""
import itertools
import operator
import re

import numpy as np
import pytest
import torch

import tapegrad

DTYPES = ["bool", "int64", "float32", "float64"]
# Values valid for every op below (no zero divisors among ints, no negative int exponents).
VALUES = {"bool": [True, False, True], "int64": [3, -7, 2], "float32": [0.5, -1.5, 2.25], "float64": [1.25, 3.5, -0.75]}


def tensor_operand(dtype, zero_dim):
    def make(lib):
        values = VALUES[dtype][0] if zero_dim else VALUES[dtype]
        return lib.tensor(values, dtype=getattr(lib, dtype))

    make.label = f"{dtype}{'0d' if zero_dim else ''}"
    return make


def number_operand(value):
    def make(lib):
        return value

    make.label = f"py_{type(value).__name__}"
    return make


TENSORS = [tensor_operand(d, z) for d in DTYPES for z in (False, True)]
NUMBERS = [number_operand(v) for v in (True, 2, 2.5)]
# Every pair with at least one tensor: tensor op tensor, tensor op number, number op tensor.
PAIRS = [(a, b) for a in TENSORS for b in TENSORS] + [(a, n) for a in TENSORS for n in NUMBERS] + [
    (n, a) for a in TENSORS for n in NUMBERS
]
PAIR_IDS = [f"{a.label}-{b.label}" for a, b in PAIRS]


def outcome(fn, lib):
    """('ok', dtype, values, shape) or ('error', exception type, message) of fn(lib)."""
    try:
        out = fn(lib)
    except Exception as e:  # noqa: BLE001  (the oracle decides which errors are right)
        # torch names its internal kernel ("abs_cpu" not implemented for 'Bool'); the rest must match.
        return ("error", type(e).__name__, re.sub(r'^"\w+" ', "", str(e).split("\n")[0]))
    return ("ok", str(out.dtype), out.tolist(), tuple(out.shape))


def assert_same_outcome(fn):
    ours, ref = outcome(fn, tapegrad), outcome(fn, torch)
    assert ours[:2] == ref[:2], f"tapegrad gave {ours}, torch gave {ref}"
    if ref[0] == "error":
        assert ours[2] == ref[2]
        return
    assert ours[3] == ref[3]
    np.testing.assert_allclose(np.array(ours[2], dtype=np.float64), np.array(ref[2], dtype=np.float64),
                               rtol=1e-6, equal_nan=True)


BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
LOGICAL = {"and": operator.and_, "or": operator.or_, "xor": operator.xor}


@pytest.mark.parametrize("op", list(BINARY), ids=list(BINARY))
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_binary_operator_promotion(op, pair):
    a, b = pair
    assert_same_outcome(lambda L: BINARY[op](a(L), b(L)))


BOOL_OPERANDS = [tensor_operand("bool", z) for z in (False, True)] + [number_operand(True)]


BOOL_PAIRS = [(a, b) for a in BOOL_OPERANDS for b in BOOL_OPERANDS if "py_bool" not in (a.label, b.label) or a is not b]


@pytest.mark.parametrize("op", list(LOGICAL))
@pytest.mark.parametrize("pair", BOOL_PAIRS, ids=[f"{a.label}-{b.label}" for a, b in BOOL_PAIRS])
def test_bool_logical_operators(op, pair):
    a, b = pair
    assert_same_outcome(lambda L: LOGICAL[op](a(L), b(L)))


FUNCTIONS = ["add", "sub", "mul", "div", "pow", "remainder", "floor_divide", "eq", "lt", "ge", "maximum", "minimum"]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("pair", [(a, b) for a in TENSORS for b in TENSORS + NUMBERS],
                         ids=[f"{a.label}-{b.label}" for a in TENSORS for b in TENSORS + NUMBERS])
def test_function_promotion(name, pair):
    a, b = pair
    if name in ("maximum", "minimum") and b in NUMBERS:
        for lib in (tapegrad, torch):
            with pytest.raises(TypeError, match=f"^{name}\\(\\)"):
                getattr(lib, name)(a(lib), b(lib))
        return
    assert_same_outcome(lambda L: getattr(L, name)(a(L), b(L)))


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_where_promotion(pair):
    a, b = pair
    assert_same_outcome(lambda L: L.where(L.tensor([True, False, True]), a(L), b(L)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bound", [1, 1.5, True])
def test_clamp_dtype(dtype, bound):
    assert_same_outcome(lambda L: L.clamp(tensor_operand(dtype, False)(L), min=bound))
    assert_same_outcome(lambda L: L.clamp(tensor_operand(dtype, False)(L), max=bound))


UNARY = ["neg", "abs", "exp", "log", "sqrt", "sin", "tanh", "sigmoid", "relu", "square", "reciprocal", "floor",
         "ceil", "round", "trunc", "sign", "logical_not"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_dtype(name, dtype):
    assert_same_outcome(lambda L: getattr(L, name)(tensor_operand(dtype, False)(L)))


@pytest.mark.parametrize("value", [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.7, -3.7])
def test_rounding_functions(value):
    for name in ("floor", "ceil", "round", "trunc"):
        assert_same_outcome(lambda L: getattr(L, name)(L.tensor([value, value * 10], dtype=L.float64)))


# ---- integer division semantics ----

INTS = [-7, -6, -1, 0, 1, 5, 7]
DIVISORS = [-3, -2, -1, 1, 2, 3]


@pytest.mark.parametrize("op", ["floordiv", "mod", "truediv"])
@pytest.mark.parametrize("divisor", DIVISORS)
def test_integer_division(op, divisor):
    assert_same_outcome(lambda L: BINARY[op](L.tensor(INTS), divisor))
    assert_same_outcome(lambda L: BINARY[op](L.tensor(INTS), L.tensor(divisor)))
    assert_same_outcome(lambda L: BINARY[op](L.tensor(INTS, dtype=L.float64), float(divisor)))


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
@pytest.mark.parametrize("dtype", ["int64", "float32", "float64"])
def test_div_rounding_mode(mode, dtype):
    assert_same_outcome(lambda L: L.div(L.tensor(INTS, dtype=getattr(L, dtype)), -2, rounding_mode=mode))
    assert_same_outcome(lambda L: L.tensor(INTS, dtype=getattr(L, dtype)).div(L.tensor(3), rounding_mode=mode))


def test_div_rounding_mode_error():
    assert_same_outcome(lambda L: L.div(L.tensor([1.0]), 2, rounding_mode="round"))


def test_integer_division_by_zero():
    for op in ("floordiv", "mod"):
        assert_same_outcome(lambda L: BINARY[op](L.tensor([1, 2]), 0))
    for op in ("floordiv", "mod", "truediv"):
        assert_same_outcome(lambda L: BINARY[op](L.tensor([1.0, -1.0, 0.0]), 0))


def test_integer_pow():
    assert_same_outcome(lambda L: L.tensor([2, -3, 0]) ** 3)
    assert_same_outcome(lambda L: L.tensor([2, 3]) ** L.tensor([0, 5]))
    assert_same_outcome(lambda L: L.tensor([1, -1, 1]) ** -3)
    assert_same_outcome(lambda L: L.tensor([2, 3]) ** -1)
    assert_same_outcome(lambda L: 2 ** L.tensor([0, 10]))


def test_large_integers_stay_exact():
    big = 2**53 + 1
    assert_same_outcome(lambda L: L.tensor([big]) + 2)
    assert_same_outcome(lambda L: L.tensor([big]) * L.tensor([1]))
    assert_same_outcome(lambda L: L.tensor([big]) // 1)


# ---- errors ----


@pytest.mark.parametrize(
    "expr",
    [
        lambda L: L.tensor([True]) - L.tensor([False]),
        lambda L: L.tensor([True]) - True,
        lambda L: L.tensor([1, 2]) - L.tensor([True, False]),
        lambda L: True - L.tensor([1.0]),
        lambda L: -L.tensor([True]),
        lambda L: L.tensor([1, 2]).add(L.tensor([1, 2]), alpha=2.5),
        lambda L: L.tensor([1.0]).add(L.tensor([1.0]), alpha=True),
    ],
    ids=["bool-bool", "bool-True", "int-bool", "True-float", "neg-bool", "int-float-alpha", "bool-alpha"],
)
def test_bool_arithmetic_errors(expr):
    assert_same_outcome(expr)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("other", [True, 2, 2.5, "float64", "int64", "float32"])
@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_", "iadd", "imul", "itruediv"])
def test_inplace_result_type(dtype, other, op):
    def run(L):
        t = tensor_operand(dtype, False)(L)
        o = tensor_operand(other, False)(L) if isinstance(other, str) else other
        if op.startswith("i"):
            result = {"iadd": operator.iadd, "imul": operator.imul, "itruediv": operator.itruediv}[op](t, o)
            assert result is t
        else:
            assert getattr(t, op)(o) is t
        return t

    assert_same_outcome(run)


def test_inplace_cast_error_message():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        tapegrad.tensor([1, 2]).add_(1.5)
    with pytest.raises(RuntimeError, match="result type Double can't be cast to the desired output type Long"):
        tapegrad.tensor([1, 2]).mul_(tapegrad.tensor([1.0, 2.0], dtype=tapegrad.float64))
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired output type Bool"):
        tapegrad.tensor([True]).add_(1)


def test_inplace_broadcast_error():
    assert_same_outcome(lambda L: L.ones(3).add_(L.ones(2, 3)))
    assert_same_outcome(lambda L: L.ones(1, 3).mul_(L.ones(2, 3)))


def test_broadcast_error():
    assert_same_outcome(lambda L: L.ones(2, 3) + L.ones(4))
    assert_same_outcome(lambda L: L.ones(2, 3, 4) * L.ones(3, 5, 4))


def test_where_condition_must_be_bool():
    assert_same_outcome(lambda L: L.where(L.tensor([1, 0]), L.ones(2), L.zeros(2)))
    assert_same_outcome(lambda L: L.where(L.tensor([1.0, 0.0]), L.ones(2), L.zeros(2)))


# ---- default dtype ----


def test_default_dtype_governs_python_floats():
    for lib in (tapegrad, torch):
        lib.set_default_dtype(lib.float64)
    try:
        for fn in (
            lambda L: L.tensor([1.5, 2.0]),
            lambda L: L.tensor([1, 2]) / 2,
            lambda L: L.tensor([1, 2]) * 1.5,
            lambda L: L.tensor([1.0], dtype=L.float32) * 1.5,
            lambda L: L.arange(0.0, 2.0, 0.5),
            lambda L: L.ones(2),
            lambda L: L.tensor([1, 2]).exp(),
        ):
            assert_same_outcome(fn)
        assert tapegrad.get_default_dtype() == tapegrad.float64
    finally:
        for lib in (tapegrad, torch):
            lib.set_default_dtype(lib.float32)


def test_set_default_dtype_rejects_integers():
    with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
        tapegrad.set_default_dtype(tapegrad.int64)


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_promote_types_matrix(a, b):
    """The full matrix through a 1-element op: result dtype of ones(dtype a) + ones(dtype b)."""
    assert_same_outcome(lambda L: L.ones(1, dtype=getattr(L, a)) * L.ones(1, dtype=getattr(L, b)))
