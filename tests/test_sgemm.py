"""float32 matrix products against torch's float64 product, through the public API.

On AVX-512 CPUs tapegrad computes float32 products itself (csrc/cpu/sgemm.cpp: 12x32 micro-tiles, 8x32 or
4x32 for a last sliver of up to 8 or 4 rows, k in blocks of 256, rows in blocks of 288, columns in panels of
4096); elsewhere, and for products with under 4 rows or 16 columns, OpenBLAS does. The shapes straddle those
sizes, and every case runs on 1, 2 and 3 threads.
"""
import numpy as np
import pytest
import torch

import tapegrad
from conftest import THREAD_COUNTS
from child_process import run_python

EPS32 = float(np.finfo(np.float32).eps)

# (m, n, k): edges one below, at and above the micro-tile (12 x 32) and its short forms (8 and 4 rows), the k block (256), the row block
# (288) and the column panel (4096), either side of the shapes left to OpenBLAS (under 4 rows or 16
# columns), tall, wide and skinny products, and the MLP benchmark's layers.
SHAPES = [
    (1, 1, 1), (3, 5, 7), (3, 300, 300), (4, 300, 300), (5, 300, 300), (16, 1024, 27), (17, 64, 9), (300, 15, 300), (300, 16, 300), (40, 17, 1),
    (11, 1024, 300), (31, 300, 300), (300, 31, 300), (300, 300, 31), (100, 96, 1),
    (32, 32, 32), (64, 64, 64), (129, 127, 130),
    (35, 1024, 300), (36, 1024, 300), (37, 1024, 300),
    (400, 33, 300), (400, 63, 300), (400, 64, 300), (400, 65, 300), (400, 95, 300),
    (200, 200, 255), (200, 200, 256), (200, 200, 257), (150, 160, 513), (300, 100, 33),
    (287, 96, 200), (288, 96, 200), (289, 96, 200), (577, 64, 100),
    (40, 4095, 40), (40, 4096, 40), (40, 4097, 40), (40, 8200, 32),
    (1, 2048, 1024), (2048, 1, 1024), (2000, 40, 30), (2000, 40, 32), (40, 2000, 64), (500, 500, 8),
    (512, 10, 1024), (256, 1024, 784), (64, 256, 784), (256, 784, 64),
]

# How each operand is laid out in memory; the product is the same.
LAYOUTS = {
    "contiguous": lambda x: x,
    "transposed": lambda x: x.t().contiguous().t(),
    "row_strided": lambda x: pad_columns(x)[:, : x.shape[1]],
    "column_strided": lambda x: pad_columns(x, repeat=2)[:, : 2 * x.shape[1] : 2],
}


def pad_columns(x, repeat=1):
    """x inside a wider matrix: each row of the result starts further apart than x's width."""
    lib = tapegrad if isinstance(x, tapegrad.Tensor) else torch
    wide = lib.zeros(x.shape[0], x.shape[1] * repeat + 3)
    wide[:, : x.shape[1] * repeat : repeat] = x
    return wide


