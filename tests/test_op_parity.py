"""Every op in tests/optables against PyTorch: values, dtypes, grad_fn names, gradients and gradcheck."""
import zlib

import numpy as np
import pytest
import torch

import tapegrad
from fuzzkit import grad_fn_name
from optables import collect

CASES = collect()
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-9, atol=1e-11)}


def make_array(case, position, shape, dtype, rng):
    if position in case.index_inputs:
        return rng.integers(0, case.index_high, size=shape).astype(np.int64)
    if position in case.mask_inputs:
        return rng.random(shape) > 0.5
    x = rng.standard_normal(shape)
    if case.domain == "positive":
        x = np.abs(x) + 0.5
    elif case.domain == "unit":
        x = np.tanh(x) * 0.9
    elif case.domain == "nonzero":
        x = np.sign(x) * (np.abs(x) + 0.5)
    return x.astype(dtype)


def as_noncontiguous(lib, t):
    """The same values in a strided layout: a transposed copy, transposed back (column-major), or where that is
    still contiguous (size-1 dims, 1-D), every other element of a doubled copy."""
    if t.dim() >= 2:
        strided = t.transpose(0, 1).contiguous().transpose(0, 1)
        if not strided.is_contiguous():
            return strided
    if t.dim() >= 1:
        return lib.stack([t, t], -1).select(-1, 0)
    return t


def build_inputs(lib, case, arrays, noncontig):
    out = []
    for arr in arrays:
        t = lib.tensor(arr)
        if noncontig:
            t = as_noncontiguous(lib, t)
            assert t.numel() < 2 or not t.is_contiguous()
        if case.grad and arr.dtype.kind == "f":
            t = t.detach().requires_grad_(True)
        out.append(t)
    return out


def flatten_outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def to_numpy(t):
    return t.detach().numpy()


def assert_same_values(o, r, tol):
    if r.dtype.is_floating_point:
        np.testing.assert_allclose(to_numpy(o), to_numpy(r), **tol)
    else:
        np.testing.assert_array_equal(to_numpy(o), to_numpy(r))


def check_case(case, dtype, noncontig):
    rng = np.random.default_rng(zlib.crc32(f"{case.name}/{dtype}/{noncontig}".encode()))
    arrays = [make_array(case, i, s, dtype, rng) for i, s in enumerate(case.shapes)]
    ours_in = build_inputs(tapegrad, case, arrays, noncontig)
    ref_in = build_inputs(torch, case, arrays, noncontig)
    ours = flatten_outputs(case.fn(tapegrad, *ours_in))
    ref = flatten_outputs(case.fn(torch, *ref_in))
    tol = dict(TOL[dtype])
    if case.rtol is not None:
        tol["rtol"] = case.rtol
    if case.atol is not None:
        tol["atol"] = case.atol
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        assert tuple(o.shape) == tuple(r.shape)
        assert str(o.dtype) == str(r.dtype)
        assert o.requires_grad == r.requires_grad
        assert grad_fn_name(o) == grad_fn_name(r)
        assert_same_values(o, r, tol)
    if not case.grad:
        return
    diff = [(o, r) for o, r in zip(ours, ref) if r.requires_grad]
    if not diff:
        return
    seeds = [rng.standard_normal(tuple(r.shape)).astype(dtype) for _, r in diff]
    tapegrad.autograd.backward([o for o, _ in diff], [tapegrad.tensor(s) for s in seeds])
    torch.autograd.backward([r for _, r in diff], [torch.tensor(s) for s in seeds])
    for a, b in zip(ours_in, ref_in):
        if b.requires_grad:
            if b.grad is None:
                assert a.grad is None or not np.any(to_numpy(a.grad))
            else:
                assert a.grad is not None, f"{case.name}: missing gradient"
                np.testing.assert_allclose(to_numpy(a.grad), b.grad.numpy(), **tol)


# Each case in each of its dtypes, contiguous and (unless it opts out) strided.
VARIANTS = [
    pytest.param(case, dtype, noncontig, id=f"{'strided' if noncontig else 'contiguous'}-{dtype}-{case.name}")
    for case in CASES
    for dtype in case.dtypes
    for noncontig in ((False, True) if case.noncontig else (False,))
]


@pytest.mark.parametrize("case,dtype,noncontig", VARIANTS)
def test_values_and_gradients(case, dtype, noncontig):
    check_case(case, dtype, noncontig)


@pytest.mark.parametrize("case", [c for c in CASES if c.grad and c.gradcheck], ids=lambda c: c.name)
def test_gradcheck(case):
    rng = np.random.default_rng(7)
    arrays = [make_array(case, i, s, "float64", rng) for i, s in enumerate(case.shapes)]
    inputs = build_inputs(tapegrad, case, arrays, False)

    def fn(*xs):
        return case.fn(tapegrad, *xs)

    assert tapegrad.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)
