"""The convolution and max-pooling kernels (csrc/cpu/conv.cpp) at sizes that reach each of their paths.

conv2d runs one GEMM per sample. With tapegrad's own float32 GEMM (AVX-512, output at least 4 x 16), the
samples are shared among threads; otherwise (float64, thin products, batches smaller than the pool, or
OpenBLAS under TAPEGRAD_CPU_CAPABILITY=avx2) samples run in order with a threaded GEMM. A sample's columns
are built either as shifted copies of the plane (stride 1 with output rows as wide as the input's) or row
by row. The weight gradient adds per-sample GEMMs into partial sums over fixed runs of samples (up to 8),
then adds those in order. Every case is checked against torch in float64 on 1, 2 and 3 threads, and float32
results must not depend on the thread count.
"""
import numpy as np
import pytest
import torch

import tapegrad
from child_process import run_python
from conftest import THREAD_COUNTS

# (input shape, weight shape, conv2d keyword arguments): what each one reaches.
CONV_CASES = {
    "same_3x3": ((4, 16, 16, 16), (32, 16, 3, 3), dict(padding=1)),  # shifted columns, our GEMM
    "same_5x5_dilated": ((3, 4, 12, 20), (8, 4, 5, 5), dict(padding=(4, 4), dilation=2)),  # shifted, dilation
    "same_rectangular": ((2, 3, 9, 17), (16, 3, 3, 5), dict(padding=(1, 2))),  # shifted, non-square
    "valid": ((4, 8, 12, 12), (16, 8, 3, 3), dict()),  # rows narrower than the input: row by row
    "stride_2": ((4, 8, 15, 15), (16, 8, 3, 3), dict(stride=2, padding=1)),  # row by row, strided
    "asymmetric_stride": ((2, 4, 11, 33), (8, 4, 2, 3), dict(stride=(1, 2), padding=(0, 1))),
    "groups": ((4, 8, 10, 10), (16, 4, 3, 3), dict(padding=1, groups=2)),  # a GEMM per group
    "depthwise": ((3, 6, 9, 9), (6, 1, 3, 3), dict(padding=1, groups=6)),  # 1-row products: OpenBLAS
    "one_sample": ((1, 16, 20, 20), (32, 16, 3, 3), dict(padding=1)),  # fewer samples than threads: one GEMM
    # at a time, threaded inside, and a weight gradient without partial sums
    "pointwise": ((5, 24, 7, 7), (40, 24, 1, 1), dict()),  # 1x1: the columns are the input
    "thin_output": ((6, 3, 4, 4), (2, 3, 3, 3), dict(padding=1)),  # 2 output channels: OpenBLAS
    "large_k": ((2, 64, 8, 8), (48, 64, 3, 3), dict(padding=1)),  # patch of 576 crosses the k block of 256
    "many_samples": ((11, 8, 6, 6), (16, 8, 3, 3), dict(padding=1)),  # 8 partial sums over uneven runs
}


def conv_grads(lib, x0, w0, b0, g0, kwargs):
    """Output and the input, weight and bias gradients of conv2d for upstream gradient g0."""
    x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
    out = lib.nn.functional.conv2d(x, w, b, **kwargs)
    out.backward(lib.tensor(g0))
    return [np.array(t.detach().numpy()) for t in (out, x.grad, w.grad, b.grad)]


