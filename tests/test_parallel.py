"""The threaded fast paths: kernels above the grain size split across the pool, against torch.

Sizes straddle the grains (32768 elements for elementwise work and reductions, 16384 for softmax rows;
16384-element chunks for long rows, 256-row chunks for columns), and every case runs on 1, 2 and 3
threads with identical results.
"""
import multiprocessing
import os

import numpy as np
import pytest
import torch

import tapegrad
from conftest import THREAD_COUNTS

GRAIN = 32768


def pair(shape, dtype="float32", seed=0, low=-3.0, high=3.0):
    rng = np.random.default_rng(seed)
    if dtype == "int64":
        data = rng.integers(-50, 50, size=shape)
    elif dtype == "bool":
        data = rng.random(shape) < 0.5
    else:
        data = rng.uniform(low, high, size=shape).astype(dtype)
    return tapegrad.tensor(data), torch.tensor(data)


def close(ours, theirs, rtol=None):
    expected = theirs.numpy()
    got = ours.numpy()
    assert got.shape == expected.shape and got.dtype == expected.dtype
    if rtol is None:
        rtol = 1e-5 if got.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


LAYOUTS = {
    "contiguous": lambda t: t,
    "transposed": lambda t: t.t(),
    "sliced": lambda t: t[:, ::2],
    "broadcast": lambda t: t[:1].expand(t.shape[0], t.shape[1]),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["exp", "neg", "relu", "tanh", "sigmoid", "abs", "square"])
def test_unary_large(threads, layout, dtype, op):
    a, ta = pair((600, 500), dtype)
    view = LAYOUTS[layout]
    close(getattr(view(a), op)(), getattr(view(ta), op)())


@pytest.mark.parametrize("n", [GRAIN, GRAIN + 1, 2 * GRAIN - 1, 2 * GRAIN + 1, 3 * GRAIN + 7])
def test_sizes_around_the_grain(threads, n):
    a, ta = pair((n, 2), seed=4)
    close(a[:, 0].exp(), ta[:, 0].exp())
    close(a[:, 0] * a[:, 1], ta[:, 0] * ta[:, 1])
    close(a.flatten()[:n].tanh(), ta.flatten()[:n].tanh())


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "maximum", "lt", "eq"])
def test_binary_large_broadcast_and_strided(threads, dtype, op):
    a, ta = pair((1024, 300), dtype, seed=1)
    b, tb = pair((300,), dtype, seed=2)
    close(getattr(a, op)(b), getattr(ta, op)(tb))
    close(getattr(a.t(), op)(a.t()), getattr(ta.t(), op)(ta.t()))
    close(getattr(a[::2], op)(b), getattr(ta[::2], op)(tb))


def test_where_clamp_fill_copy_large(threads):
    a, ta = pair((800, 400), seed=3)
    close(tapegrad.where(a > 0, a, a * 2), torch.where(ta > 0, ta, ta * 2))
    close(a.clamp(-1, 1), ta.clamp(-1, 1))
    close(a.t().to(tapegrad.float64), ta.t().to(torch.float64))
    close(a.double().t().contiguous(), ta.double().t().contiguous())
    filled = tapegrad.empty(800, 400)
    filled.fill_(2.5)
    close(filled, torch.full((800, 400), 2.5))


def test_worker_exception_reaches_caller(threads):
    a = tapegrad.arange(4 * GRAIN)
    zero = tapegrad.zeros(4 * GRAIN, dtype=tapegrad.int64)
    zero[:-1] = 1
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a // zero
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a % zero
    close(a // (zero + 1), torch.arange(4 * GRAIN) // (torch.ones(4 * GRAIN, dtype=torch.int64) + 1).where(
        torch.arange(4 * GRAIN) < 4 * GRAIN - 1, torch.tensor(1)))


REDUCTION_SHAPES = [
    ((256, 3000), 1),       # rows, each reduced contiguously
    ((3000, 64), 0),        # columns
    ((3000, 700), 0),       # columns in several row chunks, combined in order
    ((300, 4500), 0),       # columns wider than one block of accumulators
    ((3, 701, 50), 1),      # a middle dim in several row chunks per outer index
    ((8, 900, 40), 1),      # a middle dim
    ((5, 6, 7, 800), (1, 2)),  # adjacent middle dims
    ((4, 5, 6), (0, 2)),    # non-adjacent dims: the strided path
    ((200_000,), 0),        # one long row: chunked partial results
    ((3, 70_000), 1),       # a few long rows
]


