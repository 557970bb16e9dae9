"""float32 reductions of a square matrix along rows (dim=1) and along columns (dim=0)."""
import pytest

from common import make, random_float32


@pytest.mark.parametrize("dim", [1, 0])
@pytest.mark.parametrize("n", [256, 4096])
@pytest.mark.parametrize("op", ["sum", "mean", "amax"])
def test_reduce(benchmark, lib, op, n, dim):
    fn = getattr(lib, op)
    x = make(lib, random_float32(n, n))
    benchmark.group = f"{op} dim={dim} {n}x{n}"
    benchmark(fn, x, dim)