def conv_operands(x_shape, w_shape, kwargs, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x0, w0 = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    b0 = rng.standard_normal(w_shape[0]).astype(dtype)
    out_shape = torch.nn.functional.conv2d(torch.tensor(x0), torch.tensor(w0), **kwargs).shape
    return x0, w0, b0, rng.standard_normal(tuple(out_shape)).astype(dtype)


@pytest.mark.parametrize("name", CONV_CASES)
def test_conv2d_float64_matches_torch(name, threads):
    x_shape, w_shape, kwargs = CONV_CASES[name]
    operands = conv_operands(x_shape, w_shape, kwargs, np.float64)
    for got, want in zip(conv_grads(tapegrad, *operands, kwargs), conv_grads(torch, *operands, kwargs)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", CONV_CASES)
def test_conv2d_float32_matches_torch_on_every_thread_count(name):
    x_shape, w_shape, kwargs = CONV_CASES[name]
    operands = conv_operands(x_shape, w_shape, kwargs, np.float32)
    exact = conv_grads(torch, *(a.astype(np.float64) for a in operands), kwargs)
    before = tapegrad.get_num_threads()
    try:
        results = []
        for count in THREAD_COUNTS:
            tapegrad.set_num_threads(count)
            results.append(conv_grads(tapegrad, *operands, kwargs))
    finally:
        tapegrad.set_num_threads(before)
    for got, want in zip(results[0], exact):
        # Each element sums (patch or batch x positions) products; scale the tolerance by their magnitude.
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-5 * max(1.0, np.abs(want).max()))
    for other in results[1:]:
        for got, first in zip(other, results[0]):
            np.testing.assert_array_equal(got, first)


def test_conv2d_second_derivatives_still_match_torch():
    """create_graph takes the differentiable composite instead of the fused kernels."""
    x_shape, w_shape, kwargs = CONV_CASES["same_3x3"]
    x0, w0, b0, _ = conv_operands((2,) + x_shape[1:], w_shape, kwargs, np.float64)
    results = []
    for lib in (tapegrad, torch):
        x, w = lib.tensor(x0, requires_grad=True), lib.tensor(w0, requires_grad=True)
        out = lib.nn.functional.conv2d(x, w, lib.tensor(b0), **kwargs)
        gx, gw = lib.autograd.grad((out * out).sum(), (x, w), create_graph=True)
        (gx.sin().sum() + (gw * gw).sum()).backward()
        results.append([x.grad.numpy(), w.grad.numpy()])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def check_float32_paths():
    """The float32 cases against torch, for a child process with another CPU capability."""
    for name, (x_shape, w_shape, kwargs) in CONV_CASES.items():
        operands = conv_operands(x_shape, w_shape, kwargs, np.float32)
        for got, want in zip(conv_grads(tapegrad, *operands, kwargs), conv_grads(torch, *operands, kwargs)):
            np.testing.assert_allclose(got, want, rtol=0, atol=2e-5 * max(1.0, np.abs(want).max()), err_msg=name)


def test_conv2d_under_avx2_uses_openblas_and_still_matches():
    run_python("import test_conv_kernels as t; t.check_float32_paths(); print('checked')",
               env={"TAPEGRAD_CPU_CAPABILITY": "avx2"})


# (input shape, max_pool2d keyword arguments)
POOL_CASES = {
    "2x2": ((4, 3, 16, 16), dict(kernel_size=2)),
    "3x3_stride_2_padding": ((2, 4, 15, 17), dict(kernel_size=3, stride=2, padding=1)),
    "dilated": ((2, 2, 13, 11), dict(kernel_size=(2, 3), stride=1, dilation=(3, 2), padding=(1, 1))),
    "ceil_mode": ((3, 2, 9, 7), dict(kernel_size=3, stride=2, ceil_mode=True)),
    "overlapping": ((1, 5, 10, 10), dict(kernel_size=4, stride=1, padding=2)),
}


def pool_result(lib, x0, kwargs):
    x = lib.tensor(x0, requires_grad=x0.dtype.kind == "f")
    values, indices = lib.nn.functional.max_pool2d(x, return_indices=True, **kwargs)
    if not x.requires_grad:
        return values.numpy(), indices.numpy()
    values.backward(lib.ones_like(values) * lib.arange(values.numel(), dtype=values.dtype).reshape(values.shape))
    return values.detach().numpy(), indices.numpy(), x.grad.numpy()


def pool_input(shape, dtype, seed=0):
    """Random values with ties, -inf and NaN among them: which element wins must follow torch's rule."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=shape).astype(dtype)
    if np.dtype(dtype).kind == "f":
        flat = x.reshape(-1)
        flat[rng.choice(flat.size, flat.size // 10, replace=False)] = -np.inf
        flat[rng.choice(flat.size, flat.size // 20, replace=False)] = np.nan
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("name", POOL_CASES)
def test_max_pool2d_values_indices_and_grad_match_torch(name, dtype, threads):
    shape, kwargs = POOL_CASES[name]
    x0 = pool_input(shape, dtype)
    for got, want in zip(pool_result(tapegrad, x0, kwargs), pool_result(torch, x0, kwargs)):
        np.testing.assert_array_equal(got, want)


def test_max_pool2d_all_negative_infinity_keeps_the_first_index():
    x0 = np.full((1, 1, 5, 5), -np.inf, dtype=np.float32)
    for kwargs in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)):
        got, want = pool_result(tapegrad, x0, kwargs), pool_result(torch, x0, kwargs)
        np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("x_shape, w_shape", [((0, 3, 5, 5), (4, 3, 3, 3)), ((0, 16, 20, 20), (32, 16, 3, 3)),
                                              ((2, 0, 5, 5), (4, 0, 3, 3)), ((2, 0, 7, 5), (6, 0, 2, 2))])
def test_conv2d_of_empty_inputs_matches_torch(x_shape, w_shape):
    """No samples: empty output, zero weight and bias gradients. No input channels: as ATen, no output
    channels either."""
    results = []
    for lib in (tapegrad, torch):
        x, w = lib.ones(*x_shape, requires_grad=True), lib.ones(*w_shape, requires_grad=True)
        b = lib.ones(w_shape[0], requires_grad=True)
        out = lib.nn.functional.conv2d(x, w, b, padding=1)
        out.sum().backward()
        results.append([np.array(t.detach().numpy()) for t in (out, x.grad, w.grad, b.grad)])
    for got, want in zip(*results):
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("w_shape, groups", [((0, 3, 3, 3), 1), ((0, 2, 3, 3), 2), ((3, 2, 3, 3), 4)])
def test_conv2d_with_too_few_filters_raises_like_torch(w_shape, groups):
    x_shape = (2, w_shape[1] * groups, 5, 5)
    with pytest.raises(RuntimeError) as want:
        torch.nn.functional.conv2d(torch.ones(*x_shape), torch.ones(*w_shape), groups=groups)
    with pytest.raises(RuntimeError) as got:
        tapegrad.nn.functional.conv2d(tapegrad.ones(*x_shape), tapegrad.ones(*w_shape), groups=groups)
    assert str(got.value) == str(want.value)