@pytest.mark.parametrize("shape,dim", REDUCTION_SHAPES)
@pytest.mark.parametrize("dtype,op", [(d, o) for d in ["float32", "float64", "int64"]
                                      for o in ["sum", "amax", "amin", "mean"] if (d, o) != ("int64", "mean")])
def test_reductions_match_torch(threads, shape, dim, dtype, op):
    a, ta = pair(shape, dtype, seed=4)
    # tapegrad accumulates float32 sums in float64: compare with torch's float64 result, rounded.
    reference = getattr(ta.double() if dtype == "float32" else ta, op)(dim)
    if dtype == "float32":
        reference = reference.float()
    close(getattr(a, op)(dim), reference)
    close(getattr(a.t() if a.dim() == 2 else a, op)(dim), getattr(ta.t() if ta.dim() == 2 else ta, op)(dim)
          .to(reference.dtype), rtol=1e-4 if dtype == "float32" else None)


@pytest.mark.parametrize("shape,dim", REDUCTION_SHAPES)
def test_prod_any_all(threads, shape, dim):
    a, ta = pair(shape, "float64", seed=5, low=0.999, high=1.001)
    if isinstance(dim, int):  # prod takes one dim, as in torch
        close(a.prod(dim), ta.prod(dim), rtol=1e-10)
    else:
        close(a.prod(), ta.prod(), rtol=1e-10)
    b, tb = pair(shape, "bool", seed=6)
    close(b.any(dim), tb.any(dim))
    close(b.all(dim), tb.all(dim))
    ones = tapegrad.ones(shape, dtype=tapegrad.bool)
    close(ones.all(dim), torch.ones(shape, dtype=torch.bool).all(dim))


@pytest.mark.parametrize("shape,dim", REDUCTION_SHAPES[:4] + REDUCTION_SHAPES[6:])
def test_max_min_propagate_nan_in_fast_path(threads, shape, dim):
    a, ta = pair(shape, "float32", seed=7)
    flat_index = a.numel() // 2 + 1
    a.view(-1)[flat_index] = float("nan")
    ta.view(-1)[flat_index] = float("nan")
    close(a.amax(dim), ta.amax(dim))
    close(a.amin(dim), ta.amin(dim))


