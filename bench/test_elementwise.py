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


@pytest.mark.parametrize("size", ["64K", "16M"])
def test_where_random_mask(benchmark, lib, size):
    x, y = make(lib, random_float32(SIZES[size], seed=3)), make(lib, random_float32(SIZES[size], seed=4))
    mask = x > 0  # half true, in no pattern a branch predictor could learn
    benchmark.group = f"where, random mask {size}"
    benchmark(lib.where, mask, x, y)


@pytest.mark.parametrize("op", ["relu", "tanh", "sigmoid"])
def test_activation_forward_backward(benchmark, lib, op):
    x = make(lib, random_float32(256, 1024)).requires_grad_()
    grad = make(lib, random_float32(256, 1024, seed=5))
    benchmark.group = f"{op} fwd+bwd 256x1024"
    benchmark(lambda: lib.autograd.grad(getattr(lib, op)(x), x, grad))
