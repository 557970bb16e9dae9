"""float32 GEMM: square `a @ b`, and `a.T @ b.T` where both operands are transposed views, not copies;
then the products of the MLP 1024-4096-4096-10 training step (batch 512), as its Linear layers run them.

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


# (label, x rows, in features, out features): each layer's forward x @ W.T, weight gradient g.T @ x
# and input gradient g @ W, with W [out, in] and x, g the row-major activations and gradients.
MLP_LAYERS = [("MLP 512x1024 -> 4096", 512, 1024, 4096), ("MLP 512x4096 -> 4096", 512, 4096, 4096)]
MLP_PRODUCTS = {
    "forward x @ W.T": lambda x, w, g: (x, w.T),
    "grad_W g.T @ x": lambda x, w, g: (g.T, x),
    "grad_x g @ W": lambda x, w, g: (g, w),
}


@pytest.mark.parametrize("product", MLP_PRODUCTS, ids=lambda product: product.split(" ")[0])
@pytest.mark.parametrize("layer", MLP_LAYERS, ids=lambda layer: f"in{layer[2]}")
def test_mlp_layer_gemm(benchmark, blas_lib, layer, product):
    label, rows, fan_in, fan_out = layer
    x = make(blas_lib, random_float32(rows, fan_in, seed=1))
    w = make(blas_lib, random_float32(fan_out, fan_in, seed=2))
    g = make(blas_lib, random_float32(rows, fan_out, seed=3))
    a, b = MLP_PRODUCTS[product](x, w, g)
    benchmark.group = f"{label}: {product}"
    benchmark.extra_info["flops"] = 2 * rows * fan_in * fan_out
    benchmark(lambda: a @ b)