# Inputs above 32 MiB take the loops that prefetch ahead (floating sums, max and min). Odd lengths leave
# vector tails, and a NaN sits inside one row.
@pytest.mark.parametrize("shape,dim", [((2049, 4097), 1), ((8_400_001,), 0)], ids=["rows", "one_long_row"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reductions_of_inputs_larger_than_a_cache(threads, shape, dim, dtype):
    a, ta = pair(shape, dtype, seed=15)
    flat_index = a.numel() // 2 + 7
    a.view(-1)[flat_index] = float("nan")
    ta.view(-1)[flat_index] = float("nan")
    for op in ["sum", "mean", "amax", "amin"]:
        # float32 lanes add up to 30 values before widening: rows of 4097 values near 3 are off by ~1e-5.
        rtol = 1e-4 if dtype == "float32" and op in ("sum", "mean") else None
        for ours, theirs in [(a, ta), (a[1:], ta[1:])]:
            close(getattr(ours, op)(dim), getattr(theirs.double(), op)(dim).to(ta.dtype), rtol=rtol)


@pytest.mark.parametrize("shape,dim", REDUCTION_SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reductions_do_not_depend_on_thread_count(shape, dim, dtype):
    a, _ = pair(shape, dtype, seed=12)
    a.view(-1)[a.numel() // 3] = float("nan")
    before = tapegrad.get_num_threads()
    try:
        for op in ["sum", "mean", "amax", "amin"]:
            results = []
            for n in THREAD_COUNTS:
                tapegrad.set_num_threads(n)
                results.append(getattr(a, op)(dim).numpy())
            for other in results[1:]:
                np.testing.assert_array_equal(other, results[0])
    finally:
        tapegrad.set_num_threads(before)


def test_full_sum_is_accurate_and_thread_count_independent():
    a, ta = pair((1_000_003,), "float32", seed=8)
    results = []
    before = tapegrad.get_num_threads()
    try:
        for n in THREAD_COUNTS:
            tapegrad.set_num_threads(n)
            results.append(a.sum().item())
    finally:
        tapegrad.set_num_threads(before)
    assert results[0] == results[1] == results[2]
    assert results[0] == pytest.approx(ta.double().sum().item(), rel=1e-6)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1])
def test_softmax_many_rows_with_backward(threads, op, dim):
    a, ta = pair((2400, 120), "float64", seed=9)
    a.requires_grad_(True)
    ta.requires_grad_(True)
    out, tout = getattr(a, op)(dim), getattr(ta, op)(dim)
    close(out.detach(), tout.detach())
    g, tg = pair((2400, 120), "float64", seed=10)
    out.backward(g)
    tout.backward(tg)
    close(a.grad, ta.grad)


SOFTMAX_LAYOUTS = {
    "contiguous": lambda t: t,
    "transposed": lambda t: t.t().contiguous().t(),
    "sliced": lambda t: t[:, 1:-1],
}


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", SOFTMAX_LAYOUTS)
@pytest.mark.parametrize("dim", [1, -1, 0])
@pytest.mark.parametrize("length", [3, 9, 17, 18, 33, 67, 1000])
def test_softmax_rows_of_every_tail_length(op, dtype, layout, dim, length):
    """Row lengths around the vector widths (the max and sum read a row's tail again), rows of NaN and
    infinities, forward and backward against torch, and the same bits on 1, 2 and 3 threads."""
    rows = max(300, 40_000 // length)  # enough rows to split across threads
    shape = (rows, length + 2) if dim != 0 else (length + 2, rows)
    data = np.random.default_rng(13).uniform(-20, 20, size=shape).astype(dtype)
    line = (lambda k: data[k]) if dim != 0 else (lambda k: data[:, k])
    line(0)[length // 2] = np.nan
    line(1)[:] = -np.inf
    line(2)[length // 3] = np.inf
    line(3)[:] = 5.0
    grad = np.random.default_rng(14).standard_normal(shape).astype(dtype)
    ta = SOFTMAX_LAYOUTS[layout](torch.tensor(data)).requires_grad_(True)
    tout = getattr(ta, op)(dim)
    tout.backward(torch.tensor(grad)[tuple(slice(0, n) for n in tout.shape)])
    results = []
    before = tapegrad.get_num_threads()
    try:
        for n in THREAD_COUNTS:
            tapegrad.set_num_threads(n)
            a = SOFTMAX_LAYOUTS[layout](tapegrad.tensor(data)).requires_grad_(True)
            out = getattr(a, op)(dim)
            out.backward(tapegrad.tensor(grad)[tuple(slice(0, n) for n in out.shape)])
            results.append((out.detach().numpy(), a.grad.numpy()))
    finally:
        tapegrad.set_num_threads(before)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(results[0][0], tout.detach().numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(results[0][1], ta.grad.numpy(), rtol=rtol, atol=rtol * 10)
    for other in results[1:]:
        np.testing.assert_array_equal(other[0], results[0][0])
        np.testing.assert_array_equal(other[1], results[0][1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("fused,smoothing", [(True, 0.0), (True, 0.1), (False, 0.0)],
                         ids=["cross_entropy", "cross_entropy_smoothed", "log_softmax_nll"])
def test_cross_entropy_large_with_weight_and_ignore_index(threads, dtype, reduction, fused, smoothing):
    rng = np.random.default_rng(15)
    logits = rng.uniform(-8, 8, size=(300, 1000)).astype(dtype)
    target = rng.integers(0, 1000, size=300)
    target[::7] = 3  # ignored
    weight = rng.uniform(0.5, 2.0, size=1000).astype(dtype)
    grads = []
    for lib in (tapegrad, torch):
        F = lib.nn.functional
        x = lib.tensor(logits).requires_grad_(True)
        t, w = lib.tensor(target), lib.tensor(weight)
        if fused:
            loss = F.cross_entropy(x, t, weight=w, ignore_index=3, reduction=reduction, label_smoothing=smoothing)
        else:
            loss = F.nll_loss(F.log_softmax(x, 1), t, weight=w, ignore_index=3, reduction=reduction)
        loss.sum().backward()
        grads.append((loss.detach().numpy(), x.grad.numpy()))
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=rtol, atol=rtol)


def test_argmax_many_rows(threads):
    a, ta = pair((4000, 70), "float32", seed=11)
    close(a.argmax(1), ta.argmax(1))
    close(a.max(0).values, ta.max(0).values)


@pytest.mark.parametrize("bad", [0, -1, "a", 2.5, True, None])
def test_set_num_threads_errors_match_torch(bad):
    with pytest.raises(Exception) as theirs:
        torch.set_num_threads(bad)
    with pytest.raises(type(theirs.value)) as ours:
        tapegrad.set_num_threads(bad)
    assert str(ours.value).split(",")[0] == str(theirs.value).split(",")[0]


def test_thread_count_round_trip(threads):
    assert tapegrad.get_num_threads() == threads


def _large_op_in_child(queue):
    a = tapegrad.ones(8 * GRAIN)
    queue.put(float((a + a).sum().item()))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_pool_works_in_forked_child():
    tapegrad.ones(8 * GRAIN).exp()  # the parent's pool is running before the fork
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_large_op_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == 2.0 * 8 * GRAIN


WHERE_CASES = {
    "contiguous": lambda c, x, y: (c, x, y),
    "scalar_if_true": lambda c, x, y: (c, x[:1, :1], y),
    "scalar_if_false": lambda c, x, y: (c, x, y[:1, :1]),
    "row_condition": lambda c, x, y: (c[:1], x, y),
    "transposed": lambda c, x, y: (c.t(), x.t(), y.t()),
}


@pytest.mark.parametrize("shape", [(7, 9), (400, 300)], ids=str)
@pytest.mark.parametrize("case", WHERE_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_where_random_mask(threads, dtype, case, shape):
    cond, tcond = pair(shape, "bool", seed=5)
    x, tx = pair(shape, dtype, seed=6)
    y, ty = pair(shape, dtype, seed=7)
    args, targs = WHERE_CASES[case](cond, x, y), WHERE_CASES[case](tcond, tx, ty)
    close(tapegrad.where(*args), torch.where(*targs))


BATCH_NORM_LAYOUTS = {
    "contiguous": lambda t: t,
    "channels_last": lambda t: t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) if t.dim() == 4 else t,
}


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("layout", BATCH_NORM_LAYOUTS)
# (N, C) inputs take a kernel with the channels as vector lanes; (300, 1001) splits them across threads.
@pytest.mark.parametrize("shape", [(6, 4), (300, 1001), (5, 3, 7), (8, 16, 32, 32)], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norm_training_fused(threads, dtype, shape, layout, affine):
    x, tx = pair(shape, dtype, seed=8)
    g, tg = pair(shape, dtype, seed=9)
    x, tx = BATCH_NORM_LAYOUTS[layout](x), BATCH_NORM_LAYOUTS[layout](tx)
    channels = shape[1]
    stats = [(tapegrad.zeros(channels, dtype=x.dtype), tapegrad.ones(channels, dtype=x.dtype)),
             (torch.zeros(channels, dtype=tx.dtype), torch.ones(channels, dtype=tx.dtype))]
    params = []
    for lib, t in ((tapegrad, x), (torch, tx)):
        rng = np.random.default_rng(10)
        w = lib.tensor(rng.uniform(0.5, 2.0, channels).astype(dtype), requires_grad=True) if affine else None
        b = lib.tensor(rng.uniform(-1.0, 1.0, channels).astype(dtype), requires_grad=True) if affine else None
        params.append((w, b))
    results = []
    for lib, t, grad, (mean, var), (w, b) in ((tapegrad, x, g, stats[0], params[0]),
                                              (torch, tx, tg, stats[1], params[1])):
        t = t.detach().requires_grad_()
        out = lib.nn.functional.batch_norm(t, mean, var, w, b, training=True, momentum=0.1, eps=1e-5)
        inputs = [t] + ([w, b] if affine else [])
        results.append([out] + list(lib.autograd.grad(out, inputs, grad)) + [mean, var])
    rtol = 1e-4 if dtype == "float32" else 1e-10
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("shape", [(3, 5), (700, 300), (2, 150, 257)], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_norm_rows_across_threads(threads, dtype, shape):
    """Rows split across the pool; the weight and bias gradients sum over rows in fixed blocks."""
    x, tx = pair(shape, dtype, seed=21)
    g, tg = pair(shape, dtype, seed=22)
    w, tw = pair(shape[-1:], dtype, seed=23)
    b, tb = pair(shape[-1:], dtype, seed=24)
    results = []
    for lib, t, grad, weight, bias in ((tapegrad, x, g, w, b), (torch, tx, tg, tw, tb)):
        inputs = [t.requires_grad_(), weight.requires_grad_(), bias.requires_grad_()]
        out = lib.nn.functional.layer_norm(t, shape[-1:], weight, bias)
        results.append([out, *lib.autograd.grad(out, inputs, grad)])
    rtol = 1e-4 if dtype == "float32" else 1e-10
    for ours, theirs in zip(*results):
        close(ours.detach(), theirs.detach(), rtol=rtol)


def test_layer_norm_gradients_do_not_depend_on_thread_count():
    x, _ = pair((3000, 40), "float32", seed=25)
    g, _ = pair((3000, 40), "float32", seed=26)
    w = tapegrad.ones(40, requires_grad=True)
    before = tapegrad.get_num_threads()
    results = []
    try:
        for n in THREAD_COUNTS:
            tapegrad.set_num_threads(n)
            out = tapegrad.nn.functional.layer_norm(x.requires_grad_(), (40,), w)
            results.append([t.numpy() for t in tapegrad.autograd.grad(out, [x, w], g)])
    finally:
        tapegrad.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(other, results[0]):
            np.testing.assert_array_equal(a, b)


LOSSES = {
    "mse": lambda F, x, t, reduction: F.mse_loss(x, t, reduction=reduction),
    "smooth_l1": lambda F, x, t, reduction: F.smooth_l1_loss(x, t, reduction=reduction, beta=0.5),
    "huber": lambda F, x, t, reduction: F.huber_loss(x, t, reduction=reduction, delta=2.0),
    "bce_with_logits": lambda F, x, t, reduction: F.binary_cross_entropy_with_logits(x, t.sigmoid(),
                                                                                      reduction=reduction),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pointwise_losses_large(threads, dtype, loss, reduction):
    """130k elements: the contiguous vector path, reduced in fixed chunks, with both gradients."""
    x, tx = pair((130, 1000), dtype, seed=27, low=-30.0, high=30.0)
    t, tt = pair((130, 1000), dtype, seed=28)
    results = []
    for lib, inp, target in ((tapegrad, x, t), (torch, tx, tt)):
        inp, target = inp.detach().requires_grad_(), target.detach().requires_grad_()
        out = LOSSES[loss](lib.nn.functional, inp, target, reduction)
        grad = lib.ones_like(out) if reduction == "none" else lib.tensor(0.5, dtype=out.dtype)
        results.append([out, *lib.autograd.grad(out, [inp, target], grad)])
    rtol = 1e-4 if dtype == "float32" else 1e-10
    for ours, theirs in zip(*results):
        close(ours.detach(), theirs.detach(), rtol=rtol)


def test_reduced_loss_does_not_depend_on_thread_count():
    x, _ = pair((1_000_003,), "float32", seed=29)
    t, _ = pair((1_000_003,), "float32", seed=30)
    before = tapegrad.get_num_threads()
    try:
        results = []
        for n in THREAD_COUNTS:
            tapegrad.set_num_threads(n)
            results.append(tapegrad.nn.functional.mse_loss(x, t).item())
    finally:
        tapegrad.set_num_threads(before)
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,dim", [((16, 10, 5), 1), ((4, 7, 300), 1), ((3, 5, 6, 7), -3), ((6, 2, 9), 0)],
                         ids=str)
@pytest.mark.parametrize("transposed", [False, True], ids=["contiguous", "transposed_input"])
def test_softmax_over_a_middle_dim(threads, op, dtype, shape, dim, transposed):
    """The classes of [N, C, L] logits: positions after dim are the vector lanes, in blocks of 256."""
    x, tx = pair(shape, dtype, seed=31, low=-20.0, high=20.0)
    if transposed:  # same values and shape, laid out with the last two dims swapped
        x, tx = x.transpose(-1, -2).contiguous().transpose(-1, -2), tx.transpose(-1, -2).contiguous().transpose(-1, -2)
    g, tg = pair(shape, dtype, seed=32)
    results = []
    for lib, t, grad in ((tapegrad, x, g), (torch, tx, tg)):
        t = t.detach().requires_grad_()
        out = getattr(t, op)(dim)
        results.append([out.detach(), *lib.autograd.grad(out, [t], grad)])
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for ours, theirs in zip(*results):
        close(ours, theirs, rtol=rtol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_special_values_and_ties(threads, dtype, descending):
    """NaN of either sign after every number (first when descending), -0.0 tied with 0.0, ties in index
    order: the integer keys the float sort compares."""
    specials = [float("nan"), -float("nan"), float("inf"), -float("inf"), -0.0, 0.0, 1.5, 1.5, -2.0, 3.0]
    rng = np.random.default_rng(33)
    data = rng.choice(np.array(specials, dtype=dtype), size=(70, 600))
    a, ta = tapegrad.tensor(data), torch.tensor(data)
    for dim in (1, 0):
        values, indices = a.sort(dim=dim, descending=descending, stable=True)
        t_values, t_indices = ta.sort(dim=dim, descending=descending, stable=True)
        np.testing.assert_array_equal(values.numpy(), t_values.numpy())
        np.testing.assert_array_equal(np.signbit(values.numpy()), np.signbit(t_values.numpy()))
        np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())
        top, top_indices = a.topk(7, dim, largest=descending)
        t_top, t_top_indices = ta.topk(7, dim, largest=descending)
        np.testing.assert_array_equal(top.numpy(), t_top.numpy())
        np.testing.assert_array_equal(a.gather(dim, top_indices).numpy(), top.numpy())
