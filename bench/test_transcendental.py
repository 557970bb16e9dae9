"""The vec_math.h kernels test_elementwise.py leaves out: log, log1p, expm1, erf and gelu in float32 and
float64, and exp, tanh and sigmoid in float64. Each call writes a fresh output."""
import numpy as np
import pytest

from common import make

SIZES = {"1K": 1 << 10, "64K": 1 << 16, "16M": 1 << 24}
OPS = {
    "exp": lambda L, x: L.exp(x),
    "tanh": lambda L, x: L.tanh(x),
    "sigmoid": lambda L, x: L.sigmoid(x),
    "log": lambda L, x: L.log(x),
    "log1p": lambda L, x: L.log1p(x),
    "expm1": lambda L, x: L.expm1(x),
    "erf": lambda L, x: L.erf(x),
    "gelu": lambda L, x: L.nn.functional.gelu(x),
    "gelu_tanh": lambda L, x: L.nn.functional.gelu(x, approximate="tanh"),
}
CASES = [(op, dtype) for op in ("log", "log1p", "expm1", "erf", "gelu", "gelu_tanh")
         for dtype in ("float32", "float64")]
CASES += [(op, "float64") for op in ("exp", "tanh", "sigmoid")]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("op,dtype", CASES)
def test_transcendental(benchmark, lib, op, dtype, size):
    values = np.random.default_rng(0).uniform(-4, 4, SIZES[size]).astype(dtype)
    if op in ("log", "log1p"):
        values = np.abs(values) + 0.01
    x = make(lib, values)
    benchmark.group = f"{op} {dtype} {size}"
    benchmark(OPS[op], lib, x)
