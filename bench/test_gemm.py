"""float32 GEMM: square `a @ b`, and `a.T @ b.T` where both operands are transposed views, not copies.

numpy runs in the same groups: its OpenBLAS is the reference a BLAS-backed library should match.
"""
import pytest

from common import make, random_float32

SIZES = [256, 1024, 2048]


def gemm_operands(lib, n, transposed):
    a, b = make(lib, random_float32(n, n, seed=1)), make(lib, random_float32(n, n, seed=2))
    return (a.T, b.T) if transposed else (a, b)


@pytest.mark.parametrize("transposed", [False, True], ids=["plain", "transposed"])
@pytest.mark.parametrize("n", SIZES)
def test_gemm(benchmark, blas_lib, n, transposed):
    a, b = gemm_operands(blas_lib, n, transposed)
    benchmark.group = f"GEMM {n}x{n}{' transposed' if transposed else ''}"
    benchmark.extra_info["flops"] = 2 * n**3
    benchmark(lambda: a @ b)
