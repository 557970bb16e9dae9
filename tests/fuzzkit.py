"""Shared pieces of the property-based tests (tests/test_fuzz_*.py): the hypothesis budget, the count of
calls fuzzed, and the comparison of one call's outcome in tapegrad with its outcome in torch.

The budget is small and deterministic for CI; TAPEGRAD_FUZZ_EXAMPLES=N runs N examples per test instead.
"""
import collections
import os

import numpy as np
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import tapegrad

# Calls made on both libraries, by test file; conftest.py prints them at the end of the session.
CALLS = collections.Counter()


def fuzz_settings(examples):
    """Hypothesis settings for one fuzz test: `examples` in CI, or TAPEGRAD_FUZZ_EXAMPLES when set."""
    return settings(
        max_examples=int(os.environ.get("TAPEGRAD_FUZZ_EXAMPLES", examples)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


class Draw:
    """Hypothesis draws with short names."""

    def __init__(self, data):
        self.data = data

    def int(self, lo, hi):
        return self.data.draw(st.integers(lo, hi))

    def choice(self, seq):
        return self.data.draw(st.sampled_from(seq))

    def chance(self, percent):
        return self.data.draw(st.integers(0, 99)) < percent

    def subset(self, seq):
        return [x for x in seq if self.chance(50)]

    def permutation(self, n):
        return tuple(self.data.draw(st.permutations(range(n))))


def grad_fn_name(t):
    # torch names its C++-defined nodes with their namespace ("torch::autograd::CopySlices").
    return None if t.grad_fn is None else t.grad_fn.name().rsplit("::", 1)[-1]


def attempt(fn, *args):
    """(result, None) or (None, exception): runs fn and catches what it raises."""
    try:
        return fn(*args), None
    except Exception as exc:  # noqa: BLE001  (any exception is an outcome to compare)
        return None, exc


def assert_same_error(call, message=lambda text: text):
    """call(tapegrad) and call(torch) both raise, with the same type and the same message (as `message` keeps it)."""
    import tapegrad
    import torch

    (_, ours), (_, ref) = attempt(call, tapegrad), attempt(call, torch)
    assert ref is not None, "torch raised nothing"
    assert ours is not None, f"tapegrad raised nothing where torch raised {ref!r}"
    assert (type(ours), message(str(ours))) == (type(ref), message(str(ref)))


def builtin_base(exc_type):
    """The first built-in class an exception type derives from (torch.OutOfMemoryError -> RuntimeError)."""
    return next(c for c in exc_type.__mro__ if c.__module__ == "builtins")


def is_missing_cuda(exc):
    # A CPU-only torch build raises AssertionError("Torch not compiled with CUDA enabled"); tapegrad raises
    # RuntimeError naming the device, as a CUDA build of torch does on a machine without a GPU.
    return isinstance(exc, AssertionError) and "not compiled with CUDA" in str(exc)


def same_error_kind(ours, ref):
    """tapegrad raised the exception type torch raised: the same built-in class, torch's own subclasses of
    a built-in mapping to that built-in. Where torch's Python code trips over a wrong argument type by duck
    typing (AttributeError: 'str' object has no attribute 'size'), tapegrad's TypeError is the contract."""
    if is_missing_cuda(ref):
        return isinstance(ours, RuntimeError) and "not compiled with support for device 'cuda" in str(ours)
    if isinstance(ref, AttributeError) and isinstance(ours, TypeError):
        return True
    return builtin_base(type(ours)) is builtin_base(type(ref))


def assert_same_outcome_kind(ours_exc, ref_exc, what):
    """Both raised an exception of the same kind, or both succeeded."""
    if ref_exc is None:
        assert ours_exc is None, f"{what}: torch succeeds, tapegrad raises {ours_exc!r}"
    else:
        assert ours_exc is not None, f"{what}: torch raises {ref_exc!r}, tapegrad does not"
        assert same_error_kind(ours_exc, ref_exc), f"{what}: tapegrad raises {ours_exc!r}, torch {ref_exc!r}"


def assert_call_matches(call):
    """call(lib) gives one tensor in both libraries: same dtype, shape and values (rtol 1e-6)."""
    ours, ref = call(tapegrad), call(torch)
    assert str(ours.dtype) == str(ref.dtype) and tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_allclose(np.asarray(ours), ref.numpy(), rtol=1e-6)


def tolerance(dtype_name):
    return dict(rtol=1e-7, atol=1e-9) if dtype_name == "float64" else dict(rtol=2e-4, atol=2e-5)


def assert_tensors_match(ours, ref, what, truth=None):
    """Same shape, dtype, requires_grad and values. NaN and inf must sit where torch has them; finite values
    agree within a tolerance scaled by the tensor's magnitude, or, given `truth` (torch in float64 on the
    same data), within four times torch's own distance from it: ill-conditioned float32 results then pass
    as long as tapegrad is no less accurate than torch."""
    assert isinstance(ours, tapegrad.Tensor), f"{what}: expected a Tensor, got {type(ours).__name__}"
    assert tuple(ours.shape) == tuple(ref.shape), f"{what}: shape {tuple(ours.shape)} vs {tuple(ref.shape)}"
    assert str(ours.dtype) == str(ref.dtype), f"{what}: dtype {ours.dtype} vs {ref.dtype}"
    assert ours.requires_grad == ref.requires_grad, f"{what}: requires_grad {ours.requires_grad}"
    expected = ref.detach().numpy()
    got = ours.detach().numpy()
    if expected.dtype.kind != "f":
        np.testing.assert_array_equal(got, expected, err_msg=what)
        return
    tol = tolerance(str(ref.dtype).replace("torch.", ""))
    finite = np.abs(expected[np.isfinite(expected)])
    bound = tol["atol"] * (1.0 + (float(finite.max()) if finite.size else 0.0)) + tol["rtol"] * np.abs(expected)
    with np.errstate(invalid="ignore"):
        if truth is not None:
            bound = np.maximum(bound, 4 * np.abs(expected - truth.detach().numpy()))
        ok = (got == expected) | (np.isnan(got) & np.isnan(expected)) | (np.abs(got - expected) <= bound)
    shown = "" if truth is None else f"\nfloat64 {truth.detach().numpy()}"
    assert ok.all(), f"{what}\nvalues differ where {~ok}\nours  {got}\ntorch {expected}{shown}"


def assert_results_match(ours, ref, what, big=10**6):
    """Compares two call results recursively: tensors (values when small), sequences, dicts, numbers; other
    objects by type name."""
    if isinstance(ref, torch.Tensor):
        assert isinstance(ours, tapegrad.Tensor), f"{what}: expected a Tensor, got {ours!r}"
        if ref.numel() > big or max(ref.shape, default=0) > 2**31:  # a huge view (or huge and empty): metadata only
            assert tuple(ours.shape) == tuple(ref.shape) and str(ours.dtype) == str(ref.dtype), what
        else:
            assert_tensors_match(ours, ref, what)
    elif isinstance(ref, (torch.dtype, torch.device, torch.Size)):
        assert str(ours) == str(ref), f"{what}: {ours!r} vs {ref!r}"
    elif isinstance(ref, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(ref), f"{what}: {ours!r} vs {ref!r}"
        for i, (o, r) in enumerate(zip(ours, ref)):
            assert_results_match(o, r, f"{what}[{i}]", big)
    elif isinstance(ref, dict):
        assert isinstance(ours, dict) and list(ours) == list(ref), f"{what}: {ours!r} vs {ref!r}"
        for key in ref:
            assert_results_match(ours[key], ref[key], f"{what}[{key!r}]", big)
    elif isinstance(ref, float):
        assert isinstance(ours, float) and (ours == ref or (ours != ours and ref != ref)
                                            or abs(ours - ref) <= 1e-6 * (1 + abs(ref))), f"{what}: {ours} vs {ref}"
    elif isinstance(ref, (bool, int, str, type(None))):
        assert type(ours) is type(ref) and ours == ref, f"{what}: {ours!r} vs {ref!r}"
    else:
        assert type(ours).__name__ == type(ref).__name__, f"{what}: {ours!r} vs {ref!r}"