def operands(m, n, k, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((k, n)).astype(np.float32)


# Operand layout pairs: every layout on each side, each transposed flavour together.
LAYOUT_PAIRS = [("contiguous", "contiguous"), ("transposed", "transposed"), ("contiguous", "transposed"),
                ("transposed", "contiguous"), ("row_strided", "column_strided"), ("column_strided", "row_strided")]


class Reference:
    """a @ b in float64 and the bound on a float32 result's error: a k-term sum's rounding error is at most
    about k * eps times the sum of the terms' magnitudes, and in practice grows as sqrt(k)."""

    def __init__(self, a, b):
        self.a, self.b = a, b
        a64, b64 = torch.from_numpy(a).double(), torch.from_numpy(b).double()
        self.expected = (a64 @ b64).numpy()
        k = a.shape[-1]
        self.bound = 4 * np.sqrt(k) * EPS32 * (a64.abs() @ b64.abs()).numpy() + np.finfo(np.float32).tiny

    def check(self, got):
        assert got.shape == self.expected.shape and got.dtype == np.float32
        worst = np.max(np.abs(got - self.expected) - self.bound, initial=-1.0)
        assert worst <= 0, f"error exceeds 4 * sqrt(k) * eps * scale by {worst:g}"

    def check_layouts(self, pairs):
        for layout_a, layout_b in pairs:
            got = LAYOUTS[layout_a](tapegrad.tensor(self.a)) @ LAYOUTS[layout_b](tapegrad.tensor(self.b))
            self.check(got.numpy())


def check_product(got, a, b):
    Reference(a, b).check(got)


def check_all():
    """Every shape and layout pair on this process's settings (run in a child under another capability)."""
    for shape in SHAPES:
        Reference(*operands(*shape)).check_layouts(LAYOUT_PAIRS)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_matmul_layouts(threads, shape):
    Reference(*operands(*shape)).check_layouts(LAYOUT_PAIRS)


@pytest.mark.parametrize("m, n, k", [(0, 300, 300), (300, 0, 300), (300, 300, 0)])
def test_empty_dimensions(m, n, k):
    a, b = operands(m, n, k)
    got, expected = tapegrad.tensor(a) @ tapegrad.tensor(b), torch.tensor(a) @ torch.tensor(b)
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_batched_and_broadcast(threads):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 200, 300)).astype(np.float32)
    b = rng.standard_normal((3, 300, 150)).astype(np.float32)
    for i, got in enumerate(tapegrad.bmm(tapegrad.tensor(a), tapegrad.tensor(b)).numpy()):
        check_product(got, a[i], b[i])
    # A weight shared by the batch is an expanded view (batch stride 0), read in place.
    shared = tapegrad.tensor(b[0]).expand(3, 300, 150)
    for i, got in enumerate(tapegrad.matmul(tapegrad.tensor(a), shared).numpy()):
        check_product(got, a[i], b[0])
    got = tapegrad.matmul(tapegrad.tensor(a).transpose(1, 2).contiguous().transpose(1, 2), tapegrad.tensor(b[:1]))
    for i, out in enumerate(got.numpy()):
        check_product(out, a[i], b[0])


def test_linear_and_its_gradients(threads):
    """The MLP's products: x @ W.t() forward, g @ W and g.t() @ x backward."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((256, 784)).astype(np.float32)
    w = (rng.standard_normal((1024, 784)) / 28).astype(np.float32)
    bias = rng.standard_normal(1024).astype(np.float32)
    g = rng.standard_normal((256, 1024)).astype(np.float32)
    tx, tw = tapegrad.tensor(x, requires_grad=True), tapegrad.tensor(w, requires_grad=True)
    out = tapegrad.nn.functional.linear(tx, tw, tapegrad.tensor(bias))
    out.backward(tapegrad.tensor(g))
    check_product(out.detach().numpy() - bias, x, w.T)
    check_product(tx.grad.numpy(), g, w)
    check_product(tw.grad.numpy(), g.T, x)
    # A 3-D input without a bias goes through matmul with the transposed weight.
    got = tapegrad.nn.functional.linear(tapegrad.tensor(x).reshape(2, 128, 784), tapegrad.tensor(w))
    check_product(got.numpy().reshape(256, 1024), x, w.T)


def avx512():
    return torch.backends.cpu.get_cpu_capability() in ("AVX512", "AVX512_BF16", "AMX")


@pytest.mark.skipif(not avx512(), reason="tapegrad's own float32 GEMM, whose sums do not depend on the "
                    "thread count, runs on AVX-512 CPUs only; OpenBLAS makes no such promise")
@pytest.mark.parametrize("shape", [(1000, 300, 600), (300, 1000, 600), (577, 577, 513), (512, 4096, 64)],
                         ids=lambda s: "x".join(map(str, s)))
def test_same_bits_on_any_thread_count(shape):
    a, b = operands(*shape, seed=3)
    before = tapegrad.get_num_threads()
    results = []
    try:
        for count in THREAD_COUNTS:
            tapegrad.set_num_threads(count)
            results.append((tapegrad.tensor(a) @ tapegrad.tensor(b).t().contiguous().t()).numpy())
    finally:
        tapegrad.set_num_threads(before)
    for got in results[1:]:
        np.testing.assert_array_equal(got, results[0])
    check_product(results[0], a, b)


def test_openblas_path_under_avx2():
    """TAPEGRAD_CPU_CAPABILITY=avx2 hands float32 products to OpenBLAS, which must agree as well."""
    run_python("import test_sgemm; test_sgemm.check_all(); print('checked')", env={"TAPEGRAD_CPU_CAPABILITY": "avx2"})
