"""float32 elementwise ops, each call writing a fresh output (no out=, nothing in place)."""
import pytest

from common import make, random_float32

SIZES = {"1K": 1 << 10, "64K": 1 << 16, "16M": 1 << 24}
UNARY = ["exp", "tanh", "sigmoid", "relu"]
BINARY = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("op", UNARY)
def test_unary(benchmark, lib, op, size):
    fn = getattr(lib, op)
    x = make(lib, random_float32(SIZES[size]))
    benchmark.group = f"{op} {size}"
    benchmark(fn, x)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("op", BINARY)
def test_binary(benchmark, lib, op, size):
    a, b = make(lib, random_float32(SIZES[size], seed=1)), make(lib, random_float32(SIZES[size], seed=2))
    benchmark.group = f"{op} {size}"
    benchmark(BINARY[op], a, b)
